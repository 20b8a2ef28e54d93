"""Run one case in a child process (`mlir_fdt.child`; see worker.py) and read back its result."""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

from ..child import ChildDied, call_in_child
from ..errors import FdtError
from .results import CRASH, CaseResult
from .spec import CaseSpec

log = logging.getLogger(__name__)

CASE_TIMEOUT_S = 300.0


def run_case(spec: CaseSpec, work_dir: Path | None = None, timeout: float = CASE_TIMEOUT_S,
             run: str = "host", target: str = "cortex-m4") -> CaseResult:
    """Compile `spec` for `target` with `run` ("host", or "qemu": the target's firmware under
    QEMU) and compare; a worker that dies or hangs is a crash. `work_dir` keeps the case's files (model,
    plan, artefacts); default: a temporary directory."""
    if work_dir is None:
        with tempfile.TemporaryDirectory(prefix="mlir-fdt-fuzz-") as tmp:
            return run_case(spec, Path(tmp), timeout, run, target)
    work_dir.mkdir(parents=True, exist_ok=True)
    (work_dir / "spec.json").write_text(spec.dumps())
    (work_dir / "result.json").unlink(missing_ok=True)
    try:
        # an absolute path: the child may have been started from another working directory
        return CaseResult.from_json(call_in_child("mlir_fdt.fuzz.worker:run_case_dir", str(work_dir.resolve()), run,
                                                  target, timeout=timeout))
    except ChildDied as e:
        timed_out = "timed out" in str(e)
        return CaseResult(CRASH, str(e), "Timeout" if timed_out else "ProcessDied", None, _plan(work_dir),
                          timeout if timed_out else 0.0)
    except FdtError as e:  # run_case_dir reports every error of the compile in its result: this is a bug of its own
        return CaseResult(CRASH, str(e), type(e).__name__, None, _plan(work_dir))


def _plan(work_dir: Path) -> dict | None:
    plan = work_dir / "plan.json"
    return json.loads(plan.read_text()) if plan.exists() else None
