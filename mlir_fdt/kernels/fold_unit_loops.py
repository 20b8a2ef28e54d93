"""fdt-fold-unit-loops: a loop of one iteration of a memref `linalg.generic` indexes at 0 in its operands' maps.

A streamed path computes each row of a map with its layer's own generic on a one-row slice, so the row loop of
the tile runs once and its index is 0; a streamed Conv1D row (a TxC map, one time step a row) still reads its
window as `(row + k, c)`. The kernel passes match plain loop indices (`fdt-collapse-reduction-rows` merges a
window's `k` and `c` into one contiguous reduction only for `(k, c)`): with the unit loop's index written as 0
they see the same form as an untiled layer's tile. Exact: that loop's index is always 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis.linalg_util import indexing_maps, num_inputs
from ..ir import ir, walk_ops
from ..passes import ModulePass
from .dot_products import loop_extents


def fold_unit_loops(op: ir.Operation) -> bool:
    """Rewrite `op`'s input maps with its one-iteration parallel loops at 0 (loops an output indexes plainly, so
    the output still gives their extent); whether any changed."""
    extents = loop_extents(op)
    if extents is None:
        return False
    maps = indexing_maps(op)
    n_in = num_inputs(op)
    outputs = maps[n_in:]
    unit = [d for d, e in enumerate(extents) if e == 1
            and any(isinstance(r, ir.AffineDimExpr) and ir.AffineDimExpr(r).position == d
                    for amap in outputs for r in amap.results)]
    if not unit:
        return False
    zero = ir.AffineConstantExpr.get(0)
    new_maps = []
    for amap in maps[:n_in]:
        for d in unit:
            amap = amap.replace(ir.AffineDimExpr.get(d), zero, amap.n_dims, amap.n_symbols)
        new_maps.append(amap)
    if [str(m) for m in new_maps] == [str(m) for m in maps[:n_in]]:
        return False
    op.attributes["indexing_maps"] = ir.ArrayAttr.get([ir.AffineMapAttr.get(m) for m in [*new_maps, *outputs]])
    return True


@dataclass(frozen=True)
class FoldUnitLoops(ModulePass):
    """Write the index of each one-iteration loop of a memref generic as 0 in its maps."""

    name = "fdt-fold-unit-loops"
    summary = "one-iteration loops of memref generics indexed as 0"

    def apply(self, module: ir.Module) -> None:
        with module.context:
            for op in walk_ops(module.operation):
                if op.name == "linalg.generic" and all(isinstance(v.type, ir.MemRefType) or
                                                       not isinstance(v.type, ir.ShapedType) for v in op.operands):
                    fold_unit_loops(op)
