"""Fused activations (`fused_activation_function` in an operator's options) as TFLite Micro applies them.

TFLite Micro's kernels clamp to the range of RELU, RELU_N1_TO_1 or RELU6 (`CalculateActivationRange`) and take
any other code as none: a fused TANH or SIGN_BIT (which TensorFlow's converter never writes) is ignored by
TFLite Micro and applied by the converter's TOSA, so it is refused naming the operator.

Pooling operators: the converter drops their fused activation.

AVERAGE_POOL_2D and MAX_POOL_2D carry a `fused_activation_function` (TOCO fused a following RELU/RELU6 into
them; hand-built and older files have it), and TFLite Micro clamps each pooled value to the activation's range
(`CalculateActivationRange`; quantized: `CalculateActivationRangeQuantized`, the bounds quantized with the
output's scale and zero point, rounded half away from zero). tosa-converter-for-tflite lowers the pooling
without any clamp: the program computed unclamped values, silently. So the converter's op computing each such
operator's output (found by its debug location, the output tensor's name) gets the clamp after it.
"""

from __future__ import annotations

import flatbuffers
import numpy as np

from ..errors import FdtError
from ..ir import ir, location_name, walk_ops
from .lstm_int8_params import round_half_away
from .tflite_flatbuffer import TfliteModel, TfliteOperator

POOLS = {"AVERAGE_POOL_2D": "tosa.avg_pool2d", "MAX_POOL_2D": "tosa.max_pool2d"}
# operator -> the field number of fused_activation_function in its builtin options (schema.fbs)
ACTIVATION_FIELDS = {"AVERAGE_POOL_2D": 5, "MAX_POOL_2D": 5, "L2_POOL_2D": 5, "CONV_2D": 3, "DEPTHWISE_CONV_2D": 4,
                     "TRANSPOSE_CONV": 3, "FULLY_CONNECTED": 0, "ADD": 0, "SUB": 0, "MUL": 0, "DIV": 0,
                     "CONCATENATION": 1, "L2_NORMALIZATION": 0}
# schema.fbs ActivationFunctionType -> the range it clamps to (None: unbounded)
ACTIVATION_RANGES = {1: (0.0, None), 2: (-1.0, 1.0), 3: (0.0, 6.0)}  # RELU, RELU_N1_TO_1, RELU6
_ACTIVATION_NAMES = {1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT"}


def fused_activation(op: TfliteOperator) -> int:
    """Its fused activation's ActivationFunctionType code (0: none, or an operator without one)."""
    field = ACTIVATION_FIELDS.get(op.name)
    if field is None or op.options is None:
        return 0
    return op.options.scalar(field, flatbuffers.number_types.Int8Flags)


def pools_with_activation(model: TfliteModel) -> list[TfliteOperator]:
    return [op for op in model.operators if op.name in POOLS and fused_activation(op) in ACTIVATION_RANGES]


def fused_activation_reason(model: TfliteModel, op: TfliteOperator) -> str | None:
    """Why an operator's fused activation is not compiled (None: it is, or it has none)."""
    code = fused_activation(op)
    if code == 0 or code in ACTIVATION_RANGES:
        return None
    return (f"a fused {_ACTIVATION_NAMES.get(code, f'activation {code}')}, which TFLite Micro ignores (its kernels "
            "apply RELU, RELU_N1_TO_1 and RELU6 only): apply it as an operator of its own")


def _quantize(f: float, scale: float, zero_point: int) -> int:
    """TFLite Micro's `zero_point + static_cast<int32_t>(TfLiteRound(f / scale))` (float32 division)."""
    return zero_point + round_half_away(np.float32(f) / np.float32(scale))


def _bounds(model: TfliteModel, op: TfliteOperator, element: ir.Type) -> tuple[ir.Attribute, ir.Attribute]:
    lo, hi = ACTIVATION_RANGES[fused_activation(op)]
    out = model.tensor(op.outputs[0])
    if isinstance(element, ir.FloatType):
        f32, top = ir.F32Type.get(), float(np.finfo(np.float32).max)
        return ir.FloatAttr.get(f32, lo), ir.FloatAttr.get(f32, hi if hi is not None else top)
    info = np.iinfo(np.dtype(out.dtype))
    scale, zero_point = out.scale[0], out.zero_point[0] if out.zero_point else 0
    q_lo = max(info.min, _quantize(lo, scale, zero_point))
    q_hi = info.max if hi is None else min(info.max, _quantize(hi, scale, zero_point))
    return ir.IntegerAttr.get(element, q_lo), ir.IntegerAttr.get(element, q_hi)


def clamp_pool_activations(module: ir.Module, model: TfliteModel) -> int:
    """Clamp the result of every converted pooling whose TFLite operator has a fused activation; how many."""
    pools = {op.outputs[0]: op for op in pools_with_activation(model)}
    if not pools:
        return 0
    clamped = set()
    with module.context, ir.Location.unknown():
        for pool in [op for op in walk_ops(module.operation) if op.name in POOLS.values()]:
            op = pools.get(location_name(pool))
            if op is None:
                continue
            result = pool.results[0]
            element = ir.RankedTensorType(result.type).element_type
            lo, hi = _bounds(model, op, element)
            with ir.InsertionPoint.after(pool), pool.location:
                clamp = ir.Operation.create("tosa.clamp", results=[result.type], operands=[result],
                                            attributes={"min_val": lo, "max_val": hi})
            result.replace_all_uses_except(clamp.results[0], clamp)
            clamped.add(op.index)
    missing = [op for op in pools.values() if op.index not in clamped]
    if missing:
        raise FdtError(f"{model.path}: found no converted pooling for operator "
                       f"{', '.join(f'{op.index} {op.name}' for op in missing)} (its fused activation would be lost)")
    return len(clamped)
