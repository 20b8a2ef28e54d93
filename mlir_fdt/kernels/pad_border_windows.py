"""fdt-pad-border-windows: the output positions at a padded border run the interior's SIMD32 kernel on
a padded copy of their window.

After `fdt-unswitch-window-tests` a convolution tests once per output position whether its window lies
inside the input: `if inside { for c: interior } else { for c: border }`. The border reads the window
clipped to the input, so its loop bounds are only known at run time; when the rows it reads are then
shorter than a word (few input channels: a 10x4 window over one channel, or a 3x3 RGB window whose
kw x C rows `fdt-collapse-reduction-rows` merges only where they are whole) every MAC of the border is
scalar, ~10 instructions with its loop. On kws_int8's first layer 52 % of the output positions are at
the border and cost ~450 instructions an output element against ~85 inside.

Here the border instead copies its window once per output position into a small buffer filled with
the padding value — the zero point that the kernel's input offset cancels, so a padded tap adds
exactly 0, as it does in the clipped form — and runs the interior's loop over channels on that buffer:
the same SIMD32 dot product, words from the buffer. Outputs are bit-identical (integer sums, the
padded taps contribute 0).

The buffer is a `memref.alloca` of the window's size (at most MAX_WINDOW_BYTES: 40 B on kws_int8, 27 B
for a 3x3 RGB window) in the function's entry block: it lives on the stack (`stack_bytes` in the
report), not in the arena, which stays the same byte for byte. Only borders that would run scalar are
padded; a border whose clipped rows still hold whole words keeps its clipped SIMD32 form (no copy,
no buffer).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..analysis.linalg_util import constant_int, defining_op, mixed_offsets, num_inputs
from ..ir import arith, ir, linalg, memref, walk_ops
from ..passes import ModulePass
from .block_output_channels import _inside, body_ops
from .collapse_reduction_rows import _collapsed
from .dot_products import is_simd32_dot_product, match_dot_product
from .peel_padded_windows import _subview

MAX_WINDOW_BYTES = 256  # the stack a padded window may take


@dataclass
class BorderPlan:
    interior_loop: object
    border_loop: object
    interior_position: int  # of the interior generic among the interior loop's body ops
    window: object          # the interior's window subview
    pad: int


def _single_loop(block: ir.Block):
    ops = [o.operation for o in block.operations]
    return ops[0] if len(ops) == 2 and ops[0].name == "scf.for" else None


def _reductions(loop) -> list:
    return [op for op in body_ops(loop) if op.name == "linalg.generic"
            and "reduction" in str(op.attributes["iterator_types"])]


def _merges_last_two(collapse) -> bool:
    """A `memref.collapse_shape` merging its source's two innermost axes (`fdt-collapse-reduction-rows`)."""
    source, result = ir.MemRefType(collapse.operands[0].type), ir.MemRefType(collapse.results[0].type)
    return result.rank == source.rank - 1 and list(result.shape) == [*source.shape[:-2],
                                                                      source.shape[-2] * source.shape[-1]]


def _static_window(op, loop):
    """The window subview the interior reads (its last input, or its rows merged by a collapse_shape):
    static sizes, unit strides, offsets computed outside `loop` (they depend on the output position
    only)."""
    sv = defining_op(op.operands[num_inputs(op) - 1])
    if sv is not None and sv.name == "memref.collapse_shape" and _merges_last_two(sv):
        sv = defining_op(sv.operands[0])
    if sv is None or sv.name != "memref.subview":
        return None
    sizes = list(ir.DenseI64ArrayAttr(sv.attributes["static_sizes"]))
    strides = list(ir.DenseI64ArrayAttr(sv.attributes["static_strides"]))
    if any(s < 0 for s in sizes) or any(s != 1 for s in strides):
        return None
    source = sv.operands[0]
    if not isinstance(source.type, ir.MemRefType) or any(d < 0 for d in ir.MemRefType(source.type).shape):
        return None
    for v in list(sv.operands)[1:]:
        producer = defining_op(v)
        if constant_int(v) is None and ((producer is not None and _inside(producer, loop))
                                        or v == loop.regions[0].blocks[0].arguments[0]):
            return None
    return sv


