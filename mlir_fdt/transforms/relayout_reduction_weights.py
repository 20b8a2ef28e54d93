"""fdt-relayout-reduction-weights: constant weights are stored in the order the reduction reads them.

The TOSA import gives convolution weights as HWCF and dense weights as CF (the output channel
innermost), so the inner loop of an output element — over input channels — reads weights with a
stride of F bytes. TFLite itself stores them OHWI. This pass permutes each integer weight constant
of a reduction so that its axes follow the loop order (output channel outermost, the innermost
reduction loop innermost). For a convolution or dense layer both operands of the dot product are
then contiguous along the input channels, which the int8 kernels (`kernels/dot_products.py`) need
to read four elements a load. A depthwise layer's weights keep their channels innermost ([KH][KW][C]),
as its input does: four channels are one word of each (`kernels/depthwise_channels.py`). Only the
layout of constants in flash changes: same values, same arena, same results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir import arith, ir, walk_ops
from ..analysis.linalg_util import (defining_op, dense_to_numpy, indexing_maps, involves_dim, iterator_kinds,
                                    num_inputs, numpy_to_dense)
from ..passes import ModulePass


def _is_integer_constant(value: ir.Value) -> bool:
    producer = defining_op(value)
    return (producer is not None and producer.name == "arith.constant"
            and isinstance(value.type, ir.RankedTensorType)
            and isinstance(ir.RankedTensorType(value.type).element_type, ir.IntegerType))


def _loop_order_axes(affine_map: ir.AffineMap, innermost: set[int]) -> list[int] | None:
    """The axes of an operand indexed by plain, distinct loop dims, sorted by loop position, the dims of
    `innermost` last; None when the map is not such a projected permutation."""
    results = list(affine_map.results)
    if not all(isinstance(e, ir.AffineDimExpr) for e in results):
        return None
    dims = [ir.AffineDimExpr(e).position for e in results]
    if len(set(dims)) != len(dims):
        return None
    return sorted(range(len(dims)), key=lambda axis: (dims[axis] in innermost, dims[axis]))


def _depthwise_channel_dims(op, weight: int) -> set[int]:
    """Parallel dims the weight operand `weight` shares with a non-constant input: a depthwise layer's
    channels (its input and weights are indexed by the same channel), which stay innermost so four
    channels' weights sit side by side like their inputs (`kernels/depthwise_channels.py`)."""
    maps, kinds = indexing_maps(op), iterator_kinds(op)
    weight_dims = {ir.AffineDimExpr(e).position for e in maps[weight].results if isinstance(e, ir.AffineDimExpr)}
    shared = set()
    for i, value in enumerate(list(op.operands)[:num_inputs(op)]):
        if i == weight or not isinstance(value.type, ir.RankedTensorType) or _is_integer_constant(value):
            continue
        shared |= {d for d in weight_dims
                   if kinds[d] == "parallel" and any(involves_dim(e, d) for e in maps[i].results)}
    return shared


def relayout(op) -> int:
    """Permute the weight constants of one reduction generic; the number permuted."""
    kinds = iterator_kinds(op)
    inner = len(kinds) - 1
    if kinds[inner] != "reduction":
        return 0
    maps = indexing_maps(op)
    n_in = num_inputs(op)
    inputs = list(op.operands)[:n_in]
    changed = 0
    new_maps = list(maps)
    for i, value in enumerate(inputs):
        if not _is_integer_constant(value):
            continue
        axes = _loop_order_axes(maps[i], _depthwise_channel_dims(op, i))
        if axes is None or axes == list(range(len(axes))):
            continue
        permuted = np.ascontiguousarray(np.transpose(dense_to_numpy(defining_op(value).attributes["value"]), axes))
        old_type = ir.RankedTensorType(value.type)
        new_type = ir.RankedTensorType.get(list(permuted.shape), old_type.element_type)
        with ir.InsertionPoint(op), op.location:
            const = arith.ConstantOp(new_type, numpy_to_dense(permuted, new_type))
        old_const = defining_op(value)
        op.operands[i] = const.result
        if not list(old_const.results[0].uses):
            old_const.erase()
        new_maps[i] = ir.AffineMap.get(maps[i].n_dims, 0, [maps[i].results[a] for a in axes])
        changed += 1
    if changed:
        op.attributes["indexing_maps"] = ir.ArrayAttr.get([ir.AffineMapAttr.get(m) for m in new_maps])
    return changed


@dataclass(frozen=True)
class RelayoutReductionWeights(ModulePass):
    """Store integer weight constants in the order their reduction reads them."""

    name = "fdt-relayout-reduction-weights"
    summary = "permute constant weights of reductions so the innermost reduction loop reads them contiguously"

    def apply(self, module: ir.Module) -> None:
        with module.context, ir.Location.unknown():
            for op in walk_ops(module.operation):
                if op.name == "linalg.generic" and "reduction" in iterator_kinds(op):
                    relayout(op)
