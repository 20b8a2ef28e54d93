"""Score a tiling plan with the real pipeline (tiling, epilogue fusion, bufferization, memory
planner): arena bytes and executed MACs. Each evaluation runs in its own process, from the
prepared module saved once as bytecode, so evaluations run in parallel and an MLIR crash on one
candidate only loses that candidate."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..plan import TilingPlan


@dataclass
class Evaluation:
    plan: TilingPlan
    arena_bytes: int | None
    executed_macs: int | None
    error: str | None = None
    estimated_instructions: int | None = None
    estimated_code_bytes: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict:
        return {"plan": self.plan.to_json(), "arena_bytes": self.arena_bytes, "executed_macs": self.executed_macs,
                "estimated_instructions": self.estimated_instructions,
                "estimated_code_bytes": self.estimated_code_bytes, "error": self.error}


def evaluate_in_subprocess(prepared: Path, plan: TilingPlan, planner: str, alignment: int,
                           timeout: float = 300) -> Evaluation:
    with tempfile.TemporaryDirectory(prefix="mlir-fdt-eval-") as tmp:
        plan_file = Path(tmp) / "plan.json"
        plan.save(plan_file)
        try:
            proc = subprocess.run([sys.executable, "-m", "mlir_fdt.search.evaluate", str(prepared), str(plan_file),
                                   planner, str(alignment)], capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return Evaluation(plan, None, None, f"timed out after {timeout} s")
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        said = [line for line in proc.stderr.splitlines() if line.startswith(("error: ", "internal error: "))]
        return Evaluation(plan, None, None, said[-1] if said else _crash(proc))
    data = json.loads(lines[-1])
    return Evaluation(plan, data["arena_bytes"], data["executed_macs"],
                      estimated_instructions=data["estimated_instructions"],
                      estimated_code_bytes=data["estimated_code_bytes"])


def _crash(proc: subprocess.CompletedProcess) -> str:
    """A worker that died without saying why (a signal, an uncaught error in the bindings)."""
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    return f"internal error: the plan evaluation exited with status {proc.returncode}" + (
        f" ({lines[0].strip()})" if lines else "")


def _worker(argv: list[str]) -> int:
    from ..errors import FdtError
    from ..ir import ir, new_context
    from ..pipeline import lower
    prepared, plan_file, planner, alignment = argv
    ctx = new_context()
    with ctx:
        module = ir.Module.parse(Path(prepared).read_bytes())
    try:
        lowered = lower(module, TilingPlan.load(plan_file), planner, int(alignment))
        macs = lowered.executed_macs
    except FdtError as e:
        print(f"error: {e}".replace("\n", " "), file=sys.stderr)
        return 1
    except Exception as e:  # a bug: its first real diagnostic, for the parent to report as internal
        from ..errors import first_diagnostic
        print(f"internal error: {type(e).__name__}: {first_diagnostic(e)}", file=sys.stderr)
        return 2
    print(json.dumps({"arena_bytes": lowered.plan.arena_bytes, "executed_macs": macs,
                      "estimated_instructions": lowered.estimated_instructions,
                      "estimated_code_bytes": lowered.estimated_code_bytes}))
    return 0


if __name__ == "__main__":
    sys.exit(_worker(sys.argv[1:]))
