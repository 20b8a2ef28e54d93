"""Dead rows: a buffer of one top-level loop whose row is rewritten before it is read, in every iteration, holds
nothing between that row's last read and its next write: a buffer of the loop body may use those bytes then.

A streamed path (`transforms/stream_rows.py`) keeps each map as a window of rows, shifted up by one row each time
its layer writes a new one: the shift writes the top row from the row below it, and the consumers read the window
in the same step. The top row is then dead from the consumers' read to the next shift; the rows of the step
(a depthwise row the next 1x1 layer reads, `_step_local`) are live only inside the step. Planned as whole
buffers, a window is live across the loop and the rows of the step take bytes of their own.

For a buffer X allocated at the top level and accessed only inside one top-level `scf.for` L (through views),
each access is a read, a full write of the rows it covers (a `memref.copy` destination, the output of a
`linalg.generic` that writes every element and does not read it, the row callback's destination), or unknown
(X is then left alone). Enumerating the iterations of L (a branch an iteration does not take is left out, as in
`memory/overlap.py`), row r of X is *dead between uses* when in every iteration its first access is a write that
surely runs and covers all the row ever holds: its bytes carry nothing from one iteration to the next. Such a row
is live over the schedule steps of the accesses that touch it; every other row is live throughout; bytes of a row
no access touches (a window's longer row, `transforms/stream_rows.row_strides`) never. Any other buffer Y live
with X may then overlap it at offset differences where no piece of Y meets a piece of X live at the same time (Y
allocated in L's body: live over its steps; another such X: its rows; anything else: throughout):
`Overlap(X, Y, forbidden)`, which the greedy planner and the verifier use, and X's pieces, which the optimal planner
lays out (`memory/planner.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..analysis.index_eval import NotStatic, iterations
from ..analysis.index_ranges import InvariantRanges, value_range
from ..analysis.linalg_util import indexing_maps, num_inputs
from ..ir import block_encloses, ir
from .liveness import VIEW_OPS, Buffer, Schedule, aliases, element_bytes
from .stream_input import ROW_CALLBACK
from .overlap import MAX_ITERATIONS, Overlap, _geometry, _within, enclosing_guards, merge_intervals
from .planner import lifetimes_overlap

READ, WRITE = "read", "write"
MAX_ELEMENTS = 1 << 16  # elements of one access enumerated; a buffer with a larger access is left alone


def _kinds(use) -> list[str] | None:
    """What one use of a view does to its elements, in order: [READ], [WRITE] (every element of the view
    written), [READ, WRITE] (read, then written), or None when unknown."""
    op = use.owner.operation
    if op.name == "memref.extract_strided_metadata":
        return []  # the view's shape and offset, no element
    if op.name == "memref.extract_aligned_pointer_as_index" and _passed_to_row_callback(op):
        return [WRITE]  # the application's row callback writes the view, a row of the model input
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


def _passed_to_row_callback(op: ir.Operation) -> bool:
    """Whether a call of the row callback (`memory/stream_input.py`) follows `op` in its block: the address `op`
    takes is where the callback writes the row."""
    ops = [o.operation for o in op.block.operations]
    return any(o.name == "func.call" and ir.FlatSymbolRefAttr(o.attributes["callee"]).value == ROW_CALLBACK
               for o in ops[ops.index(op) + 1:])


def _box(view: ir.Value, use, root: ir.Value, env: dict, cache: dict) -> tuple:
    """(offset range, strides, index ranges) of the elements of `root` one use of `view` may touch in the iteration
    `env` binds: the view's box (a load's or store's indices bounded over the loops)."""
    offset, strides, sizes = _geometry(view, root, env, cache)
    op = use.owner.operation
    if op.name in ("memref.load", "memref.store"):
        indices = list(op.operands)[1 if op.name == "memref.load" else 2:]
        boxes = [value_range(i, env, cache) for i in indices]
        exact = all(lo == hi for lo, hi in boxes)
    else:  # the whole view
        boxes = [(0, s[1] - 1) for s in sizes]
        exact = all(s[0] == s[1] for s in sizes)
    return tuple(offset), tuple(strides), tuple(boxes), exact and offset[0] == offset[1]


