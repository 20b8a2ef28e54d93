"""The FDT paper's automated flow with MAFAT's budget mode.

    evaluate the current plan -> find the critical layers (where live bytes peak)
    -> grow candidate paths around them (candidates.py) -> order them by a fast estimate
    -> score the most promising with the real planner, in parallel -> keep the best that meets
    the objective -> repeat until nothing improves (MAX_STALE_BATCHES batches in a row) or the time
    budget is spent.

Every scored plan goes into the Pareto front of (arena bytes, executed MACs) that is reported.
"""

from __future__ import annotations

import itertools
import logging
import math
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..child import shared_workers
from ..errors import FdtError, InternalError
from ..ir import ir
from ..plan import FusedPath, TilingPlan
from .candidates import (candidate_paths, estimate_arena, in_place_plan, input_stream_paths, is_chain,
                         stream_allowed, with_in_place, with_path)
from .evaluate import Evaluation, evaluate
from .graph import LayerGraph, build_graph
from .objectives import Objective

log = logging.getLogger(__name__)

CANDIDATES_PER_ROUND = 12
DEFAULT_TIME_BUDGET_S = 240.0
MAX_PLATEAU_ROUNDS = 3
# batches in a row that found no better plan before the search stops (the front has stopped moving;
# kws_fp32 scored 373 plans in 117 s, none smaller than untiled, before this). 2, not 3: on the 39 models of
# ../shared the same arenas with min-ram and --max-overhead 0.25 (VWW 50 -> 38 plans, MobileNetV2 224 with
# --max-overhead 98 -> 86)
MAX_STALE_BATCHES = 2
MAX_TIES_ESTIMATED = 4  # max-overhead: plans of the least arena ranked by their instruction estimate
MAX_FEWER_PIECES_ESTIMATED = 4  # max-overhead: larger-arena plans in fewer pieces, estimated too
MAX_COARSENING_ROUNDS = 3  # rounds of halving the chosen plan's pieces after the search


@dataclass
class SearchResult:
    objective: Objective
    untiled: Evaluation
    chosen: Evaluation
    macs: int
    evaluations: list[Evaluation] = field(default_factory=list)
    rounds: int = 0
    seconds: float = 0.0
    instruction_limit: float | None = None  # max-overhead: (1 + F) x the untiled program's estimate

    def overhead(self, e: Evaluation) -> float:
        return e.executed_macs / self.macs - 1.0 if self.macs else 0.0

    def within_overhead(self, e: Evaluation) -> bool:
        """A scored plan recomputing no more MACs than the objective allows."""
        limit = self.objective.max_macs(self.macs)
        return e.ok and (limit is None or e.executed_macs <= limit)

    def may_choose(self, e: Evaluation) -> bool:
        """A scored plan the objective may choose: within the MAC overhead, within the RAM budget, and (once
        estimated) within the instructions bound."""
        budget = self.objective.ram_budget if self.objective.kind == "ram-budget" else None
        slow = self.instruction_limit is not None and e.estimated_instructions is not None \
            and e.estimated_instructions > self.instruction_limit
        return self.within_overhead(e) and (budget is None or e.arena_bytes <= budget) and not slow

    def pareto_front(self) -> list[Evaluation]:
        points = sorted([e for e in self.evaluations if e.ok],
                        key=lambda e: (e.arena_bytes, e.executed_macs, _size(e.plan)))
        front, best_macs = [], None
        for e in points:
            if best_macs is None or e.executed_macs < best_macs:
                front.append(e)
                best_macs = e.executed_macs
        return front

    def to_json(self) -> dict:
        def point(e: Evaluation) -> dict:
            d = e.to_json()
            if e.executed_macs is not None:
                d["mac_overhead"] = round(self.overhead(e), 6)
            return d
        return {"objective": self.objective.label, "macs": self.macs, "rounds": self.rounds,
                "seconds": round(self.seconds, 1), "untiled": point(self.untiled), "chosen": point(self.chosen),
                "pareto_front": [point(e) for e in self.pareto_front()],
                "evaluated": [point(e) for e in self.evaluations]}


