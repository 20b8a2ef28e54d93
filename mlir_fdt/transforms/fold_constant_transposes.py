"""fdt-fold-constant-transposes: weight transposes and reshapes are evaluated at compile time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir import arith, ir, walk_ops
from ..passes import ModulePass
from ..analysis.linalg_util import defining_op, dense_to_numpy, numpy_to_dense, permutation_copy_axes


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
                if op.name != "linalg.generic":
                    continue
                src = defining_op(op.operands[0])
                if src is None or src.name != "arith.constant":
                    continue
                axes = permutation_copy_axes(op)
                if axes is None:
                    continue
                value = dense_to_numpy(src.attributes["value"])
                folded = np.ascontiguousarray(np.transpose(value, axes))
                out_type = ir.RankedTensorType(op.results[0].type)
                with ir.InsertionPoint(op):
                    const = arith.ConstantOp(out_type, numpy_to_dense(folded, out_type))
                op.results[0].replace_all_uses_with(const.result)
                op.erase()
