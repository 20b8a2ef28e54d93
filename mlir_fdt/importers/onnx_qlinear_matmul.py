"""Batched QLinearMatMul (rank > 2), whose zero points torch-mlir drops.

torch-mlir lowers a 2-D QLinearMatMul with its zero points, but a batched one to a `linalg.batch_matmul` of the
raw int8 values: every output is off by the zero points' cross terms (7 steps on a 2x2x4 by 2x4x3 product).
The same node as DequantizeLinear -> MatMul -> QuantizeLinear is a QDQ layer, which `onnx_qdq` turns into an
int8 x int8 -> int32 product with the zero points and `onnx_requantize`'s exact requantization.
"""

from __future__ import annotations

from .onnx_model import value_shapes


def split_batched_qlinear_matmuls(proto) -> int:
    """Rewrite every QLinearMatMul of `proto` (shapes inferred) with an operand of rank > 2 as above, in place;
    return how many."""
    import onnx
    from onnx import helper
    shapes = value_shapes(proto)
    rewritten = 0
    for node in list(proto.graph.node):
        if node.op_type != "QLinearMatMul" or max(len(shapes.get(node.input[k], [])) for k in (0, 3)) <= 2:
            continue
        a, sa, za, b, sb, zb, sy, zy = node.input
        stem = node.output[0]
        index = list(proto.graph.node).index(node)
        proto.graph.node.remove(node)
        replacement = [
            helper.make_node("DequantizeLinear", [a, sa, za], [f"{stem}__a"], name=f"{stem}__dq_a"),
            helper.make_node("DequantizeLinear", [b, sb, zb], [f"{stem}__b"], name=f"{stem}__dq_b"),
            helper.make_node("MatMul", [f"{stem}__a", f"{stem}__b"], [f"{stem}__product"],
                             name=node.name or f"{stem}__matmul"),
            helper.make_node("QuantizeLinear", [f"{stem}__product", sy, zy], [stem], name=f"{stem}__q")]
        for k, new in enumerate(replacement):
            proto.graph.node.insert(index + k, new)
        rewritten += 1
    if rewritten:  # the QDQ rewrite and the importer want the new values' shapes
        proto.CopyFrom(onnx.shape_inference.infer_shapes(proto, strict_mode=True))
    return rewritten
