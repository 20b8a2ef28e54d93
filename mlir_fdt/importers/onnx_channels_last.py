"""An ONNX model's NCHW convolutions and poolings in NHWC, the layout the kernels and the TFLite path use.

ONNX is channels-first: torch-mlir lowers Conv to `linalg.conv_2d_nchw_fchw(_q)` and MaxPool/AveragePool
to `linalg.pooling_nchw_*`. A reduction over (c, kh, kw) there reads kw contiguous elements at a time (a
3x3 window: three bytes, then a jump of a row), where NHWC reads kw x C contiguous elements: the SIMD32
dot products, the channel blocking and the 2x2 pixel blocking of `mlir_fdt/kernels` are built for that.
Measured on micro_kws_m (QDQ) under QEMU: 5.1 instructions a MAC in NCHW.

This step rewrites each such op into its NHWC twin between two transposes (`linalg.generic` copies): the
input (through its `tensor.pad`, whose padding is permuted) to NHWC, the weights (constants, permuted
here) from FCHW to FHWC, the result back to NCHW. The transposes are ordinary element-wise generics, so
`fdt-fuse-elementwise-chains` folds each into its neighbours: between two converted layers a transpose
back and a transpose forward compose to the identity, and the element-wise epilogue between them (a
requantization, an activation) runs in NHWC; only the model's own NCHW inputs and outputs (and values
read by an op that stays NCHW) keep a transpose. torch-mlir's own `linalg.transpose`s (a grouped
convolution's, an ONNX Transpose) become the same generics, so they fold too. A 1x1 convolution of a
1x1 map (a MatMul as a convolution) is the same bytes in both layouts and is left alone.
"""

from __future__ import annotations

import numpy as np

from ..analysis.linalg_util import defining_op, dense_to_numpy, numpy_to_dense
from ..ir import arith, ir, linalg, tensor, walk_ops

TO_NHWC = (0, 2, 3, 1)
TO_NCHW = (0, 3, 1, 2)
CONVERTED = {  # NCHW op -> its NHWC twin (a function of the Python bindings' linalg) and whether weights move
    "linalg.conv_2d_nchw_fchw": (linalg.conv_2d_nhwc_fhwc, True),
    "linalg.conv_2d_nchw_fchw_q": (linalg.conv_2d_nhwc_fhwc_q, True),
    "linalg.pooling_nchw_max": (linalg.pooling_nhwc_max, False),
    "linalg.pooling_nchw_sum": (linalg.pooling_nhwc_sum, False),
}


def _permuted(shape: list[int], perm: tuple[int, ...]) -> list[int]:
    return [shape[p] for p in perm]


def transpose(value: ir.Value, perm: tuple[int, ...]) -> ir.Value:
    """`value` transposed (result dim i = input dim perm[i]) as an element-wise `linalg.generic` copy."""
    t = ir.RankedTensorType(value.type)
    inverse = [perm.index(j) for j in range(t.rank)]
    out_type = ir.RankedTensorType.get(_permuted(list(t.shape), perm), t.element_type)
    empty = tensor.EmptyOp(out_type.shape, t.element_type).result
    in_map = ir.AffineMap.get(t.rank, 0, [ir.AffineDimExpr.get(inverse[j]) for j in range(t.rank)])
    out_map = ir.AffineMap.get_identity(t.rank)
    parallel = ir.ArrayAttr.get([ir.Attribute.parse("#linalg.iterator_type<parallel>")] * t.rank)
    op = linalg.GenericOp([out_type], [value], [empty],
                          ir.ArrayAttr.get([ir.AffineMapAttr.get(in_map), ir.AffineMapAttr.get(out_map)]), parallel)
    block = op.regions[0].blocks.append(t.element_type, t.element_type)
    with ir.InsertionPoint(block):
        linalg.YieldOp([block.arguments[0]])
    return op.results[0]


