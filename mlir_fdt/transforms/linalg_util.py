"""Small helpers on linalg ops and dense attributes shared by the passes."""

from __future__ import annotations

import numpy as np

from ..ir import ir


def iterator_kinds(op) -> list[str]:
    return [str(a).split("<")[-1].rstrip(">") for a in op.attributes["iterator_types"]]


def is_all_parallel(op) -> bool:
    return all(k == "parallel" for k in iterator_kinds(op))


def has_reduction(op) -> bool:
    return any(k == "reduction" for k in iterator_kinds(op))


def indexing_maps(op) -> list[ir.AffineMap]:
    return [ir.AffineMapAttr(a).value for a in op.attributes["indexing_maps"]]


def num_inputs(op) -> int:
    """Number of `ins` operands of a linalg structured op."""
    seg = op.attributes["operandSegmentSizes"]
    return int(ir.DenseI32ArrayAttr(seg)[0])


def defining_op(value: ir.Value) -> ir.Operation | None:
    """The operation producing `value`, or None for a block argument."""
    owner = value.owner
    if isinstance(owner, ir.Block):
        return None
    return owner.operation


def dense_to_numpy(attr: ir.Attribute) -> np.ndarray:
    dense = ir.DenseElementsAttr(attr)
    shape = ir.ShapedType(dense.type).shape
    if isinstance(ir.ShapedType(dense.type).element_type, ir.FloatType):
        arr = np.array(ir.DenseFPElementsAttr(attr))
    else:
        arr = np.array(ir.DenseIntElementsAttr(attr))
    return np.broadcast_to(arr, shape) if dense.is_splat else arr.reshape(shape)


def numpy_to_dense(arr: np.ndarray, tensor_type: ir.RankedTensorType) -> ir.Attribute:
    elem = tensor_type.element_type
    return ir.DenseElementsAttr.get(np.ascontiguousarray(arr), type=elem, shape=list(tensor_type.shape))
