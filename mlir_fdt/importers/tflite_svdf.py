"""SVDF, which tosa-converter-for-tflite leaves as `tfl.svdf`, lowered by mlir-fdt itself as TFLite Micro's
integer kernel computes it (`EvalIntegerSvdfReference`: int8 input, feature weights and output, int16 or int8
time weights and activation state, int32 bias), with the activation state **persistent**.

An SVDF is stateful: its activation state (a variable tensor, `filters x memory` per batch) keeps the feature
projections of the last `memory` inferences, and each inference shifts it by one and appends the new one. The
state lives where TFLite Micro keeps variable tensors, outside the scratch memory: here a mutable
`memref.global` per SVDF (zero point at program load, like TFLite Micro after allocation), which the static
library places in `.bss`/`.data` (reported as `object_ram_bytes`), read and written once per inference. So
consecutive inferences see the state as TFLite Micro's interpreter does; reloading the program resets it.

One inference, per batch b (TFLite Micro's order of operations and integer arithmetic):
  feature[f] = clamp(rescale1(sum_i wf[f, i] (x[i] - x_zp)), T) + state_zp      (T: the state's type)
  state[f, :] = state[f, 1:] ++ [feature[f]]
  time[f]    = sum_m wt[f, m] (state[f, m] - state_zp)
  out[u]     = clamp(rescale2(bias[u] + sum_r time[u * rank + r]) + out_zp, int8)
with rescale1/2 TFLite's double-rounding MultiplyByQuantizedMultiplier of the scales TFLite Micro's Prepare
computes in float32 (input x feature weights / state, state x time weights / output). The fused activation is
not applied (TFLite Micro's integer kernel does not; the int8 output clamp is its RELU at zero point -128).
"""

from __future__ import annotations

from dataclasses import dataclass

import flatbuffers
import numpy as np

from ..ir import call_new_function, ir
from .integer_scalars import Scalars
from .lstm_int8_params import Rescale, quantize_multiplier
from .tflite_flatbuffer import TfliteModel, TfliteOperator
from .tflite_unconverted import inline_lowerings, replace_by_call, unconverted_operators

OP_NAME = "SVDF"
TFL_OP = "tfl.svdf"
INPUT, WEIGHTS_FEATURE, WEIGHTS_TIME, BIAS, STATE = range(5)
STATE_GLOBAL_PREFIX = "fdt_svdf_state_"  # the persistent state of SVDF k: @fdt_svdf_state_<k>


@dataclass(frozen=True)
class SvdfShape:
    batch: int
    inputs: int
    filters: int
    rank: int
    memory: int

    @property
    def units(self) -> int:
        return self.filters // self.rank

    @property
    def macs(self) -> int:
        return self.batch * self.filters * (self.inputs + self.memory)


@dataclass(frozen=True)
class SvdfQuantization:
    input_zero_point: int
    state_zero_point: int
    output_zero_point: int
    state_type: str          # i16 | i8
    feature: Rescale         # input x feature weights -> state
    output: Rescale          # state x time weights -> output


def _rank(op: TfliteOperator) -> int:
    """SVDFOptions.rank (field 0)."""
    return op.options.scalar(0, flatbuffers.number_types.Int32Flags, 1) if op.options is not None else 1


def _activation(op: TfliteOperator) -> int:
    """SVDFOptions.fused_activation_function (field 1)."""
    return op.options.scalar(1, flatbuffers.number_types.Int8Flags, 0) if op.options is not None else 0


def unsupported_svdf_reason(model: TfliteModel, op: TfliteOperator) -> str | None:
    """Why mlir-fdt does not lower this SVDF (in a user's words), or None if it does."""
    t = [model.tensor(name) if name else None for name in op.inputs] + [None] * (5 - len(op.inputs))
    x, wf, wt, bias, state = t[:5]
    out = model.tensor(op.outputs[0]) if op.outputs else None
    if any(v is None for v in (x, wf, wt, state, out)):
        return "an SVDF with a missing input (feature or time weights, activation state)"
    if bias is None:  # (float32 too: TFLite Micro's Prepare crashes, measured)
        return ("an SVDF without a bias, which TFLite Micro cannot run (its Prepare reads the bias's scale): give it "
                "a zero bias")
    if x.dtype == "float32":
        if any(v.dtype != "float32" for v in (wf, wt, state, out, bias)):
            return ("a hybrid SVDF (float32 input, quantized weights), which TFLite Micro does not run: quantize the "
                    "whole model, or keep it float32")
        if _activation(op) not in _FLOAT_ACTIVATIONS:
            return f"a float32 SVDF whose fused activation (TFLite code {_activation(op)}) TFLite Micro does not apply"
        return _shape_reason(x, wf, wt, op)
    if (x.dtype, wf.dtype, out.dtype) != ("int8", "int8", "int8") or wt.dtype not in ("int16", "int8") \
            or state.dtype != wt.dtype or bias.dtype != "int32":
        return (f"an SVDF with {x.dtype} input, {wf.dtype} feature weights, {wt.dtype} time weights and a "
                f"{state.dtype} state, which TFLite Micro's kernel does not run (int8 input, feature weights and "
                "output; int16 or int8 time weights and state; int32 bias)")
    if any(len(v.scale) != 1 for v in (x, wf, wt, state, out)):
        return "an SVDF with per-channel quantized weights, which TFLite Micro's SVDF kernel does not apply"
    return _shape_reason(x, wf, wt, op)


