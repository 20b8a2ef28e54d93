"""Run one case in a child process (see worker.py) and read back its result."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from .results import CRASH, CaseResult
from .spec import CaseSpec

log = logging.getLogger(__name__)

CASE_TIMEOUT_S = 300.0


def run_case(spec: CaseSpec, work_dir: Path | None = None, timeout: float = CASE_TIMEOUT_S,
             run: str = "host") -> CaseResult:
    """Compile `spec` with `run` ("host", or "qemu": the host and the Cortex-M4 firmware under QEMU) and
    compare; a worker that dies or hangs is a crash. `work_dir` keeps the case's files (model, plan,
    artefacts); default: a temporary directory."""
    if work_dir is None:
        with tempfile.TemporaryDirectory(prefix="mlir-fdt-fuzz-") as tmp:
            return run_case(spec, Path(tmp), timeout, run)
    work_dir.mkdir(parents=True, exist_ok=True)
    (work_dir / "spec.json").write_text(spec.dumps())
    result_file = work_dir / "result.json"
    result_file.unlink(missing_ok=True)
    command = [sys.executable, "-m", "mlir_fdt.fuzz.worker", str(work_dir), run]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return CaseResult(CRASH, f"timed out after {timeout:.0f} s", "Timeout", None, _plan(work_dir), timeout)
    if proc.returncode != 0 or not result_file.exists():
        if proc.returncode < 0:
            what = f"killed by {signal.Signals(-proc.returncode).name}"
        else:
            what = f"exit code {proc.returncode}"
        tail = "\n".join(proc.stderr.strip().splitlines()[-20:])
        return CaseResult(CRASH, f"the compiler process died ({what})\n{tail}", "ProcessDied", None, _plan(work_dir))
    return CaseResult.from_json(json.loads(result_file.read_text()))


def _plan(work_dir: Path) -> dict | None:
    plan = work_dir / "plan.json"
    return json.loads(plan.read_text()) if plan.exists() else None