class _Progress:
    """A rich progress bar on a terminal, log lines otherwise."""

    def __init__(self, enabled: bool):
        self.bar = None
        if enabled and sys.stderr.isatty():
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
            self.bar = Progress(TextColumn("search"), BarColumn(), TextColumn("{task.completed} plans scored"),
                                TextColumn("{task.description}"), TimeElapsedColumn(), transient=True)
            self.task = self.bar.add_task("", total=None)
            self.bar.start()

    def update(self, scored: int, best: str) -> None:
        if self.bar:
            self.bar.update(self.task, completed=scored, description=best)
        else:
            log.info("search: %d plans scored, best %s", scored, best)

    def close(self) -> None:
        if self.bar:
            self.bar.stop()


def search(module: ir.Module, macs: int, objective: Objective, *, planner: str = "best", alignment: int = 16,
           time_budget_s: float = DEFAULT_TIME_BUDGET_S, workers: int = 2, progress: bool = True,
           kernels: str = "scalar", keep_chosen: Path | None = None) -> SearchResult:
    """Search tiling plans for `module` (a prepared linalg module, left unchanged). Plans are scored by
    arena and MACs; the plans of the Pareto front (and the untiled and chosen ones) then get the
    instruction and code-size estimates of the program for the target (its `kernels`). With
    `keep_chosen`, the chosen plan's lowered program is written there (`result.chosen.lowered`).
    `ram-budget` and `max-overhead` then choose by the instruction estimate (`_choose_by_estimate`)."""
    start = time.perf_counter()
    with module.context:
        graph = build_graph(module)
    children = shared_workers()  # long-lived: a second search in the process starts no interpreter
    with tempfile.TemporaryDirectory(prefix="mlir-fdt-search-") as tmp, \
            ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        prepared = Path(tmp) / "prepared.mlirbc"
        with open(prepared, "wb") as f:
            module.operation.write_bytecode(f)

        def score(plans: list[TilingPlan], cutoff: int = 0) -> list[Evaluation]:
            """Arena and MACs of `plans`; a plan no layout of which reaches `cutoff` bytes gets the greedy
            layout only (the optimal planner's seconds are spent on plans that can win). A plan executing more
            MACs than the objective allows is not laid out (`Evaluation.over_macs`)."""
            return list(pool.map(lambda p: evaluate(children, prepared, p, planner, alignment, arena_cutoff=cutoff,
                                                    max_macs=objective.max_macs(macs)), plans))

        numbers = itertools.count()

        def estimate(e: Evaluation) -> Evaluation:  # each lowered program kept: one becomes the chosen's
            keep = Path(tmp) / f"lowered{next(numbers)}.mlirbc" if keep_chosen else None
            return evaluate(children, prepared, e.plan, planner, alignment, kernels=kernels, keep=keep)

        # the untiled plan and, beside it, every layer that can write over its input doing so (the search
        # starts from that when it is smaller)
        start_plan = in_place_plan(graph) if objective.kind != "untiled" else TilingPlan()
        untiled, *first = score([TilingPlan(), *([start_plan] if start_plan.paths else [])])
        if not untiled.ok:
            if untiled.error.startswith("internal error: "):
                raise InternalError(f"the untiled program does not compile: {untiled.error[16:]}")
            raise FdtError(f"the untiled program does not compile: {untiled.error.removeprefix('error: ')}")
        result = SearchResult(objective, untiled, untiled, macs, [untiled])
        # max-overhead: the instructions bound too (`SearchResult.instruction_limit`), needed once plans are
        # estimated, after the rounds: the untiled program is estimated meanwhile, beside the first scores
        untiled_estimate = pool.submit(estimate, untiled) if objective.kind == "max-overhead" else None
        if objective.kind == "untiled":
            result.seconds = time.perf_counter() - start
            return result
        bar = _Progress(progress)
        current, seen, plateau, stale = untiled, {untiled.plan}, 0, 0
        worse: set[FusedPath] = set()  # paths that did not improve a plan (`_made_worse`)
        if start_plan.paths:
            (in_place,) = first
            seen.add(start_plan)
            result.evaluations.append(in_place)
            if in_place.ok and in_place.executed_macs <= untiled.executed_macs \
                    and in_place.arena_bytes < untiled.arena_bytes:
                current = in_place
        try:
            while time.perf_counter() - start < time_budget_s:
                result.rounds += 1
                critical = _critical_layers(graph, current)
                paths = candidate_paths(graph, critical) + input_stream_paths(graph)
                plans = [with_path(current.plan, p) for p in paths]
                if start_plan.paths:  # the layers the current plan leaves free, in place
                    plans.append(with_in_place(current.plan, start_plan))
                plans = [p for p in dict.fromkeys(plans) if p not in seen]
                if objective.kind != "ram-budget":  # (the budget mode wants the cheapest plan: it keeps them all)
                    plans = [p for p in plans if not (set(p.paths) - set(current.plan.paths)) & worse]
                # only paths that recompute nothing; with --max-overhead in the first round too (those plans cost no
                # MACs: the search goes on from the best of them, recomputation allowed; mlonmcu_mobilenet_v1 took
                # an FFMT cut at 202,816 B first, and never scored the stream the default objective takes, 198,656 B)
                if objective.kind == "min-ram" or (objective.kind == "max-overhead" and result.rounds == 1):
                    plans = [p for p in plans if all(path.recomputes_nothing for path in p.paths)]
                    # nothing recomputed: a finer cut of the same paths is never larger
                    plans = _finest_cuts(plans)
                estimates = {p: estimate_arena(graph, p) for p in plans}
                # the estimate ignores halos and padding: if even it is no better, the plan is not
                # worth scoring (the budget mode wants the cheapest plan, so it keeps them all)
                if objective.kind != "ram-budget":
                    limit = max(current.arena_bytes, _peak(graph, current.plan)[0])  # the estimate is rough
                    plans = [p for p in plans if _peak(graph, p)[0] <= limit]
                    # partial sums cost a whole accumulator: a new path closed by them must lower the
                    # estimated peak (or how many layers reach it) to be worth a compile
                    base, closing = _peak(graph, current.plan), set(graph.partial_sums(current.plan))
                    plans = [p for p in plans if set(graph.partial_sums(p)) <= closing or _peak(graph, p) < base]
                plans.sort(key=lambda p: (estimates[p], _size(p)))
                # plans that keep the current paths and add one (several peaks need several paths)
                # first, then the others across path lengths
                extending = [p for p in plans if current.plan.paths and set(current.plan.paths) <= set(p.paths)]
                extending.sort(key=_size)  # fewest layers and tiles first: the least recomputation
                queue = extending[:CANDIDATES_PER_ROUND // 2]
                queue += _diverse([p for p in plans if p not in queue], len(plans))
                best = None
                # score the round's candidates batch by batch until one improves or time is up
                while queue and time.perf_counter() - start < time_budget_s and stale < MAX_STALE_BATCHES:
                    # (a remainder fewer than the workers joins this batch: no worker idles over a batch of one)
                    size = CANDIDATES_PER_ROUND if len(queue) >= CANDIDATES_PER_ROUND + workers else len(queue)
                    batch, queue = queue[:size], queue[size:]
                    seen.update(batch)
                    scored = score(batch, objective.ram_budget if objective.kind == "ram-budget"
                                   else current.arena_bytes)
                    result.evaluations.extend(scored)
                    worse |= _made_worse(scored, current)
                    bar.update(len(result.evaluations) - 1,
                               f"{min(e.arena_bytes for e in result.evaluations if e.ok)} B")
                    best = _best_move(scored, current, objective, result)
                    if best is not None:
                        stale = 0
                        break
                    stale += 1
                if best is None:
                    break
                if best.arena_bytes == current.arena_bytes:
                    plateau += 1
                    if plateau > MAX_PLATEAU_ROUNDS:
                        break
                if not set(current.plan.paths) <= set(best.plan.paths):
                    # a path replaced (a stream by its interleaved variant): the paths that did not help beside the
                    # old one may beside the new (VWW streamed: pw_8..dw_11 after conv_0..dw_7 interleaved, 11,808 B
                    # at +1.8 % instructions, where the layers in place took +13 %)
                    worse = set()
                current = best
        finally:
            bar.close()
        if untiled_estimate is not None:
            _take_estimate(untiled, untiled_estimate.result())
            if untiled.estimated_instructions is not None:
                result.instruction_limit = (1.0 + objective.max_overhead) * untiled.estimated_instructions
        _choose(result, objective, current)
        # with recomputation allowed, the chosen plan's paths cut into fewer pieces may keep its arena and
        # recompute less (a halo fewer per tile): score those few variants, choose again, and go on halving
        # while that finds a better plan. Not for min-ram: nothing is recomputed there, and coarser is not
        # faster (KWS's depthwise layers in place in 32 two-channel partitions instead of 64 one-channel
        # ones: the same arena, +9 % instructions under QEMU, which the estimate does not see)
        for _ in range(MAX_COARSENING_ROUNDS if objective.kind != "min-ram" else 0):
            coarser = [p for p in _coarser_variants(result.chosen.plan) if p not in seen]
            if not coarser:
                break
            seen.update(coarser)
            before = result.chosen
            result.evaluations.extend(score(coarser, before.arena_bytes))
            _choose(result, objective, current)
            if result.chosen is before:
                break
        if objective.kind == "min-ram":
            _fewer_tiles(result, graph, score, seen, estimate, pool)
        _estimate_front(result, estimate, pool)
        _choose_by_estimate(result, estimate, pool)
        for e in result.evaluations:
            if e.lowered is not None and e is not result.chosen:
                e.lowered = None
        if keep_chosen and result.chosen.lowered is not None:
            shutil.move(result.chosen.lowered["bytecode"], keep_chosen)
            result.chosen.lowered["bytecode"] = str(keep_chosen)
        result.seconds = time.perf_counter() - start
        return result


def _choose(result: SearchResult, objective: Objective, current: Evaluation) -> None:
    fits = [e for e in result.evaluations if result.may_choose(e)]
    if fits:
        result.chosen = min(fits, key=lambda e: objective.final_key(e.arena_bytes, result.overhead(e),
                                                                    _size(e.plan)))
    elif objective.kind == "ram-budget":
        result.chosen = current


def _made_worse(scored: list[Evaluation], current: Evaluation) -> set[FusedPath]:
    """The paths that, added to the current plan, did not improve it (`_no_progress`: not even a plateau
    move). Later rounds do not propose them again: a plan that extends the current one leaves the memory at
    their layers' steps as it was, unless its own paths change it there too. (MobileNetV2 224: after the
    stream through its first 12 layers, the streams near its 1280-channel end saved nothing or cost up to
    81 KB; proposed again beside the next path, they cost one more round of plans.)"""
    return {path for e in scored if e.ok and _no_progress(e, current)
            for path in set(e.plan.paths) - set(current.plan.paths)}


def _no_progress(e: Evaluation, current: Evaluation) -> bool:
    """A larger arena than `current`'s, or the same arena with no less memory at the program's peak, measured
    (`_measured_peak`: the most bytes live at once, then at how many places)."""
    return e.arena_bytes > current.arena_bytes or (e.arena_bytes == current.arena_bytes
                                                     and _measured_peak(e) >= _measured_peak(current))


def _measured_peak(e: Evaluation) -> tuple[float, float]:
    """(the most bytes live at once, at how many places: step ranges) of an evaluated program, as its memory
    plan found them. (The layer graph's estimate, `_peak`, knows no streamed path's windows nor the
    maps it holds through its loop: on MobileNetV2 224 it put the peak after the stream that held it, and
    the search took plateau moves there that left the arena as it was.)"""
    return (e.lower_bound_bytes, e.peak_places) if e.peak_places is not None else (math.inf, math.inf)


def _finest_cuts(plans: list[TilingPlan]) -> list[TilingPlan]:
    """`plans` without those another plan of the list cuts the same paths into at least as many
    pieces along every axis (tile rows, tile columns, partitions): with nothing recomputed, the finer
    cut's arena is never larger."""
    def cuts(plan: TilingPlan) -> dict:
        return {(p.layers, p.method): (p.tiles if p.method == "ffmt" else (p.partitions,)) for p in plan.paths}

    cut = {plan: cuts(plan) for plan in plans}
    by_paths: dict[frozenset, list[dict]] = {}
    for c in cut.values():
        by_paths.setdefault(frozenset(c), []).append(c)

    def finer(a: dict, b: dict) -> bool:  # a cuts every path at least as finely as b, and differs
        return a != b and all(x >= y for k in a for x, y in zip(a[k], b[k]))
    return [plan for plan in plans if not any(finer(other, cut[plan]) for other in by_paths[frozenset(cut[plan])])]


def _choose_by_estimate(result: SearchResult, estimate, pool: ThreadPoolExecutor) -> None:
    """Rank by predicted latency, MACs only as a tie-break (MAFAT's budget mode): `ram-budget` takes the
    plan that fits with the fewest estimated instructions among the front's and the least tiled ones of
    each MAC count (the untiled plan when it fits); `max-overhead` (`_least_arena_within_overhead`) the least
    arena whose estimated instructions are within the overhead too. `min-ram` keeps its choice: no plan
    recomputes, ties go to the fewest pieces."""
    objective, chosen = result.objective, result.chosen
    if objective.kind == "max-overhead":
        _least_arena_within_overhead(result, estimate, pool)
        return
    if objective.kind != "ram-budget":
        return
    fits = [e for e in result.evaluations if result.may_choose(e)]
    # the front's plans, and at each MAC count the least tiled plan that fits (the untiled one when it
    # fits): the front is drawn in MACs, and among plans of equal MACs the less tiled runs faster
    least_tiled: dict[int, Evaluation] = {}
    for e in sorted(fits, key=lambda e: (_size(e.plan), e.arena_bytes)):
        least_tiled.setdefault(e.executed_macs, e)
    extra = sorted(least_tiled.values(), key=lambda e: e.executed_macs)[:MAX_TIES_ESTIMATED]
    candidates = list({id(e): e for e in [chosen, *result.pareto_front(), *extra] if result.may_choose(e)}.values())
    _fill_estimates(candidates, estimate, pool)
    candidates = [e for e in candidates if e.estimated_instructions is not None]
    if candidates:
        result.chosen = min(candidates, key=_by_estimate)


def _fewer_tiles(result: SearchResult, graph: LayerGraph, score, seen: set, estimate, pool: ThreadPoolExecutor) -> None:
    """min-ram, after the search: the chosen plan's one-layer tiles (a layer writing over its input, in place, in
    channel or row tiles) cost instructions, and the search starts from them all. For each run of such layers
    (consecutive in the model), score the plan with the run untiled, and with the run streamed (with the layers
    free of paths just before and after it, the path's first and last maps then windows too); then every run as
    it did best; among the plans of the chosen arena or less, the fewest estimated instructions. (VWW, input
    streamed: every depthwise and 1x1 layer after the interleaved stream in place, 11,808 B at +11.5 %
    instructions under QEMU; pw_8..dw_11 streamed and the rest untiled, 11,808 B at -0.6 %.)"""
    chosen = result.chosen
    singles = {p.layers[0]: p for p in chosen.plan.paths if len(p.layers) == 1}
    if not singles or not chosen.ok:
        return
    in_paths = {name for p in chosen.plan.paths for name in p.layers}
    runs: list[list[int]] = []
    for k, layer in enumerate(graph.layers):
        if layer.name in singles:
            if runs and runs[-1][-1] == k - 1:
                runs[-1].append(k)
            else:
                runs.append([k])
    options = []  # per run: (its layers, the plan without its tiles, its stream or None, the plan with that)
    for run in runs:
        a, b = run[0], run[-1]
        a -= a > 0 and graph.layers[a - 1].name not in in_paths
        b += b + 1 < len(graph.layers) and graph.layers[b + 1].name not in in_paths
        names = {graph.layers[k].name for k in run}
        untiled = _without(chosen.plan, names)
        stream = FusedPath(tuple(graph.layers[k].name for k in range(a, b + 1)), "stream") \
            if is_chain(graph, a, b) and stream_allowed(graph, a, b) else None
        options.append((names, untiled, stream, with_path(untiled, stream) if stream else None))
    plans = [q for _, untiled, _, streamed in options for q in (untiled, streamed)
             if q is not None and q not in seen][:2 * CANDIDATES_PER_ROUND]
    if not plans:
        return
    seen.update(plans)
    scored = {e.plan: e for e in score(plans, chosen.arena_bytes)}
    result.evaluations.extend(scored.values())

    def fits(plan):
        e = scored.get(plan)
        return e is not None and result.may_choose(e) and e.arena_bytes <= chosen.arena_bytes
    # every run as it did best alone: untiled, else streamed, else in place
    combined = chosen.plan
    for names, untiled, stream, streamed in options:
        if fits(untiled):
            combined = _without(combined, names)
        elif streamed is not None and fits(streamed):
            combined = with_path(combined, stream)
    if combined not in seen and combined != chosen.plan:
        seen.add(combined)
        scored.update({e.plan: e for e in score([combined], chosen.arena_bytes)})
        result.evaluations.append(scored[combined])
    ties = [e for e in scored.values() if result.may_choose(e) and e.arena_bytes <= chosen.arena_bytes]
    if not ties:
        return
    candidates = [chosen, *sorted(ties, key=lambda e: (e.arena_bytes, _size(e.plan)))[:MAX_TIES_ESTIMATED]]
    _fill_estimates(candidates, estimate, pool)
    known = [e for e in candidates if e.estimated_instructions is not None]
    if known:
        result.chosen = min(known, key=lambda e: (e.arena_bytes, e.estimated_instructions))


def _without(plan: TilingPlan, layers: set[str]) -> TilingPlan:
    """`plan` without its one-layer paths of `layers`."""
    return TilingPlan(tuple(p for p in plan.paths if not (len(p.layers) == 1 and p.layers[0] in layers)))


def _least_arena_within_overhead(result: SearchResult, estimate, pool: ThreadPoolExecutor) -> None:
    """`--max-overhead F`: the least arena among plans within F extra MACs *and* F extra estimated
    instructions over the untiled program; among plans of that arena the fewest estimated instructions.
    MACs alone understate what tiles cost (ResNet-8, conv_1+conv_2 in 6x6 tiles: +22 % MACs, 1.20x the
    untiled program's instructions under QEMU; 1.96x before tiles got the peeled kernels). Estimated, in one
    batch: up to MAX_TIES_ESTIMATED plans of the least arena (fewest MACs first); then, by arena, each plan
    cut into fewer pieces than every smaller one (pieces are what tiling costs beyond its MACs: loop
    overhead, borders), up to MAX_FEWER_PIECES_ESTIMATED; and the least arena that recomputes nothing. None
    of them within: the untiled program."""
    allowed = sorted([e for e in result.evaluations if result.may_choose(e)],
                     key=lambda e: (e.arena_bytes, e.executed_macs, _size(e.plan)))
    if not allowed:
        return
    candidates = [e for e in allowed if e.arena_bytes == allowed[0].arena_bytes][:MAX_TIES_ESTIMATED]
    fewest = min(_pieces(e.plan) for e in candidates)
    fewer_pieces = []
    for e in allowed:
        if _pieces(e.plan) < fewest and len(fewer_pieces) < MAX_FEWER_PIECES_ESTIMATED:
            fewer_pieces.append(e)
            fewest = _pieces(e.plan)
    candidates += fewer_pieces + [e for e in allowed if e.executed_macs <= result.macs][:1]
    candidates = list({id(e): e for e in candidates}.values())
    _fill_estimates(candidates, estimate, pool)
    fast = [e for e in candidates if e.estimated_instructions is not None and result.may_choose(e)]
    result.chosen = min(fast, key=lambda e: (e.arena_bytes, *_by_estimate(e)), default=result.untiled)


def _pieces(plan: TilingPlan) -> int:
    return sum(path.pieces for path in plan.paths)


def _by_estimate(e: Evaluation) -> tuple:
    return (e.estimated_instructions, e.executed_macs, _size(e.plan))


def _coarser_variants(plan: TilingPlan) -> list[TilingPlan]:
    """`plan` with every path cut into about half as many pieces, then with one path so (each way it can
    be), at most CANDIDATES_PER_ROUND plans."""
    variants = []
    halved = tuple((_halvings(path) or [path])[0] for path in plan.paths)
    if len(plan.paths) > 1 and halved != plan.paths:
        variants.append(TilingPlan(halved))
    for k, path in enumerate(plan.paths):
        variants += [TilingPlan(plan.paths[:k] + (o,) + plan.paths[k + 1:]) for o in _halvings(path)]
    return variants[:CANDIDATES_PER_ROUND]


def _halvings(path: FusedPath) -> list[FusedPath]:
    """`path` in about half as many pieces: FFMT half the tile rows, or half the columns; FDT half the
    partitions (never down to one piece)."""
    if path.method == "ffmt":
        rows, cols = path.tiles
        options = [replace(path, tiles=(rows // 2, cols)), replace(path, tiles=(rows, cols // 2))]
        return [o for o in options if min(o.tiles) >= 1 and o.pieces >= 2]
    return [replace(path, partitions=path.partitions // 2)] if path.partitions >= 4 else []


def _estimate_front(result: SearchResult, estimate, pool: ThreadPoolExecutor) -> None:
    """Fill in the estimates of the untiled and chosen plans and of the front's plans the objective could
    choose (scoring left them out: the code generation they need cost more than the rest of an
    evaluation on large models): under `ram-budget` every front plan that fits, otherwise those of the
    chosen (least) arena; the others keep `None` (2.5 s each on MobileNetV2 224)."""
    eligible = [e for e in result.pareto_front() if result.may_choose(e)
                and (result.objective.kind == "ram-budget" or e.arena_bytes == result.chosen.arena_bytes)]
    _fill_estimates(list({id(e): e for e in [result.untiled, result.chosen, *eligible] if e.ok}.values()),
                    estimate, pool)


def _fill_estimates(evaluations: list[Evaluation], estimate, pool: ThreadPoolExecutor) -> None:
    """The instruction and code-size estimates (and kept lowered program) of those `evaluations` that
    have none yet, computed in parallel."""
    missing = [e for e in evaluations if e.estimated_instructions is None]
    for e, done in zip(missing, pool.map(estimate, missing)):
        _take_estimate(e, done)


def _take_estimate(e: Evaluation, done: Evaluation) -> None:
    """`e` takes the estimates (and kept lowered program) of `done`, its plan lowered with the target's kernels."""
    e.estimated_instructions, e.estimated_code_bytes = done.estimated_instructions, done.estimated_code_bytes
    e.lowered = done.lowered
    if done.ok:  # laid out with the optimal planner's full limit (scoring had less): the program's arena
        e.arena_bytes, e.planner = done.arena_bytes, done.planner


def _best_move(scored: list[Evaluation], current: Evaluation, objective: Objective,
               result: SearchResult) -> Evaluation | None:
    """The best scored plan that meets the objective and improves on `current`: a smaller arena,
    or (a plateau: several places peak equally, like ResNet's blocks) the same arena with less memory at
    the peak (`_no_progress`)."""
    allowed = [e for e in scored if result.within_overhead(e)]
    best = min(allowed, key=lambda e: (objective.search_key(e.arena_bytes, result.overhead(e), _size(e.plan)),
                                       _measured_peak(e)), default=None)
    if best is None or _no_progress(best, current):
        return None
    return best


def _peak(graph: LayerGraph, plan: TilingPlan) -> tuple[int, int]:
    """(most live bytes at a layer, how many layers reach it) once the plan's internal tensors
    are tiles: a plan that removes one of several equal peaks is progress."""
    live = graph.plan_live_bytes(plan)
    top = max(live, default=0)
    return top, live.count(top)


def _diverse(plans: list[TilingPlan], count: int) -> list[TilingPlan]:
    """The best-estimated plans, taken in turns across path lengths: the estimate ignores halos,
    so left alone it would fill every slot with the longest paths (the most recomputation)."""
    by_length: dict[int, list[TilingPlan]] = {}
    for p in plans:
        by_length.setdefault(sum(len(path.layers) for path in p.paths), []).append(p)
    queues = [by_length[k] for k in sorted(by_length)]
    batch: list[TilingPlan] = []
    while len(batch) < count and any(queues):
        for q in queues:
            if q and len(batch) < count:
                batch.append(q.pop(0))
    return batch


def _size(plan: TilingPlan) -> int:
    """Tie-break: fewer layers in paths, then fewer pieces."""
    return sum(len(p.layers) * 100 + p.pieces for p in plan.paths)


def _critical_layers(graph: LayerGraph, current: Evaluation) -> list[int]:
    """Layers where the live bytes peak: those running where the memory plan of `current` peaks (a streamed
    path's, whose loop the layer graph does not model); without them, the layer graph's estimate: where it
    peaks and comes second once the plan's path-internal tensors are tiles."""
    index = {layer.name: layer.index for layer in graph.layers}
    measured = sorted(index[name] for name in current.peak_layers or () if name in index)
    if measured:
        return measured
    live = graph.plan_live_bytes(current.plan)
    top = sorted(set(live), reverse=True)[:2]
    return [i for i, v in enumerate(live) if v in top]
