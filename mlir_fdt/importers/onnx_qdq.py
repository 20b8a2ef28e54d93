"""QDQ convolutions and matrix products as integer convolutions with requantization, before import.

A QDQ model (onnxruntime's `quantize_static`, tf2onnx) states an int8 layer as float arithmetic between
DequantizeLinear and QuantizeLinear: DQ(x_q) and DQ(w_q) into a float Conv (or MatMul), its float
result into Q. torch-mlir lowers exactly that (float convolutions on dequantized values). This pass
rewrites each such group, in the ONNX graph, the way onnxruntime's own QDQ fusion runs it (QLinearConv,
QLinearMatMul): an integer convolution of the int8 codes with their zero points
(`ConvInteger`, which torch-mlir lowers to `linalg.conv_2d_nchw_fchw_q`: int8 operands, int32
accumulator), the int32 bias added, then requantization as onnxruntime's MLAS kernels do it: the int32
sum converted to float32, multiplied by the float32 multiplier (x_scale * w_scale) / y_scale (per
output channel for per-channel weights), rounded half to even, plus y's zero point, saturated to int8
(QuantizeLinear with scale 1). A MatMul with constant weights becomes a 1x1 ConvInteger between two
Reshapes (torch-mlir lowers MatMulInteger to an i64 matmul on widened copies of the weights).

Requantization stays one float32 multiply per output element: bit-exactness with onnxruntime's integer
kernels needs its float rounding, which a fixed-point multiplier (TFLite's) would not reproduce. The
groups left as they are (pooling, Add, Softmax between Q/DQ pairs) keep the ONNX graph's float meaning.
"""

from __future__ import annotations

import numpy as np

DQ, Q = "DequantizeLinear", "QuantizeLinear"


