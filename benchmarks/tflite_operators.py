"""TFLite single-operator battery: one model per operator form TinyML models use (float32, int8, int16; options,
broadcasts, quantization that differs between input and output), written with TFLite's schema
(`tests/tflite_builder.py`, no TensorFlow), compiled as a user would and checked against TFLite Micro; one
table, one JSON.

    .venv/bin/python benchmarks/tflite_operators.py [--only NAME,...] [--jobs 2] [--json FILE]

Each model is compiled by `mlir-fdt compile MODEL --objective untiled --run host --checks 2` in its own process
and classified as `benchmarks/corpus.py` does (pass: every output bit-exact with TFLite Micro for integers, within
the float tolerance for float32, on two seeded inputs; wrong output: exit 3; refused: exit 1 with an `error:` line
naming the operator; internal error: anything else). A pass whose reference was not TFLite Micro (it cannot run
the model) is `no reference`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from tflite_builder import Const, In, operator_model, options  # noqa: E402

_spec = importlib.util.spec_from_file_location("corpus_benchmark", REPO / "benchmarks" / "corpus.py")
corpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(corpus)

SHAPE = [1, 6, 5, 8]
_rng = np.random.default_rng(7)


def _x(dtype: str = "int8", shape=SHAPE, scale: float = 0.05, zero_point: int = 3) -> In:
    return In(list(shape), dtype, None if dtype == "float32" else scale, zero_point if dtype == "int8" else 0)


def _y(dtype: str = "int8", shape=SHAPE, scale: float = 0.04, zero_point: int = -5) -> In:
    return _x(dtype, shape, scale, zero_point)


def _unary(kind: str, dtype: str, y: In | None = None, opts=(0, None), shape=SHAPE):
    return lambda p: operator_model(p, kind, [_x(dtype, shape)], [y or _y(dtype, shape)], opts)


def _binary(kind: str, dtype: str, b_shape=SHAPE, activation: int = 0, y: In | None = None):
    a, b = _x(dtype), In(list(b_shape), dtype, None if dtype == "float32" else 0.03, -7 if dtype == "int8" else 0)
    opts = options(kind.capitalize(), fusedActivationFunction=activation) if kind in ("ADD", "SUB", "MUL", "DIV") \
        else (0, None)
    return lambda p: operator_model(p, kind, [a, b], [y or _y(dtype, scale=0.07, zero_point=2)], opts)


def _pool(kind: str, dtype: str, filter_hw: int, stride: int, padding: int, activation: int = 0):
    side = (9 + stride - 1) // stride if padding == 0 else (9 - filter_hw) // stride + 1
    opts = options("Pool2D", padding=padding, strideW=stride, strideH=stride, filterWidth=filter_hw,
                   filterHeight=filter_hw, fusedActivationFunction=activation)
    return lambda p: operator_model(p, kind, [_x(dtype, [1, 9, 9, 8])], [_x(dtype, [1, side, side, 8])], opts)


def _conv(kind: str = "CONV_2D", k: int = 3, stride: int = 1, dilation: int = 1, padding: int = 0,
          activation: int = 0, multiplier: int = 1, size: int = 9):
    channels = 4 * multiplier if kind == "DEPTHWISE_CONV_2D" else 6
    scales = list(_rng.uniform(0.002, 0.01, channels))
    w_shape = [1, k, k, channels] if kind == "DEPTHWISE_CONV_2D" else [channels, k, k, 4]
    w = Const(_rng.integers(-127, 128, w_shape), "int8", scales, axis=3 if kind == "DEPTHWISE_CONV_2D" else 0)
    b = Const(_rng.integers(-2000, 2000, channels), "int32", [s * 0.05 for s in scales])
    span = dilation * (k - 1) + 1
    side = (size + stride - 1) // stride if padding == 0 else (size - span) // stride + 1
    fields = dict(padding=padding, strideW=stride, strideH=stride, dilationWFactor=dilation,
                  dilationHFactor=dilation, fusedActivationFunction=activation)
    if kind == "DEPTHWISE_CONV_2D":
        fields["depthMultiplier"] = multiplier
    opts = options("DepthwiseConv2D" if kind == "DEPTHWISE_CONV_2D" else "Conv2D", **fields)
    return lambda p: operator_model(p, kind, [_x("int8", [1, size, size, 4]), w, b],
                                    [_y("int8", [1, side, side, channels], 0.08, -4)], opts)


def _reduce(kind: str, axes: list[int], keep: bool, dtype: str = "int8"):
    out = [1 if k in axes else d for k, d in enumerate(SHAPE)] if keep else [d for k, d in enumerate(SHAPE)
                                                                             if k not in axes]
    return lambda p: operator_model(p, kind, [_x(dtype), Const(axes)], [_y(dtype, out, 0.05, 3)],
                                    options("Reducer", keepDims=keep))


def _shape_op(kind: str, out_shape, constants=(), opts=(0, None), dtype: str = "int8"):
    return lambda p: operator_model(p, kind, [_x(dtype), *[Const(c) for c in constants]],
                                    [_x(dtype, out_shape)], opts)


def _strided(begin, end, strides, out_shape, **masks):
    return _shape_op("STRIDED_SLICE", out_shape, (begin, end, strides), options("StridedSlice", **masks))


def _int16(kind: str, y_scale: float = 2.0 ** -15, x_scale: float = 8 / 32768):
    return lambda p: operator_model(p, kind, [In(SHAPE, "int16", x_scale, 0)], [In(SHAPE, "int16", y_scale, 0)])


def _softmax(dtype: str, beta: float = 1.0):
    y = In([1, 10], dtype, 1 / 256 if dtype == "int8" else None, -128 if dtype == "int8" else 0)
    return lambda p: operator_model(p, "SOFTMAX", [_x(dtype, [1, 10], 0.1, 3)], [y], options("Softmax", beta=beta))


def _fully_connected(dtype: str = "int8", batch: int = 1, keep: bool = False, activation: int = 0):
    w = Const(_rng.integers(-127, 128, [5, 12]), "int8", 0.005)
    b = Const(_rng.integers(-2000, 2000, 5), "int32" if dtype == "int8" else "int64", 0.05 * 0.005 if dtype ==
              "int8" else 0.001 * 0.005)
    x = _x(dtype, [batch, 12], 0.05 if dtype == "int8" else 0.001, 3)
    y = _y(dtype, [batch, 5], 0.08 if dtype == "int8" else 0.002, -4)
    opts = options("FullyConnected", keepNumDims=keep, fusedActivationFunction=activation)
    return lambda p: operator_model(p, "FULLY_CONNECTED", [x, w, b], [y], opts)


RELU, RELU_N1_TO_1, RELU6 = 1, 2, 3
CASES = {
    # element-wise, int8 with different input and output quantization, broadcasts, fused activations
    **{f"{k.lower()}_int8": _binary(k, "int8") for k in ("ADD", "SUB", "MUL")},
    **{f"{k.lower()}_int8_broadcast": _binary(k, "int8", [1, 1, 1, 8]) for k in ("ADD", "SUB", "MUL")},
    **{f"{k.lower()}_int8_relu6": _binary(k, "int8", activation=RELU6) for k in ("ADD", "SUB", "MUL")},
    **{f"{k.lower()}_float32": _binary(k, "float32") for k in ("ADD", "SUB", "MUL", "DIV", "SQUARED_DIFFERENCE")},
    "add_int16": _binary("ADD", "int16", y=In(SHAPE, "int16", 0.0015, 0)),
    # int16 MUL with an output scale that holds the products (multiplier 0.03): with 0.0005 (multiplier 3.0) a
    # product of two extreme inputs overflows int32 before saturating, where TFLite Micro's and IREE's int32
    # arithmetic wrap differently (65535 off on random full-range inputs)
    "mul_int16": _binary("MUL", "int16", y=In(SHAPE, "int16", 0.05, 0)),
    "maximum_float32": _binary("MAXIMUM", "float32"),
    "squared_difference_int8": _binary("SQUARED_DIFFERENCE", "int8"),
    # activations
    "logistic_int8": _unary("LOGISTIC", "int8", _y("int8", scale=1 / 256, zero_point=-128)),
    "tanh_int8": _unary("TANH", "int8", _y("int8", scale=1 / 128, zero_point=0)),
    "logistic_int16": _int16("LOGISTIC"),
    "tanh_int16": _int16("TANH"),
    "logistic_int16_general_scale": _int16("LOGISTIC", x_scale=0.0007),
    **{f"{k.lower()}_float32": _unary(k, "float32") for k in ("LOGISTIC", "TANH", "HARD_SWISH", "ELU", "EXP", "LOG",
                                                              "SQRT", "RSQRT", "FLOOR", "CEIL", "ROUND", "SIN",
                                                              "COS", "SQUARE", "ABS", "NEG", "RELU", "RELU6")},
    "relu_int8": _unary("RELU", "int8"),
    "relu6_int8_same_quantization": _unary("RELU6", "int8", _x("int8")),
    "hard_swish_int8": _unary("HARD_SWISH", "int8", _y("int8", scale=0.03, zero_point=-20)),
    "leaky_relu_int8": _unary("LEAKY_RELU", "int8", opts=options("LeakyRelu", alpha=0.2)),
    "abs_int8_rescaled": _unary("ABS", "int8"),
    "softmax_int8": _softmax("int8"),
    "softmax_float32": _softmax("float32"),
    "softmax_int8_beta": _softmax("int8", 0.5),
    # pooling, with and without fused activations
    "average_pool_same_int8": _pool("AVERAGE_POOL_2D", "int8", 3, 2, 0),
    "average_pool_valid_relu6_int8": _pool("AVERAGE_POOL_2D", "int8", 2, 2, 1, RELU6),
    "max_pool_same_int8": _pool("MAX_POOL_2D", "int8", 3, 2, 0),
    "max_pool_valid_relu_int8": _pool("MAX_POOL_2D", "int8", 2, 2, 1, RELU),
    "max_pool_relu6_float32": _pool("MAX_POOL_2D", "float32", 2, 2, 1, RELU6),
    "average_pool_relu_n1_float32": _pool("AVERAGE_POOL_2D", "float32", 3, 2, 0, RELU_N1_TO_1),
    # convolutions
    "conv_dilated_int8": _conv(dilation=2),
    "conv_stride2_valid_int8": _conv(stride=2, padding=1),
    "conv_stride2_same_even_int8": _conv(stride=2, size=8),
    "conv_1x1_stride2_int8": _conv(k=1, stride=2),
    "conv_relu_n1_int8": _conv(activation=RELU_N1_TO_1),
    "depthwise_multiplier2_int8": _conv("DEPTHWISE_CONV_2D", multiplier=2),
    "depthwise_dilated_int8": _conv("DEPTHWISE_CONV_2D", dilation=2),
    "depthwise_stride2_same_even_int8": _conv("DEPTHWISE_CONV_2D", stride=2, size=8),
    "fully_connected_batch3_int8": _fully_connected(batch=3),
    "fully_connected_relu6_int8": _fully_connected(activation=RELU6),
    "fully_connected_int16": _fully_connected("int16", batch=2),
    # reductions
    "mean_hw_keep_int8": _reduce("MEAN", [1, 2], True),
    "mean_all_int8": _reduce("MEAN", [1, 2, 3], False),
    "mean_channels_int8": _reduce("MEAN", [3], True),
    "reduce_max_channels_int8": _reduce("REDUCE_MAX", [3], False),
    "sum_channels_int8": _reduce("SUM", [3], False),
    # shapes and data movement
    "transpose_int8": _shape_op("TRANSPOSE", [1, 8, 6, 5], ([0, 3, 1, 2],)),
    "pad_int8": _shape_op("PAD", [1, 8, 8, 8], ([[0, 0], [1, 1], [2, 1], [0, 0]],)),
    "mirror_pad_float32": _shape_op("MIRROR_PAD", [1, 8, 7, 8], ([[0, 0], [1, 1], [1, 1], [0, 0]],),
                                    options("MirrorPad", mode=1), "float32"),
    "slice_int8": _shape_op("SLICE", [1, 4, 3, 5], ([0, 1, 1, 2], [1, 4, 3, 5])),
    "gather_int8": _shape_op("GATHER", [1, 6, 3, 8], ([4, 0, 2],), options("Gather", axis=2)),
    "depth_to_space_int8": _shape_op("DEPTH_TO_SPACE", [1, 12, 10, 2], (), options("DepthToSpace", blockSize=2)),
    "strided_slice_strides_int8": _strided([0, 0, 1, 0], [1, 6, 5, 8], [1, 2, 2, 1], [1, 3, 2, 8]),
    "strided_slice_end_past_axis_int8": _strided([0, 0, 0, 0], [1, 100, 100, 100], [1, 4, 4, 3], [1, 2, 2, 3]),
    "strided_slice_masks_int8": _strided([0, 1, 9, 2], [0, 0, 0, 6], [1, 1, 1, 2], [1, 5, 5, 2], beginMask=0b0101,
                                         endMask=0b0111),
    "strided_slice_shrink_int8": _strided([0, 2, 0, 0], [1, 3, 5, 8], [1, 1, 1, 1], [1, 5, 8], shrinkAxisMask=0b0010),
    "strided_slice_negative_stride_int8": _strided([0, 5, 0, 0], [1, -7, 5, 8], [1, -1, 1, 1], SHAPE),
    "split_v_minus_one_int8": lambda p: operator_model(
        p, "SPLIT_V", [_x(), Const([3, -1, 2]), Const(3)], [_x("int8", [1, 6, 5, c]) for c in (3, 3, 2)],
        options("SplitV", numSplits=3)),
    "concatenation_int8": lambda p: operator_model(p, "CONCATENATION", [_x(), _x()], [_x("int8", [1, 6, 5, 16])],
                                                   options("Concatenation", axis=3)),
    # quantization
    "requantize_int8": _unary("QUANTIZE", "int8", _y("int8", scale=0.031, zero_point=-9)),
    "quantize_int16_to_int8": lambda p: operator_model(p, "QUANTIZE", [In(SHAPE, "int16", 0.001, 0)],
                                                       [_y("int8", scale=0.1, zero_point=-3)]),
    "quantize_int8_to_int16": lambda p: operator_model(p, "QUANTIZE", [_x()], [In(SHAPE, "int16", 0.0005, 0)]),
    "dequantize_int8": lambda p: operator_model(p, "DEQUANTIZE", [_x()], [In(SHAPE, "float32")]),
    "batch_matmul_int8": lambda p: operator_model(p, "BATCH_MATMUL", [In([1, 4, 6], "int8", 0.05, 0),
                                                                      In([1, 6, 3], "int8", 0.04, 0)],
                                                  [In([1, 4, 3], "int8", 0.2, 1)], options("BatchMatMul")),
    "arg_max_int8": lambda p: operator_model(p, "ARG_MAX", [_x("int8", [1, 10]), Const([1])], [In([1], "int32")],
                                             options("ArgMax", outputType=2)),
}


def measure(name: str, work: Path, timeout: float) -> dict:
    model = CASES[name](work / f"{name}.tflite")
    out = work / name
    t0 = time.perf_counter()
    status, why = corpus.compile_status(model, ["--objective", "untiled", "--run", "host", "--checks", "2"], out,
                                        timeout)
    report = out / "report.json"
    reference = json.loads(report.read_text()).get("reference") if report.exists() else None
    if status == "pass" and reference != "tflite-micro":
        status, why = "no reference", f"checked against {reference}: TFLite Micro cannot run the model"
    return {"model": name, "status": status, "why": why.replace(str(model), "MODEL"), "reference": reference,
            "compile_s": round(time.perf_counter() - t0, 1)}


STATUSES = (*corpus.STATUSES, "no reference")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", help="case names, comma-separated (default: all)")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--timeout", type=float, default=300, help="seconds per compile")
    p.add_argument("--json", default=str(REPO / "benchmarks" / "results" / "tflite_operators.json"))
    args = p.parse_args(argv)
    names = args.only.split(",") if args.only else list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        print(f"error: unknown case {', '.join(unknown)}; cases: {', '.join(CASES)}", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="mlir-fdt-tflite-operators-"))

    rows = corpus.run_each(names, lambda name: measure(name, work, args.timeout), args.jobs)
    print(corpus.failures_table(rows))
    counts = Counter(r["status"] for r in rows)
    summary = {s: counts.get(s, 0) for s in STATUSES}
    print(f"\n{len(rows)} models: " + ", ".join(f"{v} {k}" for k, v in summary.items()))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"summary": summary, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
