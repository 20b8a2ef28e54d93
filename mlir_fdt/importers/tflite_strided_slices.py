"""STRIDED_SLICE bounds as TFLite reads them, which the converter does not.

TFLite (`StartForAxis`/`StopForAxis`) counts a negative begin or end from the end of the axis and clamps both to
the axis; the converter slices with the raw values (an end of 100 on an axis of 6: a `tosa.slice` that does not
verify). So the converter reads a copy of the file whose positive-stride slices have their begin and end
normalized to `0..dim` (in place, `tflite_constant_operands`; masked bounds and shrunk axes' ends left as they
are). A negative stride, which the converter does not lower, is refused naming the operator.
"""

from __future__ import annotations

from pathlib import Path

import flatbuffers

from .tflite_constant_operands import OperatorOperands, main_operators

_BEGIN_MASK, _END_MASK, _ELLIPSIS_MASK, _NEW_AXIS_MASK, _SHRINK_AXIS_MASK, _OFFSET = range(6)
NEGATIVE_STRIDE = ("a STRIDED_SLICE with a negative stride, which the TFLite to TOSA converter does not lower: "
                   "slice forwards and reverse with REVERSE_V2")


def _option(op: OperatorOperands, field: int) -> int:
    kind = flatbuffers.number_types.BoolFlags if field == _OFFSET else flatbuffers.number_types.Int32Flags
    return int(op.options.scalar(field, kind)) if op.options else 0


def _operands(op: OperatorOperands):
    """(input shape, begin, end, strides) when all three are constants of the input's rank, else None."""
    if len(op.constants) != 4 or op.input_shapes[0] is None or None in op.constants[1:]:
        return None
    shape, (begin, end, strides) = op.input_shapes[0], op.constants[1:]
    if not begin.values.size == end.values.size == strides.values.size == len(shape):
        return None
    return shape, begin, end, strides


def negative_stride_slices(path: Path) -> set[int]:
    """Indices of the STRIDED_SLICE operators with a constant negative stride."""
    found = set()
    for op in main_operators(bytearray(path.read_bytes()), {"STRIDED_SLICE"}):
        operands = _operands(op)
        if operands is not None and (operands[3].values < 0).any():
            found.add(op.index)
    return found


def _bound(value: int, dim: int) -> int:
    return min(max(value + dim if value < 0 else value, 0), dim)


def normalize_strided_slices(data: bytes) -> tuple[bytes, int]:
    """`data` with the begin and end of every positive-stride STRIDED_SLICE counted from 0 and clamped to their
    axis, and how many slices changed (0: `data` unchanged)."""
    buf = bytearray(data)
    changed = 0
    for op in main_operators(buf, {"STRIDED_SLICE"}):
        operands = _operands(op)
        if operands is None or (operands[3].values <= 0).any() or _option(op, _ELLIPSIS_MASK) \
                or _option(op, _NEW_AXIS_MASK) or _option(op, _OFFSET):
            continue
        shape, begin, end, _ = operands
        masks = [_option(op, k) for k in (_BEGIN_MASK, _END_MASK, _SHRINK_AXIS_MASK)]
        new_begin = [b if masks[0] >> d & 1 else _bound(int(b), dim) for d, (b, dim) in enumerate(zip(begin.values,
                                                                                                      shape))]
        new_end = [e if masks[1] >> d & 1 or masks[2] >> d & 1 else _bound(int(e), dim)
                   for d, (e, dim) in enumerate(zip(end.values, shape))]
        if new_begin != list(begin.values) or new_end != list(end.values):
            begin.write(buf, new_begin)
            end.write(buf, new_end)
            changed += 1
    return (bytes(buf), changed) if changed else (data, 0)
