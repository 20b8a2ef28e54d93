"""Dead rows: a buffer of one top-level loop whose row is rewritten before it is read, in every iteration, holds
nothing between that row's last read and its next write: a buffer of the loop body may use those bytes then.

A streamed path (`transforms/stream_rows.py`) keeps each map as a window of rows, shifted up by one row each time
its layer writes a new one: the shift writes the top row from the row below it, and the consumers read the window
in the same step. The top row is then dead from the consumers' read to the next shift; the rows of the step
(a depthwise row the next 1x1 layer reads, `_step_local`) are live only inside the step. Planned as whole
buffers, a window is live across the loop and the rows of the step take bytes of their own.

For a buffer X allocated at the top level and accessed only inside one top-level `scf.for` L (through views),
each access is a read, a full write of the rows it covers (a `memref.copy` destination, the output of a
`linalg.generic` that writes every element and does not read it), or unknown (X is then left alone). Enumerating
the iterations of L (a branch an iteration does not take is left out, as in `memory/overlap.py`), row r of X is
*dead between uses* when in every iteration its first access is a full write: its bytes carry nothing from one
iteration to the next. Such a row is live over the schedule steps of the accesses that touch it; every other row
is live throughout. A buffer Y allocated inside L's body (live over part of the body only, never from one
iteration to the next) may then overlap X at offset differences where it meets no row of X live while Y is:
`Overlap(X, Y, forbidden)`, which the planners avoid and the verifier checks.
"""

from __future__ import annotations

import numpy as np

from ..analysis.index_eval import NotStatic, iterations
from ..analysis.index_ranges import InvariantRanges, value_range
from ..analysis.linalg_util import indexing_maps, num_inputs
from ..ir import block_encloses, ir
from .liveness import VIEW_OPS, Buffer, Schedule, aliases, element_bytes
from .overlap import MAX_ITERATIONS, Overlap, _geometry, access_extent, enclosing_guards

READ, WRITE = "read", "write"


def _kinds(use) -> list[str] | None:
    """What one use of a view does to its elements, in order: [READ], [WRITE] (every element of the view
    written), [READ, WRITE] (read, then written), or None when unknown."""
    op = use.owner.operation
    if op.name == "memref.load" and use.operand_number == 0:
        return [READ]
    if op.name == "memref.store" and use.operand_number == 1:
        return [WRITE]  # one element: never a whole row
    if op.name == "memref.copy":
        return [READ] if use.operand_number == 0 else [WRITE]
    if op.name != "linalg.generic":
        return None
    n_in = num_inputs(op)
    if use.operand_number < n_in:
        return [READ]
    out_map = indexing_maps(op)[use.operand_number]
    dims = [e for e in out_map.results if isinstance(e, ir.AffineDimExpr)]
    every_element = len(dims) == len(out_map.results) and \
        len({ir.AffineDimExpr(e).position for e in dims}) == len(dims)
    reads_init = bool(list(op.regions[0].blocks[0].arguments[use.operand_number].uses))
    if not every_element:
        return None
    return [READ, WRITE] if reads_init else [WRITE]


