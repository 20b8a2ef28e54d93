"""Speed benchmark: QEMU instructions of the four int8 MLPerf Tiny models on a Cortex-M target, beside
TFLite Micro's CMSIS-NN kernel chain on the same QEMU board. Prints a table, writes JSON.

    .venv/bin/python benchmarks/speed.py [--models DIR] [--target cortex-m4] [--objective untiled]
                                          [--json benchmarks/results/speed.json]

How each figure is obtained:
- instructions: `mlir-fdt compile MODEL --run qemu` — SysTick ticks around the one dispatch under
  `qemu-system-arm -icount shift=0`, times instructions per tick (40 on mps2-an386: the figure has a
  resolution of 40 instructions); the run also checks the outputs bit for bit against TFLite Micro
  (`max diff` must be 0);
- MACs: the cost model (iteration space of every reduction of the untiled linalg program);
- flash code / weights, arena, stack: the static library object (`arm-none-eabi-size`), the planned
  arena, the firmware's stack high-water mark of the dispatch;
- CMSIS-NN chain: read from ../shared/docs/peers.md (TFLite Micro's CMSIS-NN kernels alone, no
  interpreter, built with arm-none-eabi-gcc -O2 for cortex-m4, measured on the same QEMU counter);
- per layer (second table): `--profile`, a copy of the program reading SysTick around each layer's loop
  nest (`codegen/profile_nests.py`), run on the same input; LLVM compiles the instrumented copy a
  little differently from the library (within a few %: kws_int8 untiled -0.6 %), so read the figures
  as shares. Layer kinds by name (conv,
  dw = depthwise, pw = pointwise 1x1, pool, dense); kws_int8's CMSIS-NN figure per layer from peers.md.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mlir_fdt.compiler import CompileOptions, compile_model  # noqa: E402

MODELS = ("kws_int8", "vww_int8", "ic_resnet8_int8", "ad_int8")
# peers.md's per-layer CMSIS-NN table (kws_int8): the row each of our layer kinds compares with
CMSIS_LAYER_ROWS = {"conv": "conv 10x4", "dw": "depthwise", "pw": "conv 1x1", "pool": "average pool",
                    "dense": "fully connected"}


def cmsis_nn_figures(peers: Path) -> dict[str, int]:
    """model -> instructions of the CMSIS-NN chain, from the speed table of peers.md."""
    figures = {}
    for line in peers.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[0] in MODELS and re.fullmatch(r"[\d,]+", cells[3]):
            figures.setdefault(cells[0], int(cells[3].replace(",", "")))
    return figures


def cmsis_nn_layer_figures(peers: Path) -> dict[str, int]:
    """layer kind -> CMSIS-NN instructions of one such kws_int8 layer (peers.md, each layer timed alone)."""
    figures = {}
    for line in peers.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or not re.fullmatch(r"[\d,]+", cells[3]):
            continue
        for kind, row in CMSIS_LAYER_ROWS.items():
            if cells[0].startswith(row):
                figures.setdefault(kind, int(cells[3].replace(",", "")))
    return figures


def layer_kind(layers: str) -> str:
    """conv, dw, pw, pool, dense, ... from a nest's layer names (`conv_0`; a streamed path: `stream`)."""
    names = [n for n in layers.split(",") if n]
    if len(names) > 1:
        return "stream"
    return names[0].rsplit("_", 1)[0] if names else "other"


def measure(path: Path, target: str, objective: str, work: Path, profile: bool = True) -> dict:
    options = CompileOptions(target=target, objective=objective, run="qemu", checks=2, profile=profile)
    report = compile_model(path, work / path.stem, options).to_json()
    return {"model": path.stem, "target": target, "objective": objective, "macs": report["macs"],
            "instructions": report["qemu_instructions"], "arena_bytes": report["arena_bytes"],
            "flash_code_bytes": report["flash_code_bytes"], "flash_weight_bytes": report["flash_weight_bytes"],
            "stack_bytes": report["stack_bytes"], "max_abs_diff": report["max_abs_diff"],
            "instructions_per_mac": round(report["qemu_instructions"] / report["macs"], 2),
            "layers": report.get("layer_profile")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=REPO.parent / "shared" / "models")
    parser.add_argument("--peers", type=Path, default=REPO.parent / "shared" / "docs" / "peers.md")
    parser.add_argument("--target", default="cortex-m4")
    parser.add_argument("--objective", default="untiled")
    parser.add_argument("--only", nargs="*", default=list(MODELS), help="model names (default: all four)")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "speed.json")
    parser.add_argument("--no-layers", action="store_true", help="skip the per-layer run (--profile)")
    args = parser.parse_args(argv)
    cmsis = cmsis_nn_figures(args.peers) if args.peers.exists() else {}
    cmsis_layers = cmsis_nn_layer_figures(args.peers) if args.peers.exists() else {}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only:
            row = measure(args.models / f"{name}.tflite", args.target, args.objective, Path(tmp), not args.no_layers)
            row["cmsis_nn_instructions"] = cmsis.get(name)
            row["ratio_to_cmsis_nn"] = round(row["instructions"] / cmsis[name], 2) if name in cmsis else None
            rows.append(row)
            print(f"{name}: {row['instructions']:,} instructions", file=sys.stderr, flush=True)
    print(f"| model | MACs | mlir-fdt instructions ({args.target}, {args.objective}) | instr/MAC | "
          "CMSIS-NN chain (M4) | ratio | arena B | flash code B | flash weights B | stack B | max diff |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        cm = f"{r['cmsis_nn_instructions']:,}" if r["cmsis_nn_instructions"] else "–"
        print(f"| {r['model']} | {r['macs']:,} | {r['instructions']:,} | {r['instructions_per_mac']} | {cm} | "
              f"{r['ratio_to_cmsis_nn'] if r['ratio_to_cmsis_nn'] is not None else '–'} | {r['arena_bytes']:,} | "
              f"{r['flash_code_bytes']:,} | {r['flash_weight_bytes']:,} | {r['stack_bytes']} | {r['max_abs_diff']} |")
    if not args.no_layers:
        _print_layer_kinds(rows, cmsis_layers)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"rows": rows, "how_measured": __doc__}, indent=2) + "\n")
    return 0 if all(r["max_abs_diff"] == 0 for r in rows) else 1


def _print_layer_kinds(rows: list[dict], cmsis_layers: dict[str, int]) -> None:
    """Per model and layer kind: layers, instructions, share, mean per layer (and kws_int8's CMSIS-NN one)."""
    print("\n| model | layer kind | layers | instructions | share | per layer | CMSIS-NN per layer (kws_int8) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        kinds: dict[str, list[int]] = {}
        for layer in r["layers"] or []:
            kinds.setdefault(layer_kind(layer["layers"]), []).append(layer["instructions"])
        total = sum(sum(v) for v in kinds.values()) or 1
        for kind, counts in sorted(kinds.items(), key=lambda kv: -sum(kv[1])):
            ref = cmsis_layers.get(kind) if r["model"] == "kws_int8" else None
            print(f"| {r['model']} | {kind} | {len(counts)} | {sum(counts):,} | {100 * sum(counts) / total:.1f} % | "
                  f"{sum(counts) // len(counts):,} | {f'{ref:,}' if ref else '–'} |")


if __name__ == "__main__":
    sys.exit(main())
