"""MAC count of a linalg-on-tensors program: the iteration-space size of every reduction op.

For a convolution or dense layer that is the number of multiply-accumulates; for a pooling
op the number of accumulations. Elementwise ops (bias, requantization) are not counted. Layers
that an importer writes as scalar loops (the LSTM) say their MACs in a `fdt.macs` attribute.
"""

from __future__ import annotations

import numpy as np

from ..ir import ir, walk_ops
from .linalg_util import has_reduction, indexing_maps


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


MACS_ATTR = "fdt.macs"  # on a loop nest of scalar code: the multiply-accumulates it executes


def attributed_macs(root: ir.Operation) -> int:
    return sum(ir.IntegerAttr(op.attributes[MACS_ATTR]).value for op in walk_ops(root) if MACS_ATTR in op.attributes)


def count_macs(module: ir.Module) -> int:
    total = attributed_macs(module.operation)
    for op in walk_ops(module.operation):
        if op.name != "linalg.generic" or not has_reduction(op):
            continue
        ranges = loop_ranges(op)
        if ranges:
            total += int(np.prod(ranges, dtype=np.int64))
    return total


def count_macs_tiled(fn) -> int:
    """MACs actually executed by a (possibly tiled) program: every reduction op's iteration
    space, summed over every iteration of the loops around it (halo recomputation included)."""
    from .index_eval import dim_size, enclosing_loops, evaluate, iterations
    total = attributed_macs(fn)
    for op in walk_ops(fn):
        if op.name != "linalg.generic" or not has_reduction(op):
            continue
        maps = indexing_maps(op)
        n = maps[0].n_dims
        sources: list[tuple[ir.Value, int] | None] = [None] * n
        for value, amap in zip(op.operands, maps):
            if not isinstance(value.type, ir.ShapedType):
                continue
            for axis, expr in enumerate(amap.results):
                if isinstance(expr, ir.AffineDimExpr) and sources[expr.position] is None:
                    sources[expr.position] = (value, axis)
        loops = enclosing_loops(op)
        guards = _enclosing_guards(op)
        static = all(ir.ShapedType(v.type).shape[a] >= 0 for v, a in sources)
        if static and not guards:
            per_iteration = int(np.prod([ir.ShapedType(v.type).shape[a] for v, a in sources], dtype=np.int64))
            try:
                trips = 1
                for loop in loops:
                    lb, ub, step = (evaluate(loop.operands[k], {}) for k in range(3))
                    trips *= max(0, -(-(ub - lb) // step))
                total += per_iteration * trips
                continue
            except Exception:
                pass  # bounds depend on outer loops: enumerate below
        for env in iterations(loops):
            if all(bool(evaluate(cond, env)) == taken for cond, taken in guards):
                total += int(np.prod([dim_size(v, a, env) for v, a in sources], dtype=np.int64))
    return total


def _enclosing_guards(op: ir.Operation) -> list[tuple[ir.Value, bool]]:
    """The conditions of the `scf.if`s around `op` (up to the function) and whether `op` runs when each
    holds (then region) or fails (else region): a streamed path's layers run only at their steps."""
    guards = []
    child, parent = op, op.parent
    while parent is not None and parent.name != "func.func":
        if parent.name == "scf.if":
            then_ops = [o.operation for o in parent.regions[0].blocks[0].operations]
            guards.append((parent.operands[0], child in then_ops))
        child, parent = parent, parent.parent
    return guards
