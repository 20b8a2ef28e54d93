"""fdt-plan-memory: every buffer of the entry function becomes a view into one arena argument.

Afterwards the entry function has the signature `(memref<ARENA x i8>) -> ()`; the input and
output live in the arena at offsets recorded in the `fdt.arena` attribute. One-element tile
buffers (the accumulator of an output-element epilogue) become `memref.alloca`s in the entry
block, which LLVM promotes to registers; everything else is laid out by a planner and checked
by the verifier before the IR is rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

from ..errors import FdtError
from ..ir import (arith, block_encloses, entry_function, forward_shared_if_results, ir, memref, strip_attributes,
                  walk_block)
from ..analysis.layers import LAYER_ATTR, name_nests
from ..passes import ModulePass
from . import planner as planners
from .dead_rows import DeadRows, dead_rows
from .buffer_labels import BufferLabel, label_buffers, layer_steps
from .liveness import VIEW_OPS, Buffer, Schedule, collect_buffers, never_accessed
from .overlap import find_overlaps, merge_intervals
from .stream_input import streamed_inputs_of
from .verifier import PIECES_ATTR, USED_BYTES_ATTR, verify_plan, verify_views


@dataclass(frozen=True)
class PlannedBuffer:
    """One buffer of the arena: where it is, when it is live, what it holds."""

    name: str
    kind: str                    # input | output | tensor | tile
    bytes: int
    offset: int
    first: int                   # schedule steps it is live from and to, inclusive
    last: int
    holds: BufferLabel
    outputs: tuple[tuple[int, int, int], ...] = ()  # a buffer holding model outputs: (index, offset in it, bytes)
    # a buffer live in pieces (`memory/dead_rows.py`: rows dead part of a loop, bytes never touched): each
    # (lo, hi, first, last), its bytes [lo, hi) from the buffer's offset live over steps first..last
    pieces: tuple[tuple[int, int, int, int], ...] = ()

    @property
    def label(self) -> str:
        return self.holds.label

    def to_json(self) -> dict:
        return dict(name=self.name, kind=self.kind, bytes=self.bytes, offset=self.offset, first=self.first,
                    last=self.last, **self.holds.to_json(),
                    **({"outputs": [list(v) for v in self.outputs]} if self.outputs else {}),
                    **({"pieces": [list(v) for v in self.pieces]} if self.pieces else {}))

    @staticmethod
    def from_json(d: dict) -> PlannedBuffer:
        holds = BufferLabel(d["label"], d.get("layer"), tuple(d.get("writers", [d["layer"]] if d.get("layer") else [])),
                            tuple(d.get("readers", ())))
        return PlannedBuffer(d["name"], d["kind"], d["bytes"], d["offset"], d["first"], d["last"], holds,
                             tuple(tuple(v) for v in d.get("outputs", ())),
                             tuple(tuple(v) for v in d.get("pieces", ())))


@dataclass
class MemoryPlan:
    """What the planner decided, for the report."""

    planner: str
    alignment: int
    arena_bytes: int
    lower_bound_bytes: int
    buffers: list[PlannedBuffer] = field(default_factory=list)
    peak_places: int = 0  # places (step ranges) at which the live bytes reach lower_bound_bytes (a search's plateau)
    peak_layers: list[str] = field(default_factory=list)  # the layers running there
    shifted_aliases: list[dict] = field(default_factory=list)  # buffer pairs that share bytes
    register_tiles: int = 0
    schedule_length: int = 0
    layer_steps: dict[str, list[int]] = field(default_factory=dict)  # layer -> [first, last] schedule step
    # inputs not in the arena: the application delivers them a row at a time (memory/stream_input.py),
    # [input index, bytes a row, rows]
    streamed_inputs: list[list[int]] = field(default_factory=list)

    def io(self, kind: str) -> list[PlannedBuffer]:
        """The input or output buffers in the order of the function's arguments or results (the
        planner lists buffers in program order, which is not the order a model declares); an output
        the model lists several times appears at each of its indices, at the same offset; an output that
        is part of a buffer (a slice of a concatenation) at its own offset and size."""
        entries = [b for b in self.buffers if b.kind == kind and not b.outputs]
        entries += [replace(b, name=f"{kind}{k}", offset=b.offset + at, bytes=size)
                    for b in self.buffers if b.kind == kind for k, at, size in b.outputs]
        return sorted(entries, key=lambda b: int(b.name[len(kind):]))

    def buffers_json(self) -> list[dict]:
        return [b.to_json() for b in self.buffers]

    def to_json(self) -> dict:
        return {**{f.name: getattr(self, f.name) for f in fields(self)}, "buffers": self.buffers_json()}

    @staticmethod
    def from_json(d: dict) -> MemoryPlan:
        return MemoryPlan(**{**d, "buffers": [PlannedBuffer.from_json(b) for b in d["buffers"]]})


def _to_alloca(buf: Buffer, entry: ir.Block) -> None:
    op = buf.value.owner.operation
    if list(op.operands):
        return  # dynamically shaped: stays in the arena
    first = entry.operations[0]
    with ir.InsertionPoint(first), op.location:
        alloca = memref.AllocaOp(buf.value.type, [], [])
    buf.value.replace_all_uses_with(alloca.result)
    op.erase()


def _slot_lifetime(slot: list[Buffer], everything: list[Buffer]) -> tuple[int, int]:
    """Lifetime of a slot shared by exclusive branch buffers. A buffer of the branch that runs
    first in program order (e.g. an all-padding tile) is not live while the other branch
    computes; when that earlier branch touches no other buffer (allocates none, reads or writes none
    allocated outside it), the slot needs only the later buffer's lifetime. Otherwise: the union
    (always safe). (Two streamed rows computed in one branch, the canonicalizer having merged their
    `scf.if`s, took one slot while the first was read to compute the second: fuzz seed 1807, case 83.)"""
    union = (min(b.first for b in slot), max(b.last for b in slot))
    if len(slot) == 1:
        return union
    latest = max(slot, key=lambda b: b.first)
    placed = {b.value for b in everything if b not in slot and b.kind != "input"}
    for early in slot:
        if early is latest:
            continue
        branch = early.value.owner.operation.block
        for other in everything:
            if other in slot or other.kind == "input":
                continue
            if block_encloses(branch, other.value.owner.operation.block):
                return union
        if any(_root_buffer(v) in placed for op in walk_block(branch) for v in op.operands
               if isinstance(v.type, ir.MemRefType)):
            return union
    return (latest.first, union[1])


def _root_buffer(value: ir.Value) -> ir.Value:
    """The allocation (or argument) a memref view derives from."""
    while not isinstance(value.owner, ir.Block) and value.owner.operation.name in VIEW_OPS:
        value = value.owner.operation.operands[0]
    return value


def _share_bytes(pair, sizes: list[int], offsets: list[int]) -> bool:
    x, y = pair.dying, pair.born
    return offsets[x] < offsets[y] + sizes[y] and offsets[y] < offsets[x] + sizes[x]


def _merged(pieces: list) -> list[int]:
    """The byte ranges of a buffer's pieces, whenever live, merged: [lo0, hi0, lo1, hi1, ...]."""
    return [x for lo, last in merge_intervals((lo, hi - 1) for lo, hi, _ in pieces) for x in (lo, last + 1)]