def _shape_reason(x, wf, wt, op: TfliteOperator) -> str | None:
    if len(x.shape) != 2 or len(wf.shape) != 2 or len(wt.shape) != 2:
        return f"an SVDF with a rank-{len(x.shape)} input (expected [batch, features])"
    if wf.shape[0] % _rank(op):
        return f"an SVDF whose {wf.shape[0]} filters are not a multiple of its rank {_rank(op)}"
    return None


def svdf_shape(model: TfliteModel, op: TfliteOperator) -> SvdfShape:
    x, wf, wt = (model.tensor(op.inputs[i]) for i in (INPUT, WEIGHTS_FEATURE, WEIGHTS_TIME))
    return SvdfShape(batch=x.shape[0], inputs=x.shape[1], filters=wf.shape[0], rank=_rank(op), memory=wt.shape[1])


def svdf_quantization(model: TfliteModel, op: TfliteOperator) -> SvdfQuantization:
    """The integer constants TFLite Micro's `PrepareSvdf` derives (its scale products in float32)."""
    x, wf, wt, state = (model.tensor(op.inputs[i]) for i in (INPUT, WEIGHTS_FEATURE, WEIGHTS_TIME, STATE))
    out = model.tensor(op.outputs[0])
    f32 = np.float32
    scale_1 = f32(f32(x.scale[0]) * f32(wf.scale[0])) / f32(state.scale[0])
    scale_2 = f32(f32(state.scale[0]) * f32(wt.scale[0])) / f32(out.scale[0])

    def zero_point(t) -> int:
        return t.zero_point[0] if t.zero_point else 0
    state_type = "i16" if state.dtype == "int16" else "i8"
    return SvdfQuantization(zero_point(x), zero_point(state), zero_point(out), state_type,
                            quantize_multiplier(float(scale_1)), quantize_multiplier(float(scale_2)))


@dataclass(frozen=True)
class _Flavour:
    """Element types and scalar code of one SVDF variant (int8 with an int16/int8 state, or float32)."""
    x: str
    weight: str
    state: str
    acc: str
    out: str
    state_init: str
    input_term: str     # the feature dot product's term, from %xv and %wv
    time_term: str      # the time dot product's term, from %wv (time weight) and %sv (state)
    add: str
    feature: Scalars    # %d (the feature sum) -> the state's element
    feature_value: str
    output: Scalars     # %a (bias + the rank's time sums) -> the output element
    out_value: str
    zero: str
    constants: str = ""  # lines at 4 spaces: the zero points the terms read


