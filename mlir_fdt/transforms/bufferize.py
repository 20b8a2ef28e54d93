"""fdt-bufferize: tensors become memrefs (one-shot bufferize, identity layouts at the boundary).

Every `memref.alloc` left afterwards is a buffer for the memory planner: whole tensors
between layers at the top level, tile buffers inside loops.
"""

from __future__ import annotations

from dataclasses import dataclass

from iree.compiler.dialects import memref

from ..analysis.linalg_util import defining_op
from ..errors import FdtError
from ..ir import ir, run_pipeline, walk_ops
from ..passes import ModulePass


def split_shared_empty_tensors(module: ir.Module) -> None:
    """Give each use of a `tensor.empty` its own op, so that bufferization never has to copy
    one shared allocation to keep several destination-passing ops apart."""
    with module.context:
        for op in walk_ops(module.operation):
            if op.name != "tensor.empty" or op.operands:
                continue
            uses = list(op.results[0].uses)
            for use in uses[1:]:
                user = use.owner.operation
                clone = op.clone(ir.InsertionPoint(user))
                user.operands[use.operand_number] = clone.results[0]


@dataclass(frozen=True)
class Bufferize(ModulePass):
    """One-shot bufferization with identity layouts at the function boundary."""

    name = "fdt-bufferize"
    summary = "bufferize tensors to memrefs (one-shot, identity layouts at function boundaries)"

    def apply(self, module: ir.Module) -> None:
        split_shared_empty_tensors(module)
        try:
            run_pipeline(module, "builtin.module(eliminate-empty-tensors,empty-tensor-to-alloc-tensor,"
                                 "one-shot-bufferize{bufferize-function-boundaries "
                                 "function-boundary-type-conversion=identity-layout-map},"
                                 "canonicalize,cse)")
        except ir.MLIRError as e:
            raise FdtError(f"bufferization failed: {e}") from None
        erase_self_copies(module)
        copy_overlapping_rows_directly(module)


def erase_self_copies(module: ir.Module) -> None:
    """`memref.copy %a, %a` (an in-place insert_slice after bufferization) does nothing: drop it."""
    for op in walk_ops(module.operation):
        if op.name == "memref.copy" and op.operands[0] == op.operands[1]:
            op.erase()


def copy_overlapping_rows_directly(module: ir.Module) -> None:
    """`copy(A, t); copy(t, B)` through a temporary `t` used by nothing else, where B lies at or below A in the
    same buffer with the same layout (a streamed window shifting its rows up, `transforms/stream_rows.py`):
    one copy A -> B. The copy's loops run in ascending address order (`fdt-lower-to-loops`), so each element
    is read before a lower one overwrites it; the temporary (rows of the window) is gone from the arena."""
    for op in walk_ops(module.operation):
        if op.name != "memref.alloc" or len(list(op.results[0].uses)) != 2:
            continue
        temporary = op.results[0]
        copies = [u.owner.operation for u in temporary.uses]
        if any(c.name != "memref.copy" for c in copies):
            continue
        into = next((c for c in copies if c.operands[1] == temporary), None)
        out_of = next((c for c in copies if c.operands[0] == temporary), None)
        if into is None or out_of is None or into.parent != out_of.parent:
            continue
        source, destination = into.operands[0], out_of.operands[1]
        if not _same_buffer_at_or_below(destination, source) or not _only_views_between(into, out_of):
            continue
        with ir.InsertionPoint(out_of), out_of.location:
            memref.CopyOp(source, destination)
        out_of.erase()
        into.erase()
        op.erase()


def _subview_of(value: ir.Value):
    op = defining_op(value)
    return op if op is not None and op.name == "memref.subview" and len(op.operands) == 1 else None


def _same_buffer_at_or_below(low: ir.Value, high: ir.Value) -> bool:
    """Static subviews of one buffer, same shape and layout but offsets, `low`'s at or before `high`'s."""
    a, b = _subview_of(low), _subview_of(high)
    if a is None or b is None or a.operands[0] != b.operands[0]:
        return False
    ta, tb = ir.MemRefType(low.type), ir.MemRefType(high.type)
    if list(ta.shape) != list(tb.shape) or ta.element_type != tb.element_type:
        return False
    la, lb = ir.StridedLayoutAttr(ta.layout), ir.StridedLayoutAttr(tb.layout)
    dynamic = ir.ShapedType.get_dynamic_stride_or_offset()
    return list(la.strides) == list(lb.strides) and dynamic not in (la.offset, lb.offset) and la.offset <= lb.offset


def _only_views_between(first: ir.Operation, last: ir.Operation) -> bool:
    ops = [o.operation for o in first.block.operations]
    i, j = ops.index(first), ops.index(last)
    return i < j and all(o.name in ("memref.subview", "arith.constant") for o in ops[i + 1:j])
