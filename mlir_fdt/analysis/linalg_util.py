"""Small helpers on linalg ops and dense attributes shared by the passes."""

from __future__ import annotations

import numpy as np

from ..ir import arith, ir


def iterator_kinds(op) -> list[str]:
    return [str(a).split("<")[-1].rstrip(">") for a in op.attributes["iterator_types"]]


def is_all_parallel(op) -> bool:
    return all(k == "parallel" for k in iterator_kinds(op))


def permutation_copy_axes(op) -> list[int] | None:
    """For a `linalg.generic` that copies its only (tensor) input under permutation maps, a transpose: the input
    axis of each output axis; None for any other op."""
    if op.name != "linalg.generic" or len(op.operands) != 2 or not is_all_parallel(op) \
            or not isinstance(op.operands[0].type, ir.RankedTensorType):
        return None
    body = op.regions[0].blocks[0]
    ops = list(body.operations)
    if not (len(ops) == 1 and ops[0].operation.name == "linalg.yield" and ops[0].operands[0] == body.arguments[0]):
        return None
    in_map, out_map = [ir.AffineMapAttr(a).value for a in op.attributes["indexing_maps"]]
    if not (in_map.is_permutation and out_map.is_permutation):
        return None
    in_dims = [ir.AffineDimExpr(e).position for e in in_map.results]
    out_dims = [ir.AffineDimExpr(e).position for e in out_map.results]
    return [in_dims.index(d) for d in out_dims]


def has_reduction(op) -> bool:
    return any(k == "reduction" for k in iterator_kinds(op))


def indexing_maps(op) -> list[ir.AffineMap]:
    return [ir.AffineMapAttr(a).value for a in op.attributes["indexing_maps"]]


def num_inputs(op) -> int:
    """Number of `ins` operands of a linalg structured op."""
    seg = op.attributes["operandSegmentSizes"]
    return int(ir.DenseI32ArrayAttr(seg)[0])


def defining_op(value: ir.Value) -> ir.Operation | None:
    """The operation producing `value`, or None for a block argument."""
    owner = value.owner
    if isinstance(owner, ir.Block):
        return None
    return owner.operation


def constant_int(value: ir.Value) -> int | None:
    """The integer of a scalar `arith.constant`, or None."""
    producer = defining_op(value)
    if producer is None or producer.name != "arith.constant":
        return None
    attr = producer.attributes["value"]
    return ir.IntegerAttr(attr).value if isinstance(attr, ir.IntegerAttr) else None


def mixed_offsets(subview) -> list:
    """The offsets of a `memref.subview` (or tensor slice), one per axis of its source: an int where it is
    static, else the index Value."""
    static = list(ir.DenseI64ArrayAttr(subview.attributes["static_offsets"]))
    n_dynamic = list(ir.DenseI32ArrayAttr(subview.attributes["operandSegmentSizes"]))[1]
    dynamic = iter(list(subview.operands)[1:1 + n_dynamic])
    marker = ir.ShapedType.get_dynamic_stride_or_offset()
    return [next(dynamic) if o == marker else o for o in static]


def input_index(value: ir.Value, op) -> int | None:
    """The operand index of the input a body argument of the linalg op `op` is bound to, or None (an
    output argument, or any other value)."""
    if not (isinstance(value.owner, ir.Block) and value.owner == op.regions[0].blocks[0]):
        return None
    index = ir.BlockArgument(value).arg_number
    return index if index < num_inputs(op) else None


def dense_to_numpy(attr: ir.Attribute) -> np.ndarray:
    dense = ir.DenseElementsAttr(attr)
    shape = ir.ShapedType(dense.type).shape
    if isinstance(ir.ShapedType(dense.type).element_type, ir.FloatType):
        arr = np.array(ir.DenseFPElementsAttr(attr))
    else:
        arr = np.array(ir.DenseIntElementsAttr(attr))
    return np.broadcast_to(arr, shape) if dense.is_splat else arr.reshape(shape)


def numpy_to_dense(arr: np.ndarray, tensor_type: ir.RankedTensorType) -> ir.Attribute:
    elem = tensor_type.element_type
    return ir.DenseElementsAttr.get(np.ascontiguousarray(arr), type=elem, shape=list(tensor_type.shape))


