"""MAC count of a linalg-on-tensors program: the iteration-space size of every reduction op.

For a convolution or dense layer that is the number of multiply-accumulates; for a pooling
op the number of accumulations. Elementwise ops (bias, requantization) are not counted.
"""

from __future__ import annotations

import numpy as np

from ..ir import ir, walk_ops
from ..transforms.linalg_util import has_reduction, indexing_maps


def loop_ranges(op: ir.Operation) -> list[int] | None:
    """Static trip count of each loop of a linalg.generic, read from operands whose map names the dim alone."""
    maps = indexing_maps(op)
    n = maps[0].n_dims
    ranges: list[int | None] = [None] * n
    for value, amap in zip(op.operands, maps):
        if not isinstance(value.type, ir.ShapedType):
            continue
        shape = ir.ShapedType(value.type).shape
        for axis, expr in enumerate(amap.results):
            if isinstance(expr, ir.AffineDimExpr) and ranges[expr.position] is None:
                ranges[expr.position] = shape[axis]
    if any(r is None for r in ranges):
        return None
    return [int(r) for r in ranges]


def count_macs(module: ir.Module) -> int:
    total = 0
    for op in walk_ops(module.operation):
        if op.name != "linalg.generic" or not has_reduction(op):
            continue
        ranges = loop_ranges(op)
        if ranges:
            total += int(np.prod(ranges, dtype=np.int64))
    return total
