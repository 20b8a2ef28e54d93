"""fdt-collapse-reduction-rows: a convolution with few input channels reads its window's rows as one
contiguous reduction, so the SIMD32 kernels can take them four bytes a load.

`fdt-dot-product-kernels` needs four or more elements contiguous along the innermost reduction loop.
A first layer (RGB input: 3 channels) reduces over kh, kw and 3 channels: the innermost loop has 3
elements, so every MAC stays scalar (11.7 instructions a MAC on vww_int8's first layer, 22 % of the
model). But in NHWC the kw taps of one window row sit side by side, channels innermost, and the
weights are laid out the same ([F][KH][KW][C]): the kw x C elements of a row are contiguous in both
operands. This pass merges the two innermost reduction loops of such a dot product into one loop of
KW*C (9 for a 3x3 RGB window) over `memref.collapse_shape`s of the operands, which
`fdt-dot-product-kernels` then reads as two words and one byte per row.

Merged: the two innermost loops of a `linalg.generic` dot product (both reductions, static extents,
no `linalg.index` in the body), when every operand indexing them has them as its two innermost
axes, plainly (`d_a`, `d_b`), with the outer axis's stride equal to the inner axis's size (contiguous),
and no other operand or result involves them. Same loads, same order of accumulation within each row,
same arithmetic: bit-identical.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis.linalg_util import indexing_maps, involves_dim, iterator_kinds, num_inputs, take_body
from ..ir import ir, linalg, memref, walk_ops
from ..passes import ModulePass
from .dot_products import LANES, loop_extents, match_dot_product


def _indexes_plainly(affine_map: ir.AffineMap, a: int, b: int) -> bool | None:
    """True when the map's two innermost results are d_a, d_b and no other involves them; False when
    the map involves neither; None otherwise (not collapsible)."""
    results = list(affine_map.results)
    uses = [any(involves_dim(e, d) for d in (a, b)) for e in results]
    if not any(uses):
        return False
    if len(results) < 2 or any(uses[:-2]):
        return None
    last2 = results[-2:]
    if all(isinstance(e, ir.AffineDimExpr) for e in last2) and \
            [ir.AffineDimExpr(e).position for e in last2] == [a, b]:
        return True
    return None


def _contiguous_last_two(t: ir.MemRefType) -> bool:
    strides, _ = t.get_strides_and_offset()
    return t.rank >= 2 and t.shape[-1] >= 0 and strides[-1] == 1 and strides[-2] == t.shape[-1]


def collapsible(op, below: int = LANES) -> bool:
    """Whether the two innermost loops of the dot product `op` can be merged (see the module's doc); only
    rows shorter than `below` are (a row of a word or more is already read by words)."""
    if op.name != "linalg.generic" or match_dot_product(op) is None:
        return False
    kinds = iterator_kinds(op)
    n = len(kinds)
    if n < 2 or kinds[-1] != "reduction" or kinds[-2] != "reduction":
        return False
    extents = loop_extents(op)
    if extents is None or not all(isinstance(e, int) for e in extents[-2:]) or extents[-1] >= below:
        return False
    if any(o.name == "linalg.index" for o in walk_ops(op)):
        return False
    maps = indexing_maps(op)
    n_in = num_inputs(op)
    for i, (value, affine_map) in enumerate(zip(op.operands, maps)):
        plain = _indexes_plainly(affine_map, n - 2, n - 1)
        if plain is None or (plain and (i >= n_in or not isinstance(value.type, ir.MemRefType)
                                        or not _contiguous_last_two(ir.MemRefType(value.type)))):
            return False
    return True


def _collapsed(value: ir.Value) -> ir.Value:
    """`value` with its two innermost axes merged (a contiguous memref)."""
    t = ir.MemRefType(value.type)
    strides, offset = t.get_strides_and_offset()
    dyn = ir.ShapedType.get_dynamic_stride_or_offset()
    layout = ir.StridedLayoutAttr.get(offset=offset if offset != dyn else dyn, strides=[*strides[:-2], 1])
    shape = [*t.shape[:-2], t.shape[-2] * t.shape[-1] if t.shape[-2] >= 0 else ir.ShapedType.get_dynamic_size()]
    identity = isinstance(t.layout, ir.AffineMapAttr)  # (a strided layout otherwise)
    result = ir.MemRefType.get(shape, t.element_type, None if identity else layout)
    groups = [[i] for i in range(t.rank - 2)] + [[t.rank - 2, t.rank - 1]]
    reassociation = ir.ArrayAttr.get([ir.ArrayAttr.get([ir.IntegerAttr.get(ir.IntegerType.get_signless(64), i)
                                                        for i in g]) for g in groups])
    return memref.CollapseShapeOp(result, value, reassociation).result


def collapse(op):
    """Replace `op` by the same dot product with its two innermost loops merged; returns the new generic."""
    maps = indexing_maps(op)
    n = maps[0].n_dims
    n_in = num_inputs(op)
    merged = ir.AffineExpr.get_dim(n - 2)
    new_maps, operands = [], []
    with ir.InsertionPoint(op), op.location:
        for value, affine_map in zip(op.operands, maps):
            results = list(affine_map.results)
            if _indexes_plainly(affine_map, n - 2, n - 1):
                operands.append(_collapsed(value))
                results = [*results[:-2], merged]
            else:
                operands.append(value)
            new_maps.append(ir.AffineMap.get(n - 1, 0, results))
        kinds = iterator_kinds(op)[:-1]
        generic = linalg.GenericOp([], operands[:n_in], operands[n_in:],
                                   ir.ArrayAttr.get([ir.AffineMapAttr.get(m) for m in new_maps]),
                                   ir.ArrayAttr.get([ir.Attribute.parse(f"#linalg.iterator_type<{k}>")
                                                     for k in kinds]))
    take_body(op, generic)
    op.erase()
    return generic.operation


@dataclass(frozen=True)
class CollapseReductionRows(ModulePass):
    """Merge the two innermost reduction loops of a dot product over contiguous rows (kw x C)."""

    name = "fdt-collapse-reduction-rows"
    summary = "merge a window row's kw and channel loops into one contiguous reduction (few input channels)"

    def apply(self, module: ir.Module) -> None:
        with module.context, ir.Location.unknown():
            for op in [o for o in walk_ops(module.operation) if collapsible(o)]:
                collapse(op)
