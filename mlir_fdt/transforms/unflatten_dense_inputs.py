"""fdt-unflatten-dense-inputs: a dense layer that reads a flattened HxWxC map sums over H, W and C.

TFLite models flatten a convolution's output (RESHAPE) before a FULLY_CONNECTED layer: the dense
layer's reduction runs over one index k = (h*W + w)*C + c of `collapse_shape(x)`. Rewritten to
three reduction loops (h, w, c) over x itself, with its constant weights reshaped the same way,
it adds the same products in the same order (row-major flattening) and reads the producer's
channels as its last axis. That is what makes the layer table see a dense layer that sums over
its producer's channels: an FDT path can then partition the producer's output channels and
close at the dense layer with partial sums, no flattened copy between them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir import ir, walk_ops
from ..analysis.linalg_util import (defining_op, dense_to_numpy, indexing_maps, iterator_kinds, num_inputs,
                                    numpy_to_dense)
from ..passes import ModulePass


def _flattened_source(value: ir.Value) -> ir.Value | None:
    """x when `value` = collapse_shape(x) into one dimension, x of static rank >= 2."""
    op = defining_op(value)
    if op is None or op.name != "tensor.collapse_shape" or ir.RankedTensorType(value.type).rank != 1:
        return None
    source = op.operands[0]
    shape = ir.RankedTensorType(source.type).shape
    if len(shape) < 2 or any(d < 0 for d in shape):
        return None
    return source


def _plain(expr: ir.AffineExpr) -> bool:
    return isinstance(expr, (ir.AffineDimExpr, ir.AffineConstantExpr))


def _uses_index(op: ir.Operation) -> bool:
    return any(inner.name == "linalg.index" for inner in walk_ops(op))


def _constant(value: ir.Value) -> ir.Operation | None:
    op = defining_op(value)
    return op if op is not None and op.name == "arith.constant" else None


def _unflatten(generic: ir.Operation) -> bool:
    """Rewrite `generic` in place if its first input is a flattened map summed over; True if done."""
    maps = indexing_maps(generic)
    kinds = iterator_kinds(generic)
    source = _flattened_source(generic.operands[0])
    if source is None or len(maps[0].results) != 1 or not isinstance(maps[0].results[0], ir.AffineDimExpr):
        return False
    k = ir.AffineDimExpr(maps[0].results[0]).position
    if kinds[k] != "reduction" or not all(_plain(e) for m in maps for e in m.results) or _uses_index(generic):
        return False
    shape = list(ir.RankedTensorType(source.type).shape)
    extra = len(shape) - 1
    operands = list(generic.operands)
    new_weights: dict[int, tuple[ir.Operation, int]] = {}
    for j, m in enumerate(maps):
        axes = [a for a, e in enumerate(m.results) if isinstance(e, ir.AffineDimExpr)
                and ir.AffineDimExpr(e).position == k]
        if j == 0 or not axes:
            continue
        const = _constant(operands[j])
        if len(axes) != 1 or j >= num_inputs(generic) or const is None:
            return False  # k also indexes a computed tensor or the output: leave it
        new_weights[j] = (const, axes[0])

    def dim(position: int) -> list[ir.AffineExpr]:
        if position < k:
            return [ir.AffineDimExpr.get(position)]
        if position == k:
            return [ir.AffineDimExpr.get(k + i) for i in range(extra + 1)]
        return [ir.AffineDimExpr.get(position + extra)]

    n_dims = len(kinds) + extra
    new_maps = []
    for m in maps:
        exprs: list[ir.AffineExpr] = []
        for e in m.results:
            exprs += dim(ir.AffineDimExpr(e).position) if isinstance(e, ir.AffineDimExpr) else [e]
        new_maps.append(ir.AffineMapAttr.get(ir.AffineMap.get(n_dims, 0, exprs)))
    for j, (const, axis) in new_weights.items():
        weights = dense_to_numpy(const.attributes["value"])
        reshaped = weights.reshape(weights.shape[:axis] + tuple(shape) + weights.shape[axis + 1:])
        t = ir.RankedTensorType.get(list(reshaped.shape), ir.RankedTensorType(operands[j].type).element_type)
        new_const = ir.Operation.create("arith.constant", [t], loc=generic.location, ip=ir.InsertionPoint(generic),
                                        attributes={"value": numpy_to_dense(np.ascontiguousarray(reshaped), t)})
        generic.operands[j] = new_const.results[0]
    generic.operands[0] = source
    new_kinds = kinds[:k] + ["reduction"] * (extra + 1) + kinds[k + 1:]
    generic.attributes["indexing_maps"] = ir.ArrayAttr.get(new_maps)
    generic.attributes["iterator_types"] = ir.ArrayAttr.get(
        [ir.Attribute.parse(f"#linalg.iterator_type<{kind}>") for kind in new_kinds])
    return True


@dataclass(frozen=True)
class UnflattenDenseInputs(ModulePass):
    """Let a dense layer read the map it flattens directly, summing over each of its axes."""

    name = "fdt-unflatten-dense-inputs"
    summary = "dense layers over a flattened map sum over its rows, columns and channels instead"

    def apply(self, module: ir.Module) -> None:
        with module.context, ir.Location.unknown():
            for op in walk_ops(module.operation):
                if op.name == "linalg.generic" and len(op.results) == 1 and "reduction" in iterator_kinds(op):
                    _unflatten(op)
