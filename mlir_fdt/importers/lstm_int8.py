"""An int8 UNIDIRECTIONAL_SEQUENCE_LSTM (int8 activations and weights, int16 cell state, int32 biases) as a
function of nested `scf.for` loops on tensors, bit-exact with TFLite Micro's `EvalLstm<int8_t, int8_t,
int16_t, int32_t>`: the loop structure and memory of lstm_float.py (time, batch, units, then the input and
recurrent dot products; the cell state the only extra buffer, h_{t-1} read from the output's row t-1), with
TFLite Micro's integer arithmetic on scalars.

Per gate: the input part `sum_k (x_k - x_zp) W_jk + bias_j` and the recurrent part `sum_k (h_k - h_zp) R_jk`,
each rescaled to int16 Q3.12 with saturation, added with saturation, then the int16 sigmoid (or the cell
gate's tanh) of TFLite's reference integer Logistic/Tanh: an interpolation in `SIGMOID_TABLE`, Q0.15 out.
Cell: c = sat16(rescale(f * c)) + sat16(rescale(i * g)) saturated, then clipped; hidden: h = sat8(h_zp +
rescale(tanh(c) * o)). Every rescale is TFLite's double-rounding MultiplyByQuantizedMultiplier with the
constants of lstm_int8_params.py. At t = 0 the recurrent part is skipped: TFLite Micro's hidden state
starts at its zero point, whose recurrent part is exactly 0.
"""

from __future__ import annotations

from .lstm_int8_params import SIGMOID_TABLE, LstmQuantization, Rescale
from .lstm_loops import LstmShape, LstmTypes, lstm_loops

_INDENT = "        "


