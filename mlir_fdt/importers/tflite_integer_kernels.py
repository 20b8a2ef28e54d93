"""TFLite integer operators the TOSA converter rejects, computed as TFLite Micro's kernels compute them:

- SOFTMAX from int8 to int16 (TFLite Micro's `reference_ops::Softmax<int8_t, int16_t>`, the last layer of its
  keyword-spotting benchmark models): the converter's TFLite dialect rejects an output type other than the
  input's. gemmlowp's fixed-point exp of each input's difference to its row's maximum (an int8 difference takes
  256 values: both the accumulated Q12 term and the Q0.31 exp are tables computed here, `_exp_tables`), the
  reciprocal of the row's sum by gemmlowp's Newton-Raphson (`GetReciprocal`), and the rounding shift to int16.
- SOFTMAX on int16 (16x8 quantization), which the converter lowers with other tables than TFLite Micro's (up to
  18,362 steps off): TFLite Micro's `SoftmaxInt16`, its two 513-entry tables (exp on [-10, 0], 1 / (1 + x) on [0, 1])
  built here in float32 as its `LUTPopulate<int16_t>` builds them, read with its interpolating `LUTLookup`.
- QUANTIZE between integer types with an int16 side whose zero point is not 0 (the int16 softmax output, zero point
  -32768, requantized to int32): TOSA's rescale takes no such zero point. TFLite Micro's `Requantize`:
  MultiplyByQuantizedMultiplier(x - in_zp, input scale / output scale) + out_zp, clamped to the output type.

The converter reads a copy of the model in which each such operator is the custom operator `fdt.<index>`
(`as_placeholders`, one of importers/tflite.py's source rewrites); it passes custom operators through as
`tosa.custom`, which `lower_placeholders` replaces by a call to the operator's lowering.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..errors import FdtError
from ..ir import call_new_function, ir, run_pipeline, walk_ops
from .integer_scalars import Scalars
from .lstm_int8_params import quantize_multiplier
from .tflite_flatbuffer import TfliteModel, TfliteOperator, read_tflite_bytes

PLACEHOLDER_PREFIX = "fdt."
_INT32_MIN, _INT32_MAX = -(1 << 31), (1 << 31) - 1
_SCALED_DIFF_INTEGER_BITS = 5   # TFLite's softmax: the exp argument in Q5.26
_ACCUMULATION_INTEGER_BITS = 12  # the sum of exps in Q12.19


def _softmax_int8_int16(model: TfliteModel, op: TfliteOperator) -> bool:
    """An int8 SOFTMAX to int16, or to int8 with a beta other than 1 (the converter leaves it unconverted)."""
    if op.name != "SOFTMAX":
        return False
    x, y = model.tensor(op.inputs[0]), model.tensor(op.outputs[0])
    if x is None or y is None or x.dtype != "int8":
        return False
    return y.dtype == "int16" or (y.dtype == "int8" and _softmax_beta(op) != 1.0)


def _softmax_int16(model: TfliteModel, op: TfliteOperator) -> bool:
    if op.name != "SOFTMAX":
        return False
    x, y = model.tensor(op.inputs[0]), model.tensor(op.outputs[0])
    return x is not None and y is not None and x.dtype == "int16" and y.dtype == "int16"


def _requantize_with_int16_zero_point(model: TfliteModel, op: TfliteOperator) -> bool:
    if op.name != "QUANTIZE":
        return False
    x, y = model.tensor(op.inputs[0]), model.tensor(op.outputs[0])
    integer = ("int8", "int16", "int32")
    if x is None or y is None or x.dtype not in integer or y.dtype not in integer:
        return False
    return any(t.dtype == "int16" and t.zero_point and t.zero_point[0] for t in (x, y))


def lowered_here(model: TfliteModel) -> list[TfliteOperator]:
    """The operators of the model this module computes."""
    return [op for op in model.operators
            if _softmax_int8_int16(model, op) or _softmax_int16(model, op)
            or _requantize_with_int16_zero_point(model, op)]


def unsupported_reason(model: TfliteModel, op: TfliteOperator) -> str | None:
    """Why TFLite Micro does not run such an operator (then mlir-fdt refuses it), or None."""
    if _softmax_int8_int16(model, op):
        x, y = model.tensor(op.inputs[0]), model.tensor(op.outputs[0])
        if y.dtype == "int16" and not (y.zero_point and y.zero_point[0] == -32768 and y.scale
                                       and abs(y.scale[0] - 1 / 65536) < 1e-3 / 65536):
            return ("an int8-to-int16 SOFTMAX whose output is not quantized with scale 1/65536 and zero point -32768, "
                    "which TFLite Micro requires")
        if y.dtype == "int8" and not (y.zero_point and y.zero_point[0] == -128 and y.scale == [1 / 256]):
            return ("an int8 SOFTMAX whose output is not quantized with scale 1/256 and zero point -128, as "
                    "TFLite Micro requires")
        if len(x.scale) != 1:
            return "a SOFTMAX whose input has no single scale"
        if _softmax_beta(op) * x.scale[0] * (1 << (31 - _SCALED_DIFF_INTEGER_BITS)) <= 1.0:
            return (f"an int8 SOFTMAX with beta {_softmax_beta(op):g} (x input scale <= 2^-26), on which TFLite "
                    "Micro's Prepare aborts")
    if _softmax_int16(model, op):
        x, y = model.tensor(op.inputs[0]), model.tensor(op.outputs[0])
        if any(t.zero_point and t.zero_point[0] for t in (x, y)) or len(x.scale) != 1 or not y.scale \
                or abs(y.scale[0] - 1 / 32768) > 1e-3 / 32768:
            return ("an int16 SOFTMAX quantized otherwise than TFLite Micro requires (zero points 0, output scale "
                    "1/32768)")
    if _requantize_with_int16_zero_point(model, op):
        x, y = model.tensor(op.inputs[0]), model.tensor(op.outputs[0])
        if len(x.scale) != 1 or len(y.scale) != 1:
            return "a per-channel QUANTIZE between integer types, which TFLite Micro does not run"
    return None


def as_placeholders(data: bytes) -> tuple[bytes, int]:
    """The model with each operator this module computes turned into the custom operator `fdt.<index>` (a source
    rewrite of importers/tflite.py: the converter passes custom operators through)."""
    model = read_tflite_bytes(data, Path("model.tflite"))
    indices = {op.index for op in lowered_here(model)}
    if not indices:
        return data, 0
    from .tflite_schema import schema, serialize
    m = schema.ModelT.InitFromPackedBuf(data, 0)
    graph = m.subgraphs[0]
    for index in sorted(indices):
        code = schema.OperatorCodeT()
        code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.CUSTOM
        code.customCode, code.version = f"{PLACEHOLDER_PREFIX}{index}".encode(), 1
        m.operatorCodes.append(code)
        op = graph.operators[index]
        op.opcodeIndex, op.builtinOptionsType, op.builtinOptions = len(m.operatorCodes) - 1, 0, None
    return serialize(m), len(indices)


# -- gemmlowp's fixed point, for the softmax's tables ----------------------------------------------------------
def _wrap(x: int) -> int:
    return (x + (1 << 31)) % (1 << 32) - (1 << 31)


def _high_mul(a: int, b: int) -> int:
    """SaturatingRoundingDoublingHighMul."""
    if a == b == _INT32_MIN:
        return _INT32_MAX
    product = a * b
    nudge = (1 << 30) if product >= 0 else 1 - (1 << 30)
    return _wrap(_c_div(product + nudge, 1 << 31))


def _c_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _divide_by_pot(x: int, exponent: int) -> int:
    """RoundingDivideByPOT."""
    mask = (1 << exponent) - 1
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if (x & mask) > threshold else 0)


def _shift_left_saturating(x: int, exponent: int) -> int:
    threshold = (1 << (31 - exponent)) - 1
    if x > threshold:
        return _INT32_MAX
    if x < -threshold:
        return _INT32_MIN
    return x << exponent


def _exp_near_minus_eighth(a: int) -> int:
    """exp_on_interval_between_negative_one_quarter_and_0_excl, Q0.31."""
    constant_term, one_third = 1895147668, 715827883
    x = _wrap(a + (1 << 28))
    x2 = _high_mul(x, x)
    x3 = _high_mul(x2, x)
    x4 = _high_mul(x2, x2)
    x4_over_4 = _divide_by_pot(x4, 2)
    polynomial = _divide_by_pot(_wrap(_high_mul(_wrap(x4_over_4 + x3), one_third) + x2), 1)
    return _wrap(constant_term + _high_mul(constant_term, _wrap(x + polynomial)))


def exp_on_negative_values(a: int, integer_bits: int = _SCALED_DIFF_INTEGER_BITS) -> int:
    """gemmlowp's exp_on_negative_values of Q`integer_bits` `a` <= 0: Q0.31."""
    fractional = 31 - integer_bits
    quarter = 1 << (fractional - 2)
    a_mod_quarter_minus_quarter = _wrap((a & (quarter - 1)) - quarter)
    result = _exp_near_minus_eighth(_shift_left_saturating(a_mod_quarter_minus_quarter, integer_bits)
                                    if integer_bits else a_mod_quarter_minus_quarter)
    remainder = _wrap(a_mod_quarter_minus_quarter - a)
    for exponent, multiplier in ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
                                 (2, 39332535), (3, 720401), (4, 242)):
        if integer_bits > exponent and remainder & (1 << (fractional + exponent)):
            result = _high_mul(result, multiplier)
    if integer_bits > 5 and a < -(1 << (36 - integer_bits)):
        result = 0
    return _INT32_MAX if a == 0 else result


