"""`mlir-fdt fuzz`: random networks and tiling plans, each compiled with `--run host` and compared
with IREE's default compilation; failures are shrunk into reproducers.

Prints one line per case (a progress bar on a terminal), then exactly `N cases, M mismatches`
(M counts wrong outputs and compiler crashes), then the skipped plans. Exit status 0 iff M is 0.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..fuzz.campaign import Failure, Summary
from ..fuzz.results import CaseResult
from ..fuzz.spec import PLAN_METHODS, CaseSpec

DEFAULT_OUT = "mlir-fdt-fuzz"


def add_fuzz_parser(sub: argparse._SubParsersAction) -> None:
    """Register the `fuzz` subcommand."""
    f = sub.add_parser("fuzz", help="differential fuzzing: random TOSA networks and plans vs IREE's own compilation")
    f.add_argument("--cases", type=int, default=40, help="number of cases (default 40)")
    f.add_argument("--seed", type=int, default=0, help="seed of the whole run: same seed, same cases (default 0)")
    f.add_argument("--out", default=DEFAULT_OUT,
                   help=f"directory for reproducers of failing cases (default ./{DEFAULT_OUT}, created on failure)")
    f.add_argument("--keep-going", action="store_true", help="run every case instead of stopping at the first failure")
    f.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                   help="cases compiled in parallel (default: 2, or 1 on one core); the output does not depend on it")
    f.add_argument("--shrink-attempts", type=int, default=60,
                   help="compiles the shrinker may spend per failure (default 60; 0: keep failures unshrunk)")
    f.add_argument("--known-failures", metavar="DIR",
                   help="crashes matching an open bug listed in DIR/open_bugs.json (e.g. tests/fuzz_regressions) "
                        "are reported but not counted as mismatches")
    f.add_argument("--max-layers", type=int, default=5, help="top-level layers per network (default 5)")
    f.add_argument("--method", choices=PLAN_METHODS,
                   help="give every case a tiling plan of this method (default: a mix, 30 %% of cases untiled)")
    f.add_argument("--stream-input", action="store_true",
                   help="cases whose plan streams start at the first layer and take the input a row at a time "
                        "(mlir-fdt compile --stream-input); needs --run qemu")
    f.add_argument("--run", choices=("host", "qemu"), default="host",
                   help="host (default): the compiled program on this machine; qemu: the --target's firmware "
                        "under QEMU instead (its int8 kernels are target-specific)")
    f.add_argument("--target", default="cortex-m4",
                   help="target core of the compiled cases (default cortex-m4; `mlir-fdt targets` lists them)"),


def _case_line(index: int, total: int, spec: CaseSpec, result: CaseResult) -> str:
    plan = "untiled"
    if result.plan and spec.plan and spec.plan.method == "in-place":
        plan = "in-place " + ",".join(layer for path in result.plan["paths"] for layer in path["layers"])
    elif result.plan:
        path = result.plan["paths"][0]
        cut = {"ffmt": lambda: f"{path['tiles'][0]}x{path['tiles'][1]}", "stream": lambda: "rows",
               "fdt": lambda: f"/{path['partitions']}"}[path["method"]]()
        plan = f"{path['method']} {cut} {','.join(path['layers'])}"
    line = (f"[{index + 1:>{len(str(total))}}/{total}] {result.status:<8} {spec.summary()} {plan} "
            f"{spec.planner}/{spec.alignment} {result.seconds:.1f}s")
    if result.status != "pass" and result.headline:
        line += f"\n    {result.headline[:300]}"
    return line


@contextmanager
def _progress(total: int) -> Iterator[Callable[[int, CaseSpec, CaseResult], None]]:
    """A per-case callback: a rich progress bar (and the non-passing cases) on a terminal, one plain
    line per case otherwise (logs, CI)."""
    if not sys.stdout.isatty():
        yield lambda index, spec, result: print(_case_line(index, total, spec, result), flush=True)
        return
    from rich.progress import Progress
    with Progress() as progress:
        task = progress.add_task("fuzzing", total=total)

        def report(index: int, spec: CaseSpec, result: CaseResult) -> None:
            if result.status != "pass":
                progress.console.print(_case_line(index, total, spec, result), markup=False, highlight=False)
            progress.advance(task)
        yield report


def _print_summary(summary: Summary, known_dir: str | None, seconds: float) -> None:
    print(f"{summary.cases} cases, {summary.mismatches} mismatches")
    if summary.known:
        listed = ", ".join(f"{count} {name}" for name, count in sorted(summary.known.items()))
        print(f"{sum(summary.known.values())} known failures (open bugs in {known_dir}): {listed}")
    skips = sum(summary.skips.values())
    print(f"{skips} skips (plans mlir-fdt rejects, or no reference){':' if skips else ''}")
    for reason, count in sorted(summary.skips.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {count:>4}  {reason}")
    print(f"{summary.passed} passed ({summary.passed_tiled} with a tiling plan) in {seconds:.0f} s")


def run_fuzz(args: argparse.Namespace) -> int:
    from ..errors import FdtError
    from ..fuzz.campaign import load_known_failures, run_campaign, shrink_failures
    from ..targets import get_target
    if args.cases < 1 or args.jobs < 1 or args.max_layers < 1:
        raise FdtError("--cases, --jobs and --max-layers must be at least 1")
    get_target(args.target)  # an unknown name fails here, naming the known ones
    if args.stream_input and args.run != "qemu":
        raise FdtError("fuzz --stream-input: a streamed input comes through the firmware's row callback; "
                       "add --run qemu")
    known = load_known_failures(Path(args.known_failures)) if args.known_failures else {}
    start = time.perf_counter()
    with _progress(args.cases) as on_result:
        summary = run_campaign(args.cases, args.seed, keep_going=args.keep_going, jobs=args.jobs,
                               on_result=on_result, max_layers=args.max_layers, known=known, run=args.run,
                               method=args.method, target=args.target, stream_input=args.stream_input)
    if summary.failures:
        print(f"shrinking {len(summary.failures)} failing case(s) (up to {args.shrink_attempts} compiles each)",
              flush=True)

        def shrunk(failure: Failure) -> None:
            print(f"case {failure.index}: {failure.result.status}; reproducer {failure.reproducer} "
                  f"({failure.shrunk.summary() if failure.shrunk else 'unshrunk'})", flush=True)
        shrink_failures(summary, args.seed, Path(args.out), args.shrink_attempts, shrunk, run=args.run,
                        target=args.target)
    _print_summary(summary, args.known_failures, time.perf_counter() - start)
    return 0 if summary.mismatches == 0 else 1
