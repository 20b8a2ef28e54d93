"""ONNX backend-test benchmark: PyTorch's exports that the `onnx` package ships as backend test data, compiled
as a user would and checked twice; one table, one JSON.

    .venv/bin/python benchmarks/onnx_backend.py [--suites pytorch-converted,pytorch-operator,simple]
        [--jobs 2] [--json benchmarks/results/onnx_backend.json]

Each model (opsets 2-9: the version converter upgrades them) is compiled by `mlir-fdt compile MODEL
--objective untiled --run host` in its own process, the user's command, and classified as
`benchmarks/corpus.py` does (pass: exit 0 and every output within the float tolerance of onnxruntime's on
the seeded inputs; wrong output: exit 3; refused: exit 1 with an `error:` line; internal error: anything
else). A program that passes is then run on the test's own data sets (`test_data_set_*`: PyTorch's inputs
and outputs) with `iree.runtime`, within 1e-4 of the largest expected value: an oracle that does not share
the version converter with the compiler, as the onnxruntime reference does (it runs the upgraded model).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mlir_fdt.reference.compare import largest_magnitude, max_abs_diff  # noqa: E402

_spec = importlib.util.spec_from_file_location("corpus_benchmark", REPO / "benchmarks" / "corpus.py")
corpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(corpus)

SUITES = ("pytorch-converted", "pytorch-operator", "simple")
EXPECTED_TOLERANCE = 1e-4  # of the largest expected value, as the float check against onnxruntime


def suite_models(suites: list[str]) -> list[Path]:
    import onnx
    data = Path(onnx.__file__).parent / "backend" / "test" / "data"
    return sorted(p for s in suites for p in (data / s).glob("*/model.onnx"))


def expected_check(model: Path, out: Path) -> str:
    """'ok', or what differs, running the compiled host program on the test's own data sets."""
    import onnx
    from onnx import numpy_helper

    from mlir_fdt.reference.host import run_arena_program
    report = json.loads((out / "report.json").read_text())
    sets = sorted(model.parent.glob("test_data_set_*"))
    for data_set in sets:
        xs = [numpy_helper.to_array(onnx.load_tensor(str(f))) for f in sorted(data_set.glob("input_*.pb"))]
        ys = [numpy_helper.to_array(onnx.load_tensor(str(f))) for f in sorted(data_set.glob("output_*.pb"))]
        if len(xs) != len(report["inputs"]) or len(ys) != len(report["outputs"]):
            return f"{data_set.name}: {len(xs)} inputs, {len(ys)} outputs; the program has " \
                   f"{len(report['inputs'])} and {len(report['outputs'])}"
        inputs = [(i["offset"], np.ascontiguousarray(x).tobytes()) for i, x in zip(report["inputs"], xs)]
        got = run_arena_program(out / "fdt_model.host.vmfb", report["arena_bytes"], inputs,
                                [(o["offset"], o["bytes"]) for o in report["outputs"]])
        for raw, y in zip(got, ys):
            tolerance = EXPECTED_TOLERANCE * max(1.0, largest_magnitude([y.astype(np.float64)]))
            diff = max_abs_diff(np.frombuffer(raw, y.dtype).reshape(y.shape), y)
            if diff > tolerance:
                return f"{data_set.name}: max_abs_diff {diff:.3g} (tolerance {tolerance:.3g})"
    return "ok" if sets else "no data set"


def measure(model: Path, work: Path, timeout: float) -> dict:
    name = f"{model.parent.parent.name}/{model.parent.name}"
    out = work / model.parent.name
    command = [sys.executable, "-m", "mlir_fdt.tools.cli", "compile", str(model), "--objective", "untiled",
               "--run", "host", "-o", str(out)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=REPO)
        status, why = corpus.classify(proc.returncode, proc.stderr)
    except subprocess.TimeoutExpired:
        status, why = "internal error", f"timed out after {timeout:.0f} s"
    expected = expected_check(model, out) if status == "pass" else None
    if expected not in (None, "ok", "no data set"):
        status, why = "wrong output", f"against the test's expected output: {expected}"
    return {"model": name, "status": status, "why": why.replace(str(model), "MODEL"), "expected_outputs": expected,
            "compile_s": round(time.perf_counter() - t0, 1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--suites", default=",".join(SUITES), help="backend test data folders, comma-separated")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--timeout", type=float, default=300, help="seconds per compile")
    p.add_argument("--json", default=str(REPO / "benchmarks" / "results" / "onnx_backend.json"))
    args = p.parse_args(argv)
    models = suite_models(args.suites.split(","))
    if not models:
        print("error: no backend test model found (is the `onnx` package installed?)", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="mlir-fdt-onnx-backend-"))

    def one(model: Path) -> dict:
        row = measure(model, work, args.timeout)
        print(f"  {row['model']}: {row['status']} ({row['compile_s']} s)", file=sys.stderr, flush=True)
        return row

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        rows = list(pool.map(one, models))
    print("| model | status | why |\n|---|---|---|")
    for r in rows:
        if r["status"] != "pass":
            print(f"| {r['model']} | {r['status']} | {r['why'][:160]} |")
    counts = Counter(r["status"] for r in rows)
    summary = {s: counts.get(s, 0) for s in corpus.STATUSES}
    checked = sum(r["expected_outputs"] == "ok" for r in rows)
    print(f"\n{len(rows)} models: " + ", ".join(f"{v} {k}" for k, v in summary.items())
          + f"; {checked} also equal to the tests' expected outputs")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"suites": args.suites.split(","), "summary": summary,
                                           "expected_outputs_ok": checked, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