def softmax_input_scaling(input_scale: float, beta: float) -> tuple[int, int, int]:
    """(multiplier, left shift, diff_min) as TFLite Micro's CalculateSoftmaxParams derives them for an int8 input
    (PreprocessSoftmaxScaling, CalculateInputRadius; the double-rounding build)."""
    real = min(float(np.float32(beta)) * float(np.float32(input_scale)) * (1 << (31 - _SCALED_DIFF_INTEGER_BITS)),
               (1 << 31) - 1.0)
    r = quantize_multiplier(real)
    if r.shift < 0:
        raise FdtError(f"SOFTMAX: input scale x beta {real / (1 << 26):g} is below what TFLite Micro takes")
    radius = math.floor(((1 << _SCALED_DIFF_INTEGER_BITS) - 1) * (1 << (31 - _SCALED_DIFF_INTEGER_BITS))
                        / (1 << r.shift))
    return r.multiplier, r.shift, -radius


def _exp_tables(input_scale: float, beta: float) -> tuple[list[int], list[int]]:
    """For each int8 difference d = x - max (-255..0; index d + 255): the Q12 term the row's sum adds and the Q0.31
    exp the output scales (both 0 where d < diff_min: TFLite Micro leaves such inputs out and writes the minimum)."""
    multiplier, shift, diff_min = softmax_input_scaling(input_scale, beta)
    sums, exps = [], []
    for d in range(-255, 1):
        if d < diff_min:
            sums.append(0)
            exps.append(0)
            continue
        e = exp_on_negative_values(_high_mul(_wrap(d << shift), multiplier))
        sums.append(_divide_by_pot(e, _ACCUMULATION_INTEGER_BITS))
        exps.append(e)
    return sums, exps


