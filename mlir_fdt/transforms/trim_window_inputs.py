"""fdt-trim-window-inputs: a convolution or pooling reads no rows or columns past its last window.

An importer may pad an input beyond what the windows read (ONNX AveragePool in ceil mode whose last window
would start on the padding: torch-mlir pads 2x2 to 4x4 for one 3x3 window). The named op is valid, but once
`fdt-normalize-linalg` drops its unit output dims, the window dims index the input alone and the generic op's
loop ranges conflict (3 from the kernel, 4 from the input): an invalid program. Slicing the input to
`(out - 1) * stride + (kernel - 1) * dilation + 1` rows and columns first reads the same elements.
"""

from __future__ import annotations

from dataclasses import dataclass

from iree.compiler.dialects import tensor

from ..ir import ir, walk_ops
from ..passes import ModulePass

# named NHWC window ops -> the kernel operand's (height, width) dims
_WINDOW_OPS = {"linalg.pooling_nhwc_sum": (0, 1), "linalg.pooling_nhwc_max": (0, 1), "linalg.pooling_nhwc_min": (0, 1),
               "linalg.conv_2d_nhwc_hwcf": (0, 1), "linalg.conv_2d_nhwc_fhwc": (1, 2),
               "linalg.depthwise_conv_2d_nhwc_hwc": (0, 1), "linalg.depthwise_conv_2d_nhwc_hwcm": (0, 1)}


def _pair(op: ir.Operation, name: str) -> list[int]:
    return [int(v) for v in ir.DenseIntElementsAttr(op.attributes[name])] if name in op.attributes else [1, 1]


def _read_extent(op: ir.Operation) -> list[int] | None:
    """The input's [N, H, W, C] the windows read, or None if `op` is not a named NHWC window op."""
    kernel_dims = _WINDOW_OPS.get(op.name)
    if kernel_dims is None:
        return None
    x, k, y = (list(ir.RankedTensorType(op.operands[i].type).shape) for i in (0, 1, 2))
    strides, dilations = _pair(op, "strides"), _pair(op, "dilations")
    read = [(y[1 + a] - 1) * strides[a] + (k[kernel_dims[a]] - 1) * dilations[a] + 1 for a in (0, 1)]
    return [x[0], min(read[0], x[1]), min(read[1], x[2]), x[3]]


@dataclass(frozen=True)
class TrimWindowInputs(ModulePass):
    """Slice a window op's input to the rows and columns its windows read."""

    name = "fdt-trim-window-inputs"
    summary = "slice convolution/pooling inputs to the rows and columns their windows read"

    def apply(self, module: ir.Module) -> None:
        with module.context:
            for op in [o for o in walk_ops(module.operation) if o.name in _WINDOW_OPS]:
                extent = _read_extent(op)
                x = ir.RankedTensorType(op.operands[0].type)
                if extent is None or extent == list(x.shape):
                    continue
                with ir.InsertionPoint(op), op.location:
                    op.operands[0] = tensor.ExtractSliceOp(
                        ir.RankedTensorType.get(extent, x.element_type), op.operands[0], [], [], [],
                        [0] * 4, extent, [1] * 4).result
