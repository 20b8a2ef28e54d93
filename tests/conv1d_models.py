"""Conv1D models as Keras converts them (EXPAND_DIMS to a map of height 1, 1xK convolutions and poolings, MEAN,
FULLY_CONNECTED), written with TFLite's schema: the time-series models (IMU, ECG, audio) whose maps are TxC once
their unit height is folded."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tflite_builder import SingleOperatorModel, options, schema

# (kind, kernel, stride, out channels); ("maxpool", size); ("dw", kernel, stride)
IMU_LAYERS = (("conv", 5, 1, 16), ("maxpool", 2), ("conv", 5, 1, 32), ("maxpool", 2), ("dw", 3, 1),
              ("conv", 1, 1, 64), ("conv", 3, 2, 64))


def conv1d_model(path: Path, steps: int = 512, channels: int = 3, layers=IMU_LAYERS, seed: int = 6) -> Path:
    """int8 [1, steps, channels] -> 6 classes, through `layers` on a [1, 1, steps, C] map."""
    rng = np.random.default_rng(seed)
    m = SingleOperatorModel()
    x = m.tensor([1, steps, channels], "int8", "x", 0.05, 3)
    cur = m.tensor([1, 1, steps, channels], "int8", "expanded", 0.05, 3)
    m.operator(schema.BuiltinOperator.EXPAND_DIMS, [x, m.constant([1], "int32", "axis")], [cur])
    c, t = channels, steps
    for k, (kind, *p) in enumerate(layers):
        if kind == "maxpool":
            t //= p[0]
            out = m.tensor([1, 1, t, c], "int8", f"pool{k}", 0.05, -128)
            m.operator(schema.BuiltinOperator.MAX_POOL_2D, [cur], [out], *options(
                "Pool2D", padding=1, strideW=p[0], strideH=1, filterWidth=p[0], filterHeight=1))
        else:
            kernel, stride = p[0], p[1]
            depthwise = kind == "dw"
            c_out = c if depthwise else p[2]
            scales = list(rng.uniform(0.002, 0.01, c_out))
            w = m.constant(rng.integers(-127, 128, [1, 1, kernel, c] if depthwise else [c_out, 1, kernel, c]), "int8",
                           f"w{k}", scales, axis=3 if depthwise else 0)
            b = m.constant(rng.integers(-2000, 2000, c_out), "int32", f"b{k}", [s * 0.05 for s in scales])
            t = (t + stride - 1) // stride
            out = m.tensor([1, 1, t, c_out], "int8", f"conv{k}", 0.05, -128)
            fields = dict(padding=0, strideW=stride, strideH=1, dilationWFactor=1, dilationHFactor=1,
                          fusedActivationFunction=1)
            if depthwise:
                m.operator(schema.BuiltinOperator.DEPTHWISE_CONV_2D, [cur, w, b], [out],
                           *options("DepthwiseConv2D", depthMultiplier=1, **fields))
            else:
                m.operator(schema.BuiltinOperator.CONV_2D, [cur, w, b], [out], *options("Conv2D", **fields))
            c = c_out
        cur = out
    pooled = m.tensor([1, c], "int8", "pooled", 0.05, -128)
    m.operator(schema.BuiltinOperator.MEAN, [cur, m.constant([1, 2], "int32", "axes")], [pooled],
               *options("Reducer", keepDims=False))
    w = m.constant(rng.integers(-127, 128, [6, c]), "int8", "fc_w", 0.003)
    b = m.constant(rng.integers(-999, 999, 6), "int32", "fc_b", 0.05 * 0.003)
    y = m.tensor([1, 6], "int8", "y", 0.1, 0)
    m.operator(schema.BuiltinOperator.FULLY_CONNECTED, [pooled, w, b], [y], *options("FullyConnected"))
    return m.save([x], [y], path)


def onnx_conv1d_model(path: Path, steps: int = 256, seed: int = 7) -> Path:
    """The same kind of model as PyTorch exports it to ONNX (float32, NCW): Conv(k5, pad 2) + Relu + MaxPool(2),
    twice, a stride-2 Conv, GlobalAveragePool, Flatten, Gemm."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(seed)
    nodes, inits, c, cur = [], [], 3, "x"
    for k, (c_out, kernel, stride, pool) in enumerate([(16, 5, 1, True), (32, 5, 1, True), (32, 3, 2, False)]):
        inits += [numpy_helper.from_array(rng.normal(0, 0.3, [c_out, c, kernel]).astype(np.float32), f"w{k}"),
                  numpy_helper.from_array(rng.normal(0, 0.1, [c_out]).astype(np.float32), f"b{k}")]
        nodes += [helper.make_node("Conv", [cur, f"w{k}", f"b{k}"], [f"c{k}"], kernel_shape=[kernel],
                                   pads=[kernel // 2, kernel // 2], strides=[stride]),
                  helper.make_node("Relu", [f"c{k}"], [f"r{k}"])]
        cur, c = f"r{k}", c_out
        if pool:
            nodes.append(helper.make_node("MaxPool", [cur], [f"p{k}"], kernel_shape=[2], strides=[2]))
            cur = f"p{k}"
    inits += [numpy_helper.from_array(rng.normal(0, 0.3, [6, c]).astype(np.float32), "fc_w"),
              numpy_helper.from_array(rng.normal(0, 0.1, [6]).astype(np.float32), "fc_b")]
    nodes += [helper.make_node("GlobalAveragePool", [cur], ["g"]), helper.make_node("Flatten", ["g"], ["f"]),
              helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["y"], transB=1)]
    graph = helper.make_graph(nodes, "conv1d", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, steps])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6])], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def quantized_onnx(source: Path, target: Path, activations: str = "QInt8", fmt: str = "QDQ") -> Path:
    """`source` quantized by onnxruntime's quantize_static (int8 weights; QDQ or QOperator), calibrated on 8 seeded
    inputs in [-1, 1): what a PyTorch user's exported model becomes."""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    graph_input = onnx.load(str(source)).graph.input[0]
    shape = [d.dim_value for d in graph_input.type.tensor_type.shape.dim]

    class Reader(CalibrationDataReader):
        def __init__(self):
            rng = np.random.default_rng(5)
            self.data = iter([{graph_input.name: rng.uniform(-1, 1, shape).astype(np.float32)} for _ in range(8)])

        def get_next(self):
            return next(self.data, None)

    quantize_static(str(source), str(target), Reader(), quant_format=getattr(QuantFormat, fmt),
                    activation_type=getattr(QuantType, activations), weight_type=QuantType.QInt8)
    return target
