"""A float UNIDIRECTIONAL_SEQUENCE_LSTM as a linalg function whose time loop is one `scf.for`.

The body follows TFLite Micro's `LstmStep` (kernels/lstm_eval.h): each gate is
`act(W x_t + bias + R h_{t-1})`, sigmoid for the input, forget and output gates and the layer's
activation for the cell gate; `c = clip(f * c + i * g)`; `h = o * tanh(c)`; h is the step's output.
The order keeps few state-sized buffers live at once: the forget gate scales the cell state first
(then dies), the input and cell gates update it, the output gate comes last. `h_{t-1}` is read from
the output written at step t-1 (at t = 0 from the zero-filled row 0), so the hidden state needs no
buffer of its own; the cell state is the loop's one carried tensor besides the output. Both start at
zero, as TFLite Micro resets its variable tensors when it allocates the arena.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Template


@dataclass(frozen=True)
class LstmShape:
    batch: int
    time: int
    inputs: int              # features of x_t
    units: int               # cell and hidden state size
    time_major: bool         # x is [time, batch, inputs] (else [batch, time, inputs])
    cell_clip: float         # 0: no clipping
    cell_activation: str     # "tanh" | "sigmoid": the cell gate's activation

    def sequence(self, features: int) -> str:
        dims = (self.time, self.batch, features) if self.time_major else (self.batch, self.time, features)
        return "x".join(map(str, dims)) + "xf32"

    def step_slice(self, features: int) -> tuple[str, str]:
        """(offsets, sizes) of the rank-reducing slice of step %t (offset text may use %t and %tp)."""
        if self.time_major:
            return "[{t}, 0, 0]", f"[1, {self.batch}, {features}]"
        return "[0, {t}, 0]", f"[{self.batch}, 1, {features}]"


_GATE = Template("""
    %${g}_init = linalg.generic {indexing_maps = [#vec, #mat], iterator_types = ["parallel", "parallel"]}
        ins(%b${g} : tensor<${S}xf32>) outs(%empty_state : tensor<${B}x${S}xf32>) {
      ^bb0(%bv: f32, %unused: f32):
        linalg.yield %bv : f32
    } -> tensor<${B}x${S}xf32>
    %${g}_x = linalg.generic {indexing_maps = [#lhs, #rhs, #acc],
                              iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%xt, %w${g} : tensor<${B}x${I}xf32>, tensor<${S}x${I}xf32>) outs(%${g}_init : tensor<${B}x${S}xf32>) {
      ^bb0(%a: f32, %w: f32, %acc: f32):
        %p = arith.mulf %a, %w : f32
        %s = arith.addf %acc, %p : f32
        linalg.yield %s : f32
    } -> tensor<${B}x${S}xf32>
    %${g}_h = linalg.generic {indexing_maps = [#lhs, #rhs, #acc],
                              iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%h, %r${g} : tensor<${B}x${S}xf32>, tensor<${S}x${S}xf32>) outs(%${g}_x : tensor<${B}x${S}xf32>) {
      ^bb0(%a: f32, %w: f32, %acc: f32):
        %p = arith.mulf %a, %w : f32
        %s = arith.addf %acc, %p : f32
        linalg.yield %s : f32
    } -> tensor<${B}x${S}xf32>
    %${g} = linalg.generic {indexing_maps = [#mat], iterator_types = ["parallel", "parallel"]}
        outs(%${g}_h : tensor<${B}x${S}xf32>) {
      ^bb0(%v: f32):
${activation}
    } -> tensor<${B}x${S}xf32>""")

_SIGMOID = """        %n = arith.negf %v : f32
        %e = math.exp %n : f32
        %d = arith.addf %e, %one : f32
        %y = arith.divf %one, %d : f32
        linalg.yield %y : f32"""
_TANH = """        %y = math.tanh %v : f32
        linalg.yield %y : f32"""

_FUNCTION = Template("""
#vec = affine_map<(b, j) -> (j)>
#mat = affine_map<(b, j) -> (b, j)>
#lhs = affine_map<(b, j, k) -> (b, k)>
#rhs = affine_map<(b, j, k) -> (j, k)>
#acc = affine_map<(b, j, k) -> (b, j)>
module {
func.func private @${name}(%x: tensor<${X}>,
    %wi: tensor<${S}x${I}xf32>, %wf: tensor<${S}x${I}xf32>, %wc: tensor<${S}x${I}xf32>, %wo: tensor<${S}x${I}xf32>,
    %ri: tensor<${S}x${S}xf32>, %rf: tensor<${S}x${S}xf32>, %rc: tensor<${S}x${S}xf32>, %ro: tensor<${S}x${S}xf32>,
    %bi: tensor<${S}xf32>, %bf: tensor<${S}xf32>, %bc: tensor<${S}xf32>, %bo: tensor<${S}xf32>) -> tensor<${Y}> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %steps = arith.constant ${T} : index
  %zero = arith.constant 0.0 : f32
  %out_empty = tensor.empty() : tensor<${Y}>
  %out0 = linalg.fill ins(%zero : f32) outs(%out_empty : tensor<${Y}>) -> tensor<${Y}>
  %state_empty = tensor.empty() : tensor<2x${B}x${S}xf32>
  %state0 = linalg.fill ins(%zero : f32) outs(%state_empty : tensor<2x${B}x${S}xf32>) -> tensor<2x${B}x${S}xf32>
  %result:2 = scf.for %t = %c0 to %steps step %c1 iter_args(%out = %out0, %state = %state0)
      -> (tensor<${Y}>, tensor<2x${B}x${S}xf32>) {
    %one = arith.constant 1.0 : f32
    %clip = arith.constant ${clip} : f32
    %neg_clip = arith.constant -${clip} : f32
    %xt = tensor.extract_slice %x${x_offsets} ${x_sizes} [1, 1, 1] : tensor<${X}> to tensor<${B}x${I}xf32>
    %h = tensor.extract_slice %state[0, 0, 0] [1, ${B}, ${S}] [1, 1, 1] : tensor<2x${B}x${S}xf32> to tensor<${B}x${S}xf32>
    %cell = tensor.extract_slice %state[1, 0, 0] [1, ${B}, ${S}] [1, 1, 1] : tensor<2x${B}x${S}xf32> to tensor<${B}x${S}xf32>
    %empty_state = tensor.empty() : tensor<${B}x${S}xf32>
${forget_gate}
    %cell_f = linalg.generic {indexing_maps = [#mat, #mat], iterator_types = ["parallel", "parallel"]}
        ins(%f : tensor<${B}x${S}xf32>) outs(%cell : tensor<${B}x${S}xf32>) {
      ^bb0(%fv: f32, %cv: f32):
        %y = arith.mulf %fv, %cv : f32
        linalg.yield %y : f32
    } -> tensor<${B}x${S}xf32>
${input_gate}
${cell_gate}
    %cell_new = linalg.generic {indexing_maps = [#mat, #mat, #mat], iterator_types = ["parallel", "parallel"]}
        ins(%i, %c : tensor<${B}x${S}xf32>, tensor<${B}x${S}xf32>) outs(%cell_f : tensor<${B}x${S}xf32>) {
      ^bb0(%iv: f32, %gv: f32, %cv: f32):
        %p = arith.mulf %iv, %gv : f32
        %s = arith.addf %cv, %p : f32
${clip_body}
    } -> tensor<${B}x${S}xf32>
${output_gate}
    %h_new = linalg.generic {indexing_maps = [#mat, #mat], iterator_types = ["parallel", "parallel"]}
        ins(%cell_new : tensor<${B}x${S}xf32>) outs(%o : tensor<${B}x${S}xf32>) {
      ^bb0(%cv: f32, %ov: f32):
        %th = math.tanh %cv : f32
        %y = arith.mulf %ov, %th : f32
        linalg.yield %y : f32
    } -> tensor<${B}x${S}xf32>
    %out_next = tensor.insert_slice %h_new into %out${y_offsets} ${y_sizes} [1, 1, 1]
        : tensor<${B}x${S}xf32> into tensor<${Y}>
    %state_h = tensor.insert_slice %h_new into %state[0, 0, 0] [1, ${B}, ${S}] [1, 1, 1]
        : tensor<${B}x${S}xf32> into tensor<2x${B}x${S}xf32>
    %state_next = tensor.insert_slice %cell_new into %state_h[1, 0, 0] [1, ${B}, ${S}] [1, 1, 1]
        : tensor<${B}x${S}xf32> into tensor<2x${B}x${S}xf32>
    scf.yield %out_next, %state_next : tensor<${Y}>, tensor<2x${B}x${S}xf32>
  }
  return %result#0 : tensor<${Y}>
}
}
""")


def lstm_function(name: str, shape: LstmShape) -> str:
    """MLIR text of a module holding `func.func private @name(x, 4 input weights, 4 recurrent weights,
    4 biases) -> output`, gates in TFLite's order (input, forget, cell, output)."""
    dims = {"B": shape.batch, "T": shape.time, "I": shape.inputs, "S": shape.units}

    def gate(g: str, activation: str) -> str:
        return _GATE.substitute(dims, g=g, activation=_TANH if activation == "tanh" else _SIGMOID)

    x_offsets, x_sizes = shape.step_slice(shape.inputs)
    _, y_sizes = shape.step_slice(shape.units)
    clip_body = ("        %lo = arith.maximumf %s, %neg_clip : f32\n"
                 "        %y = arith.minimumf %lo, %clip : f32\n"
                 "        linalg.yield %y : f32") if shape.cell_clip > 0 else "        linalg.yield %s : f32"
    return _FUNCTION.substitute(
        dims, name=name, X=shape.sequence(shape.inputs), Y=shape.sequence(shape.units),
        clip=repr(float(shape.cell_clip)) if shape.cell_clip > 0 else "0.0",
        x_offsets=x_offsets.format(t="%t"), x_sizes=x_sizes,
        y_offsets=x_offsets.format(t="%t"), y_sizes=y_sizes, clip_body=clip_body,
        forget_gate=gate("f", "sigmoid"), input_gate=gate("i", "sigmoid"),
        cell_gate=gate("c", shape.cell_activation), output_gate=gate("o", "sigmoid"))