def _elements(box: tuple) -> np.ndarray:
    """The elements of a `_box`, each offset and index over its range."""
    offset, strides, boxes, _ = box
    if (offset[1] - offset[0] + 1) * np.prod([hi - lo + 1 for lo, hi in boxes], dtype=np.int64) > MAX_ELEMENTS:
        raise NotStatic("an access to more elements than are enumerated")
    elements = np.arange(offset[0], offset[1] + 1, dtype=np.int64)
    for (lo, hi), stride in zip(boxes, strides):
        elements = (elements[:, None] + np.arange(lo, hi + 1, dtype=np.int64)[None, :] * stride).reshape(-1)
    return np.unique(elements)


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
                if kinds is None or not _within(user, loop):
                    raise NotStatic(f"{user.name} accesses the buffer")
                if not kinds:
                    continue
                at = _structured_op(user, loop)
                order = (schedule.start[at], kinds[0] != READ)
                defines = not _in_inner_loop(user, loop)
                self.accesses.append((order, kinds, view, use, enclosing_guards(user, loop), defines,
                                      schedule.span_in(user, body)))
        self.accesses.sort(key=lambda a: a[0])
        self.dead_between = [True] * self.rows
        self.span: list[tuple[int, int] | None] = [None] * self.rows
        self.extent: list[tuple[int, int] | None] = [None] * self.rows  # [first, last] element touched in the row
        self._rows_of_box: dict = {}  # `_box` -> row -> the row's elements it touches

    def _executed(self, env: dict, cache: dict):
        """The accesses the iteration `env` binds may run, in order: (kinds, surely runs, span, row -> the row's
        elements touched, exactly those)."""
        for _, kinds, view, use, guards, defines, span in self.accesses:
            taken = _guards_decided(guards, env, cache)
            if taken is False:
                continue
            box = _box(view, use, self.buf.value, env, cache)
            if box not in self._rows_of_box:  # (most accesses touch the same elements in every iteration)
                elements = _elements(box)
                row_of = elements // self.row_elements
                self._rows_of_box[box] = {int(r): elements[row_of == r] - r * self.row_elements
                                          for r in np.unique(row_of) if 0 <= r < self.rows}
            yield kinds, taken is True and defines and box[3], span, self._rows_of_box[box]

    def measure(self, env: dict, cache: dict) -> None:
        """First pass, one iteration: the steps and the elements of each row the accesses touch."""
        for _, _, (start, end), by_row in self._executed(env, cache):
            for r, within in by_row.items():
                self.span[r] = (start, end) if self.span[r] is None else \
                    (min(self.span[r][0], start), max(self.span[r][1], end))
                first, last = int(within.min()), int(within.max())
                self.extent[r] = (first, last) if self.extent[r] is None else \
                    (min(self.extent[r][0], first), max(self.extent[r][1], last))

    def observe(self, env: dict, cache: dict) -> None:
        """Second pass, one iteration: a row read (or written in part of what any access touches in it, or by an
        access that may not run) before it is surely written whole carries data into the iteration."""
        seen = [False] * self.rows
        for kinds, sure, _, by_row in self._executed(env, cache):
            for r, within in by_row.items():
                if seen[r]:
                    continue
                first, last = self.extent[r]
                whole = len(within) == last - first + 1 and within[0] == first and within[-1] == last
                if kinds[0] == READ or not whole:
                    self.dead_between[r] = False
                    seen[r] = True
                elif sure:
                    seen[r] = True

    def pieces(self) -> list[tuple[int, int, tuple[int, int] | None]]:
        """[lo, hi) bytes of each row's touched elements, with the steps it is live over (None: throughout)."""
        nbytes = self.row_bytes // self.row_elements
        return [(r * self.row_bytes + first * nbytes, r * self.row_bytes + (last + 1) * nbytes,
                 self.span[r] if self.dead_between[r] else None)
                for r, extent in enumerate(self.extent) if extent is not None for first, last in [extent]]

    @property
    def used_bytes(self) -> int:
        """Bytes up to the last one any access touches: the buffer's tail after it is never used."""
        return max((hi for _, hi, _ in self.pieces()), default=0)


