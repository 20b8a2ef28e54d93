"""Opset < 7 binary operators with `broadcast=1, axis=k`, rewritten to numpy broadcasting before the upgrade.

Before opset 7, Add/Sub/Mul/Div broadcast their second operand B only when asked (`broadcast=1`), lined
up with the first operand's dimension `axis` (B of shape [8] against A of shape [1, 8, 28, 28] at axis 1
adds B[c] to channel c). ONNX's version converter turns that into opset 7's numpy broadcasting, but on
the ONNX model zoo's MNIST it lines a channel bias up with the last dimensions instead (its inferred
shapes say "incompatible dimensions" afterwards). This pass states the legacy meaning directly: B is
reshaped to B's shape followed by as many 1s as A has dimensions after B's, and the attributes go, so
the converter has nothing left to translate.

PRelu is the same story: before opset 7 a slope of one value per channel (shape [C]) applies to
dimension 1 of its input ("if Slope is of size 1, the value is shared across different channels");
from opset 7 it broadcasts like numpy, against the last dimension, and the converter leaves it as it
is (PyTorch's PReLU(num_parameters=C) exported at opset 6 then fails to import, or with C equal to the
last dimension computes the wrong thing). Its slope is reshaped to [C, 1, ...] too.
"""

from __future__ import annotations

from .onnx_model import value_shapes

LEGACY_BROADCASTING = ("Add", "Sub", "Mul", "Div")


def align_legacy_broadcasts(proto) -> int:
    """Rewrite every `broadcast=1` binary node and every PRelu with a slope a channel of an opset-6 `proto`
    (shapes inferred) in place; return how many."""
    import onnx
    from onnx import helper, numpy_helper
    import numpy as np

    shapes = value_shapes(proto)
    nodes, rewritten = [], 0
    for n in proto.graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        if n.op_type == "PRelu":
            x_shape, slope_shape = shapes.get(n.input[0]), shapes.get(n.input[1])
            if x_shape and slope_shape and len(slope_shape) == 1 and slope_shape[0] > 1 and len(x_shape) > 2:
                attrs = {"axis": 1}  # one slope a channel
            else:
                nodes.append(n)
                continue
        elif n.op_type not in LEGACY_BROADCASTING or attrs.get("broadcast") != 1:
            nodes.append(n)
            continue
        a_shape, b_shape = shapes.get(n.input[0]), shapes.get(n.input[1])
        if a_shape is None or b_shape is None:
            raise ValueError(f"node '{n.name}' ({n.op_type}): legacy broadcast without known operand shapes")
        axis = attrs.get("axis", len(a_shape) - len(b_shape))
        axis = axis + len(a_shape) if axis < 0 else axis
        trailing = len(a_shape) - axis - len(b_shape)
        kept = [a for a in n.attribute if a.name not in ("broadcast", "axis")]
        del n.attribute[:]
        n.attribute.extend(kept)
        if trailing > 0 and b_shape:
            target = f"{n.input[1]}_fdt_legacy_broadcast_{n.name}"
            shape_name = f"{target}_shape"
            # a Constant node, not an initializer: before IR version 4 every initializer must be a graph input
            nodes.append(helper.make_node("Constant", [], [shape_name], name=f"{n.name}_fdt_align_shape",
                                          value=numpy_helper.from_array(np.array(b_shape + [1] * trailing, np.int64))))
            nodes.append(helper.make_node("Reshape", [n.input[1], shape_name], [target], name=f"{n.name}_fdt_align"))
            n.input[1] = target
        nodes.append(n)
        rewritten += 1
    del proto.graph.node[:]
    proto.graph.node.extend(nodes)
    onnx.checker.check_model(proto)
    return rewritten
