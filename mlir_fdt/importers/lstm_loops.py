"""The loop nest both LSTM lowerings share (lstm_float.py, lstm_int8.py): a private function of nested
`scf.for` loops on tensors, time outermost, then batch, then units; per unit the input and recurrent
dot products of the four gates (input, forget, cell, output: TFLite's order) in k order, then the
flavour's scalar step code.

State: TFLite's LSTM keeps its hidden and cell states (variable tensors) from one inference to the next, as
TFLite Micro does until its `Reset` (a streaming model runs one time step an inference): two mutable globals of the
library (`@<state>_h`, `@<state>_c`, their initial value TFLite Micro's reset value: the hidden state's zero point,
a zero cell), read when the inference starts and written when it ends. Memory besides the input and the output:
the cell state (batch x units), the loop's carried tensor. The hidden state h_{t-1} is read from the output row of
step t-1 (at t = 0 from the stored state), and h_t is written straight into row t: one unit's new h never
overwrites a value another unit still reads.
Scalar loops rather than linalg
ops, so that no later pass (element-wise fusion, epilogue fusion) materialises the four gate vectors
TFLite Micro keeps as scratch buffers. The time loop carries the layer's MACs (`fdt.macs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Template

from ..analysis.macs import MACS_ATTR


@dataclass(frozen=True)
class LstmShape:
    batch: int
    time: int
    inputs: int              # features of x_t
    units: int               # cell and hidden state size
    time_major: bool         # x is [time, batch, inputs] (else [batch, time, inputs])
    cell_clip: float         # 0: no clipping
    cell_activation: str     # "tanh" | "sigmoid": the cell gate's activation

    @property
    def macs(self) -> int:
        """Multiply-accumulates of the four gates: the input and recurrent terms at every step (the first step's
        recurrent term reads the state the inference before left)."""
        return 4 * self.batch * self.units * self.time * (self.inputs + self.units)

    def sequence(self, features: int, element: str = "f32") -> str:
        """`TxBxFx<element>` or `BxTxFx<element>`: the shape of the input (features = inputs) or output."""
        dims = (self.time, self.batch, features) if self.time_major else (self.batch, self.time, features)
        return "x".join(map(str, dims)) + "x" + element


@dataclass(frozen=True)
class LstmTypes:
    """Element types of one flavour, and how it turns a stored activation into a dot-product operand."""

    element: str             # x and h (the output)
    weight: str
    bias: str
    acc: str                 # the dot products' sums
    cell: str
    zero_points: bool        # activations are read minus `%x_zero_point` / `%h_zero_point` (widened to acc)

    @property
    def is_float(self) -> bool:
        return self.acc.startswith("f")


_FUNCTION = Template("""
module {
memref.global "private" @${state}_h : memref<${B}x${S}x${e}> = dense<${h_init}>
memref.global "private" @${state}_c : memref<${B}x${S}x${c}> = dense<${cell_zero}>
func.func private @${name}(%x: tensor<${X}>,
    %wi: tensor<${S}x${I}x${w}>, %wf: tensor<${S}x${I}x${w}>,
    %wc: tensor<${S}x${I}x${w}>, %wo: tensor<${S}x${I}x${w}>,
    %ri: tensor<${S}x${S}x${w}>, %rf: tensor<${S}x${S}x${w}>,
    %rc: tensor<${S}x${S}x${w}>, %ro: tensor<${S}x${S}x${w}>,
    %bi: tensor<${S}x${bt}>, %bf: tensor<${S}x${bt}>,
    %bc: tensor<${S}x${bt}>, %bo: tensor<${S}x${bt}>) -> tensor<${Y}> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %steps = arith.constant ${T} : index
  %batch = arith.constant ${B} : index
  %units = arith.constant ${S} : index
  %features = arith.constant ${I} : index
  %zero = arith.constant ${acc_zero} : ${a}
  %zero_element = arith.constant ${element_zero} : ${e}
  %zero_cell = arith.constant ${cell_zero} : ${c}
${constants}
  %out_empty = tensor.empty() : tensor<${Y}>
  %out0 = linalg.fill ins(%zero_element : ${e}) outs(%out_empty : tensor<${Y}>) -> tensor<${Y}>
  %h_global = memref.get_global @${state}_h : memref<${B}x${S}x${e}>
  %c_global = memref.get_global @${state}_c : memref<${B}x${S}x${c}>
  %h_stored = bufferization.to_tensor %h_global restrict : memref<${B}x${S}x${e}> to tensor<${B}x${S}x${e}>
  %cell_stored = bufferization.to_tensor %c_global restrict : memref<${B}x${S}x${c}> to tensor<${B}x${S}x${c}>
  %cell_empty = tensor.empty() : tensor<${B}x${S}x${c}>
  %cell0 = linalg.copy ins(%cell_stored : tensor<${B}x${S}x${c}>) outs(%cell_empty : tensor<${B}x${S}x${c}>)
      -> tensor<${B}x${S}x${c}>
  %result:2 = scf.for %t = %c0 to %steps step %c1 iter_args(%out_t = %out0, %cell_t = %cell0)
      -> (tensor<${Y}>, tensor<${B}x${S}x${c}>) {
    %first = arith.cmpi eq, %t, %c0 : index
    %tp = arith.subi %t, %c1 : index
    %tq = arith.select %first, %c0, %tp : index
    %by_batch:2 = scf.for %b = %c0 to %batch step %c1 iter_args(%out_b = %out_t, %cell_b = %cell_t)
        -> (tensor<${Y}>, tensor<${B}x${S}x${c}>) {
      %by_unit:2 = scf.for %j = %c0 to %units step %c1 iter_args(%out = %out_b, %cell = %cell_b)
          -> (tensor<${Y}>, tensor<${B}x${S}x${c}>) {
${from_x}
${from_h}
${body}
        %cell_next = tensor.insert ${cell_next} into %cell[%b, %j] : tensor<${B}x${S}x${c}>
        %out_next = tensor.insert ${h_next} into %out${y_index} : tensor<${Y}>
        scf.yield %out_next, %cell_next : tensor<${Y}>, tensor<${B}x${S}x${c}>
      }
      scf.yield %by_unit#0, %by_unit#1 : tensor<${Y}>, tensor<${B}x${S}x${c}>
    }
    scf.yield %by_batch#0, %by_batch#1 : tensor<${Y}>, tensor<${B}x${S}x${c}>
  } {${macs_attr} = ${macs} : i64}
  %h_last = tensor.extract_slice %result#0${h_row} : tensor<${Y}> to tensor<${B}x${S}x${e}>
  bufferization.materialize_in_destination %h_last in restrict writable %h_global
      : (tensor<${B}x${S}x${e}>, memref<${B}x${S}x${e}>) -> ()
  bufferization.materialize_in_destination %result#1 in restrict writable %c_global
      : (tensor<${B}x${S}x${c}>, memref<${B}x${S}x${c}>) -> ()
  return %result#0 : tensor<${Y}>
}
}
""")


def _dot_products(types: LstmTypes, result: str, bound: str, source: str, index: str, v: str, weights: str,
                  rows: int, cols: int, stored_state: str | None = None) -> str:
    """`%result:4`, the four gates' sums over k < bound of activation `source``index` times row j of the
    weights `weights`{i,f,c,o}. With `stored_state` (its type), at the first step (`%first`) the activation is
    the stored hidden state's `%h_stored[%b, %k]` instead."""
    a, f = types.acc, types.is_float
    lines = [f"        %{result}:4 = scf.for %k = %c0 to {bound} step %c1",
             "            iter_args(%ai = %zero, %af = %zero, %ac = %zero, %ao = %zero)",
             f"            -> ({a}, {a}, {a}, {a}) {{"]
    loaded = f"%{v}q" if types.zero_points else f"%{v}v"
    if stored_state is None:
        lines.append(f"          {loaded} = tensor.extract {source}{index} : tensor<{{Y_or_X}}>")
    else:
        lines += [f"          {loaded}_out = tensor.extract {source}{index} : tensor<{{Y_or_X}}>",
                  f"          {loaded}_stored = tensor.extract %h_stored[%b, %k] : {stored_state}",
                  f"          {loaded} = arith.select %first, {loaded}_stored, {loaded}_out : {types.element}"]
    if types.zero_points:
        lines += [f"          %{v}w = arith.extsi %{v}q : {types.element} to {a}",
                  f"          %{v}v = arith.subi %{v}w, %{v}_zero_point : {a}"]
    for g in "ifco":
        w = f"%w{g}v"
        if types.weight != a:
            lines += [f"          %w{g}q = tensor.extract %{weights}{g}[%j, %k] : tensor<{rows}x{cols}x{types.weight}>",
                      f"          {w} = arith.extsi %w{g}q : {types.weight} to {a}"]
        else:
            lines.append(f"          {w} = tensor.extract %{weights}{g}[%j, %k] : tensor<{rows}x{cols}x{types.weight}>")
        lines += [f"          %p{g} = arith.{'mulf' if f else 'muli'} %{v}v, {w} : {a}",
                  f"          %n{g} = arith.{'addf' if f else 'addi'} %a{g}, %p{g} : {a}"]
    lines += [f"          scf.yield %ni, %nf, %nc, %no : {a}, {a}, {a}, {a}", "        }"]
    return "\n".join(lines)


