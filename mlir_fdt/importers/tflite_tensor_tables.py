"""Rewrite Tensor tables of a TFLite flatbuffer before conversion, leaving every other byte where it was.

Flatbuffer offsets point forward only, so a table cannot be grown in place: a new copy of each
changed Tensor table (its shape, shape signature, type, buffer, name, quantization, `is_variable`
and `has_rank`, with the requested fields replaced) is appended after the original bytes, and the
subgraph's tensor list is pointed at the copy. Buffers (weights) stay where they were, byte for byte.
Tensors with sparsity, variant tensors or custom quantization details are not copied (left as they are).
"""

from __future__ import annotations

from typing import Callable

import flatbuffers
import numpy as np
from flatbuffers import number_types as N
from flatbuffers.table import Table

# schema.fbs field numbers
_MODEL_SUBGRAPHS = 2
_SUBGRAPH_TENSORS = 0
(T_SHAPE, T_TYPE, T_BUFFER, T_NAME, T_QUANT, T_IS_VARIABLE, T_SPARSITY, T_SHAPE_SIGNATURE, T_HAS_RANK,
 T_VARIANT_TENSORS) = range(10)
_QUANT_VECTORS = ((0, np.float32), (1, np.float32), (2, np.float32), (3, np.int64))  # min, max, scale, zero_point
_Q_ZERO_POINT, _Q_DETAILS_TYPE, _Q_DETAILS, _Q_QUANTIZED_DIMENSION = 3, 4, 5, 6
_ALIGN = 16


def _slot(k: int) -> int:
    return 4 + 2 * k


def offset(t: Table, k: int) -> int:
    """The vtable offset of field `k` of table `t` (0: absent)."""
    return t.Offset(_slot(k))


def _table(t: Table, k: int) -> Table | None:
    o = offset(t, k)
    return Table(t.Bytes, t.Indirect(o + t.Pos)) if o else None


def _vector_entries(t: Table, k: int) -> list[int]:
    """Absolute positions of the uoffset entries of a vector of tables."""
    o = offset(t, k)
    return [t.Vector(o) + 4 * i for i in range(t.VectorLen(o))] if o else []


def vector_len(t: Table, k: int) -> int:
    o = offset(t, k)
    return t.VectorLen(o) if o else 0


def flag(t: Table, k: int) -> bool:
    return bool(t.GetSlot(_slot(k), False, N.BoolFlags))


def tensor_type(t: Table) -> int:
    """Its schema.fbs `TensorType` code."""
    return t.GetSlot(_slot(T_TYPE), 0, N.Int8Flags)


def zero_points(t: Table) -> list[int]:
    q = _table(t, T_QUANT)
    return _numbers(q, _Q_ZERO_POINT, np.int64).tolist() if q is not None else []


def main_subgraph_io(data: bytes) -> tuple[list[int], list[int]]:
    """The tensor indices of the main subgraph's inputs and outputs."""
    model = Table(bytearray(data), flatbuffers.encode.Get(flatbuffers.packer.uoffset, data, 0))
    graph = Table(model.Bytes, model.Indirect(_vector_entries(model, _MODEL_SUBGRAPHS)[0]))
    return _numbers(graph, 1, np.int32).tolist(), _numbers(graph, 2, np.int32).tolist()


def shape_signature(t: Table) -> list[int]:
    return _numbers(t, T_SHAPE_SIGNATURE, np.int32).tolist()


def tensor_name(t: Table) -> str:
    return t.String(offset(t, T_NAME) + t.Pos).decode("utf-8", "replace") if offset(t, T_NAME) else ""


def _numbers(t: Table, k: int, dtype) -> np.ndarray:
    o = offset(t, k)
    if not o:
        return np.zeros(0, dtype)
    return np.frombuffer(t.Bytes, np.dtype(dtype).newbyteorder("<"), t.VectorLen(o), t.Vector(o)).astype(dtype)


def _copy_quantization(b: flatbuffers.Builder, q: Table, zero_point: list[int] | None) -> int | None:
    """The quantization parameters rebuilt in `b`, with `zero_point` if given (None when they carry custom
    `details`)."""
    if offset(q, _Q_DETAILS):
        return None
    vectors = {k: b.CreateNumpyVector(_numbers(q, k, dtype)) for k, dtype in _QUANT_VECTORS if offset(q, k)}
    if zero_point is not None:
        vectors[_Q_ZERO_POINT] = b.CreateNumpyVector(np.asarray(zero_point, np.int64))
    b.StartObject(7)
    for k, v in vectors.items():
        b.PrependUOffsetTRelativeSlot(k, v, 0)
    b.PrependInt32Slot(_Q_QUANTIZED_DIMENSION, q.GetSlot(_slot(_Q_QUANTIZED_DIMENSION), 0, N.Int32Flags), 0)
    return b.EndObject()


