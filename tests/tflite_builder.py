"""TFLite test models written with TFLite's own schema (TFLite Micro's Python package, a test dependency; no
TensorFlow): models derived from committed ones (uint8 model inputs and outputs around the model) and
single-operator models with options no committed model has (fused activations on pooling)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mlir_fdt.importers.tflite_schema import operator_code as _operator_code
from mlir_fdt.importers.tflite_schema import save as _save
from mlir_fdt.importers.tflite_schema import schema


def _uint8_tensor(model, graph, shape: list[int], name: str, scale: float, zero_point: int) -> int:
    t = schema.TensorT()
    t.shape, t.type, t.name = list(shape), schema.TensorType.UINT8, name.encode()
    model.buffers.append(schema.BufferT())
    t.buffer = len(model.buffers) - 1
    t.quantization = schema.QuantizationParametersT()
    t.quantization.scale, t.quantization.zeroPoint = [scale], [zero_point]
    graph.tensors.append(t)
    return len(graph.tensors) - 1


def _operator(code: int, source: int, result: int):
    op = schema.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = code, [source], [result]
    return op


def with_uint8_io(source: Path, target: Path, input_scale: float = 0.05, input_zero_point: int = 128) -> Path:
    """`source` with a uint8 input in front of its first input (a QUANTIZE to an int8 input, at that input's
    scale and its zero point + 128; a DEQUANTIZE, at `input_scale`/`input_zero_point`, to a float32 one) and,
    for an int8 first output, a QUANTIZE to a uint8 output behind it (zero point + 128)."""
    model = schema.ModelT.InitFromPackedBuf(source.read_bytes(), 0)
    graph = model.subgraphs[0]
    first_in, first_out = graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]]
    before, after = [], []
    if first_in.type == schema.TensorType.INT8:
        q = first_in.quantization
        u8 = _uint8_tensor(model, graph, first_in.shape, "input_uint8", q.scale[0], int(q.zeroPoint[0]) + 128)
        before.append(_operator(_operator_code(model, schema.BuiltinOperator.QUANTIZE), u8, graph.inputs[0]))
    else:
        u8 = _uint8_tensor(model, graph, first_in.shape, "input_uint8", input_scale, input_zero_point)
        before.append(_operator(_operator_code(model, schema.BuiltinOperator.DEQUANTIZE), u8, graph.inputs[0]))
    graph.inputs = [u8, *graph.inputs[1:]]
    if first_out.type == schema.TensorType.INT8:
        q = first_out.quantization
        u8 = _uint8_tensor(model, graph, first_out.shape, "output_uint8", q.scale[0], int(q.zeroPoint[0]) + 128)
        after.append(_operator(_operator_code(model, schema.BuiltinOperator.QUANTIZE), graph.outputs[0], u8))
        graph.outputs = [u8, *graph.outputs[1:]]
    graph.operators = before + list(graph.operators) + after
    return _save(model, target)


class SingleOperatorModel:
    """A model of one subgraph built tensor by tensor and operator by operator."""

    def __init__(self):
        self.model = schema.ModelT()
        self.model.version, self.model.operatorCodes, self.model.buffers = 3, [], [schema.BufferT()]
        self.graph = schema.SubGraphT()
        self.graph.tensors, self.graph.operators, self.graph.inputs, self.graph.outputs = [], [], [], []
        self.model.subgraphs = [self.graph]

    def tensor(self, shape: list[int], dtype: str, name: str, scale=None, zero_point: int = 0, axis: int = 0) -> int:
        """A tensor; quantized when `scale` is given (a list: per channel along `axis`, zero points 0)."""
        t = schema.TensorT()
        t.shape, t.name = list(shape), name.encode()
        t.type = getattr(schema.TensorType, dtype.upper())
        self.model.buffers.append(schema.BufferT())
        t.buffer = len(self.model.buffers) - 1
        if scale is not None:
            scales = list(np.atleast_1d(scale).astype(float))
            t.quantization = schema.QuantizationParametersT()
            t.quantization.scale = scales
            t.quantization.zeroPoint = [zero_point] if len(scales) == 1 else [0] * len(scales)
            t.quantization.quantizedDimension = axis
        self.graph.tensors.append(t)
        return len(self.graph.tensors) - 1

    def constant(self, values, dtype: str, name: str, scale=None, zero_point: int = 0, axis: int = 0) -> int:
        """A constant tensor holding `values`."""
        values = np.asarray(values, dtype)
        t = self.tensor(list(values.shape), dtype, name, scale, zero_point, axis)
        self.model.buffers[self.graph.tensors[t].buffer].data = values.reshape(-1).view(np.uint8)
        return t

    def operator(self, builtin: int, inputs: list[int], outputs: list[int], options_type: int = 0, options=None):
        op = _operator(_operator_code(self.model, builtin), inputs[0], outputs[0])
        op.inputs, op.outputs = list(inputs), list(outputs)
        op.builtinOptionsType, op.builtinOptions = options_type, options

        self.graph.operators.append(op)

    def save(self, inputs: list[int], outputs: list[int], target: Path) -> Path:
        self.graph.inputs, self.graph.outputs = list(inputs), list(outputs)
        return _save(self.model, target)


def pooling(target: Path, kind: str, activation: str, dtype: str, filter_hw: int = 2, stride: int = 2) -> Path:
    """One AVERAGE_POOL_2D or MAX_POOL_2D (VALID) of a 1x8x8x4 input with a fused activation (`RELU`, `RELU6`,
    `RELU_N1_TO_1`, `TANH`); int8 input and output quantized alike (scale 0.05, zero point 3)."""
    m = SingleOperatorModel()
    q = (0.05, 3) if dtype == "int8" else (None,)
    x = m.tensor([1, 8, 8, 4], dtype, "x", *q)
    side = (8 - filter_hw) // stride + 1
    y = m.tensor([1, side, side, 4], dtype, "y", *q)
    options = schema.Pool2DOptionsT()
    options.padding, options.strideW, options.strideH = schema.Padding.VALID, stride, stride
    options.filterWidth = options.filterHeight = filter_hw
    options.fusedActivationFunction = getattr(schema.ActivationFunctionType, activation)
    m.operator(getattr(schema.BuiltinOperator, kind), [x], [y], schema.BuiltinOptions.Pool2DOptions, options)
    return m.save([x], [y], target)


def fully_connected(target: Path, activation: str) -> Path:
    """One float32 FULLY_CONNECTED (12 -> 5, seeded weights) with a fused activation."""
    m = SingleOperatorModel()
    rng = np.random.default_rng(0)
    x, y = m.tensor([1, 12], "float32", "x"), m.tensor([1, 5], "float32", "y")
    w = m.tensor([5, 12], "float32", "w")
    m.model.buffers[m.graph.tensors[w].buffer].data = rng.uniform(-1, 1, 60).astype(np.float32).view(np.uint8)
    options = schema.FullyConnectedOptionsT()
    options.fusedActivationFunction = getattr(schema.ActivationFunctionType, activation)
    m.operator(schema.BuiltinOperator.FULLY_CONNECTED, [x, w, -1], [y], schema.BuiltinOptions.FullyConnectedOptions,
               options)
    return m.save([x], [y], target)


def unary(target: Path, kind: str, dtype: str, output_quantization: tuple[float, int] = (0.05, 3),
          input_quantization: tuple[float, int] = (0.05, 3), shape: tuple[int, ...] = (1, 6, 5, 8)) -> Path:
    """One operator without options (ABS, RELU, LOGISTIC, ...); quantized types: input scale 0.05, zero point 3
    unless given."""
    m = SingleOperatorModel()
    q, r = (input_quantization, output_quantization) if dtype != "float32" else ((None,), (None,))
    x, y = m.tensor(list(shape), dtype, "x", *q), m.tensor(list(shape), dtype, "y", *r)
    m.operator(getattr(schema.BuiltinOperator, kind), [x], [y])
    return m.save([x], [y], target)


def split_v(target: Path, sizes: list[int], channels: list[int]) -> Path:
    """One int8 SPLIT_V of a 1x6x5x<sum(channels)> input along its channels, `size_splits` = `sizes` (one may be
    -1), into outputs of `channels` channels."""
    m = SingleOperatorModel()
    x = m.tensor([1, 6, 5, sum(channels)], "int8", "x", 0.05, 3)
    size_splits, axis = m.constant(sizes, "int32", "size_splits"), m.constant(3, "int32", "axis")
    ys = [m.tensor([1, 6, 5, c], "int8", f"y{k}", 0.05, 3) for k, c in enumerate(channels)]
    options = schema.SplitVOptionsT()
    options.numSplits = len(channels)
    m.operator(schema.BuiltinOperator.SPLIT_V, [x, size_splits, axis], ys, schema.BuiltinOptions.SplitVOptions, options)
    return m.save([x], ys, target)


def reduction(target: Path, kind: str, dtype: str, axes: list[int], keep_dims: bool = False) -> Path:
    """One SUM/MEAN/REDUCE_MAX of a 1x6x5x8 input over `axes` (input scale 0.05, zero point 3; output 0.3, -2)."""
    m = SingleOperatorModel()
    shape = [1, 6, 5, 8]
    out = [1 if k in axes else d for k, d in enumerate(shape)] if keep_dims else \
        [d for k, d in enumerate(shape) if k not in axes]
    x, y = m.tensor(shape, dtype, "x", 0.05, 3), m.tensor(out, dtype, "y", 0.3, -2)
    options = schema.ReducerOptionsT()
    options.keepDims = keep_dims
    m.operator(getattr(schema.BuiltinOperator, kind), [x, m.constant(axes, "int32", "axes")], [y],
               schema.BuiltinOptions.ReducerOptions, options)
    return m.save([x], [y], target)


def strided_slice(target: Path, begin: list[int], end: list[int], strides: list[int], out_shape: list[int],
                  begin_mask: int = 0, end_mask: int = 0, shrink_axis_mask: int = 0) -> Path:
    """One int8 STRIDED_SLICE of a 1x6x5x8 input with constant bounds."""
    m = SingleOperatorModel()
    x, y = m.tensor([1, 6, 5, 8], "int8", "x", 0.05, 3), m.tensor(out_shape, "int8", "y", 0.05, 3)
    bounds = [m.constant(v, "int32", n) for v, n in ((begin, "begin"), (end, "end"), (strides, "strides"))]
    options = schema.StridedSliceOptionsT()
    options.beginMask, options.endMask, options.shrinkAxisMask = begin_mask, end_mask, shrink_axis_mask
    m.operator(schema.BuiltinOperator.STRIDED_SLICE, [x, *bounds], [y], schema.BuiltinOptions.StridedSliceOptions,
               options)
    return m.save([x], [y], target)


@dataclass
class In:
    """A model input of an operator model (quantized when `scale` is given)."""
    shape: list[int]
    dtype: str
    scale: float | None = None
    zero_point: int = 0


@dataclass
class Const:
    """A constant operand (`values` of `dtype`; quantized when `scale` is given: per channel for a list)."""
    values: object
    dtype: str = "int32"
    scale: float | list[float] | None = None
    zero_point: int = 0
    axis: int = 0


def options(kind: str, **fields):
    """(BuiltinOptions type, options object) of `<kind>Options` with `fields` (schema names, e.g. strideW)."""
    table = getattr(schema, f"{kind}OptionsT")()
    for k, v in fields.items():
        setattr(table, k, v)
    return getattr(schema.BuiltinOptions, f"{kind}Options"), table


def operator_model(target: Path, kind: str, inputs: list, outputs: list[In], opts=(0, None)) -> Path:
    """A model of one `kind` operator: `inputs` (In: model inputs; Const: constants; None: omitted) to `outputs`."""
    m = SingleOperatorModel()
    operands, model_inputs = [], []
    for k, spec in enumerate(inputs):
        if spec is None:
            operands.append(-1)
        elif isinstance(spec, In):
            operands.append(m.tensor(spec.shape, spec.dtype, f"in{k}", spec.scale, spec.zero_point))
            model_inputs.append(operands[-1])
        else:
            operands.append(m.constant(spec.values, spec.dtype, f"const{k}", spec.scale, spec.zero_point, spec.axis))
    results = [m.tensor(o.shape, o.dtype, f"out{k}", o.scale, o.zero_point) for k, o in enumerate(outputs)]
    m.operator(getattr(schema.BuiltinOperator, kind), operands, results, *opts)
    return m.save(model_inputs, results, target)


def svdf(target: Path, state_dtype: str = "int16", rank: int = 1, memory: int = 4, filters: int = 8,
         features: int = 12, batch: int = 1, bias: bool = True, seed: int = 0, activation: str = "RELU") -> Path:
    """One int8 SVDF (TFLite's full-integer form: int8 input, feature weights and output; `state_dtype` time
    weights and activation state, a variable tensor; int32 bias), seeded weights and scales at which neither the
    state nor the output saturates on inputs over the int8 range; with `state_dtype` "float32", a float32 SVDF
    with the fused `activation`."""
    rng = np.random.default_rng(seed)
    m = SingleOperatorModel()
    if state_dtype == "float32":
        x = m.tensor([batch, features], "float32", "x")
        operands = [x, m.constant(rng.uniform(-1, 1, (filters, features)), "float32", "weights_feature"),
                    m.constant(rng.uniform(-1, 1, (filters, memory)), "float32", "weights_time"),
                    m.constant(rng.uniform(-1, 1, filters // rank), "float32", "bias") if bias else -1]
        state = m.tensor([batch, filters * memory], "float32", "activation_state")
        m.graph.tensors[state].isVariable = True
        y = m.tensor([batch, filters // rank], "float32", "y")
        options = schema.SVDFOptionsT()
        options.rank = rank
        options.fusedActivationFunction = getattr(schema.ActivationFunctionType, activation)
        m.operator(schema.BuiltinOperator.SVDF, operands + [state], [y], schema.BuiltinOptions.SVDFOptions, options)
        return m.save([x], [y], target)
    wide = state_dtype == "int16"
    x_scale, wf_scale = 0.05, 0.01
    state_scale, state_zero = (0.0008, 0) if wide else (0.15, 3)
    wt_scale = 1e-4 if wide else 0.02
    limit = 32767 if wide else 127
    x = m.tensor([batch, features], "int8", "x", x_scale, -10)
    wf = m.constant(rng.integers(-127, 128, (filters, features)), "int8", "weights_feature", wf_scale)
    wt = m.constant(rng.integers(-limit, limit + 1, (filters, memory)), state_dtype, "weights_time", wt_scale)
    operands = [x, wf, wt]
    if bias:
        operands.append(m.constant(rng.integers(-20000, 20000, filters // rank), "int32", "bias",
                                   state_scale * wt_scale))
    else:
        operands.append(-1)
    state = m.tensor([batch, filters * memory], state_dtype, "activation_state", state_scale, state_zero)
    m.graph.tensors[state].isVariable = True
    out_scale = 0.3 if wide else 0.25
    y = m.tensor([batch, filters // rank], "int8", "y", out_scale, 5)
    options = schema.SVDFOptionsT()
    options.rank, options.fusedActivationFunction = rank, schema.ActivationFunctionType.RELU
    m.operator(schema.BuiltinOperator.SVDF, operands + [state], [y], schema.BuiltinOptions.SVDFOptions, options)
    return m.save([x], [y], target)
