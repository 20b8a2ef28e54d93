"""Calibration of the instruction estimate (analysis/instructions.py) against QEMU: the four int8 MLPerf
Tiny models, untiled and with the default objective (min-ram), on a target with SIMD32 kernels
(cortex-m4) and one without (cortex-m3). Prints a table and the factor that fits each code path; writes
JSON.

    .venv/bin/python benchmarks/calibrate_estimate.py [--models DIR] [--json benchmarks/results/calibration.json]

How each figure is obtained:
- estimated: `estimated_instructions` of the compile's report.json (executed MLIR ops of the lowered
  program x INSTRUCTIONS_PER_OP of its code path);
- QEMU: `qemu_instructions` of the same compile with `--run qemu` (SysTick under -icount shift=0), every
  run bit-exact with TFLite Micro (the table says so);
- fitted factor: the current factor x the geometric mean of QEMU / estimated over the path's runs (a plan
  identical to untiled counted once). Set INSTRUCTIONS_PER_OP to it when the kernels change.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mlir_fdt.analysis.instructions import INSTRUCTIONS_PER_OP  # noqa: E402
from mlir_fdt.compiler import CompileOptions, compile_model  # noqa: E402

MODELS = ("kws_int8", "vww_int8", "ic_resnet8_int8", "ad_int8")
PATHS = {"simd32": "cortex-m4", "scalar": "cortex-m3"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=REPO.parent / "shared" / "models")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "calibration.json")
    args = parser.parse_args(argv)
    rows, fitted = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for path, target in PATHS.items():
            seen = set()
            for model in MODELS:
                for objective in ("untiled", "min-ram"):
                    report = compile_model(args.models / f"{model}.tflite", Path(tmp) / f"{target}.{model}.{objective}",
                                           CompileOptions(target=target, objective=objective, run="qemu")).to_json()
                    key = (model, json.dumps(report["tiling_plan"]["paths"]))
                    row = {"path": path, "target": target, "model": model, "objective": objective,
                           "estimated": report["estimated_instructions"], "qemu": report["qemu_instructions"],
                           "bit_exact": report["max_abs_diff"] == 0, "counted": key not in seen}
                    seen.add(key)
                    row["error"] = row["estimated"] / row["qemu"] - 1
                    rows.append(row)
                    print(f"{target} {model} {objective}: estimated {row['estimated']:,} QEMU {row['qemu']:,} "
                          f"({row['error']:+.1%})", file=sys.stderr, flush=True)
            runs = [r for r in rows if r["path"] == path and r["counted"]]
            mean = math.exp(sum(math.log(r["qemu"] / r["estimated"]) for r in runs) / len(runs))
            fitted[path] = round(INSTRUCTIONS_PER_OP[path] * mean, 3)
    print("| path | target | model | objective | estimated | QEMU | error | bit-exact |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['path']} | {r['target']} | {r['model']} | {r['objective']} | {r['estimated']:,} | {r['qemu']:,} "
              f"| {r['error']:+.1%} | {'yes' if r['bit_exact'] else 'NO'} |")
    for path in PATHS:
        print(f"{path}: INSTRUCTIONS_PER_OP {INSTRUCTIONS_PER_OP[path]} now, {fitted[path]} fits")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"rows": rows, "factor": INSTRUCTIONS_PER_OP, "fitted": fitted,
                                     "how_measured": __doc__}, indent=2) + "\n")
    return 0 if all(r["bit_exact"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
