"""fdt-outline-loop-nests: each top-level loop nest (one layer) becomes a function of its own.

The lowered program is one function of a few dozen loop nests. LLVM then optimizes it as a whole:
addresses and constants of every layer are hoisted to the function's entry, live across all the
other layers, and spilled to the stack, so each layer's inner loops reload them (measured on
ResNet-8: its nests run alone cost 35.4 M instructions, together in one function 41.6 M). Here each
top-level `scf.for` moves into a private function taking the arena; the views, global addresses,
constants and accumulator allocas it uses are re-created inside it (they are pure and cheap), and
the entry function calls the nests in order. IREE's pipeline inlines the calls again (a
`passthrough = ["noinline"]` does not survive it either), but each nest keeps its own copies of what
it uses, set up where it starts: ResNet-8 untiled 41.6 M -> 35.1 M instructions, KWS and AD unchanged. Same buffers,
same arena.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..ir import entry_function, func, ir, walk_ops
from ..passes import ModulePass

# ops re-created in an outlined function when the nest uses their result (pure, no computation worth sharing)
REMATERIALIZABLE = ("arith.constant", "memref.view", "memref.get_global", "memref.alloca", "memref.subview",
                    "memref.collapse_shape", "memref.expand_shape", "memref.reinterpret_cast")


def _outside_values(nest) -> list[ir.Value]:
    """Values the nest reads that are defined outside it, in first-use order."""
    inside = {op for op in walk_ops(nest)} | {nest}
    seen, order = set(), []
    for op in [nest, *walk_ops(nest)]:
        for v in op.operands:
            owner = v.owner
            defined_inside = (owner.operation in inside) if not isinstance(owner, ir.Block) else \
                (owner.owner is not None and owner.owner.operation in inside)
            if not defined_inside and v not in seen:
                seen.add(v)
                order.append(v)
    return order


def _used_only_inside(value: ir.Value, inside: set) -> bool:
    """Whether every use of `value` is an op of `inside`, directly or through views of it."""
    for use in value.uses:
        user = use.owner.operation if hasattr(use.owner, "operation") else use.owner
        if user in inside:
            continue
        if user.name == "memref.alloca" or user.name not in REMATERIALIZABLE:
            return False
        if not all(_used_only_inside(r, inside) for r in user.results):
            return False
    return True


def _rematerialize(value: ir.Value, arena: ir.Value, new_arena: ir.Value, mapping: dict, inside: set) -> bool:
    """Clone `value`'s defining chain at the current insertion point (mapping old -> new); False when
    some value in it cannot be re-created: an accumulator (`memref.alloca`) that ops outside the nest use
    too holds a value across them (a loop of one iteration, canonicalized away, leaves its initialisation
    and epilogue beside the nest), and a copy would lose it."""
    if value in mapping:
        return True
    if value == arena:
        mapping[value] = new_arena
        return True
    owner = value.owner
    if isinstance(owner, ir.Block) or owner.operation.name not in REMATERIALIZABLE:
        return False
    op = owner.operation
    if op.name == "memref.alloca" and not _used_only_inside(value, inside):
        return False
    if not all(_rematerialize(v, arena, new_arena, mapping, inside) for v in op.operands):
        return False
    clone = op.clone()
    for i, v in enumerate(op.operands):
        clone.operands[i] = mapping[v]
    for old, new in zip(op.results, clone.results):
        mapping[old] = new
    return True


def outline(module: ir.Module) -> int:
    """Outline every top-level loop nest of the entry function; the number outlined."""
    fn = entry_function(module)
    entry = fn.regions[0].blocks[0]
    if len(entry.arguments) != 1:
        return 0
    arena = entry.arguments[0]
    nests = [op.operation for op in entry.operations if op.operation.name == "scf.for"]
    count = 0
    for i, nest in enumerate(nests):
        name = f"fdt_nest_{i}"
        with ir.InsertionPoint(fn), fn.location:
            callee = func.FuncOp(name, ir.FunctionType.get([arena.type], []), visibility="private")
        body = callee.add_entry_block()
        mapping: dict = {}
        inside = {nest, *walk_ops(nest)}
        with ir.InsertionPoint(body), nest.location:
            if not all(_rematerialize(v, arena, body.arguments[0], mapping, inside) for v in _outside_values(nest)):
                callee.erase()
                continue
            moved = nest.clone()
            for op in [moved, *walk_ops(moved)]:
                for k, v in enumerate(op.operands):
                    if v in mapping:
                        op.operands[k] = mapping[v]
            func.ReturnOp([])
        with ir.InsertionPoint(nest), nest.location:
            func.CallOp([], ir.FlatSymbolRefAttr.get(name), [arena])
        nest.erase()
        count += 1
    return count


@dataclass(frozen=True)
class OutlineLoopNests(ModulePass):
    """Give each top-level loop nest of the lowered program a function of its own."""

    name = "fdt-outline-loop-nests"
    summary = "one function per top-level loop nest (no cross-layer hoisting and spills)"

    def apply(self, module: ir.Module) -> None:
        with module.context, ir.Location.unknown():
            outline(module)
