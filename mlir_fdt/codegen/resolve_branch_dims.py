"""fdt-resolve-branch-dims: the size of a buffer chosen by an `scf.if`, where both branches give it the same size.

An FFMT tile of a padded input is either all padding or part input, part padding; the tile's buffer is the result
of an `scf.if` whose branches both view the arena with the tile's (dynamic) height. Its consumer's loops bound
themselves by `memref.dim` of that result, which neither IREE's lowering (iree-compile stopped: "failed to legalize
memref.dim") nor the instruction estimate could read. Each such `memref.dim` becomes the size both branches give:
the same SSA value, defined outside the `scf.if`, or the same constant.

The same holds for a `memref.dim` of a collapsed view (`memref.collapse_shape`) of such a tile: a row loop over a
padded window kept in one dynamic axis (a 2x4 kernel over a 2-row map padded by one row: fuzz seed 1807, case 158,
an internal error in the instruction estimate, then iree-compile's): the size of the axis it keeps.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis.linalg_util import defining_op
from ..ir import arith, ir, walk_ops
from ..passes import ModulePass

DYNAMIC = -9223372036854775808  # ShapedType::kDynamic

# op -> the index of its first dynamic-size operand (sizes follow in the order of the dynamic dims)
_SIZED = {"memref.view": 2, "memref.alloc": 0, "memref.alloca": 0}


def _constant_index(value: ir.Value) -> int | None:
    op = defining_op(value)
    if op is not None and op.name == "arith.constant" and isinstance(op.results[0].type, ir.IndexType):
        return ir.IntegerAttr(op.attributes["value"]).value
    return None


def _size(value: ir.Value, axis: int):
    """The size of memref `value` along `axis`: an int, an ir.Value, or None when it is not known here."""
    shape = ir.MemRefType(value.type).shape
    if shape[axis] != DYNAMIC:
        return shape[axis]
    op = defining_op(value)
    if op is None:
        return None
    if op.name in _SIZED:
        dynamic_before = sum(1 for d in shape[:axis] if d == DYNAMIC)
        return op.operands[_SIZED[op.name] + dynamic_before]
    if op.name == "memref.subview":
        sizes = list(ir.DenseI64ArrayAttr(op.attributes["static_sizes"]))
        if len(sizes) != len(shape):
            return None  # rank-reducing: not what a tile is
        # operands: source, dynamic offsets, dynamic sizes, dynamic strides
        offsets = list(ir.DenseI64ArrayAttr(op.attributes["static_offsets"]))
        first_size = 1 + sum(1 for o in offsets if o == DYNAMIC)
        return op.operands[first_size + sum(1 for s in sizes[:axis] if s == DYNAMIC)]
    if op.name == "scf.if":
        return _branch_size(op, list(op.results).index(value), axis)
    if op.name == "memref.collapse_shape":
        group = [ir.IntegerAttr(d).value for d in ir.ArrayAttr(op.attributes["reassociation"])[axis]]
        dynamic = [d for d in group if ir.MemRefType(op.operands[0].type).shape[d] == DYNAMIC]
        return _size(op.operands[0], dynamic[0]) if len(dynamic) == 1 and len(group) == 1 else None
    return None


def _branch_size(branch: ir.Operation, result: int, axis: int):
    sizes = []
    for region in branch.regions:
        block = region.blocks[0]
        yielded = list(block.operations)[-1].operands[result]
        sizes.append(_size(yielded, axis))
    first = sizes[0]
    if first is None or any(s is None for s in sizes):
        return None
    if isinstance(first, int):
        return first if all(isinstance(s, int) and s == first for s in sizes) else None
    if all(not isinstance(s, int) and s == first for s in sizes) and not _inside(first, branch):
        return first
    return None


def _inside(value: ir.Value, op: ir.Operation) -> bool:
    """Whether `value` is defined by `op` or inside its regions."""
    owner = value.owner
    current = owner.owner if isinstance(owner, ir.Block) else owner
    target = op.operation
    while current is not None:
        current = current.operation
        if current == target:
            return True
        current = current.parent
    return False


@dataclass(frozen=True)
class ResolveBranchDims(ModulePass):
    """Replace `memref.dim` of an `scf.if` result by the size both branches give it (and of a collapsed view of
    one, or of a slice, by the size of the axis it keeps)."""

    name = "fdt-resolve-branch-dims"
    summary = "memref.dim of an scf.if result (or a collapsed view) -> the size its branches agree on"

    def apply(self, module: ir.Module) -> None:
        with module.context, ir.Location.unknown():
            for op in list(walk_ops(module.operation)):
                if op.name != "memref.dim":
                    continue
                source = defining_op(op.operands[0])
                axis = _constant_index(op.operands[1])
                if source is None or source.name not in ("scf.if", "memref.collapse_shape") or axis is None:
                    continue
                size = _size(op.operands[0], axis)
                if size is None:
                    continue
                if isinstance(size, int):
                    with ir.InsertionPoint(op), op.location:
                        size = arith.ConstantOp(ir.IndexType.get(), size).result
                op.results[0].replace_all_uses_with(size)
                op.erase()
