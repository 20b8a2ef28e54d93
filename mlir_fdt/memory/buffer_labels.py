"""Names a person can read for the arena's buffers, and where each layer runs in the schedule.

The planner knows a buffer as `alloc_12`; a user knows layers (`dw_1`, `pw_2`). Before lowering,
`analysis.layers.tag_layers` marks every op of every layer with `fdt.layer`; tiling and
bufferization keep the mark on the ops they clone. A buffer is then named by the layers whose ops
write it (through any view): `dw_1 out` for a whole tensor, `pw_2 tile` for a buffer inside a tile
loop, `dw_1 out, then pw_2 out` for a tensor a later layer overwrites in place; the model's own
buffers are `input` and `output (dense_7)`. This is the one place the names are made: report.json
(`buffers[].label`), arena.png and report.html all read them from the memory plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis.layers import LAYER_ATTR
from ..ir import ir, walk_ops
from ..analysis.linalg_util import num_inputs
from .liveness import VIEW_OPS, Buffer, Schedule, aliases


def _layer_of(op: ir.Operation) -> str | None:
    return ir.StringAttr(op.attributes[LAYER_ATTR]).value if LAYER_ATTR in op.attributes else None


def _enclosing_layer(op: ir.Operation) -> str | None:
    """The layer of `op`, of the nearest marked op around it (a load in a layer's body), or of the first
    marked op inside it (a loop nest written by one layer)."""
    outer = op
    while outer is not None:
        if (name := _layer_of(outer)) is not None:
            return name
        outer = outer.parent.operation if outer.parent is not None and outer.parent.name != "func.func" else None
    return next((n for inner in walk_ops(op) if (n := _layer_of(inner)) is not None), None)


def _accesses(buf: Buffer) -> tuple[list[str], list[str]]:
    """(layers writing the buffer, layers reading it), each in program order without repeats."""
    writes: list[str] = []
    reads: list[str] = []
    for v in aliases(buf.value):
        for use in v.uses:
            user = use.owner.operation
            if user.name in VIEW_OPS and use.operand_number == 0:
                continue
            name = _enclosing_layer(user)
            if name is None:
                continue
            written = (use.operand_number >= num_inputs(user) if user.name.startswith("linalg.")
                       and "operandSegmentSizes" in user.attributes else user.name == "memref.copy"
                       and use.operand_number == 1)
            target = writes if written else reads
            if name not in target:
                target.append(name)
    return writes, reads


def _count(buffers: list[Buffer], kind: str) -> int:
    return sum(max(1, len(b.output_views)) for b in buffers if b.kind == kind)


@dataclass(frozen=True)
class BufferLabel:
    """What a buffer holds, in layer names."""

    label: str                      # `dw_1 out`, `pw_2 tile`, `input`, `output (dense_10)`
    layer: str | None = None        # the layer that first writes it
    writers: tuple[str, ...] = ()   # every layer that writes it, in order (a tensor reused in place: several)
    readers: tuple[str, ...] = ()   # every layer that reads it, in order: why it stays live

    def to_json(self) -> dict:
        return {"label": self.label, **({"layer": self.layer} if self.layer else {}),
                **({"writers": list(self.writers)} if len(self.writers) > 1 else {}),
                **({"readers": list(self.readers)} if self.readers else {})}


def _outputs(writes: list[str], role: str) -> str:
    if len(writes) <= 2:
        return ", then ".join(f"{w} {role}" for w in writes)
    return f"{writes[0]}…{writes[-1]} {role} ({len(writes)} layers in place)"


def buffer_label(buf: Buffer, many_inputs: bool = False, many_outputs: bool = False) -> BufferLabel:
    writes, reads = _accesses(buf)
    producer = writes[0] if writes else None
    w, r = tuple(writes), tuple(reads)
    if buf.kind == "input":
        label = f"input {buf.name[len('input'):]}" if many_inputs else "input"
        return BufferLabel(f"{label}, then {_outputs(writes, 'out')}" if writes else label, None, w, r)
    if buf.kind == "output":
        label = f"output {buf.name[len('output'):]}" if many_outputs else "output"
        return BufferLabel(f"{label} ({', '.join(writes)})" if writes else label, producer, w, r)
    role = "out" if buf.kind == "tensor" else "tile"
    if writes:
        return BufferLabel(_outputs(writes, role), producer, w, r)
    if reads:  # written by no layer (a copy of a slice): named by its reader
        return BufferLabel(f"{reads[0]} {'in' if buf.kind == 'tensor' else 'input tile'}", None, w, r)
    return BufferLabel(buf.name)


def label_buffers(buffers: list[Buffer]) -> list[BufferLabel]:
    many_in, many_out = _count(buffers, "input") > 1, _count(buffers, "output") > 1
    return [buffer_label(b, many_in, many_out) for b in buffers]


def layer_steps(fn, schedule: Schedule) -> dict[str, tuple[int, int]]:
    """First and last schedule step of the ops of each layer (an op's nested ops included), in
    program order: the steps at which the layer runs."""
    spans: dict[str, tuple[int, int]] = {}
    for op in walk_ops(fn):
        name = _layer_of(op)
        if name is None or op not in schedule.start:
            continue
        first, last = schedule.start[op], schedule.end[op]
        old = spans.get(name)
        spans[name] = (first, last) if old is None else (min(old[0], first), max(old[1], last))
    return dict(sorted(spans.items(), key=lambda kv: kv[1]))
