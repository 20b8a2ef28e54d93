"""The main subgraph's operators with their constant int32 operands, located in the file's bytes so that a rewrite
before conversion can change them in place (same length: nothing else moves)."""

from __future__ import annotations

from dataclasses import dataclass

import flatbuffers
import numpy as np

from .tflite_flatbuffer import _operator_name, _Table

_MODEL_CODES, _MODEL_SUBGRAPHS, _MODEL_BUFFERS = 1, 2, 4
_GRAPH_TENSORS, _GRAPH_OPERATORS = 0, 3
_OP_CODE, _OP_INPUTS, _OP_OPTIONS = 0, 1, 4
_TENSOR_SHAPE, _TENSOR_BUFFER = 0, 2
_BUFFER_DATA = 0


@dataclass
class Int32Operand:
    """A constant int32 operand: where its data is in the file, and its values."""
    position: int
    values: np.ndarray

    def write(self, buf: bytearray, values) -> None:
        values = np.asarray(values, "<i4")
        assert values.shape == self.values.shape
        buf[self.position:self.position + 4 * values.size] = values.tobytes()


@dataclass
class OperatorOperands:
    index: int
    name: str
    input_shapes: list[list[int] | None]      # per input (None: omitted)
    constants: list[Int32Operand | None]      # per input: its int32 constant data, if it has any
    options: _Table | None


def _constant(model: _Table, buf: bytearray, tensor: _Table) -> Int32Operand | None:
    buffers = model.tables(_MODEL_BUFFERS)
    index = tensor.scalar(_TENSOR_BUFFER, flatbuffers.number_types.Uint32Flags)
    if not 0 < index < len(buffers) or tensor.scalar(1, flatbuffers.number_types.Int8Flags) != 2:  # INT32
        return None
    buffer = buffers[index]
    o = buffer._off(_BUFFER_DATA)
    if not o:
        return None
    at, n = buffer.t.Vector(o), buffer.t.VectorLen(o)
    return Int32Operand(at, np.frombuffer(buf, "<i4", n // 4, at).astype(np.int64))


def main_operators(buf: bytearray, names: set[str]) -> list[OperatorOperands]:
    """The operators of the main subgraph whose TFLite name is in `names`, with their constant int32 operands."""
    model = _Table(buf, flatbuffers.encode.Get(flatbuffers.packer.uoffset, buf, 0))
    codes = [_operator_name(c) for c in model.tables(_MODEL_CODES)]
    graphs = model.tables(_MODEL_SUBGRAPHS)
    if not graphs:
        return []
    tensors = graphs[0].tables(_GRAPH_TENSORS)
    found = []
    for k, op in enumerate(graphs[0].tables(_GRAPH_OPERATORS)):
        name = codes[op.scalar(_OP_CODE, flatbuffers.number_types.Uint32Flags)]
        if name not in names:
            continue
        inputs = op.numbers(_OP_INPUTS, "int32")
        shapes = [tensors[i].numbers(_TENSOR_SHAPE, "int32") if i >= 0 else None for i in inputs]
        constants = [_constant(model, buf, tensors[i]) if i >= 0 else None for i in inputs]
        found.append(OperatorOperands(k, name, shapes, constants, op.table(_OP_OPTIONS)))
    return found
