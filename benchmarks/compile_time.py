"""Compile-time benchmark: seconds of `mlir-fdt compile` (default objective, no --run) per model,
split into import, search, lowering and iree-compile, beside `iree-compile`'s own default flow on the
same imported program. Prints a table, writes JSON.

    .venv/bin/python benchmarks/compile_time.py [--models FILE_OR_DIR ...] [--objective min-ram]
        [--max-overhead 0.25] [--checkout DIR] [--json benchmarks/results/compile_time.json]

How each figure is obtained (wall-clock seconds on this machine, one compile at a time):
- total: the whole `mlir-fdt compile MODEL -o OUT` process, interpreter start-up included, as a
  firmware build runs it;
- import / search / lowering / iree-compile: `timings` of its report.json (lowering = tiling,
  bufferization, memory plan and code generation of the chosen plan, after the search);
- iree-compile default: `iree-compile` of the compile's `imported.mlir` (TOSA/linalg as imported)
  for the same target as a static library, IREE's default flags — what a user of IREE alone runs;
  ratio = total / that;
- `--checkout DIR` runs the compiler of another checkout (PYTHONPATH=DIR) for before/after tables.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mlir_fdt.codegen.iree_compile import static_library_command  # noqa: E402
from mlir_fdt.targets import get_target  # noqa: E402

SHARED = REPO.parent / "shared"
MODEL_SUFFIXES = (".tflite", ".onnx", ".mlir")


def model_files(paths: list[Path]) -> list[Path]:
    files = []
    for p in paths:
        if not p.exists():
            raise SystemExit(f"error: {p}: no such file or folder")
        files += sorted(f for f in p.iterdir() if f.suffix in MODEL_SUFFIXES) if p.is_dir() else [p]
    return files


def iree_default_seconds(imported: Path, target: str, work: Path) -> float:
    command = static_library_command(imported, work / "iree_default.o", get_target(target))
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True)
    seconds = time.perf_counter() - start
    return round(seconds, 2) if proc.returncode == 0 else None


def measure(model: Path, args, work: Path) -> dict:
    out = work / model.stem
    command = [sys.executable, "-c", "import sys; from mlir_fdt.tools.cli import main; sys.exit(main())",
               "compile", str(model), "-o", str(out), "--target", args.target, "--objective", args.objective]
    if args.max_overhead is not None:
        command += ["--max-overhead", str(args.max_overhead)]
    env = dict(os.environ, PYTHONPATH=str(args.checkout or REPO))
    start = time.perf_counter()
    # run from the work folder: `python -c` puts the current folder first on sys.path, which would shadow
    # the checkout when this script is started from another one
    proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=work)
    total = time.perf_counter() - start
    row = {"model": model.name, "objective": args.objective, "total_s": round(total, 2)}
    if proc.returncode != 0:
        said = [line for line in proc.stderr.splitlines() if line.startswith(("error", "internal error"))]
        return {**row, "status": said[-1][:120] if said else f"exit {proc.returncode}"}
    report = json.loads((out / "report.json").read_text())
    t = report["timings"]
    search = t.get("search_s", 0.0)
    row.update(status="ok", arena_bytes=report["arena_bytes"], import_s=round(t["import_s"], 2),
               search_s=round(search, 2), lowering_s=round(t["transform_and_plan_s"] - search, 2),
               iree_compile_s=round(t["iree_compile_s"], 2),
               plans_scored=(report.get("search") or {}).get("plans_scored", 0))
    row["iree_default_s"] = iree_default_seconds(out / "imported.mlir", args.target, out)
    row["ratio_to_iree_default"] = round(total / row["iree_default_s"], 1) if row["iree_default_s"] else None
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, nargs="*", default=[SHARED / "models", SHARED / "corpus"],
                        help="model files or folders (default: ../shared/models and ../shared/corpus)")
    parser.add_argument("--target", default="cortex-m4")
    parser.add_argument("--objective", default="min-ram")
    parser.add_argument("--max-overhead", type=float, default=None)
    parser.add_argument("--checkout", type=Path, default=None, help="run the compiler of another checkout")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "compile_time.json")
    args = parser.parse_args(argv)
    if args.max_overhead is not None:
        args.objective = "max-overhead"
    rows = []
    with tempfile.TemporaryDirectory(prefix="mlir-fdt-compile-time-") as tmp:
        for model in model_files(args.models):
            rows.append(measure(model, args, Path(tmp)))
            r = rows[-1]
            print(f"{model.name}: {r['total_s']} s ({r['status']})", file=sys.stderr, flush=True)
    label = args.objective + (f" {args.max_overhead}" if args.max_overhead is not None else "")
    print(f"| model ({label}) | total s | import | search | plans | lowering | iree-compile | "
          "iree-compile default flow s | ratio | arena B |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if r["status"] != "ok":
            print(f"| {r['model']} | {r['total_s']} | {r['status']} | | | | | | | |")
            continue
        print(f"| {r['model']} | {r['total_s']} | {r['import_s']} | {r['search_s']} | {r['plans_scored']} | "
              f"{r['lowering_s']} | {r['iree_compile_s']} | {r['iree_default_s']} | {r['ratio_to_iree_default']} | "
              f"{r['arena_bytes']:,} |")
    ok = [r for r in rows if r["status"] == "ok"]
    if ok:
        print(f"\n{len(ok)} compiled, slowest {max(r['total_s'] for r in ok)} s, "
              f"sum {round(sum(r['total_s'] for r in ok), 1)} s")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"objective": label, "checkout": str(args.checkout or REPO), "rows": rows,
                                     "how_measured": __doc__}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
