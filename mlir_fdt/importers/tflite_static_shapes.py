"""Dynamic dimensions in shape signatures (a Keras model converted with its batch left open: `shape_signature`
`[-1, 49, 10, 1]` beside `shape` `[1, 49, 10, 1]`).

TFLite Micro allocates and runs the `shape`s; the converter reads the signatures and gives every such tensor a
dynamic dimension, which IREE's TOSA lowering and the `tfl.*` lowerings of mlir-fdt (LSTM, QUANTIZE rounding)
do not all take (a `tensor.empty` without its dynamic size, a converter failure without a message on an LSTM).
So the copy of the file the converter reads has no dynamic signatures: it sees the shapes TFLite Micro runs.
"""

from __future__ import annotations

from flatbuffers.table import Table

from .tflite_tensor_tables import rewrite_tensors, shape_signature


def _has_dynamic_dims(t: Table) -> bool:
    return any(d < 0 for d in shape_signature(t))


def drop_dynamic_signatures(data: bytes) -> tuple[bytes, int]:
    """`data` without the shape signatures that have dynamic dimensions, and how many (0: `data` unchanged)."""
    return rewrite_tensors(data, lambda g, i, t, tables: {"shape_signature": None} if _has_dynamic_dims(t) else None)
