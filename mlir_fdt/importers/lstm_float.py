"""A float UNIDIRECTIONAL_SEQUENCE_LSTM: the loop nest of lstm_loops.py with float32 scalar steps.

The arithmetic follows TFLite Micro's `LstmStep` (kernels/lstm_eval.h) operation by operation:
gate = act((sum_k x_k W_jk + bias_j) + sum_k h_k R_jk) with sums in k order, sigmoid (TFLite's
reference Logistic, cut off above 16.619 and below -9) for the input, forget and output gates and
the layer's activation for the cell gate; c = clip(f * c + i * g); h = tanh(c) * o.
"""

from __future__ import annotations

from string import Template

from .lstm_loops import LstmShape, LstmTypes, lstm_loops

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


_TYPES = LstmTypes(element="f32", weight="f32", bias="f32", acc="f32", cell="f32", zero_points=False)
_CONSTANTS = """  %one = arith.constant 1.0 : f32
  %sigmoid_upper = arith.constant 16.619047164916992188 : f32
  %sigmoid_lower = arith.constant -9.0 : f32"""


def lstm_function(name: str, shape: LstmShape) -> str:
    """MLIR text of a module holding `func.func private @name(x, 4 input weights, 4 recurrent weights,
    4 biases) -> output`, gates in TFLite's order (input, forget, cell, output), and its state globals
    `@<name>_state_h/_c` (lstm_loops.py)."""
    pre = "\n".join(f"        %bias_{g} = tensor.extract %b{g}[%j] : tensor<{shape.units}xf32>\n"
                    f"        %x_bias_{g} = arith.addf %from_x#{n}, %bias_{g} : f32\n"
                    f"        %pre_{g} = arith.addf %x_bias_{g}, %from_h#{n} : f32" for n, g in enumerate("ifco"))
    activations = "".join([_activation("sigmoid", "pre_i", "ig"), _activation("sigmoid", "pre_f", "fg"),
                           _activation(shape.cell_activation, "pre_c", "cg"), _activation("sigmoid", "pre_o", "og")])
    cell = "%sum"
    lines = [pre, activations.replace("\n    %", "\n        %").lstrip("\n"),
             f"        %cv = tensor.extract %cell[%b, %j] : tensor<{shape.batch}x{shape.units}xf32>",
             "        %kept = arith.mulf %fg, %cv : f32",
             "        %added = arith.mulf %ig, %cg : f32",
             "        %sum = arith.addf %kept, %added : f32"]
    if shape.cell_clip > 0:
        clip = repr(float(shape.cell_clip))
        lines += [f"        %clip = arith.constant {clip} : f32", f"        %neg_clip = arith.constant -{clip} : f32",
                  "        %low = arith.maximumf %sum, %neg_clip : f32",
                  "        %clipped = arith.minimumf %low, %clip : f32"]
        cell = "%clipped"
    lines += [f"        %th = math.tanh {cell} : f32", "        %hn = arith.mulf %th, %og : f32"]
    return lstm_loops(name, f"{name}_state", shape, _TYPES, _CONSTANTS, "\n".join(lines), cell, "%hn", "0.0")