def _softmax_function(name: str, t_in: ir.RankedTensorType, t_out: ir.RankedTensorType, sums: list[int],
                      exps: list[int]) -> str:
    """func @name(x: int8, softmax over the last axis) -> int16 or int8, TFLite Micro's Softmax<int8_t, OutputT>."""
    bits = int(str(t_out.element_type)[1:])
    low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    recip = Scalars()
    clz = recip.op("math.ctlz %total", "i32")
    bits_over_unit = recip.op(f"arith.subi {recip.const(_ACCUMULATION_INTEGER_BITS)}, {clz}", "i32")
    normalized = recip.op(f"arith.shli %total, {clz}", "i32")
    shifted = recip.op(f"arith.subi {normalized}, {recip.const(_INT32_MIN)}", "i32")
    scale = recip.one_over_one_plus_x(shifted)
    exponent = recip.op(f"arith.addi {bits_over_unit}, {recip.const(31 - bits)}", "i32")
    out = Scalars("o")
    out_value = out.cast("trunci", out.clamp(out.op(
        f"arith.addi {out.divide_by_pot(out.high_mul('%recip0', '%e'), '%recip1')}, {out.const(low)}", "i32"),
        low, high), "i32", f"i{bits}")
    constants = (f"    %sums_table = arith.constant dense<{sums}> : tensor<256xi32>\n"
                 f"    %exps_table = arith.constant dense<{exps}> : tensor<256xi32>\n"
                 "    %c255 = arith.constant 255 : i32")
    index = ["%d = arith.subi %w, %m : i32", "%i = arith.addi %d, %c255 : i32",
             "%k = arith.index_cast %i : i32 to index"]  # the difference to the row's maximum, as a table index
    term = ["%t = tensor.extract %sums_table[%k] : tensor<256xi32>"]
    exp = ["%e = tensor.extract %exps_table[%k] : tensor<256xi32>"]
    return _softmax_module(name, t_in, t_out, constants, [*index, *term], "%t", recip, (scale, exponent),
                           [*index, *exp, *out.lines], out_value)