class _Graph:
    def __init__(self, proto):
        from onnx import numpy_helper
        self.proto = proto
        self.graph = proto.graph
        self.consts = {t.name: numpy_helper.to_array(t) for t in self.graph.initializer}
        self.producer = {o: n for n in self.graph.node for o in n.output}

    def users(self, value: str) -> list:
        return [n for n in self.graph.node if value in n.input]

    def const(self, name: str) -> np.ndarray | None:
        return self.consts.get(name) if name else None

    def dequantized(self, value: str):
        """(DQ node, codes name, scale, zero point) when `value` is a DequantizeLinear's output, else None."""
        n = self.producer.get(value)
        if n is None or n.op_type != DQ:
            return None
        scale = self.const(n.input[1])
        zero = self.const(n.input[2]) if len(n.input) > 2 and n.input[2] else None
        if scale is None or (len(n.input) > 2 and n.input[2] and zero is None):
            return None
        return n, n.input[0], scale, zero

    def int8_quantizer(self, q):
        """(scale, zero point) of the QuantizeLinear `q` when both are constants, the scale one per tensor and
        the zero point int8; None otherwise."""
        scale = self.const(q.input[1])
        zero = self.const(q.input[2]) if len(q.input) > 2 and q.input[2] else None
        if scale is None or scale.size != 1 or zero is None or zero.dtype != np.int8:
            return None
        return scale, zero

    def add_const(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper
        self.graph.initializer.append(numpy_helper.from_array(value, name))
        self.consts[name] = value
        return name


def _multiplier(x_scale, w_scale, y_scale) -> np.ndarray:
    """onnxruntime's requantization scale, in float32 and its order: (x_scale * w_scale) / y_scale."""
    f = np.float32
    return ((f(x_scale) * w_scale.astype(f)) / f(y_scale)).astype(f)


def _group(g: _Graph, node):
    """The QDQ group around a Conv/MatMul `node`, or None when it is not one this pass rewrites."""
    if node.op_type not in ("Conv", "MatMul"):
        return None
    x, w = g.dequantized(node.input[0]), g.dequantized(node.input[1])
    users = g.users(node.output[0])
    if x is None or w is None or len(users) != 1 or users[0].op_type != Q:
        return None
    q = users[0]
    quantizer = g.int8_quantizer(q)
    w_codes = g.const(w[1])
    if quantizer is None or w_codes is None or x[2].size != 1 or w_codes.dtype != np.int8:
        return None
    if x[3] is None or x[3].dtype != np.int8:
        return None
    y_scale, y_zero = quantizer
    if w[3] is not None and np.any(w[3] != 0):
        return None  # int8 weights with non-zero zero points: not what quantizers write
    bias = None
    if node.op_type == "Conv" and len(node.input) > 2 and node.input[2]:
        b = g.dequantized(node.input[2])
        codes = g.const(b[1]) if b is not None else None
        if codes is None or codes.dtype != np.int32 or (b[3] is not None and np.any(b[3] != 0)):
            return None
        if not np.array_equal(b[2].astype(np.float32).reshape(-1) * np.ones(w_codes.shape[0], np.float32),
                              (np.float32(x[2]) * w[2].astype(np.float32).reshape(-1))
                              * np.ones(w_codes.shape[0], np.float32)):
            return None  # a bias scale other than x_scale * w_scale: not an integer sum
        bias = codes
    return x, w_codes, w[2], bias, q, y_scale, y_zero


def rewrite_qdq_layers(proto) -> int:
    """Rewrite every QDQ Conv/MatMul group of `proto` (module docstring); return how many."""
    from onnx import helper

    g = _Graph(proto)
    new_nodes: dict[str, list] = {}   # output of the Q node replaced -> the nodes that replace it
    dropped: set[str] = set()
    for node in list(g.graph.node):
        found = _group(g, node)
        if found is None:
            continue
        (_, x_codes, x_scale, x_zero), w_codes, w_scale, bias, q, y_scale, y_zero = found
        tag = f"{node.name or node.output[0]}_fdt_int"
        channels = w_codes.shape[0] if node.op_type == "Conv" else w_codes.shape[1]
        nodes, x_in = [], x_codes
        if node.op_type == "MatMul":
            if w_codes.ndim != 2:
                continue
            weights = w_codes.T.reshape(channels, -1, 1, 1).copy()
            x_in = f"{tag}_x4"
            nodes.append(helper.make_node("Reshape", [x_codes, g.add_const(f"{tag}_x4_shape", np.array(
                [-1, weights.shape[1], 1, 1], np.int64))], [x_in], name=f"{tag}_reshape_in"))
            attrs = {}
        else:
            weights = w_codes
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            if attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
                continue
            if w_codes.ndim == 3:  # a Conv1d: torch-mlir lowers no 1-D ConvInteger; as 2-D on an NC1W map
                weights = w_codes[:, :, None, :].copy()
                attrs = _as_2d(attrs)
                x_in = f"{tag}_x4"
                nodes.append(helper.make_node("Reshape", [x_codes, g.add_const(f"{tag}_x4_shape", np.array(
                    [0, 0, 1, -1], np.int64))], [x_in], name=f"{tag}_reshape_in"))
            pads = attrs.get("pads")
            if pads and any(pads):  # torch-mlir's ConvInteger takes symmetric pads only: pad with x's zero point
                x_in = _padded(g, nodes, tag, x_in, pads, x_zero)
                attrs["pads"] = [0] * len(pads)
        w_name = g.add_const(f"{tag}_w", weights)
        x_zero_name = g.add_const(f"{tag}_x_zero", np.array(x_zero, np.int8).reshape(()))
        w_zero_name = g.add_const(f"{tag}_w_zero", np.zeros((), np.int8))
        acc = f"{tag}_acc"
        nodes.append(helper.make_node("ConvInteger", [x_in, w_name, x_zero_name, w_zero_name], [acc],
                                      name=f"{tag}_conv", **attrs))
        if bias is not None:
            spatial = [1] * (weights.ndim - 2)  # NCHW (a MatMul as a 1x1 convolution too), or NCW (Conv1d)
            nodes.append(helper.make_node("Add", [acc, g.add_const(f"{tag}_bias", bias.reshape(1, -1, *spatial))],
                                          [f"{tag}_acc_bias"], name=f"{tag}_bias_add"))
            acc = f"{tag}_acc_bias"
        m = _multiplier(x_scale.reshape(()), w_scale.reshape(-1), y_scale.reshape(()))
        scaled = _requantized(g, nodes, tag, acc, m)
        q_in = scaled
        if w_codes.ndim == 3 and node.op_type == "Conv":
            q_in = f"{tag}_3d"
            nodes.append(helper.make_node("Reshape", [scaled, g.add_const(f"{tag}_out_shape", np.array(
                [0, 0, -1], np.int64))], [q_in], name=f"{tag}_reshape_out"))
        if node.op_type == "MatMul":
            q_in = f"{tag}_2d"
            nodes.append(helper.make_node("Reshape", [scaled, g.add_const(f"{tag}_out_shape", np.array(
                [-1, channels], np.int64))], [q_in], name=f"{tag}_reshape_out"))
        nodes.append(_quantize(g, tag, q_in, q, y_zero))
        new_nodes[q.output[0]] = nodes
        dropped.add(node.name or node.output[0])
    for node in list(g.graph.node):
        pooled = _average_pool(g, node)
        if pooled is not None:
            new_nodes[pooled[0].output[0]] = pooled[1]
            dropped.add(node.name or node.output[0])
    if not new_nodes:
        return 0
    ordered = []
    for n in g.graph.node:
        if (n.name or n.output[0]) in dropped:
            continue
        ordered.extend(new_nodes.get(n.output[0], [n]) if n.op_type == Q else [n])
    del g.graph.node[:]
    g.graph.node.extend(ordered)
    _drop_unused(g.graph)
    _reinfer(proto)
    return len(new_nodes)


def _requantized(g: _Graph, nodes: list, tag: str, acc: str, m: np.ndarray) -> str:
    """Append `Cast(acc) * m` (m: float32 multipliers, one or one per channel) to `nodes`; its output."""
    from onnx import helper
    nodes.append(helper.make_node("Cast", [acc], [f"{tag}_float"], name=f"{tag}_cast", to=1))
    scaled = f"{tag}_scaled"
    nodes.append(helper.make_node("Mul", [f"{tag}_float", g.add_const(f"{tag}_multiplier", m.reshape(
        1, -1, 1, 1) if m.size > 1 else m.reshape(()))], [scaled], name=f"{tag}_requantize"))
    return scaled


def _quantize(g: _Graph, tag: str, value: str, q, y_zero) -> object:
    """QuantizeLinear(value, 1, y_zero) writing `q`'s output."""
    from onnx import helper
    return helper.make_node(Q, [value, g.add_const(f"{tag}_one", np.ones((), np.float32)),
                                g.add_const(f"{tag}_y_zero", np.array(y_zero, np.int8).reshape(()))],
                            list(q.output), name=q.name)


def _average_pool(g: _Graph, node):
    """DQ -> AveragePool -> Q on int8 codes as an integer depthwise sum (ConvInteger, group = channels, weights
    1) requantized by x_scale / (kh * kw) / y_scale: (Q node, its replacement nodes), or None. Only windows
    with a fixed count: no padding, or padding counted (count_include_pad, padded with x's zero point)."""
    from onnx import helper
    if node.op_type != "AveragePool" or not node.input:
        return None
    x = g.dequantized(node.input[0])
    users = g.users(node.output[0])
    if x is None or len(users) != 1 or users[0].op_type != Q or x[2].size != 1 or x[3] is None \
            or x[3].dtype != np.int8:
        return None
    q = users[0]
    quantizer = g.int8_quantizer(q)
    if quantizer is None:
        return None
    y_scale, y_zero = quantizer
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    one_d = len(attrs.get("kernel_shape", [])) == 1  # AvgPool1d: as 2-D on an NC1W map
    if one_d:
        attrs = _as_2d(attrs)
    kernel, pads = list(attrs.get("kernel_shape", [])), list(attrs.get("pads", []))
    if len(kernel) != 2 or attrs.get("ceil_mode", 0) or attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        return None
    if any(pads) and not attrs.get("count_include_pad", 0):
        return None  # the divisor would vary at the borders
    channels = _channels(g, node.input[0])
    if channels is None:
        return None
    tag = f"{node.name or node.output[0]}_fdt_int"
    nodes, x_in = [], x[1]
    if one_d:
        x_in = f"{tag}_x4"
        nodes.append(helper.make_node("Reshape", [x[1], g.add_const(f"{tag}_x4_shape", np.array(
            [0, 0, 1, -1], np.int64))], [x_in], name=f"{tag}_reshape_in"))
    if any(pads):
        x_in = _padded(g, nodes, tag, x_in, pads, x[3])
    acc = f"{tag}_acc"
    nodes.append(helper.make_node(
        "ConvInteger", [x_in, g.add_const(f"{tag}_w", np.ones((channels, 1, *kernel), np.int8)),
                        g.add_const(f"{tag}_x_zero", np.array(x[3], np.int8).reshape(())),
                        g.add_const(f"{tag}_w_zero", np.zeros((), np.int8))], [acc], name=f"{tag}_sum",
        group=channels, kernel_shape=kernel, strides=list(attrs.get("strides", [1, 1]))))
    f = np.float32
    m = np.array((f(x[2].reshape(())) / f(kernel[0] * kernel[1])) / f(y_scale.reshape(())), f)
    scaled = _requantized(g, nodes, tag, acc, m)
    if one_d:
        nodes.append(helper.make_node("Reshape", [scaled, g.add_const(f"{tag}_out_shape", np.array(
            [0, 0, -1], np.int64))], [f"{tag}_3d"], name=f"{tag}_reshape_out"))
        scaled = f"{tag}_3d"
    nodes.append(_quantize(g, tag, scaled, q, y_zero))
    return q, nodes


def _channels(g: _Graph, value: str) -> int | None:
    """The channel count (dimension 1) of an NCHW (or NCW) value, from the graph's shapes."""
    for info in [*g.graph.value_info, *g.graph.input]:
        if info.name == value:
            dims = info.type.tensor_type.shape.dim
            return dims[1].dim_value if len(dims) in (3, 4) and dims[1].dim_value > 0 else None
    producer = g.producer.get(value)
    return _channels(g, producer.input[0]) if producer is not None and producer.op_type == DQ else None


def _as_2d(attrs: dict) -> dict:
    """A 1-D Conv's attributes for the same convolution over a map of height 1."""
    out = dict(attrs)
    for name, unit in (("kernel_shape", 1), ("strides", 1), ("dilations", 1)):
        if name in attrs:
            out[name] = [unit, *attrs[name]]
    if "pads" in attrs:
        begin, end = attrs["pads"]
        out["pads"] = [0, begin, 0, end]
    return out


def _padded(g: _Graph, nodes: list, tag: str, x: str, pads: list[int], x_zero) -> str:
    """Append a Pad of NCHW `x` by ONNX `pads` with x's zero point to `nodes`; the padded value's name."""
    from onnx import helper
    half = len(pads) // 2
    padded = f"{tag}_padded"
    nodes.append(helper.make_node("Pad", [x, g.add_const(f"{tag}_pads", np.array(
        [0, 0, *pads[:half], 0, 0, *pads[half:]], np.int64)), g.add_const(
        f"{tag}_pad_value", np.array(x_zero, np.int8).reshape(()))], [padded], name=f"{tag}_pad"))
    return padded


# operators that commute with a monotone DequantizeLinear: DQ -> op -> Q with the same scale and zero point
# is op on the codes, exactly (Q(DQ(c)) = c for |c - zero_point| <= 255, and max picks the same element)
CODE_PRESERVING = ("MaxPool", "Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Identity")


def rewrite_code_preserving(proto) -> int:
    """Run every DQ -> MaxPool/Reshape/Transpose/... -> Q whose Q has the DQ's scale and int8 zero point on
    the int8 codes (the int8 tensor is what the arena then holds, a quarter of the float one); return how many."""
    g = _Graph(proto)
    count = 0
    for node in list(g.graph.node):
        x = g.dequantized(node.input[0]) if node.op_type in CODE_PRESERVING and node.input else None
        users = g.users(node.output[0]) if x is not None else []
        if x is None or len(users) != 1 or users[0].op_type != Q:
            continue
        q = users[0]
        q_zero = g.const(q.input[2]) if len(q.input) > 2 and q.input[2] else None
        # int8 only: torch-mlir carries uint8 as int8 offset by 128 through Q/DQ, not through MaxPool's compares
        if (g.const(q.input[1]) is None or x[3] is None or q_zero is None or x[3].dtype != np.int8
                or q_zero.dtype != np.int8
                or not np.array_equal(g.const(q.input[1]), x[2]) or not np.array_equal(q_zero, x[3])):
            continue
        node.input[0] = x[1]
        node.output[0] = q.output[0]
        g.graph.node.remove(q)
        count += 1
    if count:
        _drop_unused(g.graph)
        _reinfer(proto)
    return count


def _reinfer(proto) -> None:
    """Shapes and types of the rewritten graph (IREE's importer types each value by them)."""
    import onnx
    del proto.graph.value_info[:]
    proto.CopyFrom(onnx.shape_inference.infer_shapes(proto, strict_mode=True))


def _drop_unused(graph) -> None:
    """Remove nodes and initializers nothing reads any more (the weights' DequantizeLinear nodes)."""
    while True:
        read = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
        dead = [n for n in graph.node if not any(o in read for o in n.output)]
        if not dead:
            break
        for n in dead:
            graph.node.remove(n)
    read = {i for n in graph.node for i in n.input}
    kept = [t for t in graph.initializer if t.name in read]
    del graph.initializer[:]
    graph.initializer.extend(kept)
