"""SPLIT_V with one size given as -1 ("the rest"), which the converter resolves wrongly.

TFLite (and TFLite Micro) give the -1 entry of `size_splits` what the other sizes leave of the split axis.
tosa-converter-for-tflite takes the axis minus the entry before it (sizes `[3, -1, 2]` of 8 channels: slices of
3, 5 and 2 channels at offsets 0, 3 and 2) or slices at offset -1 (`[-1, 3, 2]`): a program whose outputs have
the wrong shapes or an IREE error. So the converter reads a copy of the file in which each such -1 is the size
it stands for (the constant's bytes rewritten in place; its length does not change).
"""

from __future__ import annotations

import flatbuffers
import numpy as np

from .tflite_flatbuffer import _operator_name, _Table

_MODEL_CODES, _MODEL_SUBGRAPHS, _MODEL_BUFFERS = 1, 2, 4
_GRAPH_TENSORS, _GRAPH_OPERATORS = 0, 3
_OP_CODE, _OP_INPUTS = 0, 1
_TENSOR_SHAPE, _TENSOR_BUFFER = 0, 2
_BUFFER_DATA = 0


def _data_position(model: _Table, tensor: _Table) -> tuple[int, int] | None:
    """(position, bytes) of a constant tensor's data in the file, or None if it has none."""
    buffers = model.tables(_MODEL_BUFFERS)
    index = tensor.scalar(_TENSOR_BUFFER, flatbuffers.number_types.Uint32Flags)
    if not 0 < index < len(buffers):
        return None
    buffer = buffers[index]
    o = buffer._off(_BUFFER_DATA)
    if not o:
        return None
    return buffer.t.Vector(o), buffer.t.VectorLen(o)


def resolve_split_sizes(data: bytes) -> tuple[bytes, int]:
    """`data` with the -1 in every SPLIT_V's constant `size_splits` replaced by the size it stands for, and how
    many (0: `data` unchanged)."""
    buf = bytearray(data)
    model = _Table(buf, flatbuffers.encode.Get(flatbuffers.packer.uoffset, buf, 0))
    codes = [_operator_name(c) for c in model.tables(_MODEL_CODES)]
    graphs = model.tables(_MODEL_SUBGRAPHS)
    resolved = 0
    for graph in graphs[:1]:
        tensors = graph.tables(_GRAPH_TENSORS)
        for op in graph.tables(_GRAPH_OPERATORS):
            if codes[op.scalar(_OP_CODE, flatbuffers.number_types.Uint32Flags)] != "SPLIT_V":
                continue
            inputs = op.numbers(_OP_INPUTS, "int32")
            if len(inputs) != 3 or min(inputs) < 0:
                continue
            where = [_data_position(model, tensors[i]) for i in inputs[1:]]
            if None in where:
                continue
            (sizes_at, sizes_len), (axis_at, axis_len) = where
            sizes = np.frombuffer(buf, "<i4", sizes_len // 4, sizes_at).copy()
            axis = int(np.frombuffer(buf, "<i4", 1, axis_at)[0]) if axis_len >= 4 else 0
            shape = tensors[inputs[0]].numbers(_TENSOR_SHAPE, "int32")
            if list(sizes).count(-1) != 1 or not -len(shape) <= axis < len(shape):
                continue
            sizes[sizes == -1] = shape[axis] - (sizes.sum() + 1)
            buf[sizes_at:sizes_at + sizes_len] = sizes.astype("<i4").tobytes()
            resolved += 1
    return (bytes(buf), resolved) if resolved else (data, 0)
