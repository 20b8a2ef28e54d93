"""Corpus benchmark: every real model under ../shared/corpus (and ../shared/models) compiled as a user
would, run and checked; one table, one JSON.

    .venv/bin/python benchmarks/corpus.py [--run qemu|host] [--modes untiled,min-ram] [--models a,b]
        [--target cortex-m4] [--jobs 2] [--checks 3] [--no-intermediates]
        [--json benchmarks/results/corpus.json] [--markdown FILE]

Each model is compiled by `mlir-fdt compile MODEL --target TARGET --objective MODE --run RUN` in its
own process (exactly the user's command), so its status is what a user sees:
- pass: exit 0, every output equal to the reference (int8/int16 bit for bit, float within the stated
  tolerance) on `--checks` seeded inputs;
- wrong output: exit 3; refused: exit 1 with an `error:` line; internal error: exit 2, a traceback, or
  any other exit status.
`expect` comes from the corpus README's *expect* column: pass, refused, or either ("pass, or refused").

How each figure is obtained:
- arena / lower bound / MACs / QEMU instructions: the compile's report.json (see the README:
  planned arena bytes; cost-model MACs; QEMU -icount instructions of one inference on the first seed);
- TFLM head: TFLite Micro's "Arena allocation head" (print_allocations after one invoke, measured here
  with the Python interpreter; `-` when TFLite Micro cannot run the model);
- IREE default + I/O: where TFLite Micro has no figure (ONNX models, models it cannot run), IREE's own
  compilation of the same imported program (the compile's imported.mlir) for Cortex-M4: the "Transient
  Size" of its scheduling statistics plus the input and output bytes, which its caller allocates
  (`codegen.iree_compile.iree_default_transient_bytes`, the method of ../shared/models/README.md);
- compile s: wall time of the whole `mlir-fdt compile` command on this machine (run included);
- reference: tflite-micro for a .tflite, or iree-default (IREE's compilation of the imported program)
  only where TFLite Micro cannot run the model, with the reason in the JSON; onnxruntime for a .onnx;
  `varies`: whether the reference output changed between the seeded inputs (a check on a saturated model proves little);
- intermediates: a .tflite is compiled with `--check-intermediates` (unless --no-intermediates): every
  intermediate tensor the untiled program keeps whole is compared with TFLite Micro's on the same
  inputs; the JSON says per model how many were compared, how many have no value of their own (fused or
  folded) and the first wrong one (tensor, operator index, operator); a mismatch fails the compile
  (exit 3, "wrong output").
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared"

STATUSES = ("pass", "wrong output", "refused", "internal error")


def corpus_models() -> list[Path]:
    found = sorted((SHARED / "corpus").glob("*.tflite")) + sorted((SHARED / "corpus").glob("*.onnx"))
    return found + sorted((SHARED / "models").glob("*.tflite"))


def expectations(readme: Path) -> dict[str, set[str]]:
    """file name -> acceptable statuses, from the corpus README's `expect` column."""
    if not readme.is_file():
        return {}
    expect: dict[str, set[str]] = {}
    header = None
    for line in readme.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if "expect" in cells and "file" in cells:
            header = cells
            continue
        if header is None or len(cells) != len(header) or not cells[0].endswith((".tflite", ".onnx")):
            continue
        text = cells[header.index("expect")].lower()
        ok = set()
        if text.startswith("pass"):
            ok.add("pass")
        if "refused" in text:
            ok.add("refused")
        expect[cells[0]] = ok
    return expect


