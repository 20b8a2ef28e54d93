"""Buffers of a bufferized entry function and their lifetimes over its schedule.

The schedule is the sequence of top-level operations of the entry function. A buffer is
live from the first to the last step that touches it or any view of it (subview, reshape,
cast). A buffer allocated inside a loop (a tile buffer) lives within the one step of its
loop nest. The model's input (an argument) is live from step 0; its output (the value
returned) until the last step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import FdtError
from ..ir import ir

VIEW_OPS = {"memref.subview", "memref.collapse_shape", "memref.expand_shape", "memref.cast",
            "memref.reinterpret_cast", "memref.view"}

_DTYPE_BYTES = {"i1": 1, "i8": 1, "i16": 2, "i32": 4, "i64": 8, "f16": 2, "bf16": 2, "f32": 4, "f64": 8}


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

    @property
    def lifetime(self) -> tuple[int, int]:
        return (self.first, self.last)


def top_level_ancestor(op: ir.Operation, block: ir.Block) -> ir.Operation:
    while op.parent is not None and op.parent.operation.name != "func.func":
        op = op.parent.operation
    return op


def aliases(value: ir.Value) -> list[ir.Value]:
    """`value` and every view derived from it, transitively."""
    out, work = [], [value]
    while work:
        v = work.pop()
        out.append(v)
        for use in v.uses:
            user = use.owner.operation
            if user.name in VIEW_OPS and use.operand_number == 0:
                work.extend(user.results)
    return out


def step_span(value: ir.Value, step_of: dict, block: ir.Block) -> tuple[int, int] | None:
    steps = []
    for v in aliases(value):
        for use in v.uses:
            user = use.owner.operation
            if user.name in VIEW_OPS and use.operand_number == 0:
                continue
            steps.append(step_of[top_level_ancestor(user, block)])
    if not steps:
        return None
    return min(steps), max(steps)


def collect_buffers(fn) -> list[Buffer]:
    block = fn.regions[0].blocks[0]
    ops = [op.operation for op in block.operations]
    step_of = {op: i for i, op in enumerate(ops)}
    end = len(ops) - 1
    buffers: list[Buffer] = []
    for i, arg in enumerate(block.arguments):
        span = step_span(arg, step_of, block)
        last = span[1] if span else 0
        buffers.append(Buffer(f"input{i}", "input", memref_bytes(arg.type), 0, last, arg,
                              int(np.prod(ir.MemRefType(arg.type).shape))))
    returned = {}
    ret = ops[-1]
    for i, v in enumerate(ret.operands):
        returned[root_allocation(v)] = i
    from ..ir import walk_ops
    for op in walk_ops(fn):
        if op.name != "memref.alloc":
            continue
        value = op.results[0]
        mt = ir.MemRefType(value.type)
        if any(d < 0 for d in mt.shape):
            raise FdtError(f"dynamically sized buffer {value.type} at {op.location}: only static shapes are supported")
        top = top_level_ancestor(op, block)
        nested = top != op
        span = step_span(value, step_of, block)
        name = value.get_name().lstrip("%")
        if value in returned:
            first = span[0] if span else step_of[top]
            buffers.append(Buffer(f"output{returned[value]}", "output", memref_bytes(mt), first, end, value,
                                  int(np.prod(mt.shape))))
        elif span is None:
            continue  # dead allocation
        elif nested:
            t = step_of[top]
            buffers.append(Buffer(name, "tile", memref_bytes(mt), t, t, value, int(np.prod(mt.shape))))
        else:
            buffers.append(Buffer(name, "tensor", memref_bytes(mt), span[0], span[1], value, int(np.prod(mt.shape))))
    for v, i in returned.items():
        if isinstance(v.owner, ir.Block):
            raise FdtError("the model returns its input unchanged; nothing to compile")
    return buffers


def root_allocation(value: ir.Value) -> ir.Value:
    """Follow view ops back to the allocation (or argument) a value is a view of."""
    while not isinstance(value.owner, ir.Block) and value.owner.operation.name in VIEW_OPS:
        value = value.owner.operation.operands[0]
    return value
