"""Buffers of a bufferized entry function and their lifetimes over its schedule.

The schedule numbers every operation of the entry function in pre-order, nested ones
included; an op with a region spans its own step to the last step inside it. A buffer
defined in block B is live from the first to the last step of the ops of B that touch it or
any view of it (subview, reshape, cast) — an op of B with a loop inside counts whole, so a
buffer used in a loop is live for all its iterations. A buffer allocated inside a loop body (a
tile buffer) is thereby live only over the part of the body that uses it: tiles of different
layers inside one spatial tile can share memory. The model's input (an argument) is live from
step 0; its output (the value returned) until the last step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..analysis.index_eval import NotStatic, max_over_iterations
from ..errors import FdtError
from ..ir import block_encloses, ir
from ..analysis.linalg_util import num_inputs

VIEW_OPS = {"memref.subview", "memref.collapse_shape", "memref.expand_shape", "memref.cast",
            "memref.reinterpret_cast", "memref.view"}
RESHAPE_OPS = ("memref.collapse_shape", "memref.expand_shape", "memref.cast")  # views of the same bytes, in order

_DTYPE_BYTES = {"i1": 1, "i8": 1, "ui8": 1, "i16": 2, "i32": 4, "i64": 8, "f16": 2, "bf16": 2, "f32": 4, "f64": 8}


def element_bytes(t: ir.Type) -> int:
    key = str(t)
    if key not in _DTYPE_BYTES:
        raise FdtError(f"unsupported element type {key} in a buffer")
    return _DTYPE_BYTES[key]


def memref_bytes(t: ir.Type) -> int:
    mt = ir.MemRefType(t)
    return int(np.prod(mt.shape, dtype=np.int64)) * element_bytes(mt.element_type)


@dataclass
class Buffer:
    """One buffer to place: `kind` is input, output, tensor (top level) or tile (inside a loop)."""

    name: str
    kind: str
    size: int
    first: int
    last: int
    value: ir.Value = field(repr=False, compare=False)
    elements: int = 0
    exclusive: tuple | None = field(default=None, repr=False, compare=False)
    # an output buffer: (result index, byte offset in the buffer, bytes) of every model output it holds
    # (one tensor listed several times, or slices of it such as the parts of a concatenation)
    output_views: tuple[tuple[int, int, int], ...] = ()

    @property
    def lifetime(self) -> tuple[int, int]:
        return (self.first, self.last)


class Schedule:
    """Pre-order step numbers of every op under a function, and where each subtree ends."""

    def __init__(self, fn):
        self.start: dict = {}
        self.end: dict = {}
        self._number(fn, -1)
        self.last = max(self.end.values(), default=0)

    def _number(self, op, step: int) -> int:
        for region in op.regions:
            for block in region.blocks:
                for child in block.operations:
                    child = child.operation
                    step += 1
                    self.start[child] = step
                    step = self._number(child, step)
                    self.end[child] = step
        return step

    def span_in(self, user: ir.Operation, block: ir.Block) -> tuple[int, int]:
        """Steps of the ancestor of `user` that lies directly in `block`."""
        op = user
        while op.parent is not None and op.operation.block != block:
            op = op.parent.operation
        return self.start[op], self.end[op]


def aliases(value: ir.Value) -> list[ir.Value]:
    """`value` and every view derived from it, transitively, including the result of an
    `scf.if` that yields it from a branch (tiling at image edges produces those)."""
    out, work = [], [value]
    while work:
        v = work.pop()
        if v in out:
            continue
        out.append(v)
        for use in v.uses:
            user = use.owner.operation
            if user.name in VIEW_OPS and use.operand_number == 0:
                work.extend(user.results)
            elif user.name == "scf.yield" and user.parent is not None and user.parent.operation.name == "scf.if":
                work.append(user.parent.operation.results[use.operand_number])
    return out


def scope_block(value: ir.Value, block: ir.Block) -> ir.Block:
    """The outermost block where `value` or an alias of it is defined (a branch-allocated
    buffer yielded by an `scf.if` lives in the block of the `scf.if`)."""
    scope = block
    for v in aliases(value):
        if isinstance(v.owner, ir.Block):
            continue
        op = v.owner.operation
        if op.name == "scf.if":
            # the scf.if is an ancestor of the allocation; its block encloses `scope`
            scope = op.block if block_encloses(op.block, scope) else scope
    return scope


def live_span(value: ir.Value, block: ir.Block, schedule: Schedule) -> tuple[int, int] | None:
    """First and last step of `value` (defined in `block`) and its aliases.

    The start is taken in the defining block (a tile written at the end of an `scf.if` branch
    is not live while the branch computes what goes into it); the end in the outermost block an
    alias reaches (its data outlives the branch through the `scf.if` result)."""
    scope = scope_block(value, block)
    starts, ends = [], []
    for v in aliases(value):
        for use in v.uses:
            user = use.owner.operation
            if user.name in VIEW_OPS and use.operand_number == 0:
                continue
            if user.name == "scf.yield" and user.parent.operation.name == "scf.if":
                continue  # followed through the scf.if result
            ends.append(schedule.span_in(user, scope)[1])
            if block_encloses(block, user.block):
                starts.append(schedule.span_in(user, block)[0])
    if not ends:
        return None
    return (min(starts) if starts else min(ends)), max(ends)


def exclusive_key(value: ir.Value) -> tuple | None:
    """(scf.if, result index) when `value` is yielded by a branch of an `scf.if`: buffers of the
    two branches with the same key are never live in the same run and may share memory."""
    for v in aliases(value):
        for use in v.uses:
            user = use.owner.operation
            if user.name == "scf.yield" and user.parent is not None and user.parent.operation.name == "scf.if":
                return (user.parent.operation, use.operand_number)
    return None


def collect_buffers(fn) -> list[Buffer]:
    from ..ir import walk_ops
    body = fn.regions[0].blocks[0]
    schedule = Schedule(fn)
    end = schedule.last
    buffers: list[Buffer] = []
    for i, arg in enumerate(body.arguments):
        if not isinstance(arg.type, ir.MemRefType):
            raise FdtError(f"{fn.location}: argument {i} of the entry function is a {arg.type}, not a tensor: the "
                           "arena holds tensors (a model's inputs); pass a scalar as a one-element tensor")
        span = live_span(arg, body, schedule)
        buffers.append(Buffer(f"input{i}", "input", memref_bytes(arg.type), 0, span[1] if span else 0, arg,
                              int(np.prod(ir.MemRefType(arg.type).shape))))
    ret = list(body.operations)[-1].operation
    returned = {}
    names = ir.AsmState(fn)  # one numbering of the function's values (a name without it prints the function)
    for i, v in enumerate(ret.operands):
        root = root_allocation(v)
        if isinstance(root.owner, ir.Block):
            raise FdtError("the model returns its input unchanged; nothing to compile")
        run = contiguous_run(v)
        if run is None:
            raise FdtError(f"output {i} ({v.type}) is a strided view of a larger buffer; the application reads "
                           "each output as one contiguous run of the arena (bufferization should have copied it)")
        scale = element_bytes(ir.MemRefType(v.type).element_type)
        returned.setdefault(root, []).append((i, run[0] * scale, run[1] * scale))
    for op in walk_ops(fn):
        if op.name != "memref.alloc":
            continue
        value = op.results[0]
        mt = ir.MemRefType(value.type)
        shape = list(mt.shape)
        if any(d < 0 for d in shape):
            try:
                bounds = iter(max_over_iterations(list(op.operands), op))
            except NotStatic as e:
                raise FdtError(f"buffer {value.type} at {op.location} has a size that is not bounded by "
                               f"static loops ({e}); only statically bounded shapes are supported") from None
            shape = [next(bounds) if d < 0 else d for d in shape]
        block = op.block
        span = live_span(value, block, schedule)
        elements = int(np.prod(shape))
        nbytes = elements * element_bytes(mt.element_type)
        if value in returned:
            first = span[0] if span else schedule.start[op]
            views = tuple(returned[value])
            buffers.append(Buffer(f"output{views[0][0]}", "output", nbytes, first, end, value, elements,
                                  output_views=views))
        elif span is not None:
            kind = "tensor" if block == body else "tile"
            buffers.append(Buffer(value.get_name(names).lstrip("%"), kind, nbytes, span[0], span[1], value, elements,
                                  exclusive_key(value)))
    return buffers


def never_accessed(value: ir.Value) -> bool:
    """Whether no op reads or writes `value`'s data: every use (through views) is a linalg input
    whose payload argument is unused, like the window operand of a pooling, which only gives the
    window's shape."""
    uses = [use for v in aliases(value) for use in v.uses
            if not (use.owner.operation.name in VIEW_OPS and use.operand_number == 0)]
    for use in uses:
        user = use.owner.operation
        if not user.name.startswith("linalg.") or not user.regions or "operandSegmentSizes" not in user.attributes:
            return False
        if use.operand_number >= num_inputs(user):
            return False
        if list(user.regions[0].blocks[0].arguments[use.operand_number].uses):
            return False
    return bool(uses)


def contiguous_run(view: ir.Value) -> tuple[int, int] | None:
    """(element offset, elements) of a statically shaped view whose elements are one contiguous run of
    the allocation it views (a reshape, a slice along the outermost non-unit dimension), else None."""
    mt = ir.MemRefType(view.type)
    if not mt.has_static_shape:
        return None
    strides, offset = mt.get_strides_and_offset()
    if any(mt.is_dynamic_stride_or_offset(x) for x in [*strides, offset]):
        return None
    expected = 1
    for size, stride in zip(reversed(mt.shape), reversed(strides)):
        if size == 1:
            continue
        if stride != expected:
            return None
        expected *= size
    return offset, expected


def root_allocation(value: ir.Value) -> ir.Value:
    """Follow view ops back to the allocation (or argument) a value is a view of."""
    while not isinstance(value.owner, ir.Block) and value.owner.operation.name in VIEW_OPS:
        value = value.owner.operation.operands[0]
    return value