def _softmax_module(name: str, t_in: ir.RankedTensorType, t_out: ir.RankedTensorType, constants: str,
                    term_lines: list[str], term: str, recip: Scalars, recip_values: tuple[str, str],
                    out_lines: list[str], out_value: str) -> str:
    """The loop structure both integer softmaxes share, over the last axis: each row's maximum; the sum of a term
    of each element (`term_lines` computing `term` from `%w`, the element, and `%m`, the maximum); per row two
    values from the sum `%total` (`recip`: the reciprocal and a shift, seen as `%recip0`, `%recip1`); each output
    (`out_lines` computing `out_value` from `%w`, `%m`, `%recip0`, `%recip1`)."""
    element, out_element = str(t_in.element_type), str(t_out.element_type)
    shape = list(t_in.shape)
    rank = len(shape)
    dims = ", ".join(f"d{k}" for k in range(rank))
    rows = ", ".join(f"d{k}" for k in range(rank - 1))
    row_shape = "x".join(str(d) for d in shape[:-1])
    row_t = f"tensor<{row_shape + 'x' if row_shape else ''}i32>"
    reduce = ", ".join(['"parallel"'] * (rank - 1) + ['"reduction"'])
    lowest = -(1 << (int(element[1:]) - 1))

    def body(lines: list[str]) -> str:
        return "\n".join(line if line.startswith("        ") else "        " + line for line in lines)
    return f"""
module {{
  func.func private @{name}(%x: {t_in}) -> {t_out} {{
{constants}
    %lowest = arith.constant {lowest} : i32
    %zero = arith.constant 0 : i32
    %max_init = tensor.empty() : {row_t}
    %max_low = linalg.fill ins(%lowest : i32) outs(%max_init : {row_t}) -> {row_t}
    %max = linalg.generic {{indexing_maps = [affine_map<({dims}) -> ({dims})>, affine_map<({dims}) -> ({rows})>],
                           iterator_types = [{reduce}]}} ins(%x : {t_in}) outs(%max_low : {row_t}) {{
      ^bb0(%v: {element}, %acc: i32):
        %w = arith.extsi %v : {element} to i32
        %n = arith.maxsi %acc, %w : i32
        linalg.yield %n : i32
    }} -> {row_t}
    %sum_init = tensor.empty() : {row_t}
    %sum_zero = linalg.fill ins(%zero : i32) outs(%sum_init : {row_t}) -> {row_t}
    %sum = linalg.generic {{indexing_maps = [affine_map<({dims}) -> ({dims})>, affine_map<({dims}) -> ({rows})>,
                                            affine_map<({dims}) -> ({rows})>],
                           iterator_types = [{reduce}]}} ins(%x, %max : {t_in}, {row_t}) outs(%sum_zero : {row_t}) {{
      ^bb0(%v: {element}, %m: i32, %acc: i32):
        %w = arith.extsi %v : {element} to i32
{body(term_lines)}
        %n = arith.addi %acc, {term} : i32
        linalg.yield %n : i32
    }} -> {row_t}
    %recip_init = tensor.empty() : {row_t}
    %shift_init = tensor.empty() : {row_t}
    %recip:2 = linalg.generic {{indexing_maps = [affine_map<({rows}) -> ({rows})>, affine_map<({rows}) -> ({rows})>,
                                               affine_map<({rows}) -> ({rows})>],
                              iterator_types = [{", ".join(['"parallel"'] * (rank - 1))}]}}
        ins(%sum : {row_t}) outs(%recip_init, %shift_init : {row_t}, {row_t}) {{
      ^bb0(%total: i32, %u0: i32, %u1: i32):
{body(recip.lines)}
        linalg.yield {recip_values[0]}, {recip_values[1]} : i32, i32
    }} -> ({row_t}, {row_t})
    %out_init = tensor.empty() : {t_out}
    %out = linalg.generic {{indexing_maps = [affine_map<({dims}) -> ({dims})>, affine_map<({dims}) -> ({rows})>,
                                            affine_map<({dims}) -> ({rows})>, affine_map<({dims}) -> ({rows})>,
                                            affine_map<({dims}) -> ({dims})>],
                           iterator_types = [{", ".join(['"parallel"'] * rank)}]}}
        ins(%x, %max, %recip#0, %recip#1 : {t_in}, {row_t}, {row_t}, {row_t}) outs(%out_init : {t_out}) {{
      ^bb0(%v: {element}, %m: i32, %recip0: i32, %recip1: i32, %unused: {out_element}):
        %w = arith.extsi %v : {element} to i32
{body(out_lines)}
        linalg.yield {out_value} : {out_element}
    }} -> {t_out}
    return %out : {t_out}
  }}
}}"""