def classify(returncode: int, stderr: str) -> tuple[str, str]:
    """(status, the line that says why) of one `mlir-fdt compile`."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if line.startswith(("error:", "internal error:"))), None)
    said = ""
    if start is not None:  # the error line and its indented continuation (one line per refused operator)
        rest = [line.strip() for line in lines[start + 1:start + 4] if line.startswith("  ")]
        said = " | ".join([lines[start], *rest])
    elif lines:
        said = lines[0]
    if "Traceback (most recent call last)" in stderr:
        return "internal error", "Python traceback: " + (lines[-1] if lines else "")
    if returncode == 0:
        return "pass", ""
    if returncode == 3:
        return "wrong output", said
    if returncode == 1 and said.startswith("error:"):
        return "refused", said
    return "internal error", said or f"exit status {returncode}"


def tflm_head(model: Path) -> int | None:
    if model.suffix != ".tflite":
        return None
    from mlir_fdt.importers.tflite_flatbuffer import read_tflite
    from mlir_fdt.reference.inputs import random_inputs, tflite_input_ranges, tflite_shape_inputs
    from mlir_fdt.reference.tflm import tflite_micro_arena_head
    fb = read_tflite(model)
    types = {"float32": "f32", "int8": "i8", "int16": "i16", "int32": "i32", "uint8": "ui8", "bool": "i1"}
    if any(t.dtype not in types for t in fb.inputs):
        return None
    inputs = random_inputs([(t.shape, types[t.dtype]) for t in fb.inputs], 0, tflite_input_ranges(fb),
                           fixed=tflite_shape_inputs(fb))
    return tflite_micro_arena_head(model, inputs)


def op_summary(model: Path) -> str:
    try:
        if model.suffix == ".onnx":
            from collections import Counter
            import onnx
            counts = Counter(n.op_type for n in onnx.load(str(model), load_external_data=False).graph.node)
        else:
            from mlir_fdt.importers.tflite_flatbuffer import read_tflite
            counts = read_tflite(model).op_counts()
    except Exception as e:  # noqa: BLE001 - a model the reader rejects is reported, not fatal
        return f"(unreadable: {e})"
    return ", ".join(f"{k}x{v}" if v > 1 else k for k, v in counts.items())


def iree_default_plus_io(out: Path, report: dict) -> int | None:
    """IREE's default flow on the compile's imported program: transient bytes + input and output bytes."""
    from mlir_fdt.codegen.iree_compile import iree_default_transient_bytes
    from mlir_fdt.errors import FdtError
    from mlir_fdt.targets import get_target
    try:
        transient = iree_default_transient_bytes(out / "imported.mlir", get_target(report["target"]))
    except FdtError:
        return None
    return transient + sum(t["bytes"] for t in report["inputs"] + report["outputs"])


def intermediates_fields(report: dict) -> dict:
    """The JSON fields of a compile's intermediate-tensor check (None where it did not run)."""
    checked = report.get("intermediates")
    if checked is None:
        return {"intermediates_compared": None}
    mismatches = checked.get("mismatches", [])
    first = mismatches[0] if mismatches else None
    return {"intermediates_compared": checked["compared"], "intermediates_skipped": checked.get("skipped"),
            "intermediates_skipped_by_reason": checked.get("skipped_by_reason"),
            "intermediates_mismatches": len(mismatches),
            "first_wrong_intermediate": first and {k: first[k] for k in ("tensor", "operator_index", "operator",
                                                                         "max_abs_diff")},
            "intermediates_not_checked": checked.get("not_checked")}


def compile_status(model: Path, options: list[str], out: Path, timeout: float) -> tuple[str, str]:
    """`mlir-fdt compile MODEL OPTIONS -o OUT` in its own process, the user's command, classified (`classify`;
    a timeout is an internal error)."""
    command = [sys.executable, "-m", "mlir_fdt.tools.cli", "compile", str(model), *options, "-o", str(out)]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=REPO)
        return classify(proc.returncode, proc.stderr)
    except subprocess.TimeoutExpired:
        return "internal error", f"timed out after {timeout:.0f} s"


def measure(model: Path, mode: str, run: str, checks: int, work: Path, timeout: float,
            intermediates: bool = True, target: str = "cortex-m4") -> dict:
    out = work / f"{model.stem}-{mode}"
    options = ["--target", target, "--objective", mode, "--run", run, "--checks", str(checks)]
    if intermediates and model.suffix == ".tflite":
        options.append("--check-intermediates")
    t0 = time.perf_counter()
    status, why = compile_status(model, options, out, timeout)
    seconds = time.perf_counter() - t0
    report = {}
    if (out / "report.json").is_file() and status in ("pass", "wrong output"):
        report = json.loads((out / "report.json").read_text())
    iree = iree_default_plus_io(out, report) if report and model.suffix != ".tflite" else None
    return {"model": model.name, "mode": mode, "status": status, "why": why,
            "arena_bytes": report.get("arena_bytes"), "lower_bound_bytes": report.get("lower_bound_bytes"),
            "qemu_instructions": report.get("qemu_instructions"), "macs": report.get("macs"),
            "mac_overhead": report.get("mac_overhead"), "max_abs_diff": report.get("max_abs_diff"),
            "tolerance": report.get("tolerance"), "reference": report.get("reference"),
            "reference_note": report.get("reference_note"),
            "reference_output_varies": report.get("reference_output_varies"),
            "checked_seeds": report.get("checked_seeds"), "iree_default_plus_io_bytes": iree,
            **intermediates_fields(report),
            "compile_s": round(seconds, 1), "command": " ".join(["compile", str(model), *options, "-o", str(out)])}


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def _intermediates_cell(r: dict) -> str:
    """`12 = ` (12 compared, all equal), `12, 1 differs` or `-`."""
    if r.get("intermediates_compared") is None:
        return "-"
    wrong = r.get("intermediates_mismatches") or 0
    return f"{r['intermediates_compared']}" + (f", {wrong} differ" if wrong else " equal")


