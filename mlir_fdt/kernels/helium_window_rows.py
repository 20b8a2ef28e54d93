"""fdt-helium-window-rows: a convolution window with short rows copied once per output position into a
contiguous buffer, so its whole window is one Helium row.

A window whose rows are shorter than a Helium half step (8 int8) — kws_int8's first layer, a 10x4
window over one input channel: ten rows of 4 — runs SIMD32 row by row: 10 steps and their overhead for
40 MACs, about 140 instructions an output element. Its output channels all read the same window. Here
the window is copied, before the loop over output channels, into a buffer on the stack (the window's
bytes: 40 B), and the dot product then reads the buffer and the weights ([F][KH][KW][C], contiguous) as
one row of KH*KW*C (`fdt-collapse-reduction-rows` merging its loops while they are contiguous), which
`fdt-helium-dot-products` takes 16 elements a step. The border positions `fdt-pad-border-windows` ran on
its padded buffer get the same merge. Same products, summed in another order: the same i32 (integer
arithmetic modulo 2^32). The arena is unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..analysis.index_eval import enclosing_loops
from ..analysis.linalg_util import defining_op, num_inputs
from ..ir import ir, linalg, memref, walk_ops
from ..passes import ModulePass
from .block_output_channels import _inside
from .collapse_reduction_rows import _collapsed, collapse, collapsible
from .dot_products import match_dot_product
from .helium_dot_products import HALF_LANES
from .pad_border_windows import MAX_WINDOW_BYTES, _entry_block, _static_window


def _copy_window(op, loop) -> bool:
    """Copy the window `op` reads (a static subview, invariant in `loop`) into a stack buffer before `loop`."""
    window = _static_window(op, loop)
    if window is None:
        return False
    window_type = ir.MemRefType(window.results[0].type)
    if math.prod(window_type.shape) > MAX_WINDOW_BYTES or window_type.shape[-1] >= HALF_LANES or window_type.rank < 2:
        return False
    with ir.InsertionPoint.at_block_begin(_entry_block(loop)), loop.location:
        buffer = memref.AllocaOp(ir.MemRefType.get(list(window_type.shape), window_type.element_type), [], []).result
    with ir.InsertionPoint(loop), loop.location:  # the window's view, made before the loop (its offsets are)
        linalg.copy(window.clone().results[0], outs=[buffer])
    read = defining_op(op.operands[num_inputs(op) - 1])
    if read.name == "memref.collapse_shape":
        with ir.InsertionPoint(op), op.location:
            buffer = _collapsed(buffer)
    op.operands[num_inputs(op) - 1] = buffer
    if not list(read.results[0].uses) and _inside(read, loop):
        read.erase()
    return True


def _short_window(op) -> bool:
    """A dot product over two or more reduction loops whose innermost row is short."""
    kinds = [str(k) for k in ir.ArrayAttr(op.attributes["iterator_types"])]
    return op.name == "linalg.generic" and sum("reduction" in k for k in kinds) >= 2


def _reads_stack_buffer(op) -> bool:
    """Whether the window `op` reads is a stack buffer already (a border `fdt-pad-border-windows` padded)."""
    read = defining_op(op.operands[num_inputs(op) - 1])
    if read is not None and read.name == "memref.collapse_shape":
        read = defining_op(read.operands[0])
    return read is not None and read.name == "memref.alloca"


def rewrite(op) -> bool:
    loops = enclosing_loops(op)
    if not loops or not _short_window(op):
        return False
    if not _reads_stack_buffer(op) and not _copy_window(op, loops[-1]):
        return False
    while collapsible(op, below=MAX_WINDOW_BYTES):  # the window's rows merged while contiguous
        op = collapse(op)
    return True


@dataclass(frozen=True)
class HeliumWindowRows(ModulePass):
    """Copy short-row windows into a contiguous stack buffer so the whole window is one Helium row."""

    name = "fdt-helium-window-rows"
    summary = "short-row convolution windows copied to a stack buffer once a position: one Helium row (MVE)"

    def apply(self, module: ir.Module) -> None:
        with module.context, ir.Location.unknown():
            for op in [o for o in walk_ops(module.operation) if o.name == "linalg.generic"
                       and match_dot_product(o) is not None]:
                rewrite(op)
