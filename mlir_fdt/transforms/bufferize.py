"""fdt-bufferize: tensors become memrefs (one-shot bufferize, identity layouts at the boundary).

Every `memref.alloc` left afterwards is a buffer for the memory planner: whole tensors
between layers at the top level, tile buffers inside loops.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def erase_self_copies(module: ir.Module) -> None:
    """`memref.copy %a, %a` (an in-place insert_slice after bufferization) does nothing: drop it."""
    for op in walk_ops(module.operation):
        if op.name == "memref.copy" and op.operands[0] == op.operands[1]:
            op.erase()