def _lut_int16(transform, input_scale: np.float32, input_zero_point: int, output_scale: np.float32) -> list[int]:
    """TFLite's `LUTPopulateInt16<float>` (output zero point 0): 512 interpolation points, each sample biased by half
    the error of its interval's midpoint, and the end point; every step in float32 as the C++ computes it."""
    f = np.float32
    input_min = f(input_scale * f(-32768 - input_zero_point))
    input_max = f(input_scale * f(32767 - input_zero_point))
    output_min = f(output_scale * f(-32768))
    output_max = f(output_scale * f(32767))
    steps = 512
    step = f(f(input_max - input_min) / f(steps))
    half_step = f(step / f(2))
    scaling = f(f(65536) / f(output_max - output_min))
    table = []

    def clamp(v):
        return int(min(max(v, f(-32768)), f(32767)))
    for i in range(steps):
        at = f(input_min + f(f(i) * step))
        val, mid = transform(at), transform(f(at + half_step))
        nxt = transform(f(input_min + f(f(i + 1) * step)))
        sample = _round(f(val * scaling))
        interpolated = _round(f(f(f(nxt * scaling) + sample) / f(2)))
        bias = _round(f(f(interpolated - _round(f(mid * scaling))) / f(2)))
        table.append(clamp(f(sample - bias)))
    table.append(clamp(_round(f(transform(input_max) * scaling))))
    return table


def _round(v: np.float32) -> np.float32:
    """TfLiteRound (std::round on float: half away from zero)."""
    return np.float32(np.sign(v) * np.floor(np.abs(v) + np.float32(0.5))) if abs(v) < 2 ** 23 else v


def _expf(v: np.float32) -> np.float32:
    return np.float32(math.exp(float(v)))  # the correctly rounded float32 exp (glibc's expf)


def _one_over_one_plus(v: np.float32) -> np.float32:
    return np.float32(np.float32(1) / np.float32(np.float32(1) + v))


def softmax_int16_tables() -> tuple[list[int], list[int]]:
    """TFLite Micro's two int16 softmax tables (softmax_common.cc InitializeLutForInt16): exp on [-10, 0] and
    1 / (1 + x) on [0, 1], both over the int16 range."""
    f = np.float32
    span = 32767 - (-32768)
    exp_table = _lut_int16(_expf, f(f(10) / f(span)), 32767, f(f(2) / f(span)))
    reciprocal_table = _lut_int16(_one_over_one_plus, f(f(1) / f(span)), -32768, f(f(2) / f(span)))
    return exp_table, reciprocal_table


