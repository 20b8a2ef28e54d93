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

from tflite_builder import Const, In, operator_model, options, svdf  # noqa: E402

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


def _op(kind: str, inputs: list, outputs: list, opts=(0, None)):
    return lambda p: operator_model(p, kind, inputs, outputs, opts)


def _conv_16x8_or_float(kind: str = "CONV_2D", dtype: str = "int16", stride: int = 1, padding: int = 0):
    """A 3x3 convolution of a 9x9x4 map: int16 activations with int8 weights (16x8), or float32."""
    channels = 4 if kind == "DEPTHWISE_CONV_2D" else 6
    w_shape = [1, 3, 3, channels] if kind == "DEPTHWISE_CONV_2D" else [channels, 3, 3, 4]
    if dtype == "float32":
        w = Const(_rng.normal(0, 0.3, w_shape), "float32")
        b = Const(_rng.normal(0, 0.1, channels), "float32")
        x, y = In([1, 9, 9, 4], "float32"), lambda side: In([1, side, side, channels], "float32")
    else:
        scales = list(_rng.uniform(0.002, 0.01, channels))
        w = Const(_rng.integers(-127, 128, w_shape), "int8", scales, axis=3 if kind == "DEPTHWISE_CONV_2D" else 0)
        b = Const(_rng.integers(-2000, 2000, channels), "int64", [s * 0.001 for s in scales])
        x, y = In([1, 9, 9, 4], "int16", 0.001, 0), lambda side: In([1, side, side, channels], "int16", 0.004, 0)
    side = (9 + stride - 1) // stride if padding == 0 else (9 - 3) // stride + 1
    fields = dict(padding=padding, strideW=stride, strideH=stride, dilationWFactor=1, dilationHFactor=1)
    if kind == "DEPTHWISE_CONV_2D":
        fields["depthMultiplier"] = 1
    opts = options("DepthwiseConv2D" if kind == "DEPTHWISE_CONV_2D" else "Conv2D", **fields)
    return _op(kind, [x, w, b], [y(side)], opts)


def _space_to_batch(dtype: str = "int8"):
    x = _x(dtype, [1, 6, 6, 8])
    return _op("SPACE_TO_BATCH_ND", [x, Const([2, 2]), Const([[2, 2], [2, 2]])], [_x(dtype, [4, 5, 5, 8])])


