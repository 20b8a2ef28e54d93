"""SPLIT_V with one size given as -1 ("the rest"), which the converter resolves wrongly.

TFLite (and TFLite Micro) give the -1 entry of `size_splits` what the other sizes leave of the split axis.
tosa-converter-for-tflite takes the axis minus the entry before it (sizes `[3, -1, 2]` of 8 channels: slices of
3, 5 and 2 channels at offsets 0, 3 and 2) or slices at offset -1 (`[-1, 3, 2]`): a program whose outputs have
the wrong shapes or an IREE error. So the converter reads a copy of the file in which each such -1 is the size
it stands for (the constant's bytes rewritten in place: `tflite_constant_operands`).
"""

from __future__ import annotations

from .tflite_constant_operands import main_operators


def resolve_split_sizes(data: bytes) -> tuple[bytes, int]:
    """`data` with the -1 in every SPLIT_V's constant `size_splits` replaced by the size it stands for, and how
    many (0: `data` unchanged)."""
    buf = bytearray(data)
    resolved = 0
    for op in main_operators(buf, {"SPLIT_V"}):
        if len(op.constants) != 3 or op.input_shapes[0] is None or None in op.constants[1:]:
            continue
        sizes, axis = op.constants[1].values, op.constants[2].values
        shape = op.input_shapes[0]
        if list(sizes).count(-1) != 1 or axis.size != 1 or not -len(shape) <= int(axis[0]) < len(shape):
            continue
        op.constants[1].write(buf, [shape[int(axis[0])] - (sizes.sum() + 1) if s == -1 else s for s in sizes])
        resolved += 1
    return (bytes(buf), resolved) if resolved else (data, 0)