def lstm_loops(name: str, state: str, shape: LstmShape, types: LstmTypes, constants: str, body: str,
               cell_next: str, h_next: str, h_init: str) -> str:
    """MLIR text of a module holding the state globals `@<state>_h` and `@<state>_c` (`h_init`: the hidden state's
    initial value) and `func.func private @name(x, 4 input weights, 4 recurrent weights, 4 biases) -> output`.
    Per unit, `body` (scalar code at 8 spaces) sees `%from_x#n` and `%from_h#n`
    (gate n's sums), `%b`, `%j`, `%cell` and the `constants` (lines at 2 spaces), and defines `cell_next`
    (of the cell type) and `h_next` (of the element type)."""
    index = "[%t, %b, {k}]" if shape.time_major else "[%b, %t, {k}]"
    last = shape.time - 1  # the last step's output row: the hidden state the next inference starts from
    h_row = (f"[{last}, 0, 0] [1, {shape.batch}, {shape.units}] [1, 1, 1]" if shape.time_major
             else f"[0, {last}, 0] [{shape.batch}, 1, {shape.units}] [1, 1, 1]")
    h_index = "[%tq, %b, %k]" if shape.time_major else "[%b, %tq, %k]"
    x_type, y_type = shape.sequence(shape.inputs, types.element), shape.sequence(shape.units, types.element)
    zero = "0.0" if types.is_float else "0"
    from_x = _dot_products(types, "from_x", "%features", "%x", index.format(k="%k"), "x", "w", shape.units,
                           shape.inputs).replace("{Y_or_X}", x_type)
    stored = f"tensor<{shape.batch}x{shape.units}x{types.element}>"
    from_h = _dot_products(types, "from_h", "%units", "%out", h_index, "h", "r", shape.units, shape.units,
                           stored_state=stored).replace("{Y_or_X}", y_type)
    return _FUNCTION.substitute(
        name=name, state=state, h_init=h_init, h_row=h_row,
        B=shape.batch, T=shape.time, I=shape.inputs, S=shape.units, X=x_type, Y=y_type,
        w=types.weight, bt=types.bias, a=types.acc, e=types.element, c=types.cell,
        acc_zero=zero, element_zero="0.0" if types.element.startswith("f") else "0",
        cell_zero="0.0" if types.cell.startswith("f") else "0", constants=constants,
        from_x=from_x, from_h=from_h, body=body, cell_next=cell_next, h_next=h_next,
        y_index=index.format(k="%j"), macs_attr=MACS_ATTR, macs=shape.macs)