def _nhwc_input(value: ir.Value) -> ir.Value:
    """The NCHW `value` in NHWC: a `tensor.pad` of NCHW becomes the pad (permuted) of the transposed source."""
    pad = defining_op(value)
    if pad is None or pad.name != "tensor.pad" or len(list(pad.operands)) != 1 or len(list(value.uses)) != 1:
        return transpose(value, TO_NHWC)
    low = _permuted(list(ir.DenseI64ArrayAttr(pad.attributes["static_low"])), TO_NHWC)
    high = _permuted(list(ir.DenseI64ArrayAttr(pad.attributes["static_high"])), TO_NHWC)
    if any(v < 0 for v in low + high):  # padding known at run time only: transpose the padded map instead
        return transpose(value, TO_NHWC)
    source = transpose(pad.operands[0], TO_NHWC)
    t = ir.RankedTensorType(value.type)
    padded = tensor.PadOp(ir.RankedTensorType.get(_permuted(list(t.shape), TO_NHWC), t.element_type), source,
                          [], [], low, high)
    old_yield = list(pad.regions[0].blocks[0].operations)[-1]
    block = padded.regions[0].blocks.append(*[ir.IndexType.get()] * t.rank)
    with ir.InsertionPoint(block):
        tensor.YieldOp(old_yield.operands[0])
    return padded.result


def _nhwc_init(value: ir.Value) -> ir.Value:
    """The NCHW accumulator init `value` in NHWC: a fill, or a broadcast of a bias along the channels, of an
    empty tensor is made afresh in NHWC (a transposed copy of a whole float map would double its bytes)."""
    producer = defining_op(value)
    t = ir.RankedTensorType(value.type)
    empty = tensor.EmptyOp(_permuted(list(t.shape), TO_NHWC), t.element_type).result
    if producer is not None and producer.name == "linalg.fill":
        return linalg.fill(producer.operands[0], outs=[empty])
    if producer is not None and producer.name == "linalg.broadcast":
        added = [int(d) for d in ir.DenseI64ArrayAttr(producer.attributes["dimensions"])]
        kept = [TO_NHWC.index(d) for d in range(t.rank) if d not in added]
        if kept == sorted(kept):  # the broadcast input's dimensions in the same order
            return linalg.broadcast(producer.operands[0], outs=[empty],
                                    dimensions=[d for d in range(t.rank) if d not in kept])
    return transpose(value, TO_NHWC)


def _fhwc_weights(value: ir.Value) -> ir.Value | None:
    """FCHW constant weights as an FHWC constant; None when not a constant."""
    const = defining_op(value)
    if const is None or const.name != "arith.constant":
        return None
    array = np.ascontiguousarray(np.transpose(dense_to_numpy(const.attributes["value"]), TO_NHWC))
    t = ir.RankedTensorType(value.type)
    out_type = ir.RankedTensorType.get(list(array.shape), t.element_type)
    return arith.ConstantOp(out_type, numpy_to_dense(array, out_type)).result


def _is_matmul(op) -> bool:
    """A 1x1 convolution of a 1x1 map: the same bytes in NCHW and NHWC."""
    shape = list(ir.RankedTensorType(op.operands[0].type).shape)
    return shape[2] == shape[3] == 1


def _convert(op) -> bool:
    build, moves_weights = CONVERTED[op.name]
    if moves_weights and _is_matmul(op):
        return False
    with ir.InsertionPoint(op), op.location:
        weights = op.operands[1]
        if moves_weights:
            weights = _fhwc_weights(weights)
            if weights is None:
                return False
        image = _nhwc_input(op.operands[0])
        init = _nhwc_init(op.operands[len(op.operands) - 1])
        ins = [image, weights, *list(op.operands)[2:len(op.operands) - 1]]
        result = build(*ins, outs=[init], strides=_attr_list(op, "strides"), dilations=_attr_list(op, "dilations"))
        back = transpose(result, TO_NCHW)
    op.results[0].replace_all_uses_with(back)
    op.erase()
    return True


def _attr_list(op, name: str) -> list[int]:
    return [int(v) for v in ir.DenseIntElementsAttr(op.attributes[name])] if name in op.attributes else [1, 1]


def _generic_transposes(module: ir.Module) -> None:
    """torch-mlir's `linalg.transpose`s as element-wise generics (fusable)."""
    for op in [o for o in walk_ops(module.operation) if o.name == "linalg.transpose"]:
        perm = tuple(int(v) for v in ir.DenseI64ArrayAttr(op.attributes["permutation"]))
        with ir.InsertionPoint(op), op.location:
            copy = transpose(op.operands[0], perm)
        op.results[0].replace_all_uses_with(copy)
        op.erase()


def channels_last(module: ir.Module) -> int:
    """Rewrite the NCHW convolutions and poolings of `module` (module docstring); return how many."""
    count = 0
    with module.context, ir.Location.unknown():
        for op in [o for o in walk_ops(module.operation) if o.name in CONVERTED]:
            count += _convert(op)
        _generic_transposes(module)
    return count
