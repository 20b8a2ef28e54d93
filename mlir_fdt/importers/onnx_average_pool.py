"""AveragePool in ceil mode counting the padding (`ceil_mode=1, count_include_pad=1`: PyTorch's
`AvgPool2d(..., ceil_mode=True)`), which torch-mlir averages wrongly.

ONNX (and PyTorch) divide a window by the elements it covers inside the padded input: the last window that
ceil mode adds, hanging past the padded input, counts only what it covers. torch-mlir's lowering divides it
otherwise (0.27 off onnxruntime on an 8x8 map, 3x3 windows, stride 2). The same average is an explicit zero
Pad of the node's pads, then an AveragePool without ceil mode that pads only the overhang (`pads` at the end:
the rows and columns the last window hangs past the padded input) and does not count it
(`count_include_pad=0`): the explicit zeros count, the overhang does not, and the output has the same size.
"""

from __future__ import annotations

import numpy as np

from .onnx_model import value_shapes


def _attributes(node) -> dict:
    from onnx import helper
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def explicit_average_pool_padding(proto) -> int:
    """Rewrite every AveragePool of `proto` (shapes inferred) in ceil mode counting its padding as above, in
    place; return how many."""
    import onnx
    from onnx import helper, numpy_helper
    shapes = value_shapes(proto)
    types = {v.name: v.type.tensor_type.elem_type for v in [*proto.graph.input, *proto.graph.value_info]}
    rewritten = 0
    nodes = list(proto.graph.node)
    for node in nodes:
        if node.op_type != "AveragePool":
            continue
        a = _attributes(node)
        x, y = shapes.get(node.input[0]), shapes.get(node.output[0])
        if not (a.get("ceil_mode", 0) and a.get("count_include_pad", 0)) or node.input[0] not in types or \
                a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET") or not x or not y or 0 in x or 0 in y:
            continue
        kernel = list(a["kernel_shape"])
        n = len(kernel)
        strides, dilations = list(a.get("strides", [1] * n)), list(a.get("dilations", [1] * n))
        pads = list(a.get("pads", [0] * 2 * n))
        overhang = [max(0, (y[2 + i] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1
                        - (x[2 + i] + pads[i] + pads[n + i])) for i in range(n)]
        padded = f"{node.output[0]}__explicitly_padded"
        amounts = f"{node.output[0]}__pads"
        proto.graph.initializer.append(numpy_helper.from_array(
            np.array([0, 0, *pads[:n], 0, 0, *pads[n:]], np.int64), amounts))
        zero = f"{node.output[0]}__zero"
        proto.graph.initializer.append(numpy_helper.from_array(np.zeros((), helper.tensor_dtype_to_np_dtype(
            types[node.input[0]])), zero))
        pad = helper.make_node("Pad", [node.input[0], amounts, zero], [padded], name=f"{node.name}__pad",
                               mode="constant")
        attributes = {"kernel_shape": kernel, "strides": strides, "pads": [0] * n + overhang, "ceil_mode": 0,
                      "count_include_pad": 0}
        if "dilations" in a:
            attributes["dilations"] = dilations
        pool = helper.make_node("AveragePool", [padded], list(node.output), name=node.name, **attributes)
        index = list(proto.graph.node).index(node)
        proto.graph.node.remove(node)
        proto.graph.node.insert(index, pool)
        proto.graph.node.insert(index, pad)
        rewritten += 1
    if rewritten:  # the importer wants the new values' shapes
        proto.CopyFrom(onnx.shape_inference.infer_shapes(proto, strict_mode=True))
    return rewritten
