"""One fuzz case in a child process (`mlir_fdt.child`, which runner.py calls), or on its own:
`python -m mlir_fdt.fuzz.worker CASE_DIR`.

Reads `CASE_DIR/spec.json`, writes `model.mlir`, `plan.json` (when the case has a plan) and
`result.json`. In a child because MLIR aborts on some failures and a case can hang: the
runner survives both and reports them as crashes (the child is replaced).
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path

from .results import CRASH, MISMATCH, PASS, SKIP

# FdtErrors raised inside these (file, function)s do not count against mlir-fdt: a plan it
# declines to apply (unsupported path), or a reference (IREE's default compilation) that fails.
PLAN_STAGE = ("apply_plan.py", "apply_plan")
REFERENCE_STAGE = ("compiler.py", "_reference_outputs")
LAYERS_STAGE = ("plans.py", "concrete_plan")  # the fuzzer's own use of find_layers, to draw the plan
IREE_REJECTS = "(IREE's TOSA to linalg lowering rejects it)"  # importers/tosa.py: IREE cannot compile it either


def _raised_in(error: BaseException, stage: tuple[str, str]) -> bool:
    """True when `error` passed through `stage`'s function on its way up."""
    tb = error.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_name == stage[1] and code.co_filename.endswith(stage[0]):
            return True
        tb = tb.tb_next
    return False


def _where(error: BaseException) -> str | None:
    """`mlir_fdt/<file>.py:<function>` of the innermost compiler frame that raised `error`: with the
    error type, what tells one crash from another while the shrinker changes shapes and names."""
    where = None
    tb = error.__traceback__
    while tb is not None:
        path = tb.tb_frame.f_code.co_filename.replace("\\", "/")
        if "/mlir_fdt/" in path and "/mlir_fdt/fuzz/" not in path:
            where = f"mlir_fdt/{path.rsplit('/mlir_fdt/', 1)[1]}:{tb.tb_frame.f_code.co_name}"
        tb = tb.tb_next
    return where


def write_case_files(spec_text: str, case_dir: Path) -> tuple[Path, Path | None]:
    """Render the model and derive the concrete plan; return (model.mlir, plan.json or None)."""
    from ..importers import import_model
    from ..ir import new_context
    from ..pipeline import prepare_tensor_program
    from .emit import render
    from .plans import concrete_plan
    from .spec import CaseSpec
    spec = CaseSpec.loads(spec_text)
    model = case_dir / "model.mlir"
    model.write_text(render(spec))
    if spec.plan is None:
        return model, None
    ctx = new_context()
    module = import_model(model, ctx)
    prepare_tensor_program(module)
    plan = concrete_plan(module, spec.plan, spec.stream_input)
    if plan is None:
        return model, None
    plan_file = case_dir / "plan.json"
    plan.save(plan_file)
    return model, plan_file


def run_case_here(case_dir: Path, run: str = "host", target: str = "cortex-m4") -> dict:
    """Compile the case in `case_dir` for `target` and check it (`run`: host, or qemu); the result as a
    JSON-ready dict."""
    from ..compiler import STREAM_INPUT_REFUSAL, CompileOptions, compile_model
    from ..errors import FdtError
    from .spec import CaseSpec
    start = time.perf_counter()
    spec = CaseSpec.loads((case_dir / "spec.json").read_text())
    result: dict = {"status": PASS, "message": "", "error_type": None, "where": None, "plan": None}
    try:
        model, plan_file = write_case_files((case_dir / "spec.json").read_text(), case_dir)
        if plan_file is not None:
            result["plan"] = json.loads(plan_file.read_text())
        elif spec.stream_input:
            raise FdtError(f"{STREAM_INPUT_REFUSAL}: the drawn plan holds no layer")
        options = CompileOptions(run=run, target=target, planner=spec.planner, alignment=spec.alignment,
                                 seed=spec.input_seed, stream_input=spec.stream_input,
                                 plan=str(plan_file) if plan_file else None)
        report = compile_model(model, case_dir / "out", options)
        result["max_abs_diff"], result["tolerance"] = report.check.max_abs_diff, report.check.tolerance
        result["arena_bytes"] = report.arena_bytes
        if report.failures():
            result["status"], result["message"] = MISMATCH, report.failures()[0]
    except FdtError as e:
        # a plan that does not hold every layer reading the input cannot stream it (the path drawn is too short)
        refused_stream = spec.stream_input and str(e).startswith(STREAM_INPUT_REFUSAL)
        result["status"] = SKIP if _raised_in(e, PLAN_STAGE) or refused_stream else CRASH
        result["error_type"], result["message"], result["where"] = type(e).__name__, str(e), _where(e)
        if _raised_in(e, REFERENCE_STAGE):
            result["status"], result["message"] = SKIP, f"no reference: IREE's default compilation fails: {e}"
        elif str(e).endswith(IREE_REJECTS):  # IREE's own TOSA lowering: no reference either
            result["status"], result["message"] = SKIP, f"no reference: {e}"
    except Exception as e:  # a compiler bug: keep the traceback for the reproducer
        result["status"] = CRASH
        result["error_type"], result["where"] = type(e).__name__, _where(e)
        result["message"] = f"{e}\n{traceback.format_exc()}"
        result["while_drawing_plan"] = _raised_in(e, LAYERS_STAGE)
    result["seconds"] = round(time.perf_counter() - start, 3)
    return result


def run_case_dir(case_dir: str, run: str = "host", target: str = "cortex-m4") -> dict:
    """`run_case_here`, also writing `case_dir/result.json` (the fuzzer calls it in a child process)."""
    result = run_case_here(Path(case_dir), run, target)
    (Path(case_dir) / "result.json").write_text(json.dumps(result, indent=1) + "\n")
    return result


def main(argv: list[str]) -> int:
    """`python -m mlir_fdt.fuzz.worker CASE_DIR [host|qemu] [TARGET]`."""
    run_case_dir(argv[0], argv[1] if len(argv) > 1 else "host", argv[2] if len(argv) > 2 else "cortex-m4")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
