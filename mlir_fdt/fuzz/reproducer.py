"""Write a failing case as a reproducer directory: the model, the plan, and the one command.

`DIR/model.mlir` (TOSA), `DIR/plan.json` (when tiled), `DIR/spec.json` (the fuzzer's
description, to shrink again), `DIR/result.json` (what went wrong) and `DIR/README.md` with the
`mlir-fdt compile` line that shows the failure. tests/fuzz_regressions/ holds such directories.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from .results import CaseResult
from .runner import run_case
from .spec import CaseSpec


def compile_command(spec: CaseSpec, has_plan: bool, search: bool = False, run: str = "host",
                    target: str = "cortex-m4") -> str:
    """The command line (run inside the reproducer directory) that compiles and checks the case as the fuzzer
    did (`run`, `target`, a streamed input); `search`: let mlir-fdt's plan search look at the layers (for a crash
    in the layer analysis that the fuzzer hit while drawing a plan, before any plan.json existed)."""
    objective = "" if search else " --objective untiled"
    command = (f"mlir-fdt compile model.mlir -o out --run {run}{objective} --planner {spec.planner} "
               f"--alignment {spec.alignment} --seed {spec.input_seed}")
    command += f" --target {target}" if target != "cortex-m4" else ""
    command += " --stream-input" if spec.stream_input else ""
    return command + (" --plan plan.json" if has_plan else "")


def write_reproducer(spec: CaseSpec, directory: Path, title: str, run: str = "host",
                     target: str = "cortex-m4") -> CaseResult:
    """Run `spec` once more inside `directory` as the fuzzer did (so the files are exactly what failed) and
    describe it."""
    if directory.exists():
        shutil.rmtree(directory)
    result = run_case(spec, directory, run=run, target=target)
    shutil.rmtree(directory / "out", ignore_errors=True)  # compiled artefacts: large, and rebuilt by the command
    has_plan = (directory / "plan.json").exists()
    got = result.headline if result.message else result.status
    drawing = bool(result.extra.get("while_drawing_plan"))
    readme = [f"# {title}", "", "```sh", compile_command(spec, has_plan, drawing, run, target), "```", "",
              f"Expected: exit 0 and `max_abs_diff` within tolerance. Got ({result.status}): {got}", "",
              f"Network: {spec.summary()}"]
    if result.where:
        readme.append(f"Raised in: `{result.where}` ({result.error_type})")
    if drawing:
        readme.append("The fuzzer hit it while finding the layers to draw a tiling plan from (mlir-fdt's search "
                      "and `--plan` look at the same layers).")
    if result.plan:
        readme.append(f"Plan: `{json.dumps(result.plan['paths'])}`")
    readme += ["", "Exactly as the fuzzer ran it (writes result.json, with the traceback):",
               f"`python -m mlir_fdt.fuzz.worker . {run} {target}`"]
    (directory / "README.md").write_text("\n".join(readme) + "\n")
    return result
