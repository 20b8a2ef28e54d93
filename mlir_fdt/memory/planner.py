"""Buffer layout: `solve(sizes, lifetimes, alignment) -> offsets`.

Buffers whose lifetimes overlap must not overlap in memory. The arena size is the maximum
`offset + size`. The planners here:

- `greedy_by_size` — TFLite Micro's GreedyMemoryPlanner: take buffers from largest to
  smallest (ties: earlier first use first); place each at the lowest aligned offset where it
  fits between the buffers already placed that are live at the same time. Not optimal, but
  fast and usually close.
- `linear` — every buffer after the previous one, no reuse: the trivial baseline.

`lower_bound` is the most bytes live at any one time; no layout can be smaller.
"""

from __future__ import annotations

from dataclasses import dataclass

Lifetime = tuple[int, int]  # first and last schedule step, inclusive


def align_up(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment


def overlaps(a: Lifetime, b: Lifetime) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def lower_bound(sizes: list[int], lifetimes: list[Lifetime]) -> int:
    """Max over schedule steps of the bytes live at that step."""
    if not sizes:
        return 0
    events = sorted({t for lt in lifetimes for t in lt})
    return max(sum(s for s, lt in zip(sizes, lifetimes) if lt[0] <= t <= lt[1]) for t in events)


def arena_size(sizes: list[int], offsets: list[int]) -> int:
    return max((o + s for o, s in zip(offsets, sizes)), default=0)


def linear(sizes: list[int], lifetimes: list[Lifetime], alignment: int = 16) -> list[int]:
    offsets, top = [], 0
    for s in sizes:
        offsets.append(top)
        top = align_up(top + s, alignment)
    return offsets


def greedy_by_size(sizes: list[int], lifetimes: list[Lifetime], alignment: int = 16) -> list[int]:
    order = sorted(range(len(sizes)), key=lambda i: (-sizes[i], lifetimes[i][0], i))
    offsets: list[int | None] = [None] * len(sizes)
    placed: list[int] = []
    for i in order:
        conflicts = sorted((offsets[j], offsets[j] + sizes[j]) for j in placed
                           if overlaps(lifetimes[i], lifetimes[j]))
        candidate = 0
        for start, end in conflicts:
            if candidate + sizes[i] <= start:
                break
            candidate = max(candidate, align_up(end, alignment))
        offsets[i] = candidate
        placed.append(i)
    return [int(o) for o in offsets]


PLANNERS = {"greedy": greedy_by_size, "linear": linear}


@dataclass(frozen=True)
class Layout:
    planner: str
    offsets: list[int]
    size: int


def solve(sizes: list[int], lifetimes: list[Lifetime], alignment: int = 16, planner: str = "greedy") -> Layout:
    """Lay the buffers out with `planner`; raise ValueError for an unknown planner name."""
    if planner not in PLANNERS:
        raise ValueError(f"unknown planner '{planner}'; choose one of: {', '.join(sorted(PLANNERS))}")
    offsets = PLANNERS[planner](sizes, lifetimes, alignment)
    return Layout(planner, offsets, arena_size(sizes, offsets))
