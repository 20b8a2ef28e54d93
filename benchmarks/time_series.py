"""Time-series models (Conv1D: IMU, ECG, audio), which the corpus lacks: arena and QEMU instructions untiled and under
the default objective, as a user compiles them; one table, one JSON.

    .venv/bin/python benchmarks/time_series.py [--jobs 2] [--json FILE]

The models are written here, with fixed seeds (`tests/conv1d_models.py`): an int8 TFLite IMU classifier as Keras
converts Conv1D (EXPAND_DIMS to a map of height 1; 512 steps of 3 axes: 3 convolutions, 2 max poolings, a
depthwise and a pointwise layer, MEAN, FULLY_CONNECTED), and the ONNX Conv1d network PyTorch exports (float32, NCW;
256 steps) with its QDQ int8 form (onnxruntime's quantize_static). Each is compiled by `mlir-fdt compile MODEL
--objective {untiled,min-ram} --run qemu --checks 2` in its own process (`benchmarks/corpus.py` `measure`: bit-exact
with TFLite Micro for the int8 TFLite model, within the stated tolerance of onnxruntime for the ONNX ones);
instructions from QEMU (Cortex-M4), bytes from the report.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from conv1d_models import conv1d_model, onnx_conv1d_model, quantized_onnx  # noqa: E402

_spec = importlib.util.spec_from_file_location("corpus_benchmark", REPO / "benchmarks" / "corpus.py")
corpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(corpus)

MODES = ("untiled", "min-ram")


def build(work: Path) -> list[Path]:
    onnx_float = onnx_conv1d_model(work / "conv1d_float.onnx")
    return [conv1d_model(work / "imu_int8.tflite"), onnx_float, quantized_onnx(onnx_float, work / "conv1d_qdq.onnx")]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--timeout", type=float, default=600, help="seconds per compile")
    p.add_argument("--json", default=str(REPO / "benchmarks" / "results" / "time_series.json"))
    args = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="mlir-fdt-time-series-"))
    models = build(work)
    tasks = [(m, mode) for m in models for mode in MODES]
    rows = corpus.run_each(tasks, lambda t: corpus.measure(t[0], t[1], "qemu", 2, work, args.timeout,
                                                           intermediates=False), args.jobs)
    lines = ["| model | mode | status | arena B | QEMU instructions | MACs | reference |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['mode']} | {r['status']} | {r['arena_bytes']} | {r['qemu_instructions']} | "
                     f"{r['macs']} | {r['reference']} |")
    print("\n".join(lines))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"rows": rows}, indent=2, default=str) + "\n")
    return 0 if all(r["status"] == "pass" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
