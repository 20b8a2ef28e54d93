"""fdt-block-output-pixels: two output pixels per iteration around a channel-blocked dot product, so
both share the weights' loads and sign extensions (2x2 register blocking, as CMSIS-NN's 1x1 kernels).

After `fdt-block-output-channels` the loop over output channels computes two channels per iteration,
sharing each input word: per four MACs of both channels 13 instructions. A pointwise layer's loop over
output positions (`ow`) around that channel loop is unrolled here by two and the two channel loops
jammed: each iteration then computes 2 pixels x 2 channels with four accumulators; per step two input
words (one per pixel), two weight words (one per channel, shared by both pixels), eight SMLADs: 16 MACs
in 20 instructions instead of 26. An odd trip count keeps its last position in a loop of its own.

Reordering: the jammed iteration reads both pixels' inputs before either pixel's epilogue writes, and a
later channel pair reads them again. That is safe when pixel p+1's outputs never overwrite pixel p's
inputs: the output and input views are disjoint, or (one position grid, pointwise) the output is not
behind the input — or at least two output pixels behind it. Otherwise the loop is left alone. Each
pixel's arithmetic is unchanged: outputs are bit-identical.

Blocked: an `scf.for` (static bounds, unit step, two or more iterations) whose body is one channel loop
`fdt-block-output-channels` blocked (static bounds, one dot-product nest, linalg ops before and after)
besides pure index and view ops. A padded layer's loop, whose body tests its window
(`fdt-unswitch-window-tests`: `if inside { interior channel loop } else { border }`), is versioned:
`if inside(p) and inside(p+1) { the two interiors jammed } else { for q in p, p+1: the original body }`
(ResNet-8's 3x3 convolutions: 28.87 M -> 26.51 M instructions untiled, its streamed path 30.30 M ->
26.87 M).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..analysis.linalg_util import constant_int, defining_op, mixed_offsets
from ..ir import arith, ir, scf, walk_ops
from ..memory.verifier import PIECES_ATTR
from ..passes import ModulePass
from .block_output_channels import _bounds, _jam, _share_identical_reads, body_ops, clone_at

PURE = ("arith.", "memref.subview", "memref.collapse_shape", "memref.expand_shape")


def _blocked_channel_loop(loop):
    """The one channel loop of `loop`'s body when it is a blocked dot-product loop, else None."""
    ops = body_ops(loop)
    loops = [op for op in ops if op.name == "scf.for"]
    if len(loops) != 1 or any(op.name != "scf.for" and not op.name.startswith(PURE) for op in ops):
        return None
    return _blocked_channel_body(loops[0])


def _blocked_channel_body(inner):
    """`inner` when it is a loop over output channels `fdt-block-output-channels` blocked, else None."""
    bounds = _bounds(inner)
    if bounds is None or bounds[2] != 2 or len(inner.results):
        return None
    nests = [op for op in body_ops(inner) if op.name == "scf.for"]
    others = [op for op in body_ops(inner) if op.regions and op.name != "scf.for"]
    if len(nests) != 1 or any(not op.name.startswith("linalg.") for op in others) or not others:
        return None  # (no linalg op: not a loop over output channels, e.g. an already blocked pixel loop)
    calls = [op for op in walk_ops(nests[0]) if op.name == "func.call"]
    if sum(ir.FlatSymbolRefAttr(op.attributes["callee"]).value == "fdt_smlad" for op in calls) < 4:
        return None  # no SIMD32 rows: nothing shared
    if any(op.name == "scf.if" for op in walk_ops(inner)):
        return None
    return inner


def _root(value: ir.Value):
    """The op a memref value is a view of, through subviews and reshapes (None: a block argument)."""
    op = defining_op(value)
    while op is not None and op.name in ("memref.subview", "memref.collapse_shape", "memref.expand_shape"):
        op = defining_op(op.operands[0])
    return op


def _view(root):
    """(the `memref.view`, its arena offset) when `root` is a static arena view, else None."""
    if root is None or root.name != "memref.view":
        return None
    offset = constant_int(root.operands[1])
    return None if offset is None else (root, offset)


def _bytes(view) -> int:
    t = ir.MemRefType(view.results[0].type)
    element = ir.IntegerType(t.element_type).width // 8 if isinstance(t.element_type, ir.IntegerType) else 4
    return element * math.prod(t.shape)


def _used(view, offset: int) -> list[tuple[int, int]]:
    """The arena bytes [lo, hi) the program ever touches through `view` at `offset`: the view's own, or a streamed
    window's rows only when its rows are longer than its map's (`PIECES_ATTR`, the memory plan's)."""
    if PIECES_ATTR in view.attributes:
        bounds = list(ir.DenseI64ArrayAttr(view.attributes[PIECES_ATTR]))
        return [(offset + lo, offset + hi) for lo, hi in zip(bounds[::2], bounds[1::2])]
    return [(offset, offset + _bytes(view))]


