"""Score a tiling plan with the real pipeline (tiling, epilogue fusion, bufferization, memory
planner): arena bytes and executed MACs. Evaluations run in long-lived worker processes
(`mlir_fdt.child.shared_workers`, one a core), each reading the prepared module saved once as bytecode, so
they run in parallel and an MLIR crash on one candidate only loses that candidate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..child import Workers
from ..errors import FdtError, InternalError
from ..plan import TilingPlan


@dataclass
class Evaluation:
    plan: TilingPlan
    arena_bytes: int | None
    executed_macs: int | None
    error: str | None = None
    estimated_instructions: int | None = None
    estimated_code_bytes: int | None = None
    planner: str | None = None  # the layout's planner (greedy only when the search's cutoff ruled the plan out)
    lowered: dict | None = None  # `keep`: the bytecode file and the rest of the `LoweredProgram`
    over_macs: bool = False  # scored up to its MAC count only: more than the search's `max_macs`, no arena
    # the most bytes live at once (the arena without fragmentation) and at how many places (step ranges): where the
    # program peaks, measured (the search's plateau moves)
    lower_bound_bytes: int | None = None
    peak_places: int | None = None
    peak_layers: list[str] | None = None  # the layers running there

    @property
    def ok(self) -> bool:
        return self.error is None and not self.over_macs

    def to_json(self) -> dict:
        return {"plan": self.plan.to_json(), "arena_bytes": self.arena_bytes, "executed_macs": self.executed_macs,
                "estimated_instructions": self.estimated_instructions,
                "estimated_code_bytes": self.estimated_code_bytes, "planner": self.planner, "error": self.error,
                **({"over_macs": True} if self.over_macs else {})}


def evaluate(workers: Workers, prepared: Path, plan: TilingPlan, planner: str, alignment: int,
             timeout: float = 300, kernels: str | None = None, arena_cutoff: int = 0,
             keep: Path | None = None, max_macs: int | None = None) -> Evaluation:
    """Score `plan` in one of `workers` (`mlir_fdt.child`): an MLIR crash loses this plan only. Arena
    and MACs only, unless `kernels` is given: then also the instruction and code-size estimates of the
    program generated with those kernels (`pipeline.KERNELS`). `arena_cutoff`: the arena to beat
    (`pipeline.lower`).
    `max_macs`: a plan executing more MACs (recomputed halos) is not laid out (`over_macs`): the tiling
    alone is a fifth of an evaluation, the epilogue fusion, bufferization and memory plan the rest.
    `keep` (with `kernels`): write the lowered program there as bytecode and return it whole
    (`Evaluation.lowered`), so that the compiler need not lower the chosen plan again."""
    try:
        data = workers.call("mlir_fdt.search.evaluate:score_plan", str(prepared), plan.to_json(), planner,
                            alignment, kernels, arena_cutoff, str(keep) if keep else None, max_macs,
                            timeout=timeout)
    except InternalError as e:
        return Evaluation(plan, None, None, f"internal error: {e}")
    except FdtError as e:
        return Evaluation(plan, None, None, f"error: {e}".replace("\n", " "))
    if data["arena_bytes"] is None:
        return Evaluation(plan, None, data["executed_macs"], over_macs=True)
    return Evaluation(plan, data["arena_bytes"], data["executed_macs"],
                      estimated_instructions=data["estimated_instructions"],
                      estimated_code_bytes=data["estimated_code_bytes"], planner=data["planner"],
                      lowered=data.get("lowered"), lower_bound_bytes=data["lower_bound_bytes"],
                      peak_places=data["peak_places"], peak_layers=data["peak_layers"])


# in a worker: the prepared module's bytecode, read once a search (the workers outlive a search: the key is
# the file's path and modification time, so a new search's file is read even at a path used before)
_prepared: dict[tuple[str, int], bytes] = {}


def score_plan(prepared: str, plan: dict, planner: str, alignment: int, kernels: str | None = None,
               arena_cutoff: int = 0, keep: str | None = None, max_macs: int | None = None) -> dict:
    """In a worker: lower the prepared module with `plan` (applied here: the worker is the crash boundary)."""
    from ..ir import ir, new_context
    from ..memory.planner import SCORING_TIME_LIMIT_S
    from ..pipeline import lower_tiled, tile
    key = (prepared, Path(prepared).stat().st_mtime_ns)
    if key not in _prepared:
        _prepared.clear()
        _prepared[key] = Path(prepared).read_bytes()
    with new_context():
        module = ir.Module.parse(_prepared[key])
        executed_macs = tile(module, TilingPlan.from_json(plan), isolate_plan=False)
        if max_macs is not None and executed_macs > max_macs:
            return {"arena_bytes": None, "executed_macs": executed_macs}
        # scored among many (no estimate): the optimal planner's shorter limit; estimated (a plan that may
        # be chosen): its full limit, so the chosen plan's layout is the one the compiler would make
        limit = None if kernels is not None else int(SCORING_TIME_LIMIT_S * 1000)
        lowered = lower_tiled(module, executed_macs, planner, alignment, kernels=kernels or "scalar",
                              estimate=kernels is not None, arena_cutoff=arena_cutoff, layout_time_limit_ms=limit)
        kept = None
        if keep:
            with open(keep, "wb") as f:
                module.operation.write_bytecode(f)
            kept = {"bytecode": keep, "memory_plan": lowered.plan.to_json(), "in_place": lowered.in_place}
    return {"arena_bytes": lowered.plan.arena_bytes, "executed_macs": lowered.executed_macs,
            "lower_bound_bytes": lowered.plan.lower_bound_bytes, "peak_places": lowered.plan.peak_places,
            "peak_layers": lowered.plan.peak_layers,
            "planner": lowered.plan.planner, "lowered": kept,
            "estimated_instructions": lowered.estimated_instructions,
            "estimated_code_bytes": lowered.estimated_code_bytes}
