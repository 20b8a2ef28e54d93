"""A fuzzing run: N generated cases, compiled `jobs` at a time, consumed in case order.

Results are reported in case order whatever finishes first, and each case depends only on
(seed, index), so a run prints the same lines and the same summary for a seed on any machine
and with any `jobs`. Without `keep_going` the run stops at the first failing case (in order).
Failures are shrunk afterwards, one at a time, and written as reproducers.
"""

from __future__ import annotations

import functools

import json
import re
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import FdtError
from .generator import generate_case
from .reproducer import write_reproducer
from .results import CRASH, PASS, SKIP, CaseResult
from .runner import CASE_TIMEOUT_S, run_case
from .shrinker import shrink
from .spec import CaseSpec


@dataclass
class Failure:
    index: int
    spec: CaseSpec
    result: CaseResult
    shrunk: CaseSpec | None = None
    reproducer: Path | None = None


@dataclass
class Summary:
    cases: int = 0
    skips: Counter = field(default_factory=Counter)  # reason -> count
    known: Counter = field(default_factory=Counter)  # open bug (regression name) -> count
    passed: int = 0
    passed_tiled: int = 0                            # of which compiled with a tiling plan
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def mismatches(self) -> int:
        """Failing cases: wrong outputs and compiler crashes alike."""
        return len(self.failures)


def skip_reason(result: CaseResult) -> str:
    """The kind of plan mlir-fdt refused, without layer names, shapes or the plan itself (but with
    the signal or exit code of a crashed plan process, which tells a crash from a Python error)."""
    line = result.headline.split("; ")[0]
    line = re.sub(r"(/[^\s:'\"]+)+", "<path>", line)
    line = re.sub(r"\b[a-z]+_\d+\b", "<layer>", line)
    line = re.sub(r"\{.*\}", "<plan>", line)
    return re.sub(r"(?<!signal )\b\d+", "N", line)


KNOWN_BUGS_FILE = "open_bugs.json"


def load_known_failures(directory: Path) -> dict[str, str]:
    """Crash signature -> name, for each reproducer `DIR/<name>/` listed in `DIR/open_bugs.json`
    (name -> description): failures a CI run should report but not fail on until they are fixed.
    Wrong outputs are never "known": their signature says nothing about the cause."""
    listing = directory / KNOWN_BUGS_FILE
    if not listing.exists():
        raise FdtError(f"{listing}: no such file (expected {{\"<reproducer dir>\": \"description\"}})")
    known = {}
    for name in json.loads(listing.read_text()):
        result = CaseResult.from_json(json.loads((directory / name / "result.json").read_text()))
        if result.status == CRASH:
            known[result.signature()] = name
    return known


def run_campaign(cases: int, seed: int, *, keep_going: bool = False, jobs: int = 1,
                 on_result: Callable[[int, CaseSpec, CaseResult], None] | None = None,
                 max_layers: int = 5, known: dict[str, str] | None = None, run: str = "host",
                 method: str | None = None, target: str = "cortex-m4", stream_input: bool = False) -> Summary:
    """Generate and run the cases; the failures come back unshrunk (see `shrink_failures`).
    A crash whose signature is in `known` (see `load_known_failures`) is counted apart."""
    known = known or {}
    summary = Summary()
    specs = [generate_case(seed, i, max_layers, method, stream_input) for i in range(cases)]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(run_case, spec, None, CASE_TIMEOUT_S, run, target) for spec in specs]
        for index, (spec, future) in enumerate(zip(specs, futures)):
            result = future.result()
            summary.cases += 1
            if result.status == SKIP:
                summary.skips[skip_reason(result)] += 1
            elif result.status == PASS:
                summary.passed += 1
                summary.passed_tiled += result.plan is not None
            if on_result:
                on_result(index, spec, result)
            if result.failed and result.signature() in known:
                summary.known[known[result.signature()]] += 1
            elif result.failed:
                summary.failures.append(Failure(index, spec, result))
                if not keep_going:
                    for rest in futures[index + 1:]:
                        rest.cancel()
                    break
    return summary


def shrink_failures(summary: Summary, seed: int, out: Path, max_attempts: int,
                    on_shrunk: Callable[[Failure], None] | None = None, run: str = "host",
                    target: str = "cortex-m4") -> None:
    """Shrink each failure (up to `max_attempts` compiles) and write its reproducer under `out`."""
    for failure in summary.failures:
        spec = failure.spec
        if max_attempts > 0:
            compile_case = functools.partial(run_case, run=run, target=target)
            spec = shrink(failure.spec, failure.result, compile_case, max_attempts).spec
        failure.shrunk = spec
        failure.reproducer = out / f"seed{seed}-case{failure.index}"
        title = f"mlir-fdt fuzz --seed {seed}: case {failure.index} ({failure.result.status}), shrunk"
        write_reproducer(spec, failure.reproducer, title, run, target)
        if on_shrunk:
            on_shrunk(failure)