class _Scalars:
    """Straight-line scalar MLIR with fresh SSA names (`%s<n>`); constants are emitted where used."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._count = 0

    def _emit(self, text: str) -> str:
        name = f"%s{self._count}"
        self._count += 1
        self.lines.append(f"{_INDENT}{name} = {text}")
        return name

    def op(self, text: str, type_: str) -> str:
        """`text : type_` (the operands' type, as arith's custom syntax takes it)."""
        return self._emit(f"{text} : {type_}")

    def cast(self, kind: str, x: str, source: str, target: str) -> str:
        return self._emit(f"arith.{kind} {x} : {source} to {target}")

    def const(self, value: int, type_: str = "i32") -> str:
        return self.op(f"arith.constant {value}", type_)

    def clamp(self, v: str, low: int, high: int) -> str:
        return self.op(f"arith.minsi {self.op(f'arith.maxsi {v}, {self.const(low)}', 'i32')}, {self.const(high)}",
                       "i32")

    def rescale(self, x: str, r: Rescale) -> str:
        """gemmlowp's SaturatingRoundingDoublingHighMul(x << left, multiplier), then RoundingDivideByPOT (the
        multiplier is never INT32_MIN, so the high multiply never saturates)."""
        if r.shift > 0:  # C's x * (1 << shift) on int32: wraps as shli does
            x = self.op(f"arith.shli {x}, {self.const(r.shift)}", "i32")
        wide = self.cast("extsi", x, "i32", "i64")
        product = self.op(f"arith.muli {wide}, {self.const(r.multiplier, 'i64')}", "i64")
        negative = self.op(f"arith.cmpi slt, {product}, {self.const(0, 'i64')}", "i64")
        nudge = self.op(f"arith.select {negative}, {self.const(1 - (1 << 30), 'i64')}, {self.const(1 << 30, 'i64')}",
                        "i64")
        nudged = self.op(f"arith.addi {product}, {nudge}", "i64")
        high = self.op(f"arith.divsi {nudged}, {self.const(1 << 31, 'i64')}", "i64")  # C division: toward zero
        high = self.cast("trunci", high, "i64", "i32")
        right = max(-r.shift, 0)
        if right == 0:
            return high
        mask = (1 << right) - 1
        remainder = self.op(f"arith.andi {high}, {self.const(mask)}", "i32")
        below_zero = self.op(f"arith.cmpi slt, {high}, {self.const(0)}", "i32")
        threshold = self.op(f"arith.addi {self.const(mask >> 1)}, {self.cast('extui', below_zero, 'i1', 'i32')}",
                            "i32")
        up = self.op(f"arith.cmpi sgt, {remainder}, {threshold}", "i32")
        shifted = self.op(f"arith.shrsi {high}, {self.const(right)}", "i32")
        return self.op(f"arith.addi {shifted}, {self.cast('extui', up, 'i1', 'i32')}", "i32")

    def _interpolate(self, v: str, fraction_bits: int) -> tuple[str, str]:
        """(sign test v >= 0, table interpolation at |v| with `fraction_bits` bits between entries, or the
        saturated value past the table's end)."""
        zero = self.const(0)
        positive = self.op(f"arith.cmpi sge, {v}, {zero}", "i32")
        magnitude = self.op(f"arith.select {positive}, {v}, {self.op(f'arith.subi {zero}, {v}', 'i32')}", "i32")
        entry = self.op(f"arith.shrsi {magnitude}, {self.const(fraction_bits)}", "i32")
        saturated = self.op(f"arith.cmpi sge, {entry}, {self.const(255)}", "i32")
        index = self.cast("index_cast", self.op(f"arith.minsi {entry}, {self.const(254)}", "i32"), "i32", "index")
        next_index = self.op(f"arith.addi {index}, {self.op('arith.constant 1', 'index')}", "index")
        a = self.cast("extui", self.op(f"tensor.extract %sigmoid_table[{index}]", "tensor<256xi16>"), "i16", "i32")
        b = self.cast("extui", self.op(f"tensor.extract %sigmoid_table[{next_index}]", "tensor<256xi16>"), "i16", "i32")
        fraction = self.op(f"arith.andi {magnitude}, {self.const((1 << fraction_bits) - 1)}", "i32")
        step = self.op(f"arith.muli {fraction}, {self.op(f'arith.subi {b}, {a}', 'i32')}", "i32")
        inside = self.op(f"arith.addi {self.op(f'arith.shli {a}, {self.const(fraction_bits)}', 'i32')}, {step}", "i32")
        top = 0x7FFF << 10 if fraction_bits == 9 else 0xFFFF << 8
        return positive, self.op(f"arith.select {saturated}, {self.const(top)}, {inside}", "i32")

    def sigmoid(self, x: str) -> str:
        """reference_integer_ops::Logistic on int16 Q3.12 (input multiplier 3, no shift): Q0.15."""
        positive, r = self._interpolate(self.op(f"arith.muli {x}, {self.const(3)}", "i32"), 9)
        up = self.op(f"arith.addi {r}, {self.const(1 << 9)}", "i32")
        down = self.op(f"arith.subi {self.const((1 << 25) + (1 << 9) - 1)}, {r}", "i32")
        return self.op(f"arith.shrsi {self.op(f'arith.select {positive}, {up}, {down}', 'i32')}, {self.const(10)}",
                       "i32")

    def tanh(self, x: str, multiplier: int, shift: int) -> str:
        """reference_integer_ops::Tanh on int16 after its input scaling ((x * multiplier + round) >> shift): Q0.15."""
        v = self.op(f"arith.muli {x}, {self.const(multiplier)}", "i32")
        if shift > 0:
            v = self.op(f"arith.shrsi {self.op(f'arith.addi {v}, {self.const(1 << (shift - 1))}', 'i32')}, "
                        f"{self.const(shift)}", "i32")
        positive, r = self._interpolate(v, 8)
        up = self.op(f"arith.addi {r}, {self.const((1 << 7) - (1 << 23))}", "i32")
        down = self.op(f"arith.subi {self.const((1 << 23) + (1 << 7) - 1)}, {r}", "i32")
        return self.op(f"arith.shrsi {self.op(f'arith.select {positive}, {up}, {down}', 'i32')}, {self.const(8)}",
                       "i32")


def _step(shape: LstmShape, q: LstmQuantization) -> tuple[str, str, str]:
    """(scalar code of one unit's step, its new cell value, its new hidden value), as i32 SSA names."""
    s = _Scalars()
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
    4 biases) -> output` (int8, int8, int32; gates in TFLite's order input, forget, cell, output)."""
    body, cell_next, h_next = _step(shape, q)
    table = ", ".join(str(v - (1 << 16) if v >= 1 << 15 else v) for v in SIGMOID_TABLE)  # uint16 bits as i16
    constants = (f"  %x_zero_point = arith.constant {q.input_zero_point} : i32\n"
                 f"  %h_zero_point = arith.constant {q.hidden_zero_point} : i32\n"
                 f"  %sigmoid_table = arith.constant dense<[{table}]> : tensor<256xi16>")
    s = shape.units
    lines = [f"        %bias_{g} = tensor.extract %b{g}[%j] : tensor<{s}xi32>" for g in "ifco"]
    lines += [f"        %cell_q = tensor.extract %cell[%b, %j] : tensor<{shape.batch}x{s}xi16>",
              "        %cell_v = arith.extsi %cell_q : i16 to i32", body,
              f"        %cell_next_q = arith.trunci {cell_next} : i32 to i16",
              f"        %h_next_q = arith.trunci {h_next} : i32 to i8"]
    return lstm_loops(name, shape, _TYPES, constants, "\n".join(lines), "%cell_next_q", "%h_next_q")
