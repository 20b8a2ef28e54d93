"""onnxruntime (CPU) as the reference for ONNX models, and the ranges test inputs are drawn from.

The session runs the model as mlir-fdt imported it (`importers.onnx_model.read_onnx`: batch 1, and a
model older than opset 13 upgraded by ONNX's version converter, which onnxruntime would otherwise not
run at all: it dropped Div-1), with onnxruntime's default graph optimisations: the kernels a user of
onnxruntime gets (a QDQ model runs as QLinearConv / QLinearMatMul / MatMulIntegerToFloat there).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import FdtError

Range = tuple[float, float]


def _session(model_bytes: bytes, path: Path):
    try:
        import onnxruntime
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise FdtError("the reference for an ONNX model is onnxruntime: `pip install onnxruntime` "
                       "(or run scripts/setup.sh)") from e
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # its warnings are about its own graph rewrites
    try:
        return onnxruntime.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own Fail/InvalidGraph types
        raise FdtError(f"{path}: onnxruntime cannot run the model: {' '.join(str(e).split())}") from None


def run_onnxruntime(path: Path, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """The outputs of onnxruntime on `inputs` (in the order the model declares its inputs and outputs)."""
    from ..importers.onnx_model import read_onnx
    model = read_onnx(path)
    session = _session(model.serialized(), path)
    feed = {t.name: np.asarray(x).reshape(t.shape) for t, x in zip(model.inputs, inputs)}
    return [np.array(o, copy=True) for o in session.run(None, feed)]


def onnx_input_ranges(model) -> list[Range | None]:
    """Per input: the float range of a QuantizeLinear that consumes it (scale * (qmin - zero_point) ..
    scale * (qmax - zero_point)), as for a TFLite QUANTIZE (reference/inputs.py), or None."""
    from onnx import numpy_helper
    ranges: list[Range | None] = []
    for t in model.inputs:
        found = None
        for node in model.consumers(t.name):
            if node.op_type != "QuantizeLinear" or t.dtype != "float32":
                continue
            scale = model.initializer(node.input[1])
            zp = model.initializer(node.input[2]) if len(node.input) > 2 and node.input[2] else None
            if scale is None or numpy_helper.to_array(scale).size != 1:
                continue
            s = float(numpy_helper.to_array(scale).reshape(()))
            zero = numpy_helper.to_array(zp).reshape(()) if zp is not None else np.uint8(0)
            info = np.iinfo(zero.dtype)
            found = (s * (info.min - int(zero)), s * (info.max - int(zero)))
            break
        ranges.append(found)
    return ranges
