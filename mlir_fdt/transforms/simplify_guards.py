"""fdt-simplify-guards: an `scf.if` whose condition has the same value in every loop iteration
is replaced by the branch that always runs.

Tiling a `tensor.pad` guards each tile with "is this slice entirely padding?". With tiles that
cover the image, the answer is known for every tile; evaluating the condition over all loop
iterations (static bounds) removes the dead branch and the scf.if around the live one, so the
pad feeds its consumer directly and can be read through instead of copied.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis.index_eval import NotStatic, constant_over_iterations
from ..ir import ir, run_pipeline, walk_block, walk_ops
from ..passes import ModulePass


def _inline_branch(if_op: ir.Operation, branch: int) -> None:
    region = if_op.regions[branch]
    block = region.blocks[0]
    ops = [op.operation for op in block.operations]
    yield_op = ops[-1]
    for op in ops[:-1]:
        op.move_before(if_op)
    for result, value in zip(if_op.results, yield_op.operands):
        result.replace_all_uses_with(value)
    if_op.erase()


@dataclass(frozen=True)
class SimplifyGuards(ModulePass):
    """Inline `scf.if`s whose condition is the same in every iteration of the loops around them."""

    name = "fdt-simplify-guards"
    summary = "remove scf.if guards whose condition is constant over all loop iterations"

    def apply(self, module: ir.Module) -> None:
        with module.context:
            # one pre-order pass: an outer guard is decided before the guards it holds; a guard in a branch
            # erased with its scf.if is not looked at (deciding one guard changes no other's condition)
            erased: set = set()
            for op in [op for op in walk_ops(module.operation) if op.name == "scf.if"]:
                if op in erased:
                    continue
                try:
                    value = constant_over_iterations(op.operands[0], op)
                except NotStatic:
                    continue
                if value is None:
                    continue
                taken = 0 if value else 1
                if taken == 1 and len(op.regions[1].blocks) == 0:
                    if len(op.results):
                        continue
                    erased.update(walk_ops(op))
                    op.erase()
                else:
                    erased.update(child for block in op.regions[1 - taken].blocks for child in walk_block(block))
                    _inline_branch(op, taken)
        # inlined branches leave tensor.casts to the scf.if's (less static) result types
        run_pipeline(module, "builtin.module(canonicalize,cse)")