def plan(if_op) -> BorderPlan | None:
    """How to pad the border of an unswitched window test, or None (see the module's doc)."""
    if if_op.name != "scf.if" or len(if_op.regions[1].blocks) == 0 or len(if_op.results):
        return None
    interior_loop, border_loop = (_single_loop(r.blocks[0]) for r in if_op.regions)
    if interior_loop is None or border_loop is None:
        return None
    interiors, borders = _reductions(interior_loop), _reductions(border_loop)
    if len(interiors) != 1 or len(borders) != 1:
        return None
    interior, border = interiors[0], borders[0]
    if not is_simd32_dot_product(interior) or is_simd32_dot_product(border):
        return None
    if match_dot_product(border) is None:
        return None  # the border reads through bounds checks: its padding is not the zero point the
        #             kernel's offset cancels (only the clipped border's is), so a buffer of it would be wrong
    window = _static_window(interior, interior_loop)
    factors = match_dot_product(interior)
    reads_window = [f for f in factors if f.input_index == num_inputs(interior) - 1]
    if window is None or len(reads_window) != 1:
        return None
    element = ir.MemRefType(window.results[0].type).element_type
    pad = -reads_window[0].offset
    if not (isinstance(element, ir.IntegerType) and ir.IntegerType(element).width == 8 and -128 <= pad <= 127):
        return None
    if math.prod(ir.MemRefType(window.results[0].type).shape) > MAX_WINDOW_BYTES:
        return None
    return BorderPlan(interior_loop, border_loop, body_ops(interior_loop).index(interior), window, pad)


def _entry_block(op) -> ir.Block:
    while op.parent is not None and op.parent.name != "func.func":
        op = op.parent
    return op.parent.regions[0].blocks[0]


def pad_border(p: BorderPlan) -> None:
    """Replace the border loop by: fill a buffer with the padding, copy the window's part inside the
    input into it, run the interior loop on it."""
    index = ir.IndexType.get()
    window_type = ir.MemRefType(p.window.results[0].type)
    spans = list(window_type.shape)
    source = p.window.operands[0]
    sizes = ir.MemRefType(source.type).shape
    buffer_type = ir.MemRefType.get(spans, window_type.element_type)
    entry = _entry_block(p.border_loop)
    with ir.InsertionPoint.at_block_begin(entry), p.border_loop.location:
        buffer = memref.AllocaOp(buffer_type, [], []).result
    offsets = mixed_offsets(p.window)
    with ir.InsertionPoint(p.border_loop), p.border_loop.location:
        def const(v: int) -> ir.Value:
            return arith.ConstantOp(index, v).result
        linalg.fill(arith.ConstantOp(window_type.element_type, p.pad).result, outs=[buffer])
        starts, inside_offsets, counts = [], [], []
        for axis, (span, offset) in enumerate(zip(spans, offsets)):
            static = offset if isinstance(offset, int) else constant_int(offset)
            base = offset if static is None else const(static)  # (a constant may be defined in the interior loop)
            lo = arith.MaxSIOp(arith.SubIOp(const(0), base).result, const(0)).result
            hi = arith.MinSIOp(arith.SubIOp(const(sizes[axis]), base).result, const(span)).result
            count = arith.MaxSIOp(arith.SubIOp(hi, lo).result, const(0)).result
            starts.append(arith.AddIOp(base, lo).result)
            inside_offsets.append(lo)
            counts.append(count)
        linalg.copy(_subview(source, starts, counts), outs=[_subview(buffer, inside_offsets, counts)])
        loop = p.interior_loop.clone()
    generic = body_ops(loop)[p.interior_position]
    read = defining_op(generic.operands[num_inputs(generic) - 1])  # the clone of the window (or its collapse)
    if read.name == "memref.collapse_shape":
        with ir.InsertionPoint(loop), loop.location:
            buffer = _collapsed(buffer)
    generic.operands[num_inputs(generic) - 1] = buffer
    while read is not None and read.name in ("memref.collapse_shape", "memref.subview") \
            and not list(read.results[0].uses):
        source = defining_op(read.operands[0])
        read.erase()
        read = source if source is not None and _inside(source, loop) else None
    p.border_loop.erase()


@dataclass(frozen=True)
class PadBorderWindows(ModulePass):
    """Run a scalar border on a padded copy of its window with the interior's SIMD32 kernel."""

    name = "fdt-pad-border-windows"
    summary = "border output positions run the interior SIMD32 kernel on a padded copy of their window (stack)"

    def apply(self, module: ir.Module) -> None:
        with module.context, ir.Location.unknown():
            while True:  # one rewrite at a time, found afresh (a rewrite erases ops a list would still hold)
                found = next((p for op in walk_ops(module.operation) if op.name == "scf.if"
                              and (p := plan(op)) is not None), None)
                if found is None:
                    return
                pad_border(found)  # (its border is then SIMD32: not planned again)
