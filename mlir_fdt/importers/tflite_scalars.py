"""Scalars of older TFLite files: an empty shape is a scalar, not an unknown rank.

TFLite and TFLite Micro read a tensor's `shape` as its dimensions, so `[]` is a scalar. Files
written before the schema gained `Tensor.has_rank` never set that field, and the converter's
flatbuffer importer reads an empty shape without `has_rank` (and without `shape_signature`) as an
*unranked* tensor for anything but constants: `tfl.reduce_max` to a scalar then keeps a
`tensor<*xf32>` result, no TOSA lowering accepts it, and the bytecode does not parse
(mlonmcu_model_with_reduce_max). So before conversion every such tensor gets `has_rank = true`
(a copy of its table: `tflite_tensor_tables`).
"""

from __future__ import annotations

from flatbuffers.table import Table

from .tflite_tensor_tables import (T_HAS_RANK, T_SHAPE, T_SHAPE_SIGNATURE, T_SPARSITY, T_VARIANT_TENSORS, flag,
                                   offset, rewrite_tensors, vector_len)


def is_shapeless_scalar(t: Table) -> bool:
    """An empty shape read as unranked by the converter, though TFLite reads it as a scalar. Sparse
    and variant tensors are left alone (never scalars in the models mlir-fdt compiles)."""
    return (vector_len(t, T_SHAPE) == 0 and vector_len(t, T_SHAPE_SIGNATURE) == 0 and not flag(t, T_HAS_RANK)
            and not offset(t, T_SPARSITY) and not offset(t, T_VARIANT_TENSORS))


def rank_shapeless_scalars(data: bytes) -> tuple[bytes, int]:
    """`data` with every empty-shaped tensor of every subgraph marked as a rank-0 tensor, and how
    many were marked (0: `data` is returned unchanged)."""
    return rewrite_tensors(data, lambda g, i, t, tables: {"has_rank": True} if is_shapeless_scalar(t) else None)
