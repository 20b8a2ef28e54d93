"""A float UNIDIRECTIONAL_SEQUENCE_LSTM as a function of nested `scf.for` loops on tensors: time
outermost, then batch, then units; the four gates of one unit are computed together as scalars.

The arithmetic follows TFLite Micro's `LstmStep` (kernels/lstm_eval.h) operation by operation:
gate = act((sum_k x_k W_jk + bias_j) + sum_k h_k R_jk) with sums in k order, sigmoid (TFLite's
reference Logistic, cut off above 16.619 and below -9) for the input, forget and output gates and
the layer's activation for the cell gate; c = clip(f * c + i * g); h = tanh(c) * o.

Memory: the only buffer besides the input and the output is the cell state (batch x units), the
loop's carried tensor. The hidden state h_{t-1} is read from the output row of step t-1 (no
recurrent term at t = 0, where TFLite Micro's zeroed state gives none), and h_t is written straight
into row t: one unit's new h never overwrites a value another unit still reads. Scalar loops rather
than linalg ops, so that no later pass (element-wise fusion, epilogue fusion) materialises the four
gate vectors TFLite Micro keeps as scratch buffers.
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
        """Multiply-accumulates of the four gates: the input term at every step, the recurrent term
        from the second step on."""
        return 4 * self.batch * self.units * (self.time * self.inputs + (self.time - 1) * self.units)

    def sequence(self, features: int, element: str = "f32") -> str:
        """`TxBxFx<element>` or `BxTxFx<element>`: the shape of the input (features = inputs) or output."""
        dims = (self.time, self.batch, features) if self.time_major else (self.batch, self.time, features)
        return "x".join(map(str, dims)) + "x" + element


_SIGMOID = Template("""
    %${y}_neg = arith.negf %${v} : f32
    %${y}_exp_neg = math.exp %${y}_neg : f32
    %${y}_den = arith.addf %${y}_exp_neg, %one : f32
    %${y}_mid = arith.divf %one, %${y}_den : f32
    %${y}_exp = math.exp %${v} : f32
    %${y}_high = arith.cmpf ogt, %${v}, %sigmoid_upper : f32
    %${y}_low = arith.cmpf olt, %${v}, %sigmoid_lower : f32
    %${y}_not_high = arith.select %${y}_low, %${y}_exp, %${y}_mid : f32
    %${y} = arith.select %${y}_high, %one, %${y}_not_high : f32""")


def _activation(kind: str, v: str, y: str) -> str:
    if kind == "tanh":
        return f"\n    %{y} = math.tanh %{v} : f32"
    return _SIGMOID.substitute(v=v, y=y)


_FUNCTION = Template("""
module {
func.func private @${name}(%x: tensor<${X}>,
    %wi: tensor<${S}x${I}xf32>, %wf: tensor<${S}x${I}xf32>, %wc: tensor<${S}x${I}xf32>, %wo: tensor<${S}x${I}xf32>,
    %ri: tensor<${S}x${S}xf32>, %rf: tensor<${S}x${S}xf32>, %rc: tensor<${S}x${S}xf32>, %ro: tensor<${S}x${S}xf32>,
    %bi: tensor<${S}xf32>, %bf: tensor<${S}xf32>, %bc: tensor<${S}xf32>, %bo: tensor<${S}xf32>) -> tensor<${Y}> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %steps = arith.constant ${T} : index
  %batch = arith.constant ${B} : index
  %units = arith.constant ${S} : index
  %features = arith.constant ${I} : index
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %sigmoid_upper = arith.constant 16.619047164916992188 : f32
  %sigmoid_lower = arith.constant -9.0 : f32
  %out_empty = tensor.empty() : tensor<${Y}>
  %out0 = linalg.fill ins(%zero : f32) outs(%out_empty : tensor<${Y}>) -> tensor<${Y}>
  %cell_empty = tensor.empty() : tensor<${B}x${S}xf32>
  %cell0 = linalg.fill ins(%zero : f32) outs(%cell_empty : tensor<${B}x${S}xf32>) -> tensor<${B}x${S}xf32>
  %result:2 = scf.for %t = %c0 to %steps step %c1 iter_args(%out_t = %out0, %cell_t = %cell0)
      -> (tensor<${Y}>, tensor<${B}x${S}xf32>) {
    %tp = arith.subi %t, %c1 : index
    %first = arith.cmpi eq, %t, %c0 : index
    %recurrent = arith.select %first, %c0, %units : index
    %by_batch:2 = scf.for %b = %c0 to %batch step %c1 iter_args(%out_b = %out_t, %cell_b = %cell_t)
        -> (tensor<${Y}>, tensor<${B}x${S}xf32>) {
      %by_unit:2 = scf.for %j = %c0 to %units step %c1 iter_args(%out = %out_b, %cell = %cell_b)
          -> (tensor<${Y}>, tensor<${B}x${S}xf32>) {
        %from_x:4 = scf.for %k = %c0 to %features step %c1 iter_args(%ai = %zero, %af = %zero, %ac = %zero, %ao = %zero)
            -> (f32, f32, f32, f32) {
          %xv = tensor.extract %x${x_index} : tensor<${X}>
${x_products}
          scf.yield %ni, %nf, %nc, %no : f32, f32, f32, f32
        }
        %from_h:4 = scf.for %k = %c0 to %recurrent step %c1
            iter_args(%ai = %zero, %af = %zero, %ac = %zero, %ao = %zero)
            -> (f32, f32, f32, f32) {
          %hv = tensor.extract %out${h_index} : tensor<${Y}>
${h_products}
          scf.yield %ni, %nf, %nc, %no : f32, f32, f32, f32
        }
${pre_activations}
${activations}
        %cv = tensor.extract %cell[%b, %j] : tensor<${B}x${S}xf32>
        %kept = arith.mulf %fg, %cv : f32
        %added = arith.mulf %ig, %cg : f32
        %sum = arith.addf %kept, %added : f32
${clip_body}
        %th = math.tanh %${cn} : f32
        %hn = arith.mulf %th, %og : f32
        %cell_next = tensor.insert %${cn} into %cell[%b, %j] : tensor<${B}x${S}xf32>
        %out_next = tensor.insert %hn into %out${y_index} : tensor<${Y}>
        scf.yield %out_next, %cell_next : tensor<${Y}>, tensor<${B}x${S}xf32>
      }
      scf.yield %by_unit#0, %by_unit#1 : tensor<${Y}>, tensor<${B}x${S}xf32>
    }
    scf.yield %by_batch#0, %by_batch#1 : tensor<${Y}>, tensor<${B}x${S}xf32>
  } {${macs_attr} = ${macs} : i64}
  return %result#0 : tensor<${Y}>
}
}
""")


def _products(value: str, prefix: str) -> str:
    """The four gates' multiply-accumulate of `value` with row j of their weights `prefix`{i,f,c,o}."""
    lines = []
    for g in "ifco":
        lines += [f"          %w{g}v = tensor.extract %{prefix}{g}[%j, %k] : tensor<${{S}}x${{K}}xf32>",
                  f"          %p{g} = arith.mulf %{value}, %w{g}v : f32",
                  f"          %n{g} = arith.addf %a{g}, %p{g} : f32"]
    return "\n".join(lines)


