"""onnxruntime (CPU) as the reference for ONNX models, and the ranges test inputs are drawn from.

The session runs the model as mlir-fdt imported it (`importers.onnx_model.read_onnx`: batch 1, and a
model older than opset 16 upgraded by ONNX's version converter, which onnxruntime would otherwise not
run at all: it dropped Div-1), node by node with its graph optimisations off: each operator's own
kernel, the ONNX semantics. With its default optimisations onnxruntime fuses a QDQ model's
DequantizeLinear -> Conv -> QuantizeLinear groups into integer kernels (QLinearConv, QLinearMatMul,
QLinearAdd, QLinearSoftmax) whose requantization rounds differently from the float Conv followed by
QuantizeLinear that the ONNX graph states: on mlonmcu_micro_kws_m_static_qdq the two onnxruntime modes
differ by one output step (1/255) on every seeded input. `ORT_OPTIMIZED` names that mode for comparison.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import FdtError

Range = tuple[float, float]


def _session(model_bytes: bytes, path: Path, optimized: bool = False):
    try:
        import onnxruntime
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise FdtError("the reference for an ONNX model is onnxruntime: `pip install onnxruntime` "
                       "(or run scripts/setup.sh)") from e
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 4  # its warnings are about its own graph rewrites; its errors come back raised
    if not optimized:
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    try:
        return onnxruntime.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own Fail/InvalidGraph types
        raise FdtError(f"{path}: onnxruntime cannot run the model: {' '.join(str(e).split())}") from None


def run_onnxruntime(path: Path, inputs: list[np.ndarray], optimized: bool = False) -> list[np.ndarray]:
    """The outputs of onnxruntime on `inputs` (in the order the model declares its inputs and outputs),
    operator by operator, or with `optimized` its default graph optimisations (fused integer kernels)."""
    from ..importers.onnx_model import read_onnx
    model = read_onnx(path)
    session = _session(model.serialized(), path, optimized)
    feed = {t.name: np.asarray(x).reshape(t.shape) for t, x in zip(model.inputs, inputs)}
    try:
        return [np.array(o, copy=True) for o in session.run(None, feed)]
    except Exception as e:  # onnxruntime's own Fail/RuntimeException types: the reference cannot check the model
        raise FdtError(f"{path}: onnxruntime (the reference) fails running the model on the seeded inputs: "
                       f"{' '.join(str(e).split())}") from None


# operators that move values without changing them: an input's range is read through them
_LAYOUT_OPS = ("Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Identity")


def _first_users(model, value: str) -> list:
    """The nodes that read `value`, looking through layout-only operators."""
    found = []
    for node in model.consumers(value):
        found.extend(_first_users(model, node.output[0]) if node.op_type in _LAYOUT_OPS else [node])
    return found


def _scalar(model, name: str) -> np.ndarray | None:
    from onnx import numpy_helper
    t = model.initializer(name)
    if t is None:
        producer = next((n for n in model.proto.graph.node if n.op_type == "Constant" and name in n.output), None)
        t = next((a.t for a in producer.attribute if a.name == "value"), None) if producer is not None else None
    array = numpy_helper.to_array(t) if t is not None else None
    return array.reshape(()) if array is not None and array.size == 1 else None


def _range_read_by(model, node) -> Range | None:
    """QuantizeLinear: the float range its integer type represents (scale * (qmin - zero_point) .. scale *
    (qmax - zero_point)), as for a TFLite QUANTIZE (reference/inputs.py). Div by a constant c > 1 (pixels
    / 255): [0, c), the range the model normalises to [0, 1) (uniform [-1, 1) divided by 255 would leave
    every ReLU of MNIST dark and its output the bias alone)."""
    if node.op_type == "QuantizeLinear":
        scale = _scalar(model, node.input[1])
        zero = _scalar(model, node.input[2]) if len(node.input) > 2 and node.input[2] else np.uint8(0)
        if scale is None or zero is None:
            return None
        info = np.iinfo(zero.dtype)
        return (float(scale) * (info.min - int(zero)), float(scale) * (info.max - int(zero)))
    if node.op_type == "Div":
        divisor = _scalar(model, node.input[1])
        if divisor is not None and float(divisor) > 1.0:
            return (0.0, float(divisor))
    return None


def onnx_input_ranges(model) -> list[Range | None]:
    """Per float input, the range its first reader implies (`_range_read_by`), or None (the default)."""
    ranges: list[Range | None] = []
    for t in model.inputs:
        found = None
        if t.dtype == "float32":
            found = next((r for node in _first_users(model, t.name) if (r := _range_read_by(model, node))), None)
        ranges.append(found)
    return ranges