def apply_plan(fn, buffers: list[Buffer], offsets: list[int], arena_bytes: int,
               used_bytes: list[int | None] | None = None, touched: list[list[int] | None] | None = None) -> None:
    """Rewrite allocations and arguments into `memref.view`s of a new arena argument. A buffer whose tail is never
    touched (`used_bytes`, `memory/dead_rows.py`) is planned and checked by the bytes it uses: its view is marked
    with them (`USED_BYTES_ATTR`, for `verify_views`)."""
    entry = fn.regions[0].blocks[0]
    i8 = ir.IntegerType.get_signless(8)
    arena_type = ir.MemRefType.get([max(arena_bytes, 1)], i8)
    arena = entry.add_argument(arena_type, fn.location)
    index = ir.IndexType.get()
    first = entry.operations[0]
    for k, (buf, off) in enumerate(zip(buffers, offsets)):
        # a view replaces its allocation in place (its dynamic sizes are defined there);
        # the input's view goes at the top of the function
        where = first if buf.kind == "input" else buf.value.owner.operation
        with ir.InsertionPoint(where), fn.location:
            c = arith.ConstantOp(index, off).result
            sizes = [] if buf.kind == "input" else list(buf.value.owner.operation.operands)
            view = memref.ViewOp(buf.value.type, arena, c, sizes)
            if used_bytes is not None and used_bytes[k] is not None:
                view.operation.attributes[USED_BYTES_ATTR] = ir.IntegerAttr.get(ir.IntegerType.get_signless(64),
                                                                                used_bytes[k])
            if touched is not None and touched[k] is not None:
                view.operation.attributes[PIECES_ATTR] = ir.DenseI64ArrayAttr.get(touched[k])
        buf.value.replace_all_uses_with(view.result)
        if buf.kind != "input":
            buf.value.owner.operation.erase()
    ret = entry.operations[len(entry.operations) - 1]
    with ir.InsertionPoint(ret), ret.location:
        from ..ir import func
        func.ReturnOp([])
    ret.erase()
    while len(entry.arguments) > 1:
        entry.erase_argument(0)
    fn.attributes["function_type"] = ir.TypeAttr.get(ir.FunctionType.get([arena_type], []))
    for attr in ("arg_attrs", "res_attrs"):  # per-argument/result attributes of the old signature
        if attr in fn.attributes:
            del fn.attributes[attr]


