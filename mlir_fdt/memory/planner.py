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

`pieces` (`memory.dead_rows`): a buffer of a loop whose rows are live over parts of it only, or which leaves bytes
untouched, as the (lo, hi, lifetime) byte ranges it occupies: the optimal planner lays out its pieces (the rest of
its bytes are free to others), the lower bound counts them; the other planners and the verifier see the same
through `overlaps` pairs.

Every planner also takes `overlaps` (`memory.overlap.Overlap`): pairs of buffers live at the same
time that may share bytes, as long as the difference of their offsets avoids the pair's
forbidden intervals (a buffer born in a loop trailing the rows of one dying there). The lower
bound then counts each such pair as its smallest possible union.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .overlap import Overlap

Lifetime = tuple[int, int]  # first and last schedule step, inclusive
Piece = tuple[int, int, Lifetime]  # bytes [lo, hi) of a buffer and when they are live


def align_up(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment


def lifetimes_overlap(a: Lifetime, b: Lifetime) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def smallest_union(pair: Overlap, sizes: list[int]) -> int:
    """Fewest bytes the two buffers of `pair` can cover together."""
    sx, sy = sizes[pair.dying], sizes[pair.born]
    candidates = [0, sx - sy, -sy, sx] + [e for lo, hi in pair.forbidden for e in (lo - 1, hi + 1)]
    return min(max(sx, d + sy) - min(0, d) for d in candidates if pair.allows(d))


def lower_bound(sizes: list[int], lifetimes: list[Lifetime], overlaps: Sequence[Overlap] = (),
                pieces: dict[int, list[Piece]] | None = None) -> int:
    """Max over schedule steps of the bytes live at that step (a pair that may overlap counted
    as its smallest union; a buffer with pieces, its pieces live then)."""
    return peak(sizes, lifetimes, overlaps, pieces)[0]


def peak(sizes: list[int], lifetimes: list[Lifetime], overlaps: Sequence[Overlap] = (),
         pieces: dict[int, list[Piece]] | None = None) -> tuple[int, list[tuple[int, int]]]:
    """(`lower_bound`, the step ranges in which the live bytes are at it: one a place the program peaks)."""
    if not sizes:
        return 0, []
    pieces = pieces or {}
    events = sorted({t for lt in lifetimes for t in lt} | {t for ps in pieces.values() for _, _, lt in ps for t in lt})
    saved = [(p, sizes[p.dying] + sizes[p.born] - smallest_union(p, sizes)) for p in overlaps]

    def live(a: int, b: int) -> int:  # throughout steps a..b
        def spans(lt: Lifetime) -> bool:
            return lt[0] <= a and b <= lt[1]
        total = sum(s for k, (s, lt) in enumerate(zip(sizes, lifetimes)) if spans(lt) and k not in pieces)
        total += sum(hi - lo for ps in pieces.values() for lo, hi, lt in ps if spans(lt))
        return total - sum(s for p, s in saved if spans(lifetimes[p.dying]) and spans(lifetimes[p.born]))
    at_events = [live(t, t) for t in events]
    top = max(at_events)
    ranges: list[tuple[int, int]] = []
    for k, t in enumerate(events):
        if at_events[k] != top:
            continue
        # the next step, or at the top in between too: the same place
        if ranges and (t <= ranges[-1][1] + 1 or live(ranges[-1][1], t) == top):
            ranges[-1] = (ranges[-1][0], t)
        else:
            ranges.append((t, t))
    return top, ranges


def overlaps_at(a: Lifetime, b: Lifetime, t: int) -> bool:
    return a[0] <= t <= a[1] and b[0] <= t <= b[1]


def pair_index(overlaps: Sequence[Overlap]) -> dict[tuple[int, int], Overlap]:
    return {(p.dying, p.born): p for p in overlaps}


def forbidden_offsets(k: int, p: int, offset_p: int, sizes: list[int],
                      pairs: dict[tuple[int, int], Overlap]) -> list[tuple[int, int]]:
    """Closed intervals of offsets buffer k must avoid, given buffer p (live at the same time) at `offset_p`."""
    if sizes[k] == 0 or sizes[p] == 0:
        return []
    if (p, k) in pairs:
        return [(offset_p + lo, offset_p + hi) for lo, hi in pairs[(p, k)].forbidden]
    if (k, p) in pairs:
        return [(offset_p - hi, offset_p - lo) for lo, hi in pairs[(k, p)].forbidden]
    return [(offset_p - sizes[k] + 1, offset_p + sizes[p] - 1)]


def arena_size(sizes: list[int], offsets: list[int]) -> int:
    return max((o + s for o, s in zip(offsets, sizes)), default=0)


def linear(sizes: list[int], lifetimes: list[Lifetime], alignment: int = 16, overlaps: Sequence[Overlap] = ()
           ) -> list[int]:
    offsets, top = [], 0
    for s in sizes:
        offsets.append(top)
        top = align_up(top + s, alignment)
    return offsets


def greedy_by_size(sizes: list[int], lifetimes: list[Lifetime], alignment: int = 16,
                   overlaps: Sequence[Overlap] = ()) -> list[int]:
    pairs = pair_index(overlaps)
    order = sorted(range(len(sizes)), key=lambda i: (-sizes[i], lifetimes[i][0], i))
    offsets: list[int | None] = [None] * len(sizes)
    placed: list[int] = []
    for i in order:
        avoid = sorted(iv for j in placed if lifetimes_overlap(lifetimes[i], lifetimes[j])
                       for iv in forbidden_offsets(i, j, offsets[j], sizes, pairs))
        candidate = 0
        moved = True
        while moved:  # the lowest aligned offset in none of the forbidden intervals
            moved = False
            for lo, hi in avoid:
                if lo <= candidate <= hi:
                    candidate = align_up(hi + 1, alignment)
                    moved = True
        offsets[i] = candidate
        placed.append(i)
    return [int(o) for o in offsets]


OPTIMAL_TIME_LIMIT_S = 3.0
# A search lays out many plans to keep one: each gets this much, and the chosen plan is laid out again
# with OPTIMAL_TIME_LIMIT_S. CP-SAT finds its layout early and spends the rest failing to prove it
# optimal: on MobileNetV2 224's streamed plans the final layout came within 0.2 s of a 2.3 s solve.
SCORING_TIME_LIMIT_S = 0.5


def _allowed_domain(pair: Overlap, bound: int):
    """offset(born) - offset(dying) values outside the pair's forbidden intervals, within +-bound."""
    from ortools.sat.python import cp_model
    intervals, start = [], -bound
    for lo, hi in pair.forbidden:
        if lo > start:
            intervals.append([start, min(lo - 1, bound)])
        start = max(start, hi + 1)
    if start <= bound:
        intervals.append([start, bound])
    return cp_model.Domain.FromIntervals(intervals)


def optimal(sizes: list[int], lifetimes: list[Lifetime], alignment: int = 16, overlaps: Sequence[Overlap] = (),
            time_limit_s: float = OPTIMAL_TIME_LIMIT_S, pieces: dict[int, list[Piece]] | None = None,
            piece_pairs: Sequence[Overlap] = ()) -> list[int]:
    """CP-SAT layout, warm-started from greedy; falls back to greedy when it finds nothing better.

    Buffers that may overlap another (the born side of a pair) stay out of the 2-D no-overlap
    constraint; each gets pairwise constraints instead: apart from every buffer live at the same
    time, or at an allowed offset difference from its partner. A buffer with `pieces` is in it as its
    pieces; `piece_pairs` (the pairs its pieces imply, for the other planners) are then left out, but
    for a buffer out of the 2-D constraint."""
    pieces = pieces or {}
    every_pair = list(overlaps) + list(piece_pairs)
    greedy = greedy_by_size(sizes, lifetimes, alignment, every_pair)
    upper = arena_size(sizes, greedy)
    bound = lower_bound(sizes, lifetimes, overlaps, pieces)
    if upper <= bound or len(sizes) <= 1:
        return greedy
    from ortools.sat.python import cp_model
    model = cp_model.CpModel()
    arena = model.NewIntVar(bound, upper, "arena")
    pairs = pair_index(every_pair)
    loose = {p.born for p in overlaps}
    offsets, rects_x, rects_y = [], [], []
    for i, (size, (first, last)) in enumerate(zip(sizes, lifetimes)):
        slot = model.NewIntVar(0, max(0, (upper - size) // alignment), f"slot{i}")
        offset = model.NewIntVar(0, upper, f"off{i}")
        model.Add(offset == slot * alignment)
        model.Add(offset + size <= arena)
        model.AddHint(slot, greedy[i] // alignment)
        offsets.append(offset)
        if i in loose:
            continue
        for k, (lo, hi, (a, b)) in enumerate(pieces.get(i, [(0, max(size, 1), (first, last))])):
            rects_x.append(model.NewFixedSizeIntervalVar(a, b - a + 1, f"t{i}_{k}"))
            rects_y.append(model.NewFixedSizeIntervalVar(offset + lo, hi - lo, f"a{i}_{k}"))
    model.AddNoOverlap2D(rects_x, rects_y)
    for i in loose:
        for j in range(len(sizes)):
            if j == i or (j in loose and j < i) or not lifetimes_overlap(lifetimes[i], lifetimes[j]):
                continue
            if (j, i) in pairs or (i, j) in pairs:
                pair = pairs.get((j, i)) or pairs[(i, j)]
                born, dying = offsets[pair.born], offsets[pair.dying]
                model.AddLinearExpressionInDomain(born - dying, _allowed_domain(pair, upper))
            elif sizes[i] and sizes[j]:
                below = model.NewBoolVar(f"below{i}_{j}")
                model.Add(offsets[i] + sizes[i] <= offsets[j]).OnlyEnforceIf(below)
                model.Add(offsets[j] + sizes[j] <= offsets[i]).OnlyEnforceIf(below.Not())
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
    result = [int(solver.Value(o)) for o in offsets]
    return result if arena_size(sizes, result) < upper else greedy


def best(sizes: list[int], lifetimes: list[Lifetime], alignment: int = 16, overlaps: Sequence[Overlap] = (),
         time_limit_s: float = OPTIMAL_TIME_LIMIT_S) -> list[int]:
    candidates = [greedy_by_size(sizes, lifetimes, alignment, overlaps),
                  optimal(sizes, lifetimes, alignment, overlaps, time_limit_s)]
    return min(candidates, key=lambda offs: arena_size(sizes, offs))


PLANNERS = {"greedy": greedy_by_size, "linear": linear, "optimal": optimal, "best": best}


@dataclass(frozen=True)
class Layout:
    planner: str
    offsets: list[int]
    size: int


GREEDY_ABOVE_CUTOFF = "greedy (lower bound above the cutoff: CP-SAT not run)"


def solve(sizes: list[int], lifetimes: list[Lifetime], alignment: int = 16, planner: str = "greedy",
          overlaps: Sequence[Overlap] = (), cutoff: int = 0, time_limit_s: float = OPTIMAL_TIME_LIMIT_S,
          pieces: dict[int, list[Piece]] | None = None, piece_pairs: Sequence[Overlap] = ()) -> Layout:
    """Lay the buffers out with `planner`; raise ValueError for an unknown planner name. `cutoff` (a
    search scoring plans against the best arena found): when no layout can reach it (the lower bound
    is above it), the optimal planner is not run and the greedy layout is returned. `time_limit_s`:
    the optimal planner's (CP-SAT deterministic seconds). `pieces`, `piece_pairs`: `optimal`'s; the other planners
    take the pairs with the others."""
    if planner not in PLANNERS:
        raise ValueError(f"unknown planner '{planner}'; choose one of: {', '.join(sorted(PLANNERS))}")
    every_pair = list(overlaps) + list(piece_pairs)
    if cutoff and planner in ("best", "optimal") and lower_bound(sizes, lifetimes, overlaps, pieces) > cutoff:
        offsets = greedy_by_size(sizes, lifetimes, alignment, every_pair)
        return Layout(GREEDY_ABOVE_CUTOFF, offsets, arena_size(sizes, offsets))
    if planner == "best":  # report which planner won
        layouts = [solve(sizes, lifetimes, alignment, p, overlaps, time_limit_s=time_limit_s, pieces=pieces,
                         piece_pairs=piece_pairs) for p in ("greedy", "optimal")]
        return min(layouts, key=lambda lay: (lay.size, lay.planner != "greedy"))
    if planner == "optimal":
        offsets = optimal(sizes, lifetimes, alignment, overlaps, time_limit_s, pieces, piece_pairs)
    else:
        offsets = PLANNERS[planner](sizes, lifetimes, alignment, every_pair)
    return Layout(planner, offsets, arena_size(sizes, offsets))
