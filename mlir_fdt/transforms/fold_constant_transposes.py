"""fdt-fold-constant-transposes: weight transposes and reshapes are evaluated at compile time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir import arith, ir, walk_ops
from ..passes import ModulePass
from ..analysis.linalg_util import defining_op, dense_to_numpy, is_all_parallel, numpy_to_dense


def _permutation_source_axes(op) -> list[int] | None:
    """For a generic that copies its only input under permutation maps, the input axis of each output axis."""
    maps = [ir.AffineMapAttr(a).value for a in op.attributes["indexing_maps"]]
    in_map, out_map = maps
    if not (in_map.is_permutation and out_map.is_permutation):
        return None
    in_dims = [ir.AffineDimExpr(e).position for e in in_map.results]
    out_dims = [ir.AffineDimExpr(e).position for e in out_map.results]
    return [in_dims.index(d) for d in out_dims]


def _is_copy_body(op) -> bool:
    body = op.regions[0].blocks[0]
    ops = list(body.operations)
    return (len(ops) == 1 and ops[0].operation.name == "linalg.yield"
            and ops[0].operands[0] == body.arguments[0])


@dataclass(frozen=True)
class FoldConstantTransposes(ModulePass):
    """Replace `linalg.generic` permutations of constants (the weight transposes of the TOSA
    import) by the permuted constant, so that no transpose runs on the device and the weights
    are stored once, in flash, in the layout the kernels read."""

    name = "fdt-fold-constant-transposes"
    summary = "evaluate permutations of constant tensors at compile time"

    def apply(self, module: ir.Module) -> None:
        with module.context, ir.Location.unknown():
            for op in walk_ops(module.operation):
                if op.name != "linalg.generic" or len(op.operands) != 2 or not is_all_parallel(op):
                    continue
                src = defining_op(op.operands[0])
                if src is None or src.name != "arith.constant":
                    continue
                if not isinstance(op.operands[0].type, ir.RankedTensorType) or not _is_copy_body(op):
                    continue
                axes = _permutation_source_axes(op)
                if axes is None:
                    continue
                value = dense_to_numpy(src.attributes["value"])
                folded = np.ascontiguousarray(np.transpose(value, axes))
                out_type = ir.RankedTensorType(op.results[0].type)
                with ir.InsertionPoint(op):
                    const = arith.ConstantOp(out_type, numpy_to_dense(folded, out_type))
                op.results[0].replace_all_uses_with(const.result)
                op.erase()
