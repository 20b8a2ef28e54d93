"""fdt-reuse-dying-inputs: an element-at-a-time loop nest writes its result over an input that
dies there, when it reads that input only at the element it is about to write.

After `fdt-fuse-epilogues`, an elementwise tail (requantization, activation, residual add) runs
inside a loop nest that extracts one tile of each operand and inserts one tile of the result.
If an operand X has the result's type, is read in the nest only at the very offsets where the
nest inserts, and has no use after the nest, then the nest can start from X instead of an empty
tensor: each iteration reads its tile of X before overwriting it, and never reads a tile another
iteration wrote. Reads of X are redirected to the loop-carried tensor, so one-shot
bufferization sees a plain in-place update and X and the result share one buffer.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..ir import entry_function, ir
from .linalg_util import defining_op
from .pass_base import ModulePass

REUSED_ATTR = "fdt.reuses_input"


def _perfect_nest(loop: ir.Operation) -> list[ir.Operation]:
    """The chain of scf.for ops each of which is the only loop in its parent's body."""
    nest = [loop]
    while True:
        body = nest[-1].regions[0].blocks[0]
        inner = [op.operation for op in body.operations if op.operation.name == "scf.for"]
        if len(inner) != 1:
            return nest
        nest.append(inner[0])


def _slice_key(op: ir.Operation, skip_operands: int) -> tuple:
    return (tuple(op.operands)[skip_operands:], str(op.attributes["static_offsets"]),
            str(op.attributes["static_sizes"]), str(op.attributes["static_strides"]))


def _top_level(op: ir.Operation) -> ir.Operation:
    while op.parent is not None and op.parent.operation.name != "func.func":
        op = op.parent.operation
    return op


def _split_uses(value: ir.Value, loop: ir.Operation, position: dict) -> tuple[list, bool]:
    """(uses inside `loop`, whether every other use comes before `loop` in the schedule)."""
    inside, all_before = [], True
    for use in value.uses:
        top = _top_level(use.owner.operation)
        if top == loop:
            inside.append(use)
        elif position[top] > position[loop]:
            all_before = False
    return inside, all_before


def _try_reuse(loop: ir.Operation, position: dict) -> str | None:
    if len(loop.results) != 1:
        return None
    init = loop.operands[3]  # lower, upper, step, init
    empty = defining_op(init)
    if empty is None or empty.name != "tensor.empty":
        return None
    nest = _perfect_nest(loop)
    innermost = nest[-1]
    body = innermost.regions[0].blocks[0]
    carried = body.arguments[1]
    inserts = [op.operation for op in body.operations
               if op.operation.name == "tensor.insert_slice" and op.operation.operands[1] == carried]
    if len(inserts) != 1:
        return None
    key = _slice_key(inserts[0], 2)
    for op in body.operations:
        op = op.operation
        if op.name != "tensor.extract_slice":
            continue
        source = op.operands[0]
        if source.type != init.type or isinstance(source.owner, ir.Block) or _slice_key(op, 1) != key:
            continue
        if source.owner.operation.name not in ("scf.for", "linalg.generic"):
            continue  # constants are read-only (flash); arguments belong to the caller
        readers, dies_here = _split_uses(source, loop, position)
        if not dies_here or not all(u.owner.operation.name == "tensor.extract_slice"
                                    and u.owner.operation.parent == innermost
                                    and _slice_key(u.owner.operation, 1) == key for u in readers):
            continue
        for u in readers:
            u.owner.operation.operands[0] = carried
        loop.operands[3] = source
        if not list(empty.results[0].uses):
            empty.erase()
        return source.get_name()
    return None


@dataclass(frozen=True)
class ReuseDyingInputs(ModulePass):
    """Let element-at-a-time loop nests overwrite an input that dies there (in-place reuse)."""

    name = "fdt-reuse-dying-inputs"
    summary = "write an elementwise loop nest's result over a same-shaped input that dies there"

    def apply(self, module: ir.Module) -> None:
        with module.context:
            fn = entry_function(module)
            ops = [op.operation for op in fn.regions[0].blocks[0].operations]
            position = {op: i for i, op in enumerate(ops)}
            for op in ops:
                if op.name == "scf.for":
                    reused = _try_reuse(op, position)
                    if reused:
                        op.attributes[REUSED_ATTR] = ir.StringAttr.get(reused)
