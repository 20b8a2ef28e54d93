"""Shifted aliases: a buffer born in a loop may overlap the part of a dying buffer the loop has
finished reading.

A layer written one row after another consumes its input row after row too. When buffer X
dies in a top-level loop L (L is its last use) and buffer Y is born there (L is its first use),
Y can share bytes with X as long as no iteration writes Y over bytes of X that the same or a
later iteration still reads. With d = offset(Y) - offset(X), iterations t = 0..T-1 of L, R_t the
bytes of X iteration t may read and W_t the bytes of Y it may write (both relative to the
buffer's start), d is safe when for every t

    (W_0 ∪ ... ∪ W_t) + d  is disjoint from  R_t.

The same iteration counts too: its reads and writes may interleave. R_t and W_t are intervals
containing every byte the accesses of iteration t may touch: each access is taken to touch its
whole view, and the view's offsets and sizes are bounded over the inner loops by interval
arithmetic (`analysis.index_ranges`), so they are sound over-approximations. Any use of X other
than a read (a write, an unknown op) or a view that cannot be bounded leaves the pair apart.

The result, per pair, is the set of forbidden values of d; the planners avoid them and the
verifier checks them again. Typical gains: a stride-2 layer's output trails its input's rows; a
1x1 layer that doubles the channels writes its output ahead of the rows it has consumed, so the
two need about one buffer's worth of bytes plus a few rows instead of both.

A top-level element-wise op (one `linalg.generic`, every map the identity) reads element i of X
and then writes element i of Y, in memory order: Y may start anywhere its element i never lands on
bytes of X's elements after i. With elements of a and b bytes, that is d <= min(a - b, n (a - b)):
QUANTIZE writes its int8 output over the float32 input it has consumed.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis.index_eval import NotStatic, iterations
from ..analysis.index_ranges import InvariantRanges, Range, value_range
from ..ir import ir
from ..analysis.linalg_util import indexing_maps, is_all_parallel, num_inputs
from .liveness import RESHAPE_OPS, VIEW_OPS, Buffer, Schedule, aliases, element_bytes, root_allocation

MAX_ITERATIONS = 4096  # outer iterations of L enumerated; larger loops are left apart


@dataclass(frozen=True)
class Overlap:
    """Buffers `dying` (X) and `born` (Y), indices into the planner's list, may overlap unless
    offset(Y) - offset(X) lies in one of the closed intervals `forbidden`."""

    dying: int
    born: int
    forbidden: tuple[tuple[int, int], ...]

    def allows(self, delta: int) -> bool:
        return not any(lo <= delta <= hi for lo, hi in self.forbidden)


def _mixed(op: ir.Operation, attr: str, dynamic: list[ir.Value], sentinel: int, env: dict, cache: dict) -> list[Range]:
    out, k = [], 0
    for x in ir.DenseI64ArrayAttr(op.attributes[attr]):
        if x == sentinel:
            out.append(value_range(dynamic[k], env, cache))
            k += 1
        else:
            out.append((x, x))
    return out


def _static_strides(t: ir.Type) -> list[int]:
    strides, _ = ir.MemRefType(t).get_strides_and_offset()
    dynamic = ir.ShapedType.get_dynamic_stride_or_offset()
    if any(s == dynamic or s < 0 for s in strides):
        raise NotStatic(f"a view with dynamic strides ({t})")
    return list(strides)


def _subview(op: ir.Operation, offset: Range, strides: list[int], env: dict,
             cache: dict) -> tuple[Range, list[int], list[Range]]:
    """Geometry of a `memref.subview` of a view at `offset` with `strides`, one entry per dimension
    of the subview's result: a rank-reducing subview (the 9x9 window a `tosa.slice` of a 1x10x10x1
    map becomes) drops unit dimensions, and a later subview's offsets or a load's indices must meet
    the strides of the dimensions that remain, not those of its source."""
    segments = list(ir.DenseI32ArrayAttr(op.attributes["operandSegmentSizes"]))
    operands = list(op.operands)
    dyn_off = operands[1:1 + segments[1]]
    dyn_size = operands[1 + segments[1]:1 + segments[1] + segments[2]]
    dyn_stride = operands[1 + segments[1] + segments[2]:]
    any_offset = ir.ShapedType.get_dynamic_stride_or_offset()
    offsets = _mixed(op, "static_offsets", dyn_off, any_offset, env, cache)
    sizes = _mixed(op, "static_sizes", dyn_size, ir.ShapedType.get_dynamic_size(), env, cache)
    steps = _mixed(op, "static_strides", dyn_stride, any_offset, env, cache)
    if any(s[0] != s[1] for s in steps):
        raise NotStatic("a subview with a dynamic stride")
    if not len(offsets) == len(sizes) == len(steps) == len(strides):
        raise NotStatic(f"a subview whose rank differs from its source's ({op.location})")
    for o, stride in zip(offsets, strides):
        offset = (offset[0] + o[0] * stride, offset[1] + o[1] * stride)
    kept_strides, kept_sizes = _drop_unit_dims(op.results[0].type, [t * s[0] for t, s in zip(strides, steps)], sizes)
    return offset, kept_strides, kept_sizes


def _drop_unit_dims(result: ir.Type, strides: list[int], sizes: list[Range]) -> tuple[list[int], list[Range]]:
    """The strides and sizes of the dimensions a rank-reducing subview keeps, matched to its result
    type in order (as MLIR infers it: a source dimension is kept when its size and stride are the
    next result dimension's, else it must be a dropped unit dimension). Anything that does not
    match is refused rather than guessed."""
    t = ir.MemRefType(result)
    if t.rank == len(strides):
        return strides, sizes
    shape, result_strides = list(t.shape), _static_strides(result)
    kept_strides, kept_sizes = [], []
    for stride, size in zip(strides, sizes):
        j = len(kept_strides)
        fits = j < t.rank and result_strides[j] == stride and (shape[j] < 0 or size == (shape[j], shape[j]))
        if fits:
            kept_strides.append(stride)
            kept_sizes.append(size)
        elif size != (1, 1):
            raise NotStatic(f"a rank-reducing subview to {result} whose dropped dimensions are unclear")
    if len(kept_strides) != t.rank:
        raise NotStatic(f"a rank-reducing subview to {result} whose dropped dimensions are unclear")
    return kept_strides, kept_sizes


def _geometry(view: ir.Value, root: ir.Value, env: dict, cache: dict) -> tuple[Range, list[int], list[Range]]:
    """(offset from `root` in elements, strides, sizes) of `view`, a chain of views of `root`; one
    stride and one size per dimension of `view` (indices into `view` are scaled by them)."""
    if view == root:
        shape = list(ir.MemRefType(root.type).shape)
        return (0, 0), _static_strides(root.type), [(d, d) for d in shape]
    if isinstance(view.owner, ir.Block):
        raise NotStatic("a view through a block argument")
    op = view.owner.operation
    offset, strides, _ = _geometry(op.operands[0], root, env, cache)
    if op.name == "memref.subview":
        return _subview(op, offset, strides, env, cache)
    if op.name in RESHAPE_OPS:
        shape = list(ir.MemRefType(view.type).shape)
        if any(d < 0 for d in shape):
            raise NotStatic(f"a reshaped view of dynamic shape ({view.type})")
        return offset, _static_strides(view.type), [(d, d) for d in shape]
    raise NotStatic(f"{op.name} views")


def byte_extent(view: ir.Value, root: ir.Value, env: dict, cache: dict) -> tuple[int, int]:
    """[lo, hi) bytes of `root` that `view` may cover, over the loops not bound in `env`."""
    offset, strides, sizes = _geometry(view, root, env, cache)
    last = offset[1] + sum((max(s[1], 1) - 1) * stride for s, stride in zip(sizes, strides))
    nbytes = element_bytes(ir.MemRefType(root.type).element_type)
    return offset[0] * nbytes, (last + 1) * nbytes


def access_extent(view: ir.Value, use, root: ir.Value, env: dict, cache: dict) -> tuple[int, int]:
    """[lo, hi) bytes of `root` one use of `view` may touch: the loaded or stored element for a
    load or store (its indices bounded over the loops), else the whole view."""
    user = use.owner.operation
    indexed = {"memref.load": 1, "memref.store": 2}.get(user.name)
    if indexed is None or use.operand_number != indexed - 1:
        return byte_extent(view, root, env, cache)
    offset, strides, _ = _geometry(view, root, env, cache)
    indices = list(user.operands)[indexed:]
    if len(indices) != len(strides):
        raise NotStatic(f"{user.name} with {len(indices)} indices into a view of rank {len(strides)}")
    lo, hi = offset
    for index, stride in zip(indices, strides):
        r = value_range(index, env, cache)
        lo, hi = lo + r[0] * stride, hi + r[1] * stride
    nbytes = element_bytes(ir.MemRefType(root.type).element_type)
    return lo * nbytes, (hi + 1) * nbytes


def _within(op: ir.Operation, loop: ir.Operation) -> bool:
    while op is not None:
        if op == loop:
            return True
        op = op.parent.operation if op.parent is not None else None
    return False


def _is_read(use) -> bool:
    """Whether a use of a memref only reads it."""
    op = use.owner.operation
    if op.name in ("memref.load", "memref.copy"):
        return use.operand_number == 0
    if op.name == "linalg.generic":
        return use.operand_number < num_inputs(op)
    return False


def _accesses(buf: Buffer, loop: ir.Operation, reads_only: bool) -> list[tuple] | None:
    """(view, use, guards) of every access to `buf` by ops inside `loop` (`enclosing_guards`); None when an access
    is not a plain read and `reads_only` is set."""
    touched = []
    for view in aliases(buf.value):
        for use in view.uses:
            user = use.owner.operation
            if not _within(user, loop) or (user.name in VIEW_OPS and use.operand_number == 0):
                continue
            if reads_only and not _is_read(use):
                return None
            touched.append((view, use, enclosing_guards(user, loop)))
    return touched


def enclosing_guards(op: ir.Operation, loop: ir.Operation) -> list[tuple[ir.Value, int]]:
    """(condition, 1 in its then branch / 0 in its else branch) of every `scf.if` between `op` and `loop`."""
    guards = []
    while op.parent is not None and op.parent.operation != loop:
        owner = op.parent.operation
        if owner.name == "scf.if":
            guards.append((owner.operands[0], 1 if op.block == owner.regions[0].blocks[0] else 0))
        op = owner
    return guards


def guards_taken(guards: list[tuple[ir.Value, int]], env: dict, cache: dict) -> bool:
    """Whether an access under `guards` may run in the iteration `env` binds: False only when a condition is
    known there and selects the other branch (a streamed window's first row, a layer's beat)."""
    for condition, branch in guards:
        try:
            lo, hi = value_range(condition, env, cache)
        except NotStatic:
            continue
        if lo == hi and lo != branch:
            return False
    return True


def _hull(extents: list[tuple[int, int]]) -> tuple[int, int] | None:
    return (min(e[0] for e in extents), max(e[1] for e in extents)) if extents else None


StepExtents = list  # per iteration of the loop: the [lo, hi) bytes its accesses may touch, None for none


def step_extents(requests: list[tuple[Buffer, bool]], loop: ir.Operation) -> list[StepExtents | None]:
    """For each (buffer, reads only) of `requests`: per iteration of the top-level `loop`, the hull of the bytes
    of the buffer its accesses may touch (accesses under a guard the iteration does not take left out:
    `value_range` decides a condition on the loop's index, and leaves one on inner loops undecided, which then
    counts). None when nothing is known: no access, an access other than a plain read where reads only, a bound
    that is not static, or more than MAX_ITERATIONS iterations. One enumeration of the loop serves all the
    buffers: in an iteration they share the ranges of their index computations, and the ranges that do not
    depend on the loop's index are computed once (`InvariantRanges`)."""
    accesses = [_accesses(buf, loop, reads_only) or None for buf, reads_only in requests]
    extents: list[StepExtents | None] = [[] if a is not None else None for a in accesses]
    iv = loop.regions[0].blocks[0].arguments[0]
    invariant = InvariantRanges(iv)
    for count, env in enumerate(iterations([loop])):
        if count >= MAX_ITERATIONS:
            return [None] * len(requests)
        env, cache = {iv: env[iv]}, invariant.for_binding()
        for k, ((buf, _), touched) in enumerate(zip(requests, accesses)):
            if extents[k] is None:
                continue
            try:
                extents[k].append(_hull([access_extent(v, u, buf.value, env, cache) for v, u, g in touched
                                         if guards_taken(g, env, cache)]))
            except NotStatic:
                extents[k] = None
    return extents


def forbidden_deltas(reads: StepExtents | None, writes: StepExtents | None, dying: Buffer,
                     born: Buffer) -> tuple[tuple[int, int], ...] | None:
    """Closed intervals of unsafe offset(born) - offset(dying), from the `step_extents` of the dying buffer's
    reads and the born buffer's writes; None when nothing is known to be safe beyond keeping them apart."""
    if reads is None or writes is None:
        return None
    forbidden: list[tuple[int, int]] = []
    written: tuple[int, int] | None = None
    for step_writes, step_reads in zip(writes, reads):
        if step_writes is not None:
            written = step_writes if written is None else _hull([written, step_writes])
        if written is None or step_reads is None:
            continue
        r_lo, r_hi = step_reads
        # overlap iff d + written.lo < r_hi and r_lo < d + written.hi
        forbidden.append((r_lo - written[1] + 1, r_hi - written[0] - 1))
    merged = merge_intervals(f for f in forbidden if f[0] <= f[1])
    # d in (-|Y|, |X|) is where the buffers overlap at all: is any of it safe?
    if any(lo <= -born.size + 1 and hi >= dying.size - 1 for lo, hi in merged):
        return None
    return tuple(merged)


def merge_intervals(intervals) -> tuple[tuple[int, int], ...]:
    """Closed integer intervals, sorted, those that overlap or touch merged into one."""
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return tuple(merged)


def _reshaped_root(view: ir.Value) -> ir.Value:
    """The buffer `view` reshapes (collapse/expand/cast keep a contiguous buffer's element order)."""
    while not isinstance(view.owner, ir.Block) and view.owner.operation.name in RESHAPE_OPS:
        view = view.owner.operation.operands[0]
    return view


def _is_identity(m: ir.AffineMap) -> bool:
    return len(m.results) == m.n_dims and all(
        isinstance(e, ir.AffineDimExpr) and e.position == k for k, e in enumerate(m.results))


def _contiguous(t: ir.MemRefType) -> bool:
    """Row-major without gaps or offset: element i is the i-th in memory."""
    strides, offset = t.get_strides_and_offset()
    expected, size = [], 1
    for d in reversed(list(t.shape)):
        expected.insert(0, size)
        size *= d
    return offset == 0 and list(strides) == expected


def elementwise_forbidden_deltas(dying: Buffer, born: Buffer, op: ir.Operation) -> tuple[tuple[int, int], ...] | None:
    """Unsafe offset(born) - offset(dying) when `op` is an element-wise generic reading `dying` once and
    writing `born`, both whole and through identity maps; None otherwise."""
    if op.name != "linalg.generic" or not is_all_parallel(op):
        return None
    maps = indexing_maps(op)
    operands = list(op.operands)
    n_in = num_inputs(op)
    reads = [i for i in range(n_in) if _reshaped_root(operands[i]) == dying.value]
    if len(reads) != 1 or len(operands) != n_in + 1 or _reshaped_root(operands[n_in]) != born.value:
        return None
    if sum(1 for v in operands if root_allocation(v) in (dying.value, born.value)) != 2:
        return None  # another view of X or Y (a slice) is read too
    if not (_is_identity(maps[reads[0]]) and _is_identity(maps[n_in])):
        return None
    x, y = ir.MemRefType(operands[reads[0]].type), ir.MemRefType(operands[n_in].type)
    if list(x.shape) != list(y.shape) or not (_contiguous(x) and _contiguous(y)):
        return None
    a, b = element_bytes(x.element_type), element_bytes(y.element_type)
    n = dying.size // a
    if n * b != born.size:
        return None
    return ((min(a - b, n * (a - b)) + 1, dying.size - 1),)


def find_overlaps(fn, slots: list[list[Buffer]]) -> list[Overlap]:
    """Every pair of one-buffer slots (X dying, Y born in the same top-level loop) that may
    overlap, with the forbidden offset differences."""
    schedule = Schedule(fn)
    entry = fn.regions[0].blocks[0]
    dying_at: dict[int, list[int]] = {}
    born_at: dict[int, list[int]] = {}
    for k, slot in enumerate(slots):
        if len(slot) != 1:
            continue
        b = slot[0]
        if b.kind in ("input", "tensor"):
            dying_at.setdefault(b.last, []).append(k)
        if b.kind in ("tensor", "output") and b.value.owner.operation.block == entry:
            born_at.setdefault(b.first, []).append(k)
    found = []
    for op in entry.operations:
        op = op.operation
        if op.name not in ("scf.for", "linalg.generic") or schedule.start[op] not in born_at \
                or schedule.end[op] not in dying_at:
            continue
        pairs = [(x, y) for x in dying_at[schedule.end[op]] if slots[x][0].first < schedule.start[op]  # not born here
                 for y in born_at[schedule.start[op]]]
        if op.name == "scf.for":  # each buffer's extents from one enumeration of the loop
            dying, born = sorted({x for x, _ in pairs}), sorted({y for _, y in pairs})
            extents = step_extents([(slots[x][0], True) for x in dying] + [(slots[y][0], False) for y in born], op)
            reads, writes = dict(zip(dying, extents)), dict(zip(born, extents[len(dying):]))
        for x, y in pairs:
            if op.name == "scf.for":
                forbidden = forbidden_deltas(reads[x], writes[y], slots[x][0], slots[y][0])
            else:
                forbidden = elementwise_forbidden_deltas(slots[x][0], slots[y][0], op)
            if forbidden is not None:
                found.append(Overlap(x, y, forbidden))
    return found
