"""Arena benchmark: for every model in ../shared/models, the planned arena of the untiled program
by each planner, beside TFLite Micro's and IREE's figures. Prints a table, writes JSON.

    .venv/bin/python benchmarks/arena.py [--models DIR] [--json benchmarks/results/arena.json]

How each figure is obtained:
- lower bound / greedy / optimal / chosen: mlir-fdt's buffers and lifetimes after fusion and
  bufferization (input and output included), laid out by each planner (bytes, exact);
- planner time: wall time of that planner alone on this machine;
- TFLM head, IREE transient + I/O: measured before the project started, ../shared/models/README.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mlir_fdt.importers import import_model  # noqa: E402
from mlir_fdt.ir import new_context  # noqa: E402
from mlir_fdt.memory.planner import lower_bound, solve  # noqa: E402
from mlir_fdt.memory.verifier import verify_plan  # noqa: E402
from mlir_fdt.pipeline import lower_untiled, prepare_tensor_program  # noqa: E402

# ../shared/models/README.md: TFLite Micro head, IREE default transient, input + output bytes.
REFERENCE = {
    "kws_int8": (16000, 32908, 490 + 12), "vww_int8": (73728, 86786, 27648 + 2),
    "ic_resnet8_int8": (49152, 74378, 3072 + 10), "ad_int8": (768, 960, 640 + 640),
    "vww_fp32": (294912, 346632, 110592 + 8), "ic_resnet8_fp32": (196608, 297128, 12288 + 40),
    "ad_fp32": (3072, 3648, 2560 + 2560), "kws_fp32": (None, 131632, 490 * 4 + 12 * 4),
}


def measure(path: Path) -> dict:
    ctx = new_context()
    module = import_model(path, ctx)
    prepare_tensor_program(module)
    plan = lower_untiled(module, "greedy").plan
    sizes = [b.bytes for b in plan.buffers]
    lifetimes = [(b.first, b.last) for b in plan.buffers]
    names = [b.name for b in plan.buffers]
    row = {"model": path.stem, "buffers": len(sizes), "lower_bound": lower_bound(sizes, lifetimes)}
    for planner in ("greedy", "optimal", "best"):
        t0 = time.perf_counter()
        layout = solve(sizes, lifetimes, plan.alignment, planner)
        row[f"{planner}_s"] = round(time.perf_counter() - t0, 3)
        verify_plan(names, sizes, lifetimes, layout.offsets, layout.size, plan.alignment)
        row[planner] = layout.size
        if planner == "best":
            row["chosen_planner"] = layout.planner
    tflm, iree, io = REFERENCE.get(path.stem, (None, None, None))
    row["tflm_head"] = tflm
    row["iree_transient_plus_io"] = iree + io if iree is not None else None
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=str(REPO.parent / "shared" / "models"))
    parser.add_argument("--json", default=str(REPO / "benchmarks" / "results" / "arena.json"))
    args = parser.parse_args()
    models = sorted(Path(args.models).glob("*.tflite"))
    if not models:
        print(f"error: no .tflite models in {args.models}", file=sys.stderr)
        return 1
    rows = [measure(m) for m in models]
    cols = ["model", "buffers", "lower_bound", "greedy", "optimal", "best", "chosen_planner", "greedy_s",
            "optimal_s", "tflm_head", "iree_transient_plus_io"]
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    print("  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(str(r[c]).ljust(widths[c]) for c in cols))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