def _forbidden(x: list, y: list) -> tuple[tuple[int, int], ...]:
    """offset(Y) - offset(X) at which a piece of Y meets a piece of X live at the same time: pieces are
    (lo, hi, steps) with steps None for pieces live throughout the pair's common lifetime."""
    return merge_intervals((a_lo - b_hi + 1, a_hi - b_lo - 1) for a_lo, a_hi, a_span in x for b_lo, b_hi, b_span in y
                           if a_span is None or b_span is None or lifetimes_overlap(a_span, b_span))


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


@dataclass
class DeadRows:
    """What the analysis lends: pairs of slots that may share bytes, and the bytes of a slot's buffer up to the
    last one used (a window whose rows are longer than its map's: the last row's tail is never touched)."""
    overlaps: list[Overlap] = field(default_factory=list)
    used_bytes: dict[int, int] = field(default_factory=dict)
    pieces: dict[int, list] = field(default_factory=dict)  # slot -> its (lo, hi, lifetime) pieces (memory/planner.py)


def dead_rows(fn, slots: list[list[Buffer]], lifetimes: list[tuple[int, int]], known: list[Overlap]) -> DeadRows:
    """Pairs (X, Y) of planner slots live at the same time: X a one-buffer slot of a top-level loop whose rows are
    dead between uses or leave bytes untouched, Y any other slot (its rows too when it is such a buffer; a slot of
    the loop's body live over its steps; anything else live throughout), with the offset differences at which a
    piece of Y meets a piece of X live with it. Pairs already in `known` are left as they are."""
    schedule = Schedule(fn)
    entry = fn.regions[0].blocks[0]
    taken = {(p.dying, p.born) for p in known} | {(p.born, p.dying) for p in known}
    found = DeadRows()
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
        if not windows:
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
            for measuring in (True, False):
                for count, env in enumerate(iterations([loop])):
                    if count >= MAX_ITERATIONS:
                        raise NotStatic("too many iterations")
                    binding, cache = {iv: env[iv]}, invariant.for_binding()
                    for k in list(rows):
                        try:
                            (rows[k].measure if measuring else rows[k].observe)(binding, cache)
                        except NotStatic:
                            del rows[k]
        except NotStatic:
            continue
        for k, window in rows.items():
            if 0 < window.used_bytes < slots[k][0].size:
                found.used_bytes[k] = window.used_bytes
            found.pieces[k] = [(lo, hi, span or lifetimes[k]) for lo, hi, span in window.pieces()]
        for k, window in rows.items():
            x_pieces = window.pieces()
            if all(span is None for _, _, span in x_pieces) and window.used_bytes == slots[k][0].size and \
                    all(hi - lo == window.row_bytes for lo, hi, _ in x_pieces):
                continue  # every byte live throughout: nothing to lend
            for j in range(len(slots)):
                if j == k or (k, j) in taken or (j in rows and j < k) or \
                        not lifetimes_overlap(lifetimes[j], lifetimes[k]):
                    continue
                y_size = found.used_bytes.get(j, max(b.size for b in slots[j]))
                y_pieces = rows[j].pieces() if j in rows else \
                    [(0, y_size, lifetimes[j] if j in locals_ else None)]
                forbidden = _forbidden(x_pieces, y_pieces)
                x_size = found.used_bytes.get(k, slots[k][0].size)
                if any(lo <= -y_size + 1 and hi >= x_size - 1 for lo, hi in forbidden):
                    continue  # no offset at which they share a byte is safe
                found.overlaps.append(Overlap(k, j, forbidden))
                taken.add((k, j))
                taken.add((j, k))
    return found
