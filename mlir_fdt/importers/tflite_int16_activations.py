"""int16 LOGISTIC and TANH as TFLite Micro computes them.

TFLite Micro's int16 kernels (`reference_integer_ops::Logistic`/`Tanh`, 16x8 quantization: zero points 0, output
scale 2^-15) rescale the input to a fixed-point argument and interpolate linearly in a 256-entry table of
sigmoid(i/24) (`integer_scalars.SIGMOID_TABLE`; tanh(x) = 2 sigmoid(2x) - 1 reads it at twice the rate). The
converter's TOSA uses a 513-entry `tosa.table` instead, which differs by up to a few steps (5 for TANH on
seeded inputs). So each such operator's TOSA (found by its debug location, the output tensor's name) is
replaced by a call to a linalg function computing TFLite Micro's integer steps, with the input multiplier and
shift TFLite Micro's Prepare derives from the input scale (`input_rescaling`).
"""

from __future__ import annotations

import numpy as np

from ..ir import call_new_function, ir, location_name, run_pipeline, walk_ops
from .integer_scalars import Scalars, sigmoid_table_constant
from .lstm_int8_params import checked_log2
from .tflite_flatbuffer import TfliteModel, TfliteOperator

OPERATORS = ("LOGISTIC", "TANH")
_INPUT_INTEGER_BITS = 3
_OUTPUT_SCALE_LOG2 = -15


def input_rescaling(kind: str, scale: float) -> tuple[int, int]:
    """(multiplier, right shift) taking the int16 input to the table's argument, as TFLite Micro's Prepare and
    the kernel's power-of-two case derive them."""
    pot, log2 = checked_log2(scale)
    shift = (15 - _INPUT_INTEGER_BITS) + log2
    pot = pot and (shift == 0 or (kind == "TANH" and shift == 1))
    if pot:
        return 3 << shift, 0
    multiplier, shift = float(np.float32(scale)) * 4096.0 * 3.0, 0
    while multiplier <= 32767.0 / 2.0 and shift <= 30:
        shift += 1
        multiplier *= 2.0
    return int(multiplier), shift


def exact_reason(model: TfliteModel, op: TfliteOperator) -> str | None:
    """None if `op` is an int16 LOGISTIC/TANH this module computes; else why not (other types: the converter's)."""
    x, y = model.tensor(op.inputs[0]), model.tensor(op.outputs[0])
    if x is None or y is None or x.dtype != "int16" or y.dtype != "int16":
        return "not int16"
    if (x.zero_point and x.zero_point[0]) or (y.zero_point and y.zero_point[0]) or not x.scale or not y.scale:
        return "a nonzero zero point"
    pot, log2 = checked_log2(y.scale[0])
    return None if pot and log2 == _OUTPUT_SCALE_LOG2 else "an output scale other than 2^-15"


def _function(name: str, kind: str, t: ir.RankedTensorType, multiplier: int, shift: int) -> str:
    """A function applying TFLite Micro's int16 `kind` to each element of `t`."""
    rank = len(t.shape)
    dims = ", ".join(f"d{k}" for k in range(rank))
    s = Scalars()
    x = s.cast("extsi", "%in", "i16", "i32")
    y = s.logistic(x, multiplier, shift) if kind == "LOGISTIC" else s.tanh(x, multiplier, shift)
    out = s.cast("trunci", y, "i32", "i16")
    body = "\n".join(s.lines)
    return f"""
func.func private @{name}(%x: {t}) -> {t} {{
  {sigmoid_table_constant()}
  %init = tensor.empty() : {t}
  %r = linalg.generic {{indexing_maps = [affine_map<({dims}) -> ({dims})>, affine_map<({dims}) -> ({dims})>],
                       iterator_types = [{", ".join(['"parallel"'] * rank)}]}}
      ins(%x : {t}) outs(%init : {t}) {{
  ^bb0(%in: i16, %unused: i16):
{body}
        linalg.yield {out} : i16
  }} -> {t}
  return %r : {t}
}}"""


def int16_activations(model: TfliteModel) -> list[TfliteOperator]:
    """The int16 LOGISTIC/TANH operators this module computes."""
    return [op for op in model.operators if op.name in OPERATORS and exact_reason(model, op) is None]


def exact_int16_activations(module: ir.Module, model: TfliteModel) -> int:
    """Replace the converter's TOSA for every int16 LOGISTIC/TANH (`exact_reason` None) by TFLite Micro's integer
    steps; how many."""
    wanted = {op.outputs[0]: op for op in int16_activations(model)}
    if not wanted:
        return 0
    replaced = 0
    with module.context, ir.Location.unknown():
        located: dict[str, list[ir.Operation]] = {}
        for op in walk_ops(module.operation):
            name = location_name(op)
            if name in wanted and op.name != "tosa.const":
                located.setdefault(name, []).append(op)
        for name, ops in located.items():
            tfl = wanted[name]
            source, result = ops[0].operands[0], ops[-1].results[0]
            t = ir.RankedTensorType(result.type)
            if ir.RankedTensorType(source.type) != t:
                continue
            multiplier, shift = input_rescaling(tfl.name, model.tensor(tfl.inputs[0]).scale[0])
            text = _function(f"fdt_int16_{tfl.name.lower()}_{replaced}", tfl.name, t, multiplier, shift)
            with ir.InsertionPoint(ops[-1]), ops[-1].location:
                call = call_new_function(module, text, [source])
            result.replace_all_uses_with(call.results[0])
            replaced += 1
    if replaced:
        run_pipeline(module, "builtin.module(inline,symbol-dce,canonicalize)")
    return replaced