def _erase_dead_allocs(fn) -> None:
    from ..ir import walk_ops
    for op in walk_ops(fn):
        if op.name == "memref.alloc" and not list(op.results[0].uses):
            op.erase()


@dataclass(frozen=True)
class PlanMemory(ModulePass):
    """Lay every buffer into one arena (`algorithm` = best | optimal | greedy | linear) and verify the
    layout. With `shifted_aliases`, a buffer born in a loop may overlap the bytes of one dying
    there that the loop has finished reading (`memory.overlap`)."""

    name = "fdt-plan-memory"
    summary = "place every buffer in one static arena; verify no two live buffers overlap"
    algorithm: str = "best"
    alignment: int = 16
    register_tile_elements: int = 1
    shifted_aliases: bool = True
    cutoff_bytes: int = 0  # > 0: below it or no optimal layout (memory/planner.py solve's cutoff)
    time_limit_ms: int = int(planners.OPTIMAL_TIME_LIMIT_S * 1000)  # the optimal planner's (CP-SAT deterministic)

    def run(self, module: ir.Module) -> MemoryPlan:
        with module.context, ir.Location.unknown():
            fn = entry_function(module)
            if len(fn.regions[0].blocks) != 1:
                raise FdtError("the entry function has more than one block; expected structured control flow")
            _erase_dead_allocs(fn)
            streamed = streamed_inputs_of(fn)
            buffers = [b for b in collect_buffers(fn)
                       if not (b.kind == "input" and int(b.name[len("input"):]) in {s.index for s in streamed})]
            entry = fn.regions[0].blocks[0]
            # one-element tiles (an accumulator) and buffers no op touches (a pooling's window, which
            # gives only a shape): not in the arena
            registers = [b for b in buffers if b.kind in ("tensor", "tile")
                         and not list(b.value.owner.operation.operands)
                         and ((b.kind == "tile" and b.elements <= self.register_tile_elements)
                              or never_accessed(b.value))]
            placed = [b for b in buffers if b not in registers]
            steps = layer_steps(fn, Schedule(fn))  # the schedule of collect_buffers: the IR is unchanged yet
            labels = label_buffers(placed) if steps else [BufferLabel(b.name) for b in placed]
            name_nests(fn)  # the marks, one name list per loop nest (for --profile)
            strip_attributes(module, (LAYER_ATTR,))  # IREE gets the program without the marks
            # Buffers of the two branches of one scf.if never live in the same run: one slot.
            slots: list[list[Buffer]] = []
            slot_of_key: dict = {}
            for b in placed:
                if b.exclusive is not None and b.exclusive in slot_of_key:
                    slots[slot_of_key[b.exclusive]].append(b)
                    continue
                if b.exclusive is not None:
                    slot_of_key[b.exclusive] = len(slots)
                slots.append([b])
            sizes = [max(b.size for b in slot) for slot in slots]
            lifetimes = [_slot_lifetime(slot, placed) for slot in slots]
            aliases = find_overlaps(fn, slots) if self.shifted_aliases else []
            lent = dead_rows(fn, slots, lifetimes, aliases) if self.shifted_aliases else DeadRows()
            used = lent.used_bytes  # rows a loop leaves dead or untouched (memory/dead_rows.py)
            sizes = [used.get(k, size) for k, size in enumerate(sizes)]
            try:
                layout = planners.solve(sizes, lifetimes, self.alignment, self.algorithm, aliases, self.cutoff_bytes,
                                        self.time_limit_ms / 1000, lent.pieces, lent.overlaps)
            except ValueError as e:
                raise FdtError(str(e)) from None
            overlaps = aliases + lent.overlaps
            names = ["|".join(b.name for b in slot) for slot in slots]
            verify_plan(names, sizes, lifetimes, layout.offsets, layout.size, self.alignment, overlaps)
            label_of = {id(b): label.label for b, label in zip(placed, labels)}
            slot_labels = [" | ".join(label_of[id(b)] for b in slot) for slot in slots]
            shared = [dict(dying=names[p.dying], born=names[p.born],
                           shift=layout.offsets[p.born] - layout.offsets[p.dying],
                           dying_label=slot_labels[p.dying], born_label=slot_labels[p.born]) for p in overlaps
                      if _share_bytes(p, sizes, layout.offsets)]
            for b in registers:  # after the overlap analysis, whose schedule is the buffers' schedule
                _to_alloca(b, entry)
            offsets = {id(b): off for slot, off in zip(slots, layout.offsets) for b in slot}
            placed_offsets = [offsets[id(b)] for b in placed]
            trimmed = {id(slots[k][0]): n for k, n in used.items()}
            touched = {id(slots[k][0]): _merged(ps) for k, ps in lent.pieces.items() if k in used}
            in_pieces = {id(slots[k][0]): tuple((lo, hi, a, b) for lo, hi, (a, b) in ps)
                         for k, ps in lent.pieces.items() if any(lt != lifetimes[k] for _, _, lt in ps) or k in used}
            apply_plan(fn, placed, placed_offsets, layout.size, [trimmed.get(id(b)) for b in placed],
                       [touched.get(id(b)) for b in placed])
            forward_shared_if_results(fn)
            verify_views(fn, max(layout.size, 1), self.alignment)
            strip_attributes(module, (USED_BYTES_ATTR,))
            bound, at = planners.peak(sizes, lifetimes, aliases, lent.pieces)
            # where the search should cut: where the live bytes peak, and, when the layout could not reach that bound
            # (shifted aliases along a chain drift down the arena), wherever a buffer at the arena's top is live
            tops = [lt for size, lt, o in zip(sizes, lifetimes, layout.offsets) if o + size == layout.size] \
                if layout.size > bound else []
            peak_layers = sorted(name for name, (first, last) in steps.items()
                                 if any(first <= b and a <= last for a, b in [*at, *tops]))
            plan = MemoryPlan(layout.planner, self.alignment, layout.size, bound,
                              [PlannedBuffer(b.name, b.kind, trimmed.get(id(b), b.size), o, b.first, b.last, label,
                                             tuple(b.output_views), in_pieces.get(id(b), ()))
                               for b, o, label in zip(placed, placed_offsets, labels)], len(at), peak_layers,
                              shifted_aliases=shared, register_tiles=len(registers),
                              schedule_length=len(list(entry.operations)),
                              layer_steps={k: list(v) for k, v in steps.items()},
                              streamed_inputs=[s.to_json() for s in streamed])
            i64 = ir.IntegerType.get_signless(64)
            fn.attributes["fdt.arena_bytes"] = ir.IntegerAttr.get(i64, plan.arena_bytes)
            fn.attributes["fdt.io"] = ir.ArrayAttr.get([
                ir.ArrayAttr.get([ir.StringAttr.get(b.name), ir.IntegerAttr.get(i64, b.offset),
                                  ir.IntegerAttr.get(i64, b.bytes)])
                for b in plan.io("input") + plan.io("output")])
            return plan

    def apply(self, module: ir.Module) -> None:
        self.run(module)