def emit_affine(expr: ir.AffineExpr, dims: list[ir.Value]) -> ir.Value:
    """Materialise an affine expression of loop indices (`dims[i]` for d_i) with arith ops at the
    current insertion point."""
    index = ir.IndexType.get()
    if isinstance(expr, ir.AffineDimExpr):
        return dims[ir.AffineDimExpr(expr).position]
    if isinstance(expr, ir.AffineConstantExpr):
        return arith.ConstantOp(index, ir.AffineConstantExpr(expr).value).result
    if isinstance(expr, ir.AffineAddExpr):
        e = ir.AffineAddExpr(expr)
        return arith.AddIOp(emit_affine(e.lhs, dims), emit_affine(e.rhs, dims)).result
    if isinstance(expr, ir.AffineMulExpr):
        e = ir.AffineMulExpr(expr)
        return arith.MulIOp(emit_affine(e.lhs, dims), emit_affine(e.rhs, dims)).result
    raise ValueError(f"unsupported affine expression in an indexing map: {expr}")


def involves_dim(expr: ir.AffineExpr, dim: int) -> bool:
    return any(e.position == dim for e in _dim_exprs(expr))


def _dim_exprs(expr: ir.AffineExpr) -> list:
    if isinstance(expr, ir.AffineDimExpr):
        return [ir.AffineDimExpr(expr)]
    if isinstance(expr, ir.AffineBinaryExpr):
        e = ir.AffineBinaryExpr(expr)
        return _dim_exprs(e.lhs) + _dim_exprs(e.rhs)
    return []


def steps_by_one_in(expr: ir.AffineExpr, dim: int) -> bool:
    """Whether `expr` is `d_dim` or `d_dim + (terms without d_dim)`: one step of loop `dim` moves
    the index by exactly one."""
    if isinstance(expr, ir.AffineDimExpr):
        return ir.AffineDimExpr(expr).position == dim
    if isinstance(expr, ir.AffineAddExpr):
        e = ir.AffineAddExpr(expr)
        return (steps_by_one_in(e.lhs, dim) and not involves_dim(e.rhs, dim)) or \
            (steps_by_one_in(e.rhs, dim) and not involves_dim(e.lhs, dim))
    return False


def reads_contiguously(affine_map: ir.AffineMap, dim: int) -> bool:
    """Whether loop `dim` walks the innermost axis of an operand indexed by `affine_map` one element
    a step and no other axis (a row-major operand is then read contiguously along `dim`)."""
    results = list(affine_map.results)
    return bool(results) and steps_by_one_in(results[-1], dim) and \
        not any(involves_dim(e, dim) for e in results[:-1])


def erase_dead_body_ops(block: ir.Block) -> None:
    """Erase side-effect-free ops of a linalg body left without users (after a rewrite of the body)."""
    changed = True
    while changed:
        changed = False
        for body_op in reversed([o.operation for o in block.operations][:-1]):
            if body_op.name.startswith(("arith.", "linalg.index", "memref.load", "tensor.extract")) and \
                    all(not list(r.uses) for r in body_op.results):
                body_op.erase()
                changed = True


def move_body(old_block: ir.Block, new_block: ir.Block) -> None:
    """Move every op of `old_block` to the end of the empty `new_block`, in order."""
    ops = [o.operation for o in old_block.operations]
    with ir.InsertionPoint(new_block):
        placeholder = arith.ConstantOp(ir.IndexType.get(), 0)
    for body_op in ops:
        body_op.move_before(placeholder)
    placeholder.erase()


def take_body(old_op, new_op) -> ir.Block:
    """Move the body of the linalg op `old_op` into the empty region of `new_op` (a block with the same
    argument types, uses remapped): the same computation on new operands or loops. Returns the block."""
    old_block = old_op.regions[0].blocks[0]
    block = new_op.regions[0].blocks.append(*[a.type for a in old_block.arguments])
    for old, new in zip(old_block.arguments, block.arguments):
        old.replace_all_uses_with(new)
    move_body(old_block, block)
    return block
