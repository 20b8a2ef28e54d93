"""A QDQ model's DequantizeLinear of a constant (weights, biases) computed once, at import.

torch-mlir lowers every DequantizeLinear to an element-wise op, that of a weight included: the compiled
program would dequantize each weight tensor into the arena on every inference (on
mlonmcu_micro_kws_m_static_qdq, 51 KB of float weights in RAM beside the activations, and the search
finds no plan through the layers they feed). Folded here, the weights are float constants in flash.
The values are onnxruntime's: float32(int32(x) - int32(zero_point)) * float32(scale), per tensor or
per `axis`, as its DequantizeLinear kernel computes them (the ONNX definition, y = (x - x_zero_point) *
x_scale, in float32).
"""

from __future__ import annotations

import numpy as np

DEQUANTIZE = "DequantizeLinear"


def _dequantized(x: np.ndarray, scale: np.ndarray, zero: np.ndarray | None, axis: int) -> np.ndarray:
    shape = [1] * x.ndim
    if scale.size > 1:
        shape[axis % x.ndim] = scale.size
    s = scale.astype(np.float32).reshape(shape if scale.size > 1 else ())
    z = np.zeros((), np.int64) if zero is None else zero.astype(np.int64).reshape(shape if zero.size > 1 else ())
    return ((x.astype(np.int64) - z).astype(np.float32) * s).astype(np.float32)


def fold_constant_dequantize(proto) -> int:
    """Replace every per-tensor or per-axis DequantizeLinear whose operands are all initializers by a float
    initializer holding its result; return how many."""
    from onnx import helper, numpy_helper

    graph = proto.graph
    inits = {t.name: t for t in graph.initializer}
    kept, folded = [], 0
    for n in graph.node:
        operands = [i for i in n.input if i]
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        if n.op_type != DEQUANTIZE or not all(i in inits for i in operands) or attrs.get("block_size"):
            kept.append(n)
            continue
        x, scale = numpy_helper.to_array(inits[n.input[0]]), numpy_helper.to_array(inits[n.input[1]])
        zero = numpy_helper.to_array(inits[n.input[2]]) if len(n.input) > 2 and n.input[2] else None
        graph.initializer.append(numpy_helper.from_array(_dequantized(x, scale, zero, attrs.get("axis", 1)),
                                                         n.output[0]))
        folded += 1
    del graph.node[:]
    graph.node.extend(kept)
    return folded