def lstm_function(name: str, shape: LstmShape) -> str:
    """MLIR text of a module holding `func.func private @name(x, 4 input weights, 4 recurrent weights,
    4 biases) -> output`, gates in TFLite's order (input, forget, cell, output)."""
    dims = {"B": shape.batch, "T": shape.time, "I": shape.inputs, "S": shape.units}
    index = "[%t, %b, {k}]" if shape.time_major else "[%b, %t, {k}]"
    h_index = "[%tp, %b, %k]" if shape.time_major else "[%b, %tp, %k]"
    pre = "\n".join(f"        %bias_{g} = tensor.extract %b{g}[%j] : tensor<{shape.units}xf32>\n"
                    f"        %x_bias_{g} = arith.addf %from_x#{n}, %bias_{g} : f32\n"
                    f"        %pre_{g} = arith.addf %x_bias_{g}, %from_h#{n} : f32" for n, g in enumerate("ifco"))
    activations = "".join([_activation("sigmoid", "pre_i", "ig"), _activation("sigmoid", "pre_f", "fg"),
                           _activation(shape.cell_activation, "pre_c", "cg"), _activation("sigmoid", "pre_o", "og")])
    clip = repr(float(shape.cell_clip))
    clip_body = (f"        %clip = arith.constant {clip} : f32\n        %neg_clip = arith.constant -{clip} : f32\n"
                 "        %low = arith.maximumf %sum, %neg_clip : f32\n"
                 "        %clipped = arith.minimumf %low, %clip : f32") if shape.cell_clip > 0 else ""
    text = _FUNCTION.substitute(
        dims, name=name, X=shape.sequence(shape.inputs), Y=shape.sequence(shape.units),
        x_index=index.format(k="%k"), h_index=h_index, y_index=index.format(k="%j"),
        x_products=Template(_products("xv", "w")).substitute(S=shape.units, K=shape.inputs),
        h_products=Template(_products("hv", "r")).substitute(S=shape.units, K=shape.units),
        pre_activations=pre, activations=activations.replace("\n    %", "\n        %"), clip_body=clip_body,
        cn="clipped" if shape.cell_clip > 0 else "sum", macs_attr=MACS_ATTR, macs=shape.macs)
    return text
