"""fdt-fold-pad-into-consumer: a `tensor.pad` in front of a convolution or pooling is read
through, not materialised.

The TOSA import pads each convolution input into a whole new tensor (27x7x64 for a 25x5x64
depthwise input in KWS). This pass deletes that copy: the consumer `linalg.generic` reads the
unpadded tensor with `tensor.extract` at a clamped index and selects the padding value where
the index falls outside, as TFLite Micro's kernels do. No buffer, per tensor or per tile.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis.layers import LAYER_ATTR
from ..ir import arith, ir, linalg, tensor, walk_ops
from ..analysis.linalg_util import defining_op, emit_affine, indexing_maps, num_inputs
from ..passes import ModulePass


def _static_pad(pad_op):
    """(low, high, padding value) of a pad with a constant padding value; low/high entries are
    ints, or Values where the tiling made them depend on the tile position."""
    dyn = ir.ShapedType.get_dynamic_size()
    low = list(ir.DenseI64ArrayAttr(pad_op.attributes["static_low"]))
    high = list(ir.DenseI64ArrayAttr(pad_op.attributes["static_high"]))
    operands = list(pad_op.operands)[1:]
    n_low = sum(1 for v in low if v == dyn)
    low_values, high_values = iter(operands[:n_low]), iter(operands[n_low:])
    low = [next(low_values) if v == dyn else v for v in low]
    high = [next(high_values) if v == dyn else v for v in high]
    if any(isinstance(v, int) and v < 0 for v in low + high):
        return None
    yielded = list(pad_op.regions[0].blocks[0].operations)[-1].operands[0]
    producer = defining_op(yielded)
    if producer is None or producer.parent == pad_op:
        return None  # padding value computed inside the region: not a constant
    return low, high, yielded


def _fold(pad_op, consumer, operand_index: int) -> None:
    low, high, pad_value = _static_pad(pad_op)
    source = pad_op.operands[0]
    src_shape = list(ir.RankedTensorType(source.type).shape)
    maps = indexing_maps(consumer)
    n_in = num_inputs(consumer)
    loops = maps[0].n_dims
    inputs = [v for i, v in enumerate(list(consumer.operands)[:n_in]) if i != operand_index]
    outputs = list(consumer.operands)[n_in:]
    keep_maps = [ir.AffineMapAttr.get(m) for i, m in enumerate(maps) if i != operand_index]
    old_block = consumer.regions[0].blocks[0]
    index = ir.IndexType.get()
    with ir.InsertionPoint(consumer), consumer.location:
        # sizes of dynamically shaped sources (edge tiles), read once outside the body
        extents = [d if d >= 0 else tensor.DimOp(source, arith.ConstantOp(index, axis).result).result
                   for axis, d in enumerate(src_shape)]
        new = linalg.GenericOp([r.type for r in consumer.results], inputs, outputs,
                               ir.ArrayAttr.get(keep_maps), consumer.attributes["iterator_types"])
        if LAYER_ATTR in consumer.attributes:  # the layer it belongs to, for the buffers' names
            new.attributes[LAYER_ATTR] = consumer.attributes[LAYER_ATTR]
        arg_types = [a.type for i, a in enumerate(old_block.arguments) if i != operand_index]
        block = new.regions[0].blocks.append(*arg_types)
        with ir.InsertionPoint(block):
            dims = [linalg.IndexOp(d).result for d in range(loops)]
            coords, in_bounds = [], None
            zero = arith.ConstantOp(index, 0).result
            for axis, expr in enumerate(maps[operand_index].results):
                padded = emit_affine(expr, dims)
                if isinstance(low[axis], int) and isinstance(high[axis], int) and low[axis] == high[axis] == 0:
                    coords.append(padded)
                    continue
                low_value = arith.ConstantOp(index, low[axis]).result if isinstance(low[axis], int) else low[axis]
                shifted = arith.SubIOp(padded, low_value).result
                one = arith.ConstantOp(index, 1).result
                extent = extents[axis]
                upper = arith.ConstantOp(index, extent - 1).result if isinstance(extent, int) else \
                    arith.SubIOp(extent, one).result
                ge = arith.CmpIOp(arith.CmpIPredicate.sge, shifted, zero).result
                le = arith.CmpIOp(arith.CmpIPredicate.sle, shifted, upper).result
                ok = arith.AndIOp(ge, le).result
                in_bounds = ok if in_bounds is None else arith.AndIOp(in_bounds, ok).result
                clamped = arith.MinSIOp(arith.MaxSIOp(shifted, zero).result, upper).result
                coords.append(clamped)
            loaded = tensor.ExtractOp(source, coords).result
            value = loaded if in_bounds is None else arith.SelectOp(in_bounds, loaded, pad_value).result
            anchor = value.owner
    new_args = list(block.arguments)
    for i, old_arg in enumerate(old_block.arguments):
        if i == operand_index:
            old_arg.replace_all_uses_with(value)
        else:
            old_arg.replace_all_uses_with(new_args[i if i < operand_index else i - 1])
    for op in list(old_block.operations):
        op.operation.move_after(anchor)
        anchor = op.operation
    for old_res, new_res in zip(consumer.results, new.results):
        old_res.replace_all_uses_with(new_res)
    consumer.erase()
    if not list(pad_op.results[0].uses):
        pad_op.erase()


def _loops_bounded_without(consumer, operand_index: int) -> bool:
    """Whether the consumer's other operands still give every loop its extent (each loop dim is a
    plain dim result of some kept indexing map). A reduction over the padded tensor alone (a MEAN
    after a PAD) has no other operand spanning the reduced dim: without the padded operand the
    generic is invalid (its loop bounds cannot be computed), so that pad stays."""
    maps = indexing_maps(consumer)
    covered = {ir.AffineDimExpr(e).position for i, m in enumerate(maps) if i != operand_index
               for e in m.results if isinstance(e, ir.AffineDimExpr)}
    return covered >= set(range(maps[0].n_dims))


@dataclass(frozen=True)
class FoldPadIntoConsumer(ModulePass):
    """Read padded inputs through clamped indices instead of materialising `tensor.pad`."""

    name = "fdt-fold-pad-into-consumer"
    summary = "replace tensor.pad feeding a linalg.generic by guarded reads of the unpadded tensor"

    def apply(self, module: ir.Module) -> None:
        with module.context, ir.Location.unknown():
            for pad_op in walk_ops(module.operation):
                if pad_op.name != "tensor.pad" or _static_pad(pad_op) is None:
                    continue
                for use in list(pad_op.results[0].uses):
                    consumer = use.owner
                    if consumer.name != "linalg.generic" or use.operand_number >= num_inputs(consumer):
                        continue
                    operands = list(consumer.operands)
                    if sum(1 for v in operands if v == pad_op.results[0]) != 1:
                        continue
                    if not _loops_bounded_without(consumer, use.operand_number):
                        continue
                    _fold(pad_op, consumer, use.operand_number)
