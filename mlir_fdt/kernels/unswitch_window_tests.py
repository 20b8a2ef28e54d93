"""fdt-unswitch-window-tests: move a peeled window's "inside the input?" test out of the loop over
output channels.

`fdt-peel-padded-windows` tests, for each output element, whether its window lies inside the input
(`scf.if` interior / border). The test depends on the output position only, so inside the loop over
channels it has the same outcome for every channel. This pass computes it before that loop and
branches once: `if inside { for c: interior } else { for c: border }`. The interior's channel loop is
then straight-line code around one dot product with static bounds, which `fdt-block-output-channels`
can block (several channels sharing each input word); the border loop stays as it was.

Only a loop whose body holds exactly one `scf.if` without results, whose condition is computed by
pure index arithmetic from values defined outside the loop, and whose interior computes a SIMD32 dot
product is unswitched (elsewhere the copy of the loop's epilogue would cost code and save nothing).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis.instructions import PURE_PREFIXES
from ..ir import ir, scf, walk_block, walk_ops
from ..passes import ModulePass
from .block_output_channels import body_ops
from .dot_products import is_simd32_dot_product

def _hoistable_slice(cond: ir.Value, loop) -> list | None:
    """The ops of `loop`'s body that compute `cond` (in body order), if all are pure and depend only on
    values defined outside the loop; else None."""
    body = loop.regions[0].blocks[0]
    members: set = set()
    stack = [cond]
    while stack:
        v = stack.pop()
        owner = v.owner
        if isinstance(owner, ir.Block):
            if owner == body:
                return None  # the loop's own index: not invariant
            continue
        op = owner.operation
        if op.block != body:
            continue  # defined outside the loop
        if not (op.name.startswith(PURE_PREFIXES) or op.name == "memref.dim") or op.regions:  # dim: an edge tile's size
            return None
        if op not in members:
            members.add(op)
            stack.extend(op.operands)
    return [op for op in body_ops(loop) if op in members]


def _inline_branch(if_op, region_index: int) -> None:
    """Replace `if_op` (no results) by the ops of one of its regions."""
    region = if_op.regions[region_index]
    if len(region.blocks):
        ops = [op.operation for op in region.blocks[0].operations][:-1]
        for op in ops:
            op.move_before(if_op)
    if_op.erase()


def unswitch(loop) -> bool:
    ifs = [op for op in body_ops(loop) if op.name == "scf.if"]
    if len(ifs) != 1 or len(ifs[0].results) or len(loop.results):
        return False
    if_op = ifs[0]
    if not any(is_simd32_dot_product(op) for op in walk_block(if_op.regions[0].blocks[0])):
        return False
    hoisted = _hoistable_slice(if_op.operands[0], loop)
    if hoisted is None:
        return False
    for op in hoisted:
        op.move_before(loop)
    position = body_ops(loop).index(if_op)
    with ir.InsertionPoint(loop), loop.location:
        branch = scf.IfOp(if_op.operands[0], [], has_else=True)
        for region_index, block in ((0, branch.then_block), (1, branch.else_block)):
            with ir.InsertionPoint(block):
                copy = loop.clone()
                scf.YieldOp([])
            _inline_branch(body_ops(copy)[position], region_index)
    loop.erase()
    return True


@dataclass(frozen=True)
class UnswitchWindowTests(ModulePass):
    """Branch once per output position, outside the channel loop, on a peeled window's interior test."""

    name = "fdt-unswitch-window-tests"
    summary = "hoist a peeled window's interior test out of the loop over channels (one branch a position)"

    def apply(self, module: ir.Module) -> None:
        with module.context, ir.Location.unknown():
            # innermost loops first: a loop that is unswitched is erased with the loops inside it
            for loop in reversed([op for op in walk_ops(module.operation) if op.name == "scf.for"]):
                unswitch(loop)