def _apart(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> bool:
    return all(a_hi <= b_lo or b_hi <= a_lo for a_lo, a_hi in a for b_lo, b_hi in b)


def _views(channel_loop) -> tuple[list, list] | None:
    """(views read, views written) by the channel loop's linalg ops and loads; None when a memref is not
    a static arena view or a constant."""
    reads, writes = [], []
    for op in walk_ops(channel_loop):
        if op.name.startswith("linalg."):
            n_in = len(op.operands) - 1  # one output (the linalg ops of a blocked loop)
            operands = [(v, i >= n_in) for i, v in enumerate(op.operands)]
        elif op.name in ("vector.load", "memref.load"):
            operands = [(op.operands[0], False)]
        elif op.name == "memref.store":
            operands = [(op.operands[1], True)]
        else:
            continue
        for value, written in operands:
            if not isinstance(value.type, ir.MemRefType):
                continue
            root = _root(value)
            if root is not None and root.name in ("memref.alloca", "memref.get_global"):
                continue  # accumulators, constants
            found = _view(root)
            if found is None:
                return None
            (writes if written else reads).append(found)
    return reads, writes


def _grid_offsets(value: ir.Value) -> list | None:
    """The (h, w) offsets of the subview by which a channel loop reads or writes one pixel."""
    op = defining_op(value)
    if op is None or op.name != "memref.subview":
        return None
    return mixed_offsets(op)[:2]


def safe_to_jam(channel_loop) -> bool:
    """Pixel p+1's outputs never overwrite pixel p's inputs (see the module's doc)."""
    found = _views(channel_loop)
    if found is None:
        return False
    reads, writes = found
    for w_view, w_off in writes:
        for r_view, r_off in reads:
            if _apart(_used(w_view, w_off), _used(r_view, r_off)):
                continue  # disjoint
            w_type, r_type = ir.MemRefType(w_view.results[0].type), ir.MemRefType(r_view.results[0].type)
            if w_type.rank != 3 or r_type.rank != 3 or list(w_type.shape[:2]) != list(r_type.shape[:2]):
                return False
            co, ci = w_type.shape[2], r_type.shape[2]
            if not (w_off >= r_off and co >= ci) and not (w_off + 2 * co <= r_off and co <= ci):
                return False
            if not _same_pixel(channel_loop, w_view, r_view):
                return False
    return True


def _same_pixel(channel_loop, w_view, r_view) -> bool:
    """Whether the channel loop reads and writes the same (h, w) position of the two views (pointwise)."""
    offsets = {}
    for op in walk_ops(channel_loop):
        if op.name != "memref.subview":
            continue
        root = defining_op(op.operands[0])
        if root in (w_view, r_view):
            offsets.setdefault(root == w_view, []).append(_grid_offsets(op.results[0]))
    if len(offsets) != 2:
        return False
    return all(o == offsets[True][0] for o in offsets[True] + offsets[False])


def _unroll_by_two(loop) -> list:
    """Step `loop` by two: its last position alone in a copy of the loop when the trip count is odd, and
    the second pixel's ops (a copy of the body at `iv + 1`, accumulators of its own) appended to the
    body; returns those appended ops."""
    lb, ub, _ = _bounds(loop)
    index = ir.IndexType.get()
    if (ub - lb) % 2:  # the last position alone, in a copy of the loop
        with ir.InsertionPoint(loop), loop.location:
            last = loop.clone()
        last.move_after(loop)
        with ir.InsertionPoint(last), loop.location:
            end = arith.ConstantOp(index, ub - 1).result
        last.operands[0] = end
        loop.operands[1] = end
    copy = clone_at(loop, 1)  # the second pixel, accumulators of its own
    body = loop.regions[0].blocks[0]
    with ir.InsertionPoint(loop), loop.location:
        loop.operands[2] = arith.ConstantOp(index, 2).result
    appended = body_ops(copy)
    yield_op = [op.operation for op in body.operations][-1]
    for op in appended:
        op.move_before(yield_op)
    copy.erase()
    return appended


def block(loop, channel_loop) -> None:
    """Unroll `loop` by two and jam the two channel loops."""
    appended = _unroll_by_two(loop)
    second = next(op for op in appended if op.name == "scf.for")
    for op in appended:
        if op != second:
            op.move_before(channel_loop)  # the second pixel's index and view ops, before both loops
    second.move_after(channel_loop)
    with ir.InsertionPoint(channel_loop), loop.location:
        _jam(channel_loop, second)
    _share_in(next(op for op in body_ops(loop) if op.name == "scf.for"))


def _share_in(fused) -> None:
    for nested in [fused, *(op for op in walk_ops(fused) if op.name == "scf.for")]:
        _share_identical_reads(nested.regions[0].blocks[0])


def _window_test(loop):
    """The one `scf.if` of `loop`'s body (`fdt-unswitch-window-tests`: interior / border) whose interior
    is a blocked channel loop, the other ops pure; None otherwise."""
    ops = body_ops(loop)
    tests = [op for op in ops if op.name == "scf.if"]
    if len(tests) != 1 or any(op.name != "scf.if" and not op.name.startswith(PURE) for op in ops):
        return None
    test = tests[0]
    if len(test.results) or len(test.regions[1].blocks) == 0:
        return None
    then_ops = [op.operation for op in test.regions[0].blocks[0].operations][:-1]
    loops = [op for op in then_ops if op.name == "scf.for"]
    if len(loops) != 1 or any(op.name != "scf.for" and not op.name.startswith(PURE) for op in then_ops) \
            or _blocked_channel_body(loops[0]) is None:
        return None
    return test


def block_versioned(loop, test) -> None:
    """Unroll `loop` by two; when both pixels' windows are inside the input, their interior channel loops
    run jammed, otherwise a loop over the two pixels runs the original body (one copy of it)."""
    _hoist_pure(test)
    with ir.InsertionPoint(loop), loop.location:
        original = loop.clone()  # (the body for the else branch, before the unrolling changes it)
    appended = _unroll_by_two(loop)
    second_test = next(op for op in appended if op.name == "scf.if")
    for op in appended:
        if op != second_test:
            op.move_before(test)  # the second pixel's index ops (its test's condition), before both tests
    index = ir.IndexType.get()
    iv = loop.regions[0].blocks[0].arguments[0]
    with ir.InsertionPoint(test), loop.location:
        both = arith.AndIOp(test.operands[0], second_test.operands[0]).result
        versions = scf.IfOp(both, [], has_else=True)
    with ir.InsertionPoint(versions.then_block), loop.location:
        interiors = [_interior(t).clone() for t in (test, second_test)]
        scf.YieldOp([])
    with ir.InsertionPoint(versions.else_block), loop.location:
        pixels = scf.ForOp(iv, arith.AddIOp(iv, arith.ConstantOp(index, 2).result).result,
                           arith.ConstantOp(index, 1).result)
        scf.YieldOp([])
    with ir.InsertionPoint(pixels.body), loop.location:
        pixel_yield = scf.YieldOp([])
    original_body = original.regions[0].blocks[0]
    original_body.arguments[0].replace_all_uses_with(pixels.induction_variable)
    for op in body_ops(original):
        op.move_before(pixel_yield)
    original.erase()
    test.erase()
    second_test.erase()
    with ir.InsertionPoint(interiors[0]), loop.location:
        _jam(interiors[0], interiors[1])
    _share_in([op.operation for op in versions.then_block.operations][0])


def _interior(test):
    return next(op.operation for op in test.regions[0].blocks[0].operations if op.operation.name == "scf.for")


def _hoist_pure(test) -> None:
    """Move the pure ops of a test's interior branch (its loop's bounds) before the test."""
    for op in [op.operation for op in test.regions[0].blocks[0].operations][:-1]:
        if op.name != "scf.for":
            op.move_before(test)


def _candidate(loop) -> bool:
    if loop.name != "scf.for" or len(loop.results):
        return False
    bounds = _bounds(loop)
    return bounds is not None and bounds[2] == 1 and bounds[1] - bounds[0] >= 2


@dataclass(frozen=True)
class BlockOutputPixels(ModulePass):
    """Unroll-and-jam by two the loop over output positions around a channel-blocked dot product."""

    name = "fdt-block-output-pixels"
    summary = "two output pixels per iteration around a blocked channel loop (2x2 blocking: shared weight words)"

    def apply(self, module: ir.Module) -> None:
        with module.context, ir.Location.unknown():
            # every candidate found first, in one walk (re-walking after each rewrite cost 1.4 s on
            # MobileNetV2): a rewrite erases only loops it creates and loops inside its own candidate,
            # never another candidate, and a loop it turns into a candidate-looking one (a row loop
            # around a blocked pixel loop) is not in the list
            plans = []
            for loop in [op for op in walk_ops(module.operation) if _candidate(op)]:
                inner = _blocked_channel_loop(loop)
                if inner is not None and safe_to_jam(inner):
                    plans.append((block, loop, inner))
                    continue
                test = _window_test(loop)
                if test is not None and safe_to_jam(_interior(test)):
                    plans.append((block_versioned, loop, test))
            for rewrite, loop, found in plans:
                rewrite(loop, found)
