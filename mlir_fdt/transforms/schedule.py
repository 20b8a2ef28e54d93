"""fdt-schedule-min-memory: order the top-level ops of the entry function so that the most bytes
live at once is as small as possible.

On a branching graph (a residual block, an inception-style concat) the import's order is one
topological order among many; which branch runs first decides which tensors wait. Exact for
small graphs (dynamic programming over the sets of executed ops), greedy beyond that (run the
ready op that leaves the fewest bytes live). The order changes only when it lowers the peak.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir import entry_function, ir
from ..passes import ModulePass

EXACT_LIMIT = 16  # ops that actually produce data; 2^16 subsets is instant


def _bytes(value: ir.Value) -> int:
    t = value.type
    if not isinstance(t, ir.RankedTensorType) or any(d < 0 for d in t.shape):
        return 0
    width = t.element_type.width if hasattr(t.element_type, "width") else 32
    return int(np.prod(t.shape, dtype=np.int64)) * max(1, width // 8)


def _top_level(op: ir.Operation, block: ir.Block) -> ir.Operation:
    while op.block != block:
        op = op.parent.operation
    return op


@dataclass
class _Node:
    op: ir.Operation
    size: int            # bytes of its tensor results
    preds: set           # indices of nodes it depends on
    succs: set


def _graph(block: ir.Block) -> list[_Node]:
    ops = [op.operation for op in block.operations][:-1]  # not the terminator
    index = {op: i for i, op in enumerate(ops)}
    nodes = [_Node(op, 0 if op.name in ("arith.constant", "tensor.empty") else sum(_bytes(r) for r in op.results),
                   set(), set()) for op in ops]
    for i, op in enumerate(ops):
        stack = [op]
        while stack:  # operands of nested ops count too (values captured by loop bodies)
            cur = stack.pop()
            for v in cur.operands:
                if not isinstance(v.owner, ir.Block):
                    top = _top_level(v.owner.operation, block)
                    if top in index and index[top] != i:
                        nodes[i].preds.add(index[top])
            for region in cur.regions:
                for b in region.blocks:
                    stack.extend(o.operation for o in b.operations)
    for i, n in enumerate(nodes):
        for p in n.preds:
            nodes[p].succs.add(i)
    return nodes


def peak_of(order: list[int], nodes: list[_Node], outputs: set) -> int:
    """Most bytes live at once when running `order` (results live until their last consumer)."""
    done, live, peak = set(), {}, 0
    for i in order:
        live[i] = nodes[i].size
        peak = max(peak, sum(live.values()))
        done.add(i)
        for p in list(live):
            if p not in outputs and nodes[p].succs <= done:
                del live[p]
    return peak


def _greedy(nodes: list[_Node], outputs: set) -> list[int]:
    done, order = set(), []
    while len(order) < len(nodes):
        ready = [i for i in range(len(nodes)) if i not in done and nodes[i].preds <= done]
        def freed(i: int) -> int:
            return sum(nodes[p].size for p in nodes[i].preds
                       if p not in outputs and nodes[p].succs <= done | {i})
        # least growth of live bytes, then program order (stable)
        best = min(ready, key=lambda i: (nodes[i].size - freed(i), i))
        order.append(best)
        done.add(best)
    return order


def _exact(nodes: list[_Node], outputs: set) -> list[int]:
    n = len(nodes)
    pred_mask = [sum(1 << p for p in node.preds) for node in nodes]
    succ_mask = [sum(1 << s for s in node.succs) for node in nodes]

    def live_after(mask: int) -> int:
        return sum(nodes[i].size for i in range(n) if mask >> i & 1
                   and (i in outputs or (succ_mask[i] & ~mask)))
    best = {0: (0, [])}
    for mask in range(1 << n):
        if mask not in best:
            continue
        peak, order = best[mask]
        base = live_after(mask)
        for i in range(n):
            if mask >> i & 1 or pred_mask[i] & ~mask:
                continue
            new = mask | 1 << i
            cand = (max(peak, base + nodes[i].size), order + [i])
            if new not in best or cand[0] < best[new][0]:
                best[new] = cand
    return best[(1 << n) - 1][1]


@dataclass(frozen=True)
class ScheduleMinMemory(ModulePass):
    """Reorder the entry function's top-level ops to minimise the peak of live tensor bytes."""

    name = "fdt-schedule-min-memory"
    summary = "topological order of top-level ops with the least peak of live bytes (exact when small)"

    def apply(self, module: ir.Module) -> None:
        with module.context:
            block = entry_function(module).regions[0].blocks[0]
            nodes = _graph(block)
            if not nodes:
                return
            terminator = list(block.operations)[-1].operation
            index = {n.op: i for i, n in enumerate(nodes)}
            outputs = {index[_top_level(v.owner.operation, block)] for v in terminator.operands
                       if not isinstance(v.owner, ir.Block) and _top_level(v.owner.operation, block) in index}
            original = list(range(len(nodes)))
            order = _exact(nodes, outputs) if len(nodes) <= EXACT_LIMIT else _greedy(nodes, outputs)
            if peak_of(order, nodes, outputs) >= peak_of(original, nodes, outputs):
                return
            for i in order:
                nodes[i].op.move_before(terminator)