def _lut_lookup(s: Scalars, value: str, table: str) -> str:
    """TFLite's `LUTLookup` of the int16 `value` (an i32 SSA name) in the 513-entry i16 `table`: i32."""
    high = s.op(f"arith.shrsi {value}, {s.const(7)}", "i32")
    index = s.op(f"arith.addi {high}, {s.const(256)}", "i32")
    k = s.cast("index_cast", index, "i32", "index")
    k1 = s.op(f"arith.addi {k}, {s.op('arith.constant 1', 'index')}", "index")
    base = s.cast("extsi", s.op(f"tensor.extract {table}[{k}]", "tensor<513xi16>"), "i16", "i32")
    top = s.cast("extsi", s.op(f"tensor.extract {table}[{k1}]", "tensor<513xi16>"), "i16", "i32")
    slope = s.cast("extsi", s.cast("trunci", s.op(f"arith.subi {top}, {base}", "i32"), "i32", "i16"), "i16", "i32")
    offset = s.op(f"arith.andi {value}, {s.const(0x7F)}", "i32")
    step = s.op(f"arith.muli {slope}, {offset}", "i32")
    rounded = s.op(f"arith.addi {step}, {s.const(64)}", "i32")
    delta = s.op(f"arith.shrsi {rounded}, {s.const(7)}", "i32")
    return s.cast("extsi", s.cast("trunci", s.op(f"arith.addi {base}, {delta}", "i32"), "i32", "i16"), "i16", "i32")


def _softmax_int16_function(name: str, t: ir.RankedTensorType, input_scale: float, beta: float) -> str:
    """func @name(x: int16) -> int16, TFLite Micro's SoftmaxInt16 over the last axis."""
    exp_table, reciprocal_table = softmax_int16_tables()
    rescale = quantize_multiplier(float(np.float32(input_scale)) * float(np.float32(beta)) / (10.0 / 65535.0))
    exp = Scalars()  # %w (the input) and %m (the row's maximum) -> the exp, Q0.15
    scaled = exp.rescale(exp.op("arith.subi %w, %m", "i32"), rescale)
    centered = exp.clamp(exp.op(f"arith.addi {scaled}, {exp.const(32767)}", "i32"), -32768, 32767)
    exp_value = _lut_lookup(exp, centered, "%exp_table")
    recip = Scalars("r")  # %total (the row's sum of exps) -> the reciprocal, and its right shift
    headroom = recip.op("math.ctlz %total", "i32")
    total64 = recip.cast("extsi", "%total", "i32", "i64")
    up = recip.cast("extsi", recip.op(f"arith.subi {headroom}, {recip.const(1)}", "i32"), "i32", "i64")
    wide = recip.op(f"arith.shli {total64}, {up}", "i64")
    nudged = recip.op(f"arith.addi {wide}, {recip.const(1 << 13, 'i64')}", "i64")
    shifted = recip.cast("trunci", recip.op(f"arith.shrsi {nudged}, {recip.const(14, 'i64')}", "i64"), "i64", "i32")
    centered_sum = recip.clamp(recip.op(f"arith.subi {shifted}, {recip.const((1 << 15) + (1 << 16))}", "i32"),
                               -32768, 32767)
    reciprocal = _lut_lookup(recip, centered_sum, "%reciprocal_table")
    right_shift = recip.op(f"arith.subi {recip.const(31)}, {headroom}", "i32")
    out = Scalars("o")  # an exp, %recip0 (the reciprocal), %recip1 (the right shift) -> the output
    e64, r64 = out.cast("extsi", exp_value, "i32", "i64"), out.cast("extsi", "%recip0", "i32", "i64")
    product = out.op(f"arith.muli {e64}, {r64}", "i64")
    shift64 = out.cast("extsi", "%recip1", "i32", "i64")
    below = out.op(f"arith.subi {shift64}, {out.const(1, 'i64')}", "i64")
    half = out.op(f"arith.shli {out.const(1, 'i64')}, {below}", "i64")
    summed = out.op(f"arith.addi {product}, {half}", "i64")
    result = out.cast("trunci", out.op(f"arith.shrsi {summed}, {shift64}", "i64"), "i64", "i32")
    out_value = out.cast("trunci", out.clamp(result, 0, 32767), "i32", "i16")

    def table(v: list[int]) -> str:
        return ", ".join(map(str, v))
    constants = (f"    %exp_table = arith.constant dense<[{table(exp_table)}]> : tensor<513xi16>\n"
                 f"    %reciprocal_table = arith.constant dense<[{table(reciprocal_table)}]> : tensor<513xi16>")
    return _softmax_module(name, t, t, constants, exp.lines, exp_value, recip, (reciprocal, right_shift),
                           [*exp.lines, *out.lines], out_value)