def _integer_flavour(q: SvdfQuantization) -> _Flavour:
    t = q.state_type
    bits = 16 if t == "i16" else 8
    feature = Scalars()
    clamped = feature.clamp(feature.rescale("%d", q.feature), -(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    feature_value = feature.cast("trunci", feature.op(f"arith.addi {clamped}, {feature.const(q.state_zero_point)}",
                                                      "i32"), "i32", t)
    output = Scalars()
    out_value = output.cast("trunci", output.clamp(output.op(
        f"arith.addi {output.rescale('%a', q.output)}, {output.const(q.output_zero_point)}", "i32"), -128, 127),
        "i32", "i8")
    return _Flavour(
        "i8", "i8", t, "i32", "i8", str(q.state_zero_point),
        """%xw = arith.extsi %xv : i8 to i32
        %xd = arith.subi %xw, %x_zp : i32
        %ww = arith.extsi %wv : i8 to i32
        %p = arith.muli %ww, %xd : i32""",
        f"""%ww = arith.extsi %wv : {t} to i32
        %sw = arith.extsi %sv : {t} to i32
        %sd = arith.subi %sw, %state_zp : i32
        %p = arith.muli %ww, %sd : i32""",
        "arith.addi", feature, feature_value, output, out_value, "0",
        f"\n    %x_zp = arith.constant {q.input_zero_point} : i32"
        f"\n    %state_zp = arith.constant {q.state_zero_point} : i32")


# schema.fbs ActivationFunctionType -> the float32 activation TFLite Micro's ActivationValFloat applies
_FLOAT_ACTIVATIONS = {0: None, 1: (0.0, None), 2: (-1.0, 1.0), 3: (0.0, 6.0), 4: "tanh"}


def _float_flavour(activation: int) -> _Flavour:
    output = Scalars()
    value = "%a"
    kind = _FLOAT_ACTIVATIONS[activation]
    if kind == "tanh":
        value = output.op(f"math.tanh {value}", "f32")
    elif kind is not None:
        low, high = kind
        value = output.op(f"arith.maximumf {value}, {output.op(f'arith.constant {low:.1f}', 'f32')}", "f32")
        if high is not None:
            value = output.op(f"arith.minimumf {value}, {output.op(f'arith.constant {high:.1f}', 'f32')}", "f32")
    return _Flavour("f32", "f32", "f32", "f32", "f32", "0.0", "%p = arith.mulf %wv, %xv : f32",
                    "%p = arith.mulf %wv, %sv : f32", "arith.addf", Scalars(), "%d", output, value, "0.0")


def svdf_function(name: str, state: str, shape: SvdfShape, flavour: _Flavour, has_bias: bool) -> str:
    """MLIR text of a module holding the state `memref.global @state` and `func.func private @name(x, feature
    weights, time weights[, bias]) -> output`, which reads and updates the state."""
    b, i, f, r, u, m = shape.batch, shape.inputs, shape.filters, shape.rank, shape.units, shape.memory
    v = flavour
    t, acc = v.state, v.acc
    state_type = f"memref<{b}x{f}x{m}x{t}>"
    state_tensor = f"tensor<{b}x{f}x{m}x{t}>"
    kept = "" if m == 1 else f"""
    %kept = tensor.extract_slice %old[0, 0, 1] [{b}, {f}, {m - 1}] [1, 1, 1] :
        {state_tensor} to tensor<{b}x{f}x{m - 1}x{t}>
    %shifted = tensor.insert_slice %kept into %new_empty[0, 0, 0] [{b}, {f}, {m - 1}] [1, 1, 1] :
        tensor<{b}x{f}x{m - 1}x{t}> into {state_tensor}"""
    bias_arg = f", %bias: tensor<{u}x{acc}>" if has_bias else ""
    bias_init = f"""
    %sums = linalg.generic {{indexing_maps = [affine_map<(b, u) -> (u)>, affine_map<(b, u) -> (b, u)>],
                            iterator_types = ["parallel", "parallel"]}}
        ins(%bias : tensor<{u}x{acc}>) outs(%sums_empty : tensor<{b}x{u}x{acc}>) {{
      ^bb0(%v: {acc}, %unused: {acc}):
        linalg.yield %v : {acc}
    }} -> tensor<{b}x{u}x{acc}>""" if has_bias else f"""
    %sums = linalg.fill ins(%zero : {acc}) outs(%sums_empty : tensor<{b}x{u}x{acc}>) -> tensor<{b}x{u}x{acc}>"""
    return f"""
module {{
  memref.global "private" @{state} : {state_type} = dense<{v.state_init}>
  func.func private @{name}(%x: tensor<{b}x{i}x{v.x}>, %wf: tensor<{f}x{i}x{v.weight}>,
                            %wt: tensor<{f}x{m}x{t}>{bias_arg})
      -> tensor<{b}x{u}x{v.out}> {{
    %zero = arith.constant {v.zero} : {acc}{v.constants}
    %global = memref.get_global @{state} : {state_type}
    %old = bufferization.to_tensor %global restrict : {state_type} to {state_tensor}
    %dot_empty = tensor.empty() : tensor<{b}x{f}x{acc}>
    %dot_zero = linalg.fill ins(%zero : {acc}) outs(%dot_empty : tensor<{b}x{f}x{acc}>) -> tensor<{b}x{f}x{acc}>
    %dot = linalg.generic {{indexing_maps = [affine_map<(b, f, i) -> (b, i)>, affine_map<(b, f, i) -> (f, i)>,
                                            affine_map<(b, f, i) -> (b, f)>],
                           iterator_types = ["parallel", "parallel", "reduction"]}}
        ins(%x, %wf : tensor<{b}x{i}x{v.x}>, tensor<{f}x{i}x{v.weight}>) outs(%dot_zero : tensor<{b}x{f}x{acc}>) {{
      ^bb0(%xv: {v.x}, %wv: {v.weight}, %acc: {acc}):
        {v.input_term}
        %s = {v.add} %acc, %p : {acc}
        linalg.yield %s : {acc}
    }} -> tensor<{b}x{f}x{acc}>
    %feature_empty = tensor.empty() : tensor<{b}x{f}x1x{t}>
    %feature = linalg.generic {{indexing_maps = [affine_map<(b, f, o) -> (b, f)>, affine_map<(b, f, o) -> (b, f, o)>],
                               iterator_types = ["parallel", "parallel", "parallel"]}}
        ins(%dot : tensor<{b}x{f}x{acc}>) outs(%feature_empty : tensor<{b}x{f}x1x{t}>) {{
      ^bb0(%d: {acc}, %unused: {t}):
{chr(10).join(v.feature.lines)}
        linalg.yield {v.feature_value} : {t}
    }} -> tensor<{b}x{f}x1x{t}>
    %new_empty = tensor.empty() : {state_tensor}{kept}
    %new = tensor.insert_slice %feature into {"%shifted" if m > 1 else "%new_empty"}[0, 0, {m - 1}]
        [{b}, {f}, 1] [1, 1, 1] :
        tensor<{b}x{f}x1x{t}> into {state_tensor}
    %time_empty = tensor.empty() : tensor<{b}x{f}x{acc}>
    %time_zero = linalg.fill ins(%zero : {acc}) outs(%time_empty : tensor<{b}x{f}x{acc}>) -> tensor<{b}x{f}x{acc}>
    %time = linalg.generic {{indexing_maps = [affine_map<(b, f, m) -> (f, m)>, affine_map<(b, f, m) -> (b, f, m)>,
                                             affine_map<(b, f, m) -> (b, f)>],
                            iterator_types = ["parallel", "parallel", "reduction"]}}
        ins(%wt, %new : tensor<{f}x{m}x{t}>, {state_tensor}) outs(%time_zero : tensor<{b}x{f}x{acc}>) {{
      ^bb0(%wv: {t}, %sv: {t}, %acc: {acc}):
        {v.time_term}
        %s = {v.add} %acc, %p : {acc}
        linalg.yield %s : {acc}
    }} -> tensor<{b}x{f}x{acc}>
    %by_unit = tensor.expand_shape %time [[0], [1, 2]] output_shape [{b}, {u}, {r}] :
        tensor<{b}x{f}x{acc}> into tensor<{b}x{u}x{r}x{acc}>
    %sums_empty = tensor.empty() : tensor<{b}x{u}x{acc}>{bias_init}
    %reduced = linalg.generic {{indexing_maps = [affine_map<(b, u, r) -> (b, u, r)>, affine_map<(b, u, r) -> (b, u)>],
                               iterator_types = ["parallel", "parallel", "reduction"]}}
        ins(%by_unit : tensor<{b}x{u}x{r}x{acc}>) outs(%sums : tensor<{b}x{u}x{acc}>) {{
      ^bb0(%v: {acc}, %acc: {acc}):
        %s = {v.add} %acc, %v : {acc}
        linalg.yield %s : {acc}
    }} -> tensor<{b}x{u}x{acc}>
    %out_empty = tensor.empty() : tensor<{b}x{u}x{v.out}>
    %out = linalg.generic {{indexing_maps = [affine_map<(b, u) -> (b, u)>, affine_map<(b, u) -> (b, u)>],
                           iterator_types = ["parallel", "parallel"]}}
        ins(%reduced : tensor<{b}x{u}x{acc}>) outs(%out_empty : tensor<{b}x{u}x{v.out}>) {{
      ^bb0(%a: {acc}, %unused: {v.out}):
{chr(10).join(v.output.lines)}
        linalg.yield {v.out_value} : {v.out}
    }} -> tensor<{b}x{u}x{v.out}>
    bufferization.materialize_in_destination %new in restrict writable %global : ({state_tensor}, {state_type}) -> ()
    return %out : tensor<{b}x{u}x{v.out}>
  }}
}}"""


def _flavour(model: TfliteModel, op: TfliteOperator) -> _Flavour:
    if model.tensor(op.inputs[INPUT]).dtype == "float32":
        return _float_flavour(_activation(op))
    return _integer_flavour(svdf_quantization(model, op))


def lower_svdfs(module: ir.Module, model: TfliteModel) -> None:
    """Replace every `tfl.svdf` of the converted module (matched in order with the flatbuffer's SVDF operators)
    by an inlined call to its lowering; each gets its own persistent state."""
    pairs = unconverted_operators(module, model, TFL_OP, OP_NAME)
    if not pairs:
        return
    with module.context, ir.Location.unknown():
        for k, (tfl, op) in enumerate(pairs):
            has_bias = len(op.inputs) > BIAS and bool(op.inputs[BIAS])
            text = svdf_function(f"fdt_svdf_{k}", f"{STATE_GLOBAL_PREFIX}{k}", svdf_shape(model, op),
                                 _flavour(model, op), has_bias)
            operands = [tfl.operands[i] for i in (INPUT, WEIGHTS_FEATURE, WEIGHTS_TIME)]
            if has_bias:
                operands.append(tfl.operands[BIAS])
            with ir.InsertionPoint(tfl), tfl.location:
                call = call_new_function(module, text, operands)
            replace_by_call(model, op, tfl, call)
    inline_lowerings(module)

