"""fdt-reuse-dying-inputs: an element-at-a-time loop nest writes its result over an input that
dies there, when it reads that input only at the element it is about to write.

After `fdt-fuse-epilogues`, an elementwise tail (requantization, activation, residual add) runs
inside a loop nest that extracts one tile of each operand and inserts one tile of the result.
If an operand X has the result's type, is read in the nest only at the very offsets where the
nest inserts, and has no use after the nest, then the nest can start from X instead of an empty
tensor: each iteration reads its tile of X before overwriting it, and never reads a tile another
iteration wrote. Reads of X are redirected to the loop-carried tensor, so one-shot
bufferization sees a plain in-place update and X and the result share one buffer.

The same holds one level up, for a tiled layer whose tile loop reads X only as the very tile it
writes (a depthwise layer cut into channel partitions, a 1x1 layer cut into rows): each tile is
then computed into a private tile buffer (the tile's destination becomes an empty tensor) and
copied over X's tile once all of it has been read. X and the result share one buffer; the layer
needs one tile more instead of a second whole tensor.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..ir import entry_function, ir
from ..analysis.linalg_util import defining_op
from ..passes import ModulePass

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


def _carried_chain(nest: list[ir.Operation], level: int) -> bool:
    """Whether loops 0..level of `nest` pass their loop-carried tensor down as the next one's init."""
    return all(nest[k + 1].operands[3] == nest[k].regions[0].blocks[0].arguments[1] for k in range(level))


def _privatize_destinations(body: ir.Block, carried: ir.Value, key: tuple) -> bool:
    """Give the tile computed in `body` a fresh buffer: every slice of `carried` at `key` used as a
    destination becomes an empty tensor. False when a tile has a dynamic shape (left as it is)."""
    slices = [op.operation for op in body.operations if op.operation.name == "tensor.extract_slice"
              and op.operation.operands[0] == carried and _slice_key(op.operation, 1) == key
              and list(op.operation.results[0].uses)]
    if any(not ir.RankedTensorType(s.results[0].type).has_static_shape for s in slices):
        return False
    for s in slices:
        tile = ir.RankedTensorType(s.results[0].type)
        with ir.InsertionPoint(s), s.location:
            empty = ir.Operation.create("tensor.empty", results=[tile], operands=[])
        s.results[0].replace_all_uses_with(empty.results[0])
    return True


def _reuse_at(loop: ir.Operation, level_loop: ir.Operation, innermost: bool, position: dict) -> str | None:
    """Reuse a dying input at one level of `loop`'s nest: `level_loop` inserts one slice of its
    carried tensor per iteration and reads the input only as that same slice."""
    init = loop.operands[3]  # lower, upper, step, init
    body = level_loop.regions[0].blocks[0]
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
                                    and u.owner.operation.parent == level_loop
                                    and _slice_key(u.owner.operation, 1) == key for u in readers):
            continue
        # one element at a time, the element is read before it is written; a whole tile must be
        # computed apart and copied over the input's tile
        if not innermost and not _privatize_destinations(body, carried, key):
            return None
        for u in readers:
            u.owner.operation.operands[0] = carried
        empty = defining_op(init)
        loop.operands[3] = source
        if not list(empty.results[0].uses):
            empty.erase()
        return source.get_name()
    return None


def _try_reuse(loop: ir.Operation, position: dict) -> str | None:
    if len(loop.results) != 1:
        return None
    empty = defining_op(loop.operands[3])
    if empty is None or empty.name != "tensor.empty":
        return None
    nest = _perfect_nest(loop)
    for level in reversed(range(len(nest))):
        if _carried_chain(nest, level):
            reused = _reuse_at(loop, nest[level], level == len(nest) - 1, position)
            if reused:
                return reused
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