def _requantize_function(name: str, t_in: ir.RankedTensorType, t_out: ir.RankedTensorType, model: TfliteModel,
                         op: TfliteOperator) -> str:
    """func @name(x) -> y: TFLite Micro's Requantize, element by element."""
    x, y = model.tensor(op.inputs[0]), model.tensor(op.outputs[0])
    rescale = quantize_multiplier(float(np.float32(x.scale[0])) / float(np.float32(y.scale[0])))
    x_zp = x.zero_point[0] if x.zero_point else 0
    y_zp = y.zero_point[0] if y.zero_point else 0
    source, target = str(t_in.element_type), str(t_out.element_type)
    bits = int(target[1:])
    s = Scalars()
    value = s.op(f"arith.subi {s.cast('extsi', '%v', source, 'i32') if source != 'i32' else '%v'}, {s.const(x_zp)}",
                 "i32")
    value = s.op(f"arith.addi {s.rescale(value, rescale)}, {s.const(y_zp)}", "i32")
    if bits < 32:
        value = s.cast("trunci", s.clamp(value, -(1 << (bits - 1)), (1 << (bits - 1)) - 1), "i32", target)
    rank = t_in.rank
    dims = ", ".join(f"d{k}" for k in range(rank))
    indent = "\n"
    return f"""
module {{
  func.func private @{name}(%x: {t_in}) -> {t_out} {{
    %init = tensor.empty() : {t_out}
    %y = linalg.generic {{indexing_maps = [affine_map<({dims}) -> ({dims})>, affine_map<({dims}) -> ({dims})>],
                         iterator_types = [{", ".join(['"parallel"'] * rank)}]}}
        ins(%x : {t_in}) outs(%init : {t_out}) {{
      ^bb0(%v: {source}, %unused: {target}):
{indent.join(s.lines)}
        linalg.yield {value} : {target}
    }} -> {t_out}
    return %y : {t_out}
  }}
}}"""


def _softmax_beta(op: TfliteOperator) -> float:
    """SoftmaxOptions.beta: the schema's default 0 when absent (TFLite Micro's parser leaves it 0 too)."""
    import flatbuffers
    return op.options.scalar(0, flatbuffers.number_types.Float32Flags, 0.0) if op.options is not None else 0.0


def lower_placeholders(module: ir.Module, model: TfliteModel) -> int:
    """Replace each `tosa.custom` placeholder `fdt.<index>` by a call to that operator's lowering; how many."""
    by_index = {op.index: op for op in model.operators}
    found = 0
    with module.context, ir.Location.unknown():
        for custom in walk_ops(module.operation):
            if custom.name != "tosa.custom":
                continue
            name = ir.StringAttr(custom.attributes["operator_name"]).value
            if not name.startswith(PLACEHOLDER_PREFIX):
                continue
            op = by_index[int(name[len(PLACEHOLDER_PREFIX):])]
            t_in, t_out = ir.RankedTensorType(custom.operands[0].type), ir.RankedTensorType(custom.results[0].type)
            function = f"fdt_{op.name.lower()}_{op.index}"
            if op.name == "SOFTMAX" and str(t_in.element_type) == "i16":
                text = _softmax_int16_function(function, t_in, model.tensor(op.inputs[0]).scale[0], _softmax_beta(op))
            elif op.name == "SOFTMAX":
                x = model.tensor(op.inputs[0])
                text = _softmax_function(function, t_in, t_out, *_exp_tables(x.scale[0], _softmax_beta(op)))
            else:
                text = _requantize_function(function, t_in, t_out, model, op)
            with ir.InsertionPoint(custom), custom.location:
                call = call_new_function(module, text, [custom.operands[0]])
            custom.results[0].replace_all_uses_with(call.results[0])
            custom.erase()
            found += 1
    if found:
        run_pipeline(module, "builtin.module(inline,symbol-dce)")
    return found