def _tensor_copy(b: flatbuffers.Builder, t: Table, changes: dict) -> int | None:
    """A copy of Tensor table `t` built in `b` with `changes` applied (keys "name", "type", "zero_point",
    "has_rank", "shape", "shape_signature"); None if it cannot be copied."""
    if offset(t, T_SPARSITY) or offset(t, T_VARIANT_TENSORS):
        return None
    q = _table(t, T_QUANT)
    quant = _copy_quantization(b, q, changes.get("zero_point")) if q is not None else None
    if q is not None and quant is None:
        return None
    name = changes.get("name", tensor_name(t) if offset(t, T_NAME) else None)
    name = b.CreateString(name) if name is not None else None
    shape = b.CreateNumpyVector(np.asarray(changes["shape"], np.int32) if "shape" in changes
                                else _numbers(t, T_SHAPE, np.int32))
    if "shape_signature" in changes:  # None: none (the shape is the signature)
        wanted = changes["shape_signature"]
        signature = b.CreateNumpyVector(np.asarray(wanted, np.int32)) if wanted is not None else None
    else:
        signature = b.CreateNumpyVector(_numbers(t, T_SHAPE_SIGNATURE, np.int32)) if offset(t, T_SHAPE_SIGNATURE) \
            else None
    b.StartObject(10)
    b.PrependUOffsetTRelativeSlot(T_SHAPE, shape, 0)
    b.PrependInt8Slot(T_TYPE, changes.get("type", tensor_type(t)), 0)
    b.PrependUint32Slot(T_BUFFER, t.GetSlot(_slot(T_BUFFER), 0, N.Uint32Flags), 0)
    if name is not None:
        b.PrependUOffsetTRelativeSlot(T_NAME, name, 0)
    if quant is not None:
        b.PrependUOffsetTRelativeSlot(T_QUANT, quant, 0)
    b.PrependBoolSlot(T_IS_VARIABLE, flag(t, T_IS_VARIABLE), False)
    if signature is not None:
        b.PrependUOffsetTRelativeSlot(T_SHAPE_SIGNATURE, signature, 0)
    b.PrependBoolSlot(T_HAS_RANK, changes.get("has_rank", flag(t, T_HAS_RANK)), False)
    return b.EndObject()


# what to change in a tensor, given (subgraph index, tensor index, its table, every tensor table of its subgraph)
TensorEdit = Callable[[int, int, Table, list[Table]], "dict | None"]


def rewrite_tensors(data: bytes, edit: TensorEdit) -> tuple[bytes, int]:
    """`data` with each Tensor table for which `edit` returns changes replaced by a changed copy, and how many
    were changed (0: `data` is returned unchanged)."""
    buf = bytearray(data)
    model = Table(buf, flatbuffers.encode.Get(flatbuffers.packer.uoffset, buf, 0))
    b = flatbuffers.Builder(1024)
    patches: list[tuple[int, int]] = []  # (position of a tensor-list entry, builder offset of its copy)
    for g, graph_entry in enumerate(_vector_entries(model, _MODEL_SUBGRAPHS)):
        graph = Table(buf, model.Indirect(graph_entry))
        entries = _vector_entries(graph, _SUBGRAPH_TENSORS)
        tables = [Table(buf, graph.Indirect(entry)) for entry in entries]
        for i, (entry, tensor) in enumerate(zip(entries, tables)):
            changes = edit(g, i, tensor, tables)
            if changes and (copy := _tensor_copy(b, tensor, changes)) is not None:
                patches.append((entry, copy))
    if not patches:
        return data, 0
    tail = bytes(b.Bytes[b.Head():])  # unfinished: no root, only the copies
    # the builder aligns its objects relative to the end of its bytes: end the file on an aligned byte
    start = len(buf) + (-(len(buf) + len(tail)) % _ALIGN)
    out = buf + bytes(start - len(buf)) + tail
    for entry, copy in patches:
        flatbuffers.encode.Write(flatbuffers.packer.uoffset, out, entry, start + len(tail) - copy - entry)
    return bytes(out), len(patches)
