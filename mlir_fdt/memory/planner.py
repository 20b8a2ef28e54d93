"""Buffer layout: `solve(sizes, lifetimes, alignment) -> offsets`.

Buffers whose lifetimes overlap must not overlap in memory. The arena size is the maximum
`offset + size`. The planners here:

- `greedy_by_size` — TFLite Micro's GreedyMemoryPlanner: take buffers from largest to
  smallest (ties: earlier first use first); place each at the lowest aligned offset where it
  fits between the buffers already placed that are live at the same time. Not optimal, but
  fast and usually close.
- `linear` — every buffer after the previous one, no reuse: the trivial baseline.
- `optimal` — OR-Tools CP-SAT: offsets as variables, a 2-D no-overlap constraint over
  (lifetime x address) rectangles, minimise the arena; warm-started from the greedy layout and
  stopped at a time limit, so its result is never worse than greedy's. Optimal when it proves
  it (or reaches the lower bound) in time.
- `best` — the smaller of greedy and optimal (the default of `mlir-fdt compile`).

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


OPTIMAL_TIME_LIMIT_S = 3.0


def optimal(sizes: list[int], lifetimes: list[Lifetime], alignment: int = 16,
            time_limit_s: float = OPTIMAL_TIME_LIMIT_S) -> list[int]:
    """CP-SAT layout, warm-started from greedy; falls back to greedy when it finds nothing better."""
    greedy = greedy_by_size(sizes, lifetimes, alignment)
    upper = arena_size(sizes, greedy)
    bound = lower_bound(sizes, lifetimes)
    if upper <= bound or len(sizes) <= 1:
        return greedy
    from ortools.sat.python import cp_model
    model = cp_model.CpModel()
    arena = model.NewIntVar(bound, upper, "arena")
    slots, rects_x, rects_y = [], [], []
    for i, (size, (first, last)) in enumerate(zip(sizes, lifetimes)):
        slot = model.NewIntVar(0, max(0, (upper - size) // alignment), f"slot{i}")
        offset = model.NewIntVar(0, upper, f"off{i}")
        model.Add(offset == slot * alignment)
        model.Add(offset + size <= arena)
        model.AddHint(slot, greedy[i] // alignment)
        slots.append(offset)
        rects_x.append(model.NewFixedSizeIntervalVar(first, last - first + 1, f"t{i}"))
        rects_y.append(model.NewFixedSizeIntervalVar(offset, size, f"a{i}") if size else
                       model.NewFixedSizeIntervalVar(offset, 1, f"a{i}"))
    model.AddNoOverlap2D(rects_x, rects_y)
    model.Minimize(arena)
    solver = cp_model.CpSolver()
    # One worker and a deterministic-time limit: the same input always gives the same layout.
    solver.parameters.max_deterministic_time = time_limit_s
    solver.parameters.max_time_in_seconds = 4 * time_limit_s
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    status = solver.Solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return greedy
    offsets = [int(solver.Value(o)) for o in slots]
    return offsets if arena_size(sizes, offsets) < upper else greedy


def best(sizes: list[int], lifetimes: list[Lifetime], alignment: int = 16) -> list[int]:
    candidates = [greedy_by_size(sizes, lifetimes, alignment), optimal(sizes, lifetimes, alignment)]
    return min(candidates, key=lambda offs: arena_size(sizes, offs))


PLANNERS = {"greedy": greedy_by_size, "linear": linear, "optimal": optimal, "best": best}


@dataclass(frozen=True)
class Layout:
    planner: str
    offsets: list[int]
    size: int


def solve(sizes: list[int], lifetimes: list[Lifetime], alignment: int = 16, planner: str = "greedy") -> Layout:
    """Lay the buffers out with `planner`; raise ValueError for an unknown planner name."""
    if planner not in PLANNERS:
        raise ValueError(f"unknown planner '{planner}'; choose one of: {', '.join(sorted(PLANNERS))}")
    if planner == "best":  # report which planner won
        layouts = [solve(sizes, lifetimes, alignment, p) for p in ("greedy", "optimal")]
        return min(layouts, key=lambda lay: (lay.size, lay.planner != "greedy"))
    offsets = PLANNERS[planner](sizes, lifetimes, alignment)
    return Layout(planner, offsets, arena_size(sizes, offsets))
