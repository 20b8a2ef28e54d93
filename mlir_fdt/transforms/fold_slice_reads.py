"""fdt-fold-slice-reads: a strided convolution that reads a zero-offset slice of its input
reads the input itself.

TOSA lowers a stride-2 1x1 convolution on a 32x32 map (the ResNet downsample) to a reduction
over `extract_slice(expand_shape(x))[0,0,0,0][1,31,31,16]`. Reading x directly with the same
indexing map touches the same elements (offsets are zero), and leaves no view between the
layers, so a fused tile can pull exactly the elements it needs from x's producer.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..ir import ir, walk_ops
from ..analysis.linalg_util import defining_op, num_inputs
from ..passes import ModulePass


def _unit_expanded_source(value: ir.Value) -> ir.Value | None:
    """x when `value` = expand_shape(x) adding only unit dims, or value itself."""
    op = defining_op(value)
    if op is None or op.name != "tensor.expand_shape":
        return value
    src = op.operands[0]
    if len([d for d in ir.RankedTensorType(value.type).shape if d != 1]) != \
            len([d for d in ir.RankedTensorType(src.type).shape if d != 1]):
        return None
    return src


def _foldable(slice_op: ir.Operation) -> ir.Value | None:
    offsets = list(ir.DenseI64ArrayAttr(slice_op.attributes["static_offsets"]))
    strides = list(ir.DenseI64ArrayAttr(slice_op.attributes["static_strides"]))
    if len(slice_op.operands) != 1 or any(offsets) or any(s != 1 for s in strides):
        return None
    source = _unit_expanded_source(slice_op.operands[0])
    result_type = ir.RankedTensorType(slice_op.results[0].type)
    if source is None or len(ir.RankedTensorType(source.type).shape) != len(result_type.shape):
        return None
    if ir.RankedTensorType(source.type).element_type != result_type.element_type:
        return None
    return source


@dataclass(frozen=True)
class FoldSliceReads(ModulePass):
    """Let linalg.generic read the source of a zero-offset, unit-stride slice directly."""

    name = "fdt-fold-slice-reads"
    summary = "read the source of zero-offset slices (TOSA's strided 1x1 convolutions) directly"

    def apply(self, module: ir.Module) -> None:
        with module.context:
            for op in walk_ops(module.operation):
                if op.name != "tensor.extract_slice":
                    continue
                source = _foldable(op)
                if source is None:
                    continue
                for use in list(op.results[0].uses):
                    user = use.owner.operation
                    if user.name != "linalg.generic" or use.operand_number >= num_inputs(user):
                        continue
                    user.operands[use.operand_number] = source
                    try:  # the consumer's loops may be sized by the slice (a window over a crop)
                        valid = user.verify()
                    except ir.MLIRError:
                        valid = False
                    if not valid:
                        user.operands[use.operand_number] = op.results[0]
