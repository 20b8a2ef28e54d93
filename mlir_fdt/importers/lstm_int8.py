"""An int8 UNIDIRECTIONAL_SEQUENCE_LSTM (int8 activations and weights, int16 cell state, int32 biases) as a
function of nested `scf.for` loops on tensors, bit-exact with TFLite Micro's `EvalLstm<int8_t, int8_t,
int16_t, int32_t>`: the loop structure and memory of lstm_float.py (time, batch, units, then the input and
recurrent dot products; the cell state the only extra buffer, h_{t-1} read from the output's row t-1), with
TFLite Micro's integer arithmetic on scalars.

Per gate: the input part `sum_k (x_k - x_zp) W_jk + bias_j` and the recurrent part `sum_k (h_k - h_zp) R_jk`,
each rescaled to int16 Q3.12 with saturation, added with saturation, then the int16 sigmoid (or the cell
gate's tanh) of TFLite's reference integer Logistic/Tanh: an interpolation in `integer_scalars.SIGMOID_TABLE`,
Q0.15 out.
Cell: c = sat16(rescale(f * c)) + sat16(rescale(i * g)) saturated, then clipped; hidden: h = sat8(h_zp +
rescale(tanh(c) * o)). Every rescale is TFLite's double-rounding MultiplyByQuantizedMultiplier with the
constants of lstm_int8_params.py. The hidden state the first step reads is the one the inference before left (at
its zero point when the program starts, as TFLite Micro after allocation: a recurrent part of exactly 0).
"""

from __future__ import annotations

from .integer_scalars import Scalars, sigmoid_table_constant
from .lstm_int8_params import LstmQuantization
from .lstm_loops import LstmShape, LstmTypes, lstm_loops

def _step(shape: LstmShape, q: LstmQuantization) -> tuple[str, str, str]:
    """(scalar code of one unit's step, its new cell value, its new hidden value), as i32 SSA names."""
    s = Scalars()
    int16 = (-32768, 32767)
    gates = []
    for n, g in enumerate("ifco"):
        with_bias = s.op(f"arith.addi %from_x#{n}, %bias_{g}", "i32")
        from_x = s.clamp(s.rescale(with_bias, q.input_gates[n]), *int16)
        from_h = s.clamp(s.rescale(f"%from_h#{n}", q.recurrent_gates[n]), *int16)
        pre = s.clamp(s.op(f"arith.addi {from_x}, {from_h}", "i32"), *int16)
        cell_gate_tanh = g == "c" and shape.cell_activation == "tanh"
        gates.append(s.tanh(pre, 3, 0) if cell_gate_tanh else s.sigmoid(pre))
    i, f, g, o = gates
    kept = s.clamp(s.rescale(s.op(f"arith.muli {f}, %cell_v", "i32"), q.forget_cell), *int16)
    added = s.clamp(s.rescale(s.op(f"arith.muli {i}, {g}", "i32"), q.input_cell), *int16)
    cell = s.clamp(s.op(f"arith.addi {kept}, {added}", "i32"), *int16)
    if q.cell_clip is not None:
        cell = s.op(f"arith.maxsi {s.op(f'arith.minsi {cell}, {s.const(q.cell_clip)}', 'i32')}, "
                    f"{s.const(-q.cell_clip)}", "i32")
    squashed = s.tanh(cell, *q.cell_tanh_scaling)
    scaled = s.rescale(s.op(f"arith.muli {squashed}, {o}", "i32"), q.hidden)
    hidden = s.clamp(s.op(f"arith.addi {scaled}, %h_zero_point", "i32"), -128, 127)
    return "\n".join(s.lines), cell, hidden


_TYPES = LstmTypes(element="i8", weight="i8", bias="i32", acc="i32", cell="i16", zero_points=True)


def lstm_int8_function(name: str, shape: LstmShape, q: LstmQuantization) -> str:
    """MLIR text of a module holding `func.func private @name(x, 4 input weights, 4 recurrent weights,
    4 biases) -> output` (int8, int8, int32; gates in TFLite's order input, forget, cell, output), and its state
    globals `@<name>_state_h/_c` (lstm_loops.py: the hidden state starts at its zero point)."""
    body, cell_next, h_next = _step(shape, q)
    constants = (f"  %x_zero_point = arith.constant {q.input_zero_point} : i32\n"
                 f"  %h_zero_point = arith.constant {q.hidden_zero_point} : i32\n"
                 f"  {sigmoid_table_constant()}")
    s = shape.units
    lines = [f"        %bias_{g} = tensor.extract %b{g}[%j] : tensor<{s}xi32>" for g in "ifco"]
    lines += [f"        %cell_q = tensor.extract %cell[%b, %j] : tensor<{shape.batch}x{s}xi16>",
              "        %cell_v = arith.extsi %cell_q : i16 to i32", body,
              f"        %cell_next_q = arith.trunci {cell_next} : i32 to i16",
              f"        %h_next_q = arith.trunci {h_next} : i32 to i8"]
    return lstm_loops(name, f"{name}_state", shape, _TYPES, constants, "\n".join(lines), "%cell_next_q", "%h_next_q",
                      str(q.hidden_zero_point))