def _i16(shape=SHAPE, scale: float = 0.001) -> In:
    return In(list(shape), "int16", scale, 0)


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
    "softmax_int8_to_int16": lambda p: operator_model(p, "SOFTMAX", [_x("int8", [2, 10], 0.1, 3)],
                                                      [In([2, 10], "int16", 1 / 65536, -32768)],
                                                      options("Softmax", beta=1.0)),
    "softmax_int16": lambda p: operator_model(p, "SOFTMAX", [In([2, 10], "int16", 0.0005, 0)],
                                              [In([2, 10], "int16", 1 / 32768, 0)], options("Softmax", beta=1.0)),
    "softmax_int16_beta_0": lambda p: operator_model(p, "SOFTMAX", [In([2, 10], "int16", 0.0005, 0)],
                                                     [In([2, 10], "int16", 1 / 32768, 0)], options("Softmax")),
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
    "quantize_int16_zero_point_to_int32": lambda p: operator_model(
        p, "QUANTIZE", [In(SHAPE, "int16", 1 / 65536, -32768)], [In(SHAPE, "int32", 3.05e-5, 0)]),
    # stateful
    "svdf_int8": lambda p: svdf(p),
    "svdf_int8_state_rank2": lambda p: svdf(p, state_dtype="int8", rank=2, memory=3),
    "svdf_float32": lambda p: svdf(p, state_dtype="float32", activation="RELU"),
    "dequantize_int8": lambda p: operator_model(p, "DEQUANTIZE", [_x()], [In(SHAPE, "float32")]),
    "batch_matmul_int8": lambda p: operator_model(p, "BATCH_MATMUL", [In([1, 4, 6], "int8", 0.05, 0),
                                                                      In([1, 6, 3], "int8", 0.04, 0)],
                                                  [In([1, 4, 3], "int8", 0.2, 1)], options("BatchMatMul")),
    "arg_max_int8": lambda p: operator_model(p, "ARG_MAX", [_x("int8", [1, 10]), Const([1])], [In([1], "int32")],
                                             options("ArgMax", outputType=2)),

    # forms added in session 17 (a second sweep of 62 forms: the first three were checked against a wrong
    # reference or failed naming nothing)
    "space_to_batch_int8": _space_to_batch(),  # TFLite Micro's int8 kernel pads with an unset value
    "space_to_batch_float32": _space_to_batch("float32"),
    "batch_to_space_int8": _op("BATCH_TO_SPACE_ND", [_x("int8", [4, 5, 5, 8]), Const([2, 2]),
                                                     Const([[1, 1], [1, 1]])], [_x("int8", [1, 8, 8, 8])]),
    "less_float32_bool_output": _op("LESS", [_x("float32"), _x("float32")], [In(SHAPE, "bool")]),
    "select_v2_float32_bool_input": _op("SELECT_V2", [In(SHAPE, "bool"), _x("float32"), _x("float32")],
                                        [_x("float32")]),
    "div_int8": _op("DIV", [_x(), _x()], [_y()], options("Div")),  # the converter rejects it: refused by name
    "conv_int16": _conv_16x8_or_float(),
    "conv_int16_stride2_valid": _conv_16x8_or_float(stride=2, padding=1),
    "depthwise_int16": _conv_16x8_or_float("DEPTHWISE_CONV_2D"),
    "conv_float32": _conv_16x8_or_float(dtype="float32"),
    "depthwise_float32": _conv_16x8_or_float("DEPTHWISE_CONV_2D", "float32"),
    **{f"{k.lower()}_int16": _op(k, [_i16([1, 9, 9, 8])], [_i16([1, 5, 5, 8])],
                                 options("Pool2D", padding=0, strideW=2, strideH=2, filterWidth=3, filterHeight=3))
       for k in ("AVERAGE_POOL_2D", "MAX_POOL_2D")},
    "concatenation_int16": _op("CONCATENATION", [_i16(), _i16()], [_i16([1, 6, 5, 16])],
                               options("Concatenation", axis=3)),
    "sub_int16": _op("SUB", [_i16(), _i16(scale=0.002)], [_i16(scale=0.003)], options("Sub")),
    "mean_hw_int16": _op("MEAN", [_i16(), Const([1, 2])], [_i16([1, 1, 1, 8])], options("Reducer", keepDims=True)),
    "mean_hw_float32": _op("MEAN", [_x("float32"), Const([1, 2])], [_x("float32", [1, 8])],
                           options("Reducer", keepDims=False)),
    "reduce_min_int8": _op("REDUCE_MIN", [_x(), Const([3])], [_x("int8", [1, 6, 5])], options("Reducer")),
    "arg_max_float32_channels": _op("ARG_MAX", [_x("float32"), Const([3])], [In([1, 6, 5], "int32")],
                                    options("ArgMax", outputType=2)),
    "minimum_int8": _op("MINIMUM", [_x(), _x()], [_x()]),
    "maximum_int8_broadcast": _op("MAXIMUM", [_x(), _x("int8", [1, 1, 1, 8])], [_x()]),
    "add_int8_two_broadcasts": _op("ADD", [_x("int8", [1, 6, 1, 8]), _y("int8", [1, 1, 5, 8])],
                                   [_y("int8", SHAPE, 0.07, 2)], options("Add")),
    "mul_int8_constant": _op("MUL", [_x(), Const([[[[40]]]], "int8", 0.02, 0)], [_y()], options("Mul")),
    "prelu_int8": _op("PRELU", [_x(), Const(_rng.integers(-50, 100, [1, 1, 8]), "int8", 0.004, 0)], [_y()]),
    "prelu_float32": _op("PRELU", [_x("float32"), Const(_rng.uniform(0, 0.5, [1, 1, 8]), "float32")],
                         [_x("float32")]),
    "log_softmax_float32": _op("LOG_SOFTMAX", [_x("float32", [1, 10])], [_x("float32", [1, 10])]),
    "l2_normalization_float32": _op("L2_NORMALIZATION", [_x("float32")], [_x("float32")], options("L2Norm")),
    "cast_int8_to_float32": _op("CAST", [In(SHAPE, "int8")], [In(SHAPE, "float32")]),
    "gather_nd_int8": _op("GATHER_ND", [_x(), Const([[0, 1], [0, 4]])], [_x("int8", [2, 5, 8])]),
    "space_to_depth_int8": _op("SPACE_TO_DEPTH", [_x("int8", [1, 6, 4, 8])], [_x("int8", [1, 3, 2, 32])],
                               options("SpaceToDepth", blockSize=2)),
    "pack_int8": _op("PACK", [_x(), _x()], [_x("int8", [2, 1, 6, 5, 8])], options("Pack", valuesCount=2)),
    "unpack_int8": _op("UNPACK", [_x("int8", [1, 6, 5, 2])], [_x("int8", [1, 6, 5])] * 2,
                       options("Unpack", num=2, axis=3)),
    "split_int8": _op("SPLIT", [Const(3), _x()], [_x("int8", [1, 6, 5, 4])] * 2, options("Split", numSplits=2)),
    "fully_connected_float32": _op("FULLY_CONNECTED", [_x("float32", [1, 12]),
                                                       Const(_rng.normal(0, .3, [5, 12]), "float32"),
                                                       Const(_rng.normal(0, .1, 5), "float32")],
                                   [_x("float32", [1, 5])], options("FullyConnected")),
    "fully_connected_int8_no_bias": _op("FULLY_CONNECTED", [_x("int8", [1, 12]),
                                                            Const(_rng.integers(-127, 128, [5, 12]), "int8", 0.005),
                                                            None], [_y("int8", [1, 5], 0.08, -4)],
                                        options("FullyConnected")),
    "transpose_conv_float32": _op("TRANSPOSE_CONV", [Const([1, 10, 10, 3]),
                                                     Const(_rng.normal(0, 0.3, [3, 3, 3, 4]), "float32"),
                                                     _x("float32", [1, 5, 5, 4]),
                                                     Const(_rng.normal(0, .1, 3), "float32")],
                                  [_x("float32", [1, 10, 10, 3])],
                                  options("TransposeConv", padding=0, strideW=2, strideH=2)),
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
