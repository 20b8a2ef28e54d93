"""An ONNX model's NCHW (and NCW) convolutions and poolings in NHWC (NWC), the layout the kernels and the TFLite
path use: convolutions, depthwise convolutions (PyTorch's `groups` = channels: `depthwise_conv_2d_nchw_chw`, also
for a depthwise Conv1d), max and average poolings.

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

from ..analysis.linalg_util import defining_op, dense_to_numpy, numpy_to_dense, permutation_copy_axes
from ..ir import arith, ir, linalg, tensor, walk_ops

# channels-first op -> its channels-last twin (a function of the Python bindings' linalg) and how its constant
# weights are permuted (None: no weights). 1-D (a PyTorch Conv1d/MaxPool1d/AvgPool1d: NCW) as 2-D: its twin
# reads W x C contiguous; `linalg.conv_1d_nwc_wcf` takes WCF weights, which fdt-relayout-reduction-weights
# lays out in read order.
CONVERTED = {
    "linalg.conv_2d_nchw_fchw": (linalg.conv_2d_nhwc_fhwc, (0, 2, 3, 1)),
    "linalg.conv_2d_nchw_fchw_q": (linalg.conv_2d_nhwc_fhwc_q, (0, 2, 3, 1)),
    "linalg.pooling_nchw_max": (linalg.pooling_nhwc_max, None),
    "linalg.pooling_nchw_sum": (linalg.pooling_nhwc_sum, None),
    "linalg.depthwise_conv_2d_nchw_chw": (linalg.depthwise_conv_2d_nhwc_hwc, (1, 2, 0)),  # groups = channels
    "linalg.conv_1d_ncw_fcw": (linalg.conv_1d_nwc_wcf, (2, 1, 0)),
    "linalg.pooling_ncw_max": (linalg.pooling_nwc_max, None),
    "linalg.pooling_ncw_sum": (linalg.pooling_nwc_sum, None),
}


def to_channels_last(rank: int) -> tuple[int, ...]:
    """NCHW -> NHWC (rank 4), NCW -> NWC (rank 3)."""
    return (0, *range(2, rank), 1)


def to_channels_first(rank: int) -> tuple[int, ...]:
    return (0, rank - 1, *range(1, rank - 1))


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
    t = ir.RankedTensorType(value.type)
    perm = to_channels_last(t.rank)
    pad = defining_op(value)
    if pad is None or pad.name != "tensor.pad" or len(list(pad.operands)) != 1 or len(list(value.uses)) != 1:
        return transpose(value, perm)
    low = _permuted(list(ir.DenseI64ArrayAttr(pad.attributes["static_low"])), perm)
    high = _permuted(list(ir.DenseI64ArrayAttr(pad.attributes["static_high"])), perm)
    if any(v < 0 for v in low + high):  # padding known at run time only: transpose the padded map instead
        return transpose(value, perm)
    source = transpose(pad.operands[0], perm)
    padded = tensor.PadOp(ir.RankedTensorType.get(_permuted(list(t.shape), perm), t.element_type), source,
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
    perm = to_channels_last(t.rank)
    empty = tensor.EmptyOp(_permuted(list(t.shape), perm), t.element_type).result
    if producer is not None and producer.name == "linalg.fill":
        return linalg.fill(producer.operands[0], outs=[empty])
    if producer is not None and producer.name == "linalg.broadcast":
        added = [int(d) for d in ir.DenseI64ArrayAttr(producer.attributes["dimensions"])]
        kept = [perm.index(d) for d in range(t.rank) if d not in added]
        if kept == sorted(kept):  # the broadcast input's dimensions in the same order
            return linalg.broadcast(producer.operands[0], outs=[empty],
                                    dimensions=[d for d in range(t.rank) if d not in kept])
    return transpose(value, perm)


def _fhwc_weights(value: ir.Value, perm: tuple[int, ...]) -> ir.Value | None:
    """FCHW constant weights as an FHWC constant (FCW as WCF); None when not a constant."""
    const = defining_op(value)
    if const is None or const.name != "arith.constant":
        return None
    array = np.ascontiguousarray(np.transpose(dense_to_numpy(const.attributes["value"]), perm))
    t = ir.RankedTensorType(value.type)
    out_type = ir.RankedTensorType.get(list(array.shape), t.element_type)
    return arith.ConstantOp(out_type, numpy_to_dense(array, out_type)).result


def _is_matmul(op) -> bool:
    """A 1x1 convolution of a 1x1 map: the same bytes in NCHW and NHWC."""
    shape = list(ir.RankedTensorType(op.operands[0].type).shape)
    return all(d == 1 for d in shape[2:])


def _convert(op) -> bool:
    build, weight_perm = CONVERTED[op.name]
    if weight_perm is not None and _is_matmul(op):
        return False
    rank = ir.RankedTensorType(op.operands[0].type).rank
    with ir.InsertionPoint(op), op.location:
        weights = op.operands[1]
        if weight_perm is not None:
            weights = _fhwc_weights(weights, weight_perm)
            if weights is None:
                return False
        image = _nhwc_input(op.operands[0])
        init = _nhwc_init(op.operands[len(op.operands) - 1])
        ins = [image, weights, *list(op.operands)[2:len(op.operands) - 1]]
        spatial = rank - 2
        result = build(*ins, outs=[init], strides=_attr_list(op, "strides", spatial),
                       dilations=_attr_list(op, "dilations", spatial))
        back = transpose(result, to_channels_first(rank))
    op.results[0].replace_all_uses_with(back)
    op.erase()
    return True


def _attr_list(op, name: str, spatial: int) -> list[int]:
    return [int(v) for v in ir.DenseIntElementsAttr(op.attributes[name])] if name in op.attributes else [1] * spatial


def _generic_transposes(module: ir.Module) -> None:
    """torch-mlir's `linalg.transpose`s as element-wise generics (fusable)."""
    for op in [o for o in walk_ops(module.operation) if o.name == "linalg.transpose"]:
        perm = tuple(int(v) for v in ir.DenseI64ArrayAttr(op.attributes["permutation"]))
        with ir.InsertionPoint(op), op.location:
            copy = transpose(op.operands[0], perm)
        op.results[0].replace_all_uses_with(copy)
        op.erase()


