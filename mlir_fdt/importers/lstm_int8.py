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

from string import Template

from ..analysis.macs import MACS_ATTR
from .lstm_float import LstmShape
from .lstm_int8_params import SIGMOID_TABLE, LstmQuantization, Rescale

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


_FUNCTION = Template("""
module {
func.func private @${name}(%x: tensor<${X}>,
    %wi: tensor<${S}x${I}xi8>, %wf: tensor<${S}x${I}xi8>, %wc: tensor<${S}x${I}xi8>, %wo: tensor<${S}x${I}xi8>,
    %ri: tensor<${S}x${S}xi8>, %rf: tensor<${S}x${S}xi8>, %rc: tensor<${S}x${S}xi8>, %ro: tensor<${S}x${S}xi8>,
    %bi: tensor<${S}xi32>, %bf: tensor<${S}xi32>, %bc: tensor<${S}xi32>, %bo: tensor<${S}xi32>) -> tensor<${Y}> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %steps = arith.constant ${T} : index
  %batch = arith.constant ${B} : index
  %units = arith.constant ${S} : index
  %features = arith.constant ${I} : index
  %zero = arith.constant 0 : i32
  %x_zero_point = arith.constant ${x_zp} : i32
  %h_zero_point = arith.constant ${h_zp} : i32
  %sigmoid_table = arith.constant dense<[${table}]> : tensor<256xi16>
  %out_empty = tensor.empty() : tensor<${Y}>
  %zero_i8 = arith.constant 0 : i8
  %out0 = linalg.fill ins(%zero_i8 : i8) outs(%out_empty : tensor<${Y}>) -> tensor<${Y}>
  %cell_empty = tensor.empty() : tensor<${B}x${S}xi16>
  %zero_i16 = arith.constant 0 : i16
  %cell0 = linalg.fill ins(%zero_i16 : i16) outs(%cell_empty : tensor<${B}x${S}xi16>) -> tensor<${B}x${S}xi16>
  %result:2 = scf.for %t = %c0 to %steps step %c1 iter_args(%out_t = %out0, %cell_t = %cell0)
      -> (tensor<${Y}>, tensor<${B}x${S}xi16>) {
    %tp = arith.subi %t, %c1 : index
    %first = arith.cmpi eq, %t, %c0 : index
    %recurrent = arith.select %first, %c0, %units : index
    %by_batch:2 = scf.for %b = %c0 to %batch step %c1 iter_args(%out_b = %out_t, %cell_b = %cell_t)
        -> (tensor<${Y}>, tensor<${B}x${S}xi16>) {
      %by_unit:2 = scf.for %j = %c0 to %units step %c1 iter_args(%out = %out_b, %cell = %cell_b)
          -> (tensor<${Y}>, tensor<${B}x${S}xi16>) {
        %from_x:4 = scf.for %k = %c0 to %features step %c1
            iter_args(%ai = %zero, %af = %zero, %ac = %zero, %ao = %zero)
            -> (i32, i32, i32, i32) {
          %xq = tensor.extract %x${x_index} : tensor<${X}>
          %xw = arith.extsi %xq : i8 to i32
          %xv = arith.subi %xw, %x_zero_point : i32
${x_products}
          scf.yield %ni, %nf, %nc, %no : i32, i32, i32, i32
        }
        %from_h:4 = scf.for %k = %c0 to %recurrent step %c1
            iter_args(%ai = %zero, %af = %zero, %ac = %zero, %ao = %zero)
            -> (i32, i32, i32, i32) {
          %hq = tensor.extract %out${h_index} : tensor<${Y}>
          %hw = arith.extsi %hq : i8 to i32
          %hv = arith.subi %hw, %h_zero_point : i32
${h_products}
          scf.yield %ni, %nf, %nc, %no : i32, i32, i32, i32
        }
        %bias_i = tensor.extract %bi[%j] : tensor<${S}xi32>
        %bias_f = tensor.extract %bf[%j] : tensor<${S}xi32>
        %bias_c = tensor.extract %bc[%j] : tensor<${S}xi32>
        %bias_o = tensor.extract %bo[%j] : tensor<${S}xi32>
        %cell_q = tensor.extract %cell[%b, %j] : tensor<${B}x${S}xi16>
        %cell_v = arith.extsi %cell_q : i16 to i32
${body}
        %cell_next_q = arith.trunci ${cell_next} : i32 to i16
        %h_next_q = arith.trunci ${h_next} : i32 to i8
        %cell_next = tensor.insert %cell_next_q into %cell[%b, %j] : tensor<${B}x${S}xi16>
        %out_next = tensor.insert %h_next_q into %out${y_index} : tensor<${Y}>
        scf.yield %out_next, %cell_next : tensor<${Y}>, tensor<${B}x${S}xi16>
      }
      scf.yield %by_unit#0, %by_unit#1 : tensor<${Y}>, tensor<${B}x${S}xi16>
    }
    scf.yield %by_batch#0, %by_batch#1 : tensor<${Y}>, tensor<${B}x${S}xi16>
  } {${macs_attr} = ${macs} : i64}
  return %result#0 : tensor<${Y}>
}
}
""")


def _products(value: str, prefix: str, rows: int, cols: int) -> str:
    """The four gates' multiply-accumulate of `value` with row j of their int8 weights `prefix`{i,f,c,o}."""
    lines = []
    for g in "ifco":
        lines += [f"          %w{g}q = tensor.extract %{prefix}{g}[%j, %k] : tensor<{rows}x{cols}xi8>",
                  f"          %w{g}v = arith.extsi %w{g}q : i8 to i32",
                  f"          %p{g} = arith.muli %{value}, %w{g}v : i32",
                  f"          %n{g} = arith.addi %a{g}, %p{g} : i32"]
    return "\n".join(lines)


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


def lstm_int8_function(name: str, shape: LstmShape, q: LstmQuantization) -> str:
    """MLIR text of a module holding `func.func private @name(x, 4 input weights, 4 recurrent weights,
    4 biases) -> output` (int8, int8, int32; gates in TFLite's order input, forget, cell, output)."""
    dims = {"B": shape.batch, "T": shape.time, "I": shape.inputs, "S": shape.units}
    index = "[%t, %b, {k}]" if shape.time_major else "[%b, %t, {k}]"
    h_index = "[%tp, %b, %k]" if shape.time_major else "[%b, %tp, %k]"
    body, cell_next, h_next = _step(shape, q)
    table = ", ".join(str(v - (1 << 16) if v >= 1 << 15 else v) for v in SIGMOID_TABLE)  # uint16 bits as i16
    return _FUNCTION.substitute(
        dims, name=name, X=shape.sequence(shape.inputs, "i8"), Y=shape.sequence(shape.units, "i8"),
        x_index=index.format(k="%k"), h_index=h_index, y_index=index.format(k="%j"),
        x_zp=q.input_zero_point, h_zp=q.hidden_zero_point, table=table,
        x_products=_products("xv", "w", shape.units, shape.inputs),
        h_products=_products("hv", "r", shape.units, shape.units),
        body=body, cell_next=cell_next, h_next=h_next, macs_attr=MACS_ATTR, macs=shape.macs)
