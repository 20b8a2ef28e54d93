"""Scalars of older TFLite files: an empty shape is a scalar, not an unknown rank.

TFLite and TFLite Micro read a tensor's `shape` as its dimensions, so `[]` is a scalar. Files
written before the schema gained `Tensor.has_rank` never set that field, and the converter's
flatbuffer importer reads an empty shape without `has_rank` (and without `shape_signature`) as an
*unranked* tensor for anything but constants: `tfl.reduce_max` to a scalar then keeps a
`tensor<*xf32>` result, no TOSA lowering accepts it, and the bytecode does not parse
(mlonmcu_model_with_reduce_max). So before conversion every such tensor gets `has_rank = true`.

Flatbuffer offsets point forward only, so a table cannot be grown in place: a new copy of each
such Tensor table (with its name, an empty shape, its quantization and `has_rank`) is appended
after the original bytes, and the subgraph's tensor list is pointed at the copy. Everything else,
buffers included, stays where it was, byte for byte.
"""

from __future__ import annotations

import flatbuffers
import numpy as np
from flatbuffers import number_types as N
from flatbuffers.table import Table

# schema.fbs field numbers
_MODEL_SUBGRAPHS = 2
_SUBGRAPH_TENSORS = 0
(_T_SHAPE, _T_TYPE, _T_BUFFER, _T_NAME, _T_QUANT, _T_IS_VARIABLE, _T_SPARSITY, _T_SHAPE_SIGNATURE, _T_HAS_RANK,
 _T_VARIANT_TENSORS) = range(10)
_QUANT_VECTORS = ((0, np.float32), (1, np.float32), (2, np.float32), (3, np.int64))  # min, max, scale, zero_point
_Q_DETAILS_TYPE, _Q_DETAILS, _Q_QUANTIZED_DIMENSION = 4, 5, 6
_ALIGN = 16


def _slot(k: int) -> int:
    return 4 + 2 * k


def _offset(t: Table, k: int) -> int:
    return t.Offset(_slot(k))


def _table(t: Table, k: int) -> Table | None:
    o = _offset(t, k)
    return Table(t.Bytes, t.Indirect(o + t.Pos)) if o else None


def _vector_entries(t: Table, k: int) -> list[int]:
    """Absolute positions of the uoffset entries of a vector of tables."""
    o = _offset(t, k)
    return [t.Vector(o) + 4 * i for i in range(t.VectorLen(o))] if o else []


def _vector_len(t: Table, k: int) -> int:
    o = _offset(t, k)
    return t.VectorLen(o) if o else 0


def _numbers(t: Table, k: int, dtype) -> np.ndarray:
    o = _offset(t, k)
    if not o:
        return np.zeros(0, dtype)
    return np.frombuffer(t.Bytes, np.dtype(dtype).newbyteorder("<"), t.VectorLen(o), t.Vector(o)).astype(dtype)


def _is_shapeless_scalar(t: Table) -> bool:
    """An empty shape read as unranked by the converter, though TFLite reads it as a scalar. Sparse
    and variant tensors are left alone (never scalars in the models mlir-fdt compiles)."""
    return (_vector_len(t, _T_SHAPE) == 0 and _vector_len(t, _T_SHAPE_SIGNATURE) == 0
            and not t.GetSlot(_slot(_T_HAS_RANK), False, N.BoolFlags)
            and not _offset(t, _T_SPARSITY) and not _offset(t, _T_VARIANT_TENSORS))


def _copy_quantization(b: flatbuffers.Builder, q: Table) -> int | None:
    """The quantization parameters rebuilt in `b` (None when they carry custom `details`)."""
    if _offset(q, _Q_DETAILS):
        return None
    vectors = {k: b.CreateNumpyVector(_numbers(q, k, dtype)) for k, dtype in _QUANT_VECTORS if _offset(q, k)}
    b.StartObject(7)
    for k, v in vectors.items():
        b.PrependUOffsetTRelativeSlot(k, v, 0)
    b.PrependInt32Slot(_Q_QUANTIZED_DIMENSION, q.GetSlot(_slot(_Q_QUANTIZED_DIMENSION), 0, N.Int32Flags), 0)
    return b.EndObject()


def _ranked_copy(b: flatbuffers.Builder, t: Table) -> int | None:
    """A copy of Tensor table `t` built in `b` with `has_rank = true` (None if it cannot be copied)."""
    q = _table(t, _T_QUANT)
    quant = _copy_quantization(b, q) if q is not None else None
    if q is not None and quant is None:
        return None
    name = b.CreateString(t.String(_offset(t, _T_NAME) + t.Pos)) if _offset(t, _T_NAME) else None
    shape = b.CreateNumpyVector(np.zeros(0, np.int32))
    b.StartObject(10)
    b.PrependUOffsetTRelativeSlot(_T_SHAPE, shape, 0)
    b.PrependInt8Slot(_T_TYPE, t.GetSlot(_slot(_T_TYPE), 0, N.Int8Flags), 0)
    b.PrependUint32Slot(_T_BUFFER, t.GetSlot(_slot(_T_BUFFER), 0, N.Uint32Flags), 0)
    if name is not None:
        b.PrependUOffsetTRelativeSlot(_T_NAME, name, 0)
    if quant is not None:
        b.PrependUOffsetTRelativeSlot(_T_QUANT, quant, 0)
    b.PrependBoolSlot(_T_IS_VARIABLE, t.GetSlot(_slot(_T_IS_VARIABLE), False, N.BoolFlags), False)
    b.PrependBoolSlot(_T_HAS_RANK, True, False)
    return b.EndObject()


def rank_shapeless_scalars(data: bytes) -> tuple[bytes, int]:
    """`data` with every empty-shaped tensor of every subgraph marked as a rank-0 tensor, and how
    many were marked (0: `data` is returned unchanged)."""
    buf = bytearray(data)
    model = Table(buf, flatbuffers.encode.Get(flatbuffers.packer.uoffset, buf, 0))
    b = flatbuffers.Builder(1024)
    patches: list[tuple[int, int]] = []  # (position of a tensor-list entry, builder offset of its copy)
    for graph_entry in _vector_entries(model, _MODEL_SUBGRAPHS):
        graph = Table(buf, model.Indirect(graph_entry))
        for entry in _vector_entries(graph, _SUBGRAPH_TENSORS):
            tensor = Table(buf, graph.Indirect(entry))
            if _is_shapeless_scalar(tensor) and (copy := _ranked_copy(b, tensor)) is not None:
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