def table(rows: list[dict]) -> str:
    cols = ["model", "ops", "mode", "status", "expect", "arena", "TFLM head", "vs TFLM", "IREE default + I/O",
            "lower bound",
            "qemu instr", "MACs", "compile s", "reference", "varies", "intermediates"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        ratio = (f"{r['arena_bytes'] / r['tflm_head']:.2f}x" if r.get("arena_bytes") and r.get("tflm_head")
                 else "-")
        status = r["status"] + ("" if r["status"] == "pass" else f" ({r['why'][:90]})")
        lines.append("| " + " | ".join([
            r["model"], r["ops"], r["mode"], status, "/".join(sorted(r["expect"])) or "-",
            _fmt(r["arena_bytes"]), _fmt(r["tflm_head"]), ratio, _fmt(r.get("iree_default_plus_io_bytes")),
            _fmt(r["lower_bound_bytes"]),
            _fmt(r["qemu_instructions"]), _fmt(r["macs"]), _fmt(r["compile_s"]), _fmt(r["reference"]),
            _fmt(r["reference_output_varies"]), _intermediates_cell(r)]) + " |")
    return "\n".join(lines)


def summary(rows: list[dict]) -> dict:
    counts = {s: sum(r["status"] == s for r in rows) for s in STATUSES}
    counts["wrong_intermediates"] = sum(bool(r.get("intermediates_mismatches")) for r in rows)
    counts["unexpected"] = sum(bool(r["expect"]) and r["status"] not in r["expect"] for r in rows)
    counts["above_tflm_head"] = sum(bool(r.get("arena_bytes") and r.get("tflm_head")
                                         and r["arena_bytes"] > r["tflm_head"]) for r in rows)
    counts["above_iree_default"] = sum(bool(r.get("arena_bytes") and r.get("iree_default_plus_io_bytes")
                                            and r["arena_bytes"] > r["iree_default_plus_io_bytes"]) for r in rows)
    return counts


def run_each(items: list, measure_one, jobs: int) -> list[dict]:
    """`measure_one(item)` (a row with "model", "status", "compile_s") for every item on `jobs` threads, each row's
    status printed to stderr as it finishes: the loop of the battery benchmarks (ONNX backend tests, TFLite
    operators)."""
    def one(item) -> dict:
        row = measure_one(item)
        print(f"  {row['model']}: {row['status']} ({row['compile_s']} s)", file=sys.stderr, flush=True)
        return row

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, items))


def failures_table(rows: list[dict]) -> str:
    """The markdown table of the rows that did not pass (model, status, why)."""
    lines = ["| model | status | why |", "|---|---|---|"]
    lines += [f"| {r['model']} | {r['status']} | {r['why'][:160]} |" for r in rows if r["status"] != "pass"]
    return "\n".join(lines)


def run_corpus(models: list[Path], modes: list[str], run: str, checks: int, jobs: int,
               timeout: float, progress=None, intermediates: bool = True, target: str = "cortex-m4") -> list[dict]:
    expect = expectations(SHARED / "corpus" / "README.md")
    heads = {m: tflm_head(m) for m in models}
    work = Path(tempfile.mkdtemp(prefix="mlir-fdt-corpus-"))
    tasks = [(m, mode) for m in models for mode in modes]

    def one(task):
        m, mode = task
        row = measure(m, mode, run, checks, work, timeout, intermediates, target)
        row.update(ops=op_summary(m), tflm_head=heads[m], expect=expect.get(m.name, set()))
        if progress:
            progress(row)
        return row

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, tasks))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", default="qemu", choices=["qemu", "host"])
    p.add_argument("--target", default="cortex-m4", help="target core (`mlir-fdt targets`)")
    p.add_argument("--modes", default="untiled,min-ram", help="objectives, comma-separated")
    p.add_argument("--models", help="comma-separated file stems (default: every model)")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--checks", type=int, default=3, help="seeded inputs checked per model")
    p.add_argument("--no-intermediates", action="store_true",
                   help="do not compare the intermediate tensors with TFLite Micro's (--check-intermediates)")
    p.add_argument("--timeout", type=float, default=900, help="seconds per compile")
    p.add_argument("--json", default=str(REPO / "benchmarks" / "results" / "corpus.json"))
    p.add_argument("--markdown", help="also write the table to this file")
    args = p.parse_args(argv)
    models = corpus_models()
    if args.models:
        wanted = set(args.models.split(","))
        models = [m for m in models if m.stem in wanted]
    if not models:
        print(f"error: no model found (expected {SHARED / 'corpus'} beside the repository)", file=sys.stderr)
        return 1
    modes = args.modes.split(",")
    rows = run_corpus(models, modes, args.run, args.checks, args.jobs, args.timeout,
                      progress=lambda r: print(f"  {r['model']} [{r['mode']}]: {r['status']} ({r['compile_s']} s)",
                                               file=sys.stderr, flush=True),
                      intermediates=not args.no_intermediates, target=args.target)
    text = table(rows)
    print(text)
    counts = summary(rows)
    print("\n" + ", ".join(f"{v} {k}" for k, v in counts.items()))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"run": args.run, "target": args.target, "modes": modes,
                                           "checks": args.checks,
                                           "intermediates": not args.no_intermediates,
                                           "summary": counts,
                                           "rows": [{**r, "expect": sorted(r["expect"])} for r in rows]},
                                          indent=2) + "\n")
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
