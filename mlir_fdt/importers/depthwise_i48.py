"""int16x8 DEPTHWISE_CONV_2D with a 1x1 kernel: given a second, zero tap so IREE keeps it a convolution.

IREE's TOSA pipeline decomposes a 1x1 `tosa.depthwise_conv2d` into a per-channel multiply, casting the
activations to the accumulator type first; with 16-bit activations that is a `tosa.cast` from i16 to
i48, which TOSA's profiles do not allow, and IREE's validation rejects the model. Widening the kernel
to 1x2 with a zero second column, on the input padded by one zero column on the right (an int16
input's zero point is 0), computes the same sums, bit for bit, and is not decomposed. The price is
one extra multiply by zero per output: the layer's MACs double (a 1x1 depthwise layer is the cheapest
of a network: one MAC per output element).
"""

from __future__ import annotations

import numpy as np

from ..ir import ir, walk_ops
from .transpose_conv_i48 import TosaBuilder, i64_array


def _widen(op: ir.Operation) -> bool:
    w = op.operands[1]
    kh, kw, channels, multiplier = ir.RankedTensorType(w.type).shape
    pad = [int(p) for p in ir.DenseI64ArrayAttr(op.attributes["pad"])]
    if (kh, kw) != (1, 1) or any(pad):
        return False
    b = TosaBuilder(op)
    element = ir.RankedTensorType(w.type).element_type
    zeros = b.const(np.zeros((1, 1, channels, multiplier), np.int64), element)
    wide = b.op("tosa.concat", ir.RankedTensorType.get([1, 2, channels, multiplier], element), [w, zeros],
                {"axis": ir.IntegerAttr.get(ir.IntegerType.get_signless(32), 1)})
    op.operands[1] = wide
    op.attributes["pad"] = i64_array([0, 0, 0, 1])
    return True


def widen_i48_pointwise_depthwise(module: ir.Module) -> int:
    """Give every i48-accumulating 1x1 `tosa.depthwise_conv2d` without padding a zero second tap; return
    how many."""
    with module.context, ir.Location.unknown():
        found = [op for op in walk_ops(module.operation) if op.name == "tosa.depthwise_conv2d"
                 and isinstance(acc := ir.RankedTensorType(op.results[0].type).element_type, ir.IntegerType)
                 and ir.IntegerType(acc).width == 48]
        return sum(_widen(op) for op in found)
