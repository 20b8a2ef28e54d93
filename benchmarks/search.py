"""Search benchmark: for every model in ../shared/models, the arena, MAC overhead, QEMU
instructions and search time of the untiled program, of the plan `--objective min-ram` picks (no
extra MACs), of min-ram with streamed paths only (`stream-only`), of min-ram with the input delivered
a row at a time (`stream-input`: `--stream-input`, checked under QEMU only), and of the plans the search
picks under --max-overhead with only FDT paths, only FFMT paths, and all. Prints a table, writes JSON and
a Markdown table.

    .venv/bin/python benchmarks/search.py [--models DIR] [--max-overhead 0.25] [--qemu]
        [--only kws_int8,vww_int8] [--modes untiled,min-ram] [--time-budget 240] [--out benchmarks/results]

How each figure is obtained: arena_bytes from mlir-fdt's planner on the lowered program
(exact bytes, input/output included); mac_overhead = executed MACs (every reduction iteration of
the tiled program, counted on its IR) / MACs of the untiled program - 1; qemu_instructions from
the firmware's SysTick count under QEMU -icount (with --qemu; bit-exactness checked on the same
run); search time is wall time on this machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mlir_fdt.analysis.macs import count_macs  # noqa: E402
from mlir_fdt.compiler import CompileOptions, compile_model  # noqa: E402
from mlir_fdt.errors import FdtError  # noqa: E402
from mlir_fdt.importers import import_model  # noqa: E402
from mlir_fdt.ir import entry_function, ir, new_context  # noqa: E402
from mlir_fdt.memory.stream_input import STREAM_ATTR  # noqa: E402
from mlir_fdt.pipeline import prepare_tensor_program  # noqa: E402
from mlir_fdt.plan import TilingPlan  # noqa: E402
from mlir_fdt.search import driver  # noqa: E402
from mlir_fdt.search.objectives import Objective  # noqa: E402

MODES = {  # objective, the one split kind the search may use (None: all), the input delivered a row at a time
    "untiled": ("untiled", None, False),
    "min-ram": ("min-ram", None, False),
    "stream-only": ("min-ram", "stream", False),
    "stream-input": ("min-ram", None, True),
    "fdt-only": ("max-overhead", "fdt", False),
    "ffmt-only": ("max-overhead", "ffmt", False),
    "combined": ("max-overhead", None, False),
}


def run_mode(model: Path, mode: str, max_overhead: float, qemu: bool, out: Path, time_budget: float) -> dict:
    kind, method, stream_input = MODES[mode]
    t0 = time.perf_counter()
    plan = TilingPlan()
    if kind != "untiled":
        ctx = new_context()
        module = import_model(model, ctx)
        prepare_tensor_program(module)
        if stream_input:  # as `mlir-fdt compile --stream-input` asks the search for it
            with ctx:
                entry_function(module).attributes[STREAM_ATTR] = ir.UnitAttr.get()
        original, original_start = driver.candidate_paths, driver.in_place_plan
        if method:  # restrict path discovery (and the in-place start) to one split kind
            driver.candidate_paths = lambda g, c: [p for p in original(g, c) if p.method == method]
            driver.in_place_plan = lambda g: TilingPlan(tuple(p for p in original_start(g).paths
                                                              if p.method == method))
        objective = Objective(kind, max_overhead if kind == "max-overhead" else 0.0)
        try:
            result = driver.search(module, count_macs(module), objective, time_budget_s=time_budget,
                                   progress=False)
        finally:
            driver.candidate_paths, driver.in_place_plan = original, original_start
        plan = result.chosen.plan
    search_s = time.perf_counter() - t0
    plan_file = out / f"{model.stem}.{mode}.plan.json"
    plan.save(plan_file)
    try:
        report = compile_model(model, out / f"{model.stem}.{mode}",
                               CompileOptions(objective="untiled", plan=str(plan_file) if plan.paths else None,
                                              run="qemu" if qemu else None, stream_input=stream_input)).to_json()
    except FdtError as e:  # --stream-input on a model whose input cannot stream (ad_int8's dense layers)
        why = str(e).split(".")[0] if plan.paths else "no plan streams the input"
        return {"model": model.stem, "mode": mode, "arena_bytes": None, "mac_overhead": None,
                "qemu_instructions": None, "estimated_instructions": None, "max_abs_diff": None,
                "search_s": round(search_s, 1), "plan": plan.to_json()["paths"], "error": why}
    return {"model": model.stem, "mode": mode, "arena_bytes": report["arena_bytes"],
            "mac_overhead": report["mac_overhead"], "qemu_instructions": report.get("qemu_instructions"),
            "estimated_instructions": report["estimated_instructions"],
            "max_abs_diff": report.get("max_abs_diff"), "search_s": round(search_s, 1),
            "plan": plan.to_json()["paths"]}


def _error(row: dict) -> str:
    if row.get("error"):
        return row["error"]
    measured = row["qemu_instructions"]
    return f"{row['estimated_instructions'] / measured - 1:+.1%}" if measured else "no QEMU run"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=str(REPO.parent / "shared" / "models"))
    parser.add_argument("--only", help="comma-separated model names")
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated subset of {', '.join(MODES)}")
    parser.add_argument("--max-overhead", type=float, default=0.25)
    parser.add_argument("--qemu", action="store_true", help="run every chosen plan under QEMU")
    parser.add_argument("--time-budget", type=float, default=240.0, help="search seconds per model and mode")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    models = sorted(Path(args.models).glob("*.tflite"))
    if args.only:
        models = [m for m in models if m.stem in args.only.split(",")]
    if not models:
        parser.error(f"no .tflite models in {args.models}" + (f" named {args.only}" if args.only else ""))
    modes = args.modes.split(",")
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        parser.error(f"unknown mode(s) {', '.join(unknown)}; choose from {', '.join(MODES)}")
    rows = []
    for model in models:
        for mode in modes:
            row = run_mode(model, mode, args.max_overhead, args.qemu, out, args.time_budget)
            rows.append(row)
            print(f"{row['model']:<16} {row['mode']:<12} arena {row['arena_bytes']}  overhead "
                  f"{row['mac_overhead']}  instr {row['qemu_instructions']}  search {row['search_s']} s "
                  f"{row.get('error', '')}", flush=True)
    (out / "search.json").write_text(json.dumps(rows, indent=2) + "\n")
    md = ["| model | mode | arena_bytes | mac_overhead | qemu_instructions | estimated (error) | search s "
          "| max_abs_diff |", "|---|---|---|---|---|---|---|---|"]
    md += [f"| {r['model']} | {r['mode']} | {r['arena_bytes']} | {r['mac_overhead']} | {r['qemu_instructions']} | "
           f"{r['estimated_instructions']} ({_error(r)}) | {r['search_s']} | {r['max_abs_diff']} |" for r in rows]
    (out / "search.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    print(f"wrote {out / 'search.json'} and {out / 'search.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