def _transposes_before_pads(module: ir.Module) -> None:
    """A transpose of a padded map (torch-mlir's NHWC quantized depthwise convolution reads its NCHW input padded,
    then transposed) as the padding of the transposed map: the transpose then meets the one back to NCHW after the
    producer and the two fold (`fdt-fuse-elementwise-chains`), where the pad between them kept the producer's
    requantization reading its accumulator transposed, the accumulator whole (4 bytes an element) and a padded
    copy besides."""
    for op in [o for o in walk_ops(module.operation) if permutation_copy_axes(o) is not None]:
        pad = defining_op(op.operands[0])
        if pad is None or pad.name != "tensor.pad" or len(list(pad.operands)) != 1 or \
                len(list(pad.results[0].uses)) != 1:
            continue
        axes = permutation_copy_axes(op)
        low = [list(ir.DenseI64ArrayAttr(pad.attributes["static_low"]))[a] for a in axes]
        high = [list(ir.DenseI64ArrayAttr(pad.attributes["static_high"]))[a] for a in axes]
        if any(v < 0 for v in low + high):
            continue
        with ir.InsertionPoint(op), op.location:
            source = transpose(pad.operands[0], tuple(axes))
            t = ir.RankedTensorType(op.results[0].type)
            padded = tensor.PadOp(t, source, [], [], low, high)
            block = padded.regions[0].blocks.append(*[ir.IndexType.get()] * t.rank)
            with ir.InsertionPoint(block):
                tensor.YieldOp(list(pad.regions[0].blocks[0].operations)[-1].operands[0])
        op.results[0].replace_all_uses_with(padded.result)
        op.erase()
        pad.erase()


def channels_last(module: ir.Module) -> int:
    """Rewrite the NCHW convolutions and poolings of `module` (module docstring); return how many."""
    count = 0
    with module.context, ir.Location.unknown():
        for op in [o for o in walk_ops(module.operation) if o.name in CONVERTED]:
            count += _convert(op)
        _generic_transposes(module)
        _transposes_before_pads(module)
    return count