def _rows_of(view: ir.Value, use, root: ir.Value, env: dict, cache: dict, row_elements: int, rows: int
             ) -> tuple[set[int], set[int]]:
    """(rows of `root` one use of `view` may touch, rows it covers whole) in the iteration `env` binds."""
    if use.owner.operation.name in ("memref.load", "memref.store"):
        lo, hi = access_extent(view, use, root, env, cache)
        nbytes = element_bytes(ir.MemRefType(root.type).element_type) * row_elements
        return set(range(max(lo // nbytes, 0), min((hi - 1) // nbytes, rows - 1) + 1)), set()
    offset, strides, sizes = _geometry(view, root, env, cache)
    if offset[0] != offset[1] or any(s[0] != s[1] for s in sizes):  # not exact: the hull, covering nothing whole
        last = offset[1] + sum((max(s[1], 1) - 1) * stride for s, stride in zip(sizes, strides))
        return set(range(max(offset[0] // row_elements, 0), min(last // row_elements, rows - 1) + 1)), set()
    elements = np.array([offset[0]], dtype=np.int64)
    for (size, _), stride in zip(sizes, strides):
        elements = (elements[:, None] + np.arange(size, dtype=np.int64)[None, :] * stride).reshape(-1)
    counts = np.bincount(elements // row_elements, minlength=rows)
    touched = {int(r) for r in np.nonzero(counts)[0]}
    whole = {r for r in touched if counts[r] == row_elements and
             len(np.unique(elements[elements // row_elements == r])) == row_elements}
    return touched, whole


class _Rows:
    """Per row of a buffer: whether it is dead between uses, and the schedule steps of its accesses."""

    def __init__(self, buf: Buffer, loop: ir.Operation, schedule: Schedule):
        self.buf = buf
        shape = list(ir.MemRefType(buf.value.type).shape)
        self.rows = shape[0]
        self.row_elements = int(np.prod(shape[1:], dtype=np.int64))
        self.row_bytes = self.row_elements * element_bytes(ir.MemRefType(buf.value.type).element_type)
        body = loop.regions[0].blocks[0]
        # (order, kinds, view, use, guards, defines, span): `order` sorts the accesses of an iteration in program
        # order, an op's reads before its writes (a load in a generic's body at the generic); `defines`: a write
        # that surely runs whenever its guards are taken (not in an inner loop, which may run no iteration);
        # `span`: the steps of the op in the loop's body holding the access
        self.accesses = []
        for view in aliases(buf.value):
            for use in view.uses:
                user = use.owner.operation
                if user.name in VIEW_OPS and use.operand_number == 0:
                    continue
                if user.name == "scf.yield" and user.parent is not None and user.parent.operation.name == "scf.if":
                    continue  # an alias: followed through the scf.if result
                kinds = _kinds(use)
                if kinds is None or not _inside(user, loop):
                    raise NotStatic(f"{user.name} accesses the buffer")
                at = _structured_op(user, loop)
                order = (schedule.start[at], kinds[0] != READ)
                defines = not _in_inner_loop(user, loop)
                self.accesses.append((order, kinds, view, use, enclosing_guards(user, loop), defines,
                                      schedule.span_in(user, body)))
        self.accesses.sort(key=lambda a: a[0])
        self.dead_between = [True] * self.rows
        self.span: list[tuple[int, int] | None] = [None] * self.rows

    def observe(self, env: dict, cache: dict) -> None:
        """One iteration: a row read (or partly written, or written by an access that may not run) before it is
        surely written whole carries data into the iteration."""
        seen = [False] * self.rows
        for _, kinds, view, use, guards, defines, (start, end) in self.accesses:
            taken = _guards_decided(guards, env, cache)
            if taken is False:
                continue
            touched, whole = _rows_of(view, use, self.buf.value, env, cache, self.row_elements, self.rows)
            sure = taken is True and defines
            for r in touched:
                self.span[r] = (start, end) if self.span[r] is None else \
                    (min(self.span[r][0], start), max(self.span[r][1], end))
                if seen[r]:
                    continue
                if kinds[0] == READ or r not in whole:
                    self.dead_between[r] = False
                    seen[r] = True
                elif sure:
                    seen[r] = True

    def forbidden(self, size: int, lifetime: tuple[int, int]) -> tuple[tuple[int, int], ...]:
        """offset(Y) - offset(X) at which Y (`size` bytes, live over `lifetime`) meets a row live with it."""
        out: list[tuple[int, int]] = []
        for r in range(self.rows):
            span = self.span[r]
            if span is None:
                continue  # never touched
            if self.dead_between[r] and (span[1] < lifetime[0] or lifetime[1] < span[0]):
                continue
            lo, hi = r * self.row_bytes - size + 1, (r + 1) * self.row_bytes - 1
            if out and lo <= out[-1][1] + 1:
                out[-1] = (out[-1][0], hi)
            else:
                out.append((lo, hi))
        return tuple(out)


def _guards_decided(guards: list[tuple[ir.Value, int]], env: dict, cache: dict) -> bool | None:
    """Whether the branches around an access run in the iteration `env` binds: True when every condition is
    known there and selects them, False when one is known to select the other branch, None when unknown."""
    decided = True
    for condition, branch in guards:
        try:
            lo, hi = value_range(condition, env, cache)
        except NotStatic:
            decided = None
            continue
        if lo == hi and lo != branch:
            return False
        if lo != hi:
            decided = None
    return decided


def _structured_op(op: ir.Operation, loop: ir.Operation) -> ir.Operation:
    """The outermost `linalg.generic` around `op` inside `loop` (its body's loads run while it writes), else `op`."""
    found, at = op, op
    while at is not None and at != loop:
        if at.name == "linalg.generic":
            found = at
        at = at.parent.operation if at.parent is not None else None
    return found


def _in_inner_loop(op: ir.Operation, loop: ir.Operation) -> bool:
    at = op.parent.operation if op.parent is not None else None
    while at is not None and at != loop:
        if at.name in ("scf.for", "scf.while", "scf.forall", "scf.parallel"):
            return True
        at = at.parent.operation if at.parent is not None else None
    return False


def _inside(op: ir.Operation, loop: ir.Operation) -> bool:
    while op is not None:
        if op == loop:
            return True
        op = op.parent.operation if op.parent is not None else None
    return False


def dead_row_overlaps(fn, slots: list[list[Buffer]], lifetimes: list[tuple[int, int]],
                      known: list[Overlap]) -> list[Overlap]:
    """Pairs (X, Y) of planner slots: X a one-buffer slot of a top-level loop with rows dead between uses, Y a slot
    of buffers allocated in that loop's body, with the offset differences at which Y meets a row of X live with
    it. Pairs already in `known` are left as they are."""
    schedule = Schedule(fn)
    entry = fn.regions[0].blocks[0]
    taken = {(p.dying, p.born) for p in known} | {(p.born, p.dying) for p in known}
    found: list[Overlap] = []
    for loop in entry.operations:
        loop = loop.operation
        if loop.name != "scf.for":
            continue
        body = loop.regions[0].blocks[0]
        start, end = schedule.start[loop], schedule.end[loop]
        windows, locals_ = [], []
        for k, slot in enumerate(slots):
            if all(block_encloses(body, b.value.owner.operation.block) for b in slot
                   if not isinstance(b.value.owner, ir.Block)) and all(b.kind == "tile" for b in slot):
                locals_.append(k)
            elif len(slot) == 1 and slot[0].kind == "tensor" and start <= slot[0].first and slot[0].last <= end \
                    and ir.MemRefType(slot[0].value.type).rank >= 2 \
                    and ir.MemRefType(slot[0].value.type).has_static_shape:
                windows.append(k)
        if not windows or not locals_:
            continue
        rows = {}
        for k in windows:
            try:
                rows[k] = _Rows(slots[k][0], loop, schedule)
            except NotStatic:
                continue
        if not rows:
            continue
        iv = body.arguments[0]
        invariant = InvariantRanges(iv)
        try:
            for count, env in enumerate(iterations([loop])):
                if count >= MAX_ITERATIONS:
                    raise NotStatic("too many iterations")
                binding, cache = {iv: env[iv]}, invariant.for_binding()
                for k in list(rows):
                    try:
                        rows[k].observe(binding, cache)
                    except NotStatic:
                        del rows[k]
        except NotStatic:
            continue
        for k, window in rows.items():
            if not any(window.dead_between):
                continue
            for j in locals_:
                if (k, j) in taken:
                    continue
                forbidden = window.forbidden(max(b.size for b in slots[j]), lifetimes[j])
                x_size = window.rows * window.row_bytes
                y_size = max(b.size for b in slots[j])
                if any(lo <= -y_size + 1 and hi >= x_size - 1 for lo, hi in forbidden):
                    continue  # no offset at which they share a byte is safe
                found.append(Overlap(k, j, forbidden))
    return found
