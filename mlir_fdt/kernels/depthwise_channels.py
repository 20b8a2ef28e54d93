"""fdt-depthwise-channel-blocks: a depthwise layer computes four output channels per iteration, one
word of input and one word of weights per tap of the window.

A depthwise output element is a dot product over the KHxKW window of one channel. After
`fdt-peel-padded-windows` every MAC is two byte loads, an add of the zero point and a multiply-add,
and the window test, loop and epilogue are paid for each channel's 9 MACs. NHWC activations and the
[KH][KW][C] weights (`fdt-relayout-reduction-weights`) keep neighbouring channels in neighbouring
bytes, so this pass unrolls the loop over channels by four and computes the four channels' dot
products together: per tap one input word (a load, two SXTAB16 adding the zero point), one weight
word (a load, two SXTB16) and four multiply-accumulates of one product each (SMLABB and SMLATT on
the halves holding channels c, c+2 and c+1, c+3): 4 MACs in 10 instructions, the window test and
the loop's bookkeeping once for four channels. The interior window and the clipped border window both
get it. Each channel keeps its own accumulator, initialisation and epilogue (copies of the loop
body), so the arithmetic of every channel is unchanged and outputs are bit-identical. No buffer is
added.

Reordering is safe: the four channels' reductions now read before the four epilogues write, and an
epilogue writes one channel that no other channel's reduction reads (depthwise); the memory plan
never writes a byte a later read of the loop still needs (`memory/verifier.py`), so reading earlier
and writing later reads the same values.

Blocked: an `scf.for` over channels with static bounds, unit step and a trip count that is a multiple
of four, whose body holds one reduction site — a dot-product generic, or an `scf.if` whose condition
does not depend on the channel and whose branches hold one each — of which both int8 factors read
channel `c + k` of a buffer whose innermost axis is the channel (unit stride), through subviews one
channel wide; every other op of the body is straight-line or an elementwise generic.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from ..analysis.linalg_util import (constant_int, defining_op, emit_affine, indexing_maps, iterator_kinds,
                                    mixed_offsets, num_inputs)
from ..ir import arith, func, ir, memref, scf, vector, walk_ops
from ..passes import ModulePass
from .block_output_channels import _bounds, _inside, _private_allocas, body_ops, clone_at
from .dot_products import DynamicExtent, _pair_offset, loop_extents, match_dot_product
from .simd32 import declare_simd32

LANES = 4  # channels a word
UNROLL_TAPS = 16  # taps of a static window emitted in straight line


def _iv_offset(value: ir.Value, iv: ir.Value) -> int | None:
    """k when `value` is `iv + k` (index additions of constants), else None."""
    if value == iv:
        return 0
    op = defining_op(value)
    if op is None or op.name not in ("arith.addi", "arith.subi"):
        return None
    lhs, rhs = op.operands
    c = constant_int(rhs)
    if c is not None:
        k = _iv_offset(lhs, iv)
        return None if k is None else k + (c if op.name == "arith.addi" else -c)
    c = constant_int(lhs)
    if c is not None and op.name == "arith.addi":
        k = _iv_offset(rhs, iv)
        return None if k is None else k + c
    return None


def _depends_on(value: ir.Value, iv: ir.Value, loop) -> bool:
    """Whether `value` is computed, inside `loop`, from `iv`."""
    if value == iv:
        return True
    op = defining_op(value)
    if op is None or not _inside(op, loop):
        return False
    return any(_depends_on(v, iv, loop) for v in op.operands)


def _static(attr) -> list[int]:
    return list(ir.DenseI64ArrayAttr(attr))


def channel_chain(value: ir.Value, iv: ir.Value, loop) -> list | None:
    """The subviews, outermost first, by which `value` reads one channel `iv + k` of a buffer defined
    outside `loop` whose innermost axis is the channel with unit stride; None otherwise."""
    chain = []
    while (op := defining_op(value)) is not None and op.name == "memref.subview":
        chain.insert(0, op)
        value = op.operands[0]
    if not chain or (defining_op(value) is not None and _inside(defining_op(value), loop)):
        return None
    root_strides, _ = ir.MemRefType(value.type).get_strides_and_offset()
    if not root_strides or root_strides[-1] != 1:
        return None
    found = False  # the channel index: one subview's innermost offset is `iv + k`, the others constants
    for sv in chain:
        if _static(sv.attributes["static_sizes"])[-1] != 1 or _static(sv.attributes["static_strides"])[-1] != 1:
            return None
        part = mixed_offsets(sv)[-1]
        if isinstance(part, int):
            continue
        if found or _iv_offset(part, iv) is None:
            return None
        found = True
    return chain if found else None


def _widen(chain: list, lanes: int = LANES) -> ir.Value:
    """The same subviews, `lanes` channels wide (created at the insertion point)."""
    source = chain[0].operands[0]
    for sv in chain:
        t = ir.MemRefType(sv.results[0].type)
        wide = ir.MemRefType.get([*t.shape[:-1], lanes], t.element_type, t.layout)
        dynamic = list(sv.operands)[1:]
        offsets = _static(sv.attributes["static_offsets"])
        sizes = _static(sv.attributes["static_sizes"])
        strides = _static(sv.attributes["static_strides"])
        dyn_off = ir.ShapedType.get_dynamic_stride_or_offset()
        n_off = sum(o == dyn_off for o in offsets)
        n_size = sum(s == ir.ShapedType.get_dynamic_size() for s in sizes)
        source = memref.SubViewOp(wide, source, dynamic[:n_off], dynamic[n_off:n_off + n_size],
                                  dynamic[n_off + n_size:], offsets, [*sizes[:-1], lanes], strides).result
    return source


@dataclass
class Reduction:
    """One depthwise dot product of the first channel, its factors' channel subviews and loop extents."""

    generic: object
    factors: tuple
    chains: tuple
    extents: list


def _reduction(generic, iv, loop) -> Reduction | None:
    factors = match_dot_product(generic)
    extents = loop_extents(generic) if factors else None
    if extents is None:
        return None
    kinds = iterator_kinds(generic)
    if any(k == "parallel" and e != 1 for k, e in zip(kinds, extents)):
        return None  # one output element
    maps = indexing_maps(generic)
    chains = []
    for f in factors:
        last = maps[f.input_index].results[-1]
        unit_dim = isinstance(last, ir.AffineDimExpr) and extents[ir.AffineDimExpr(last).position] == 1
        zero = isinstance(last, ir.AffineConstantExpr) and ir.AffineConstantExpr(last).value == 0
        chain = channel_chain(generic.operands[f.input_index], iv, loop) if unit_dim or zero else None
        if chain is None:
            return None
        chains.append(chain)
    out = generic.operands[num_inputs(generic)]
    if out not in _private_allocas(loop):
        return None
    return Reduction(generic, factors, tuple(chains), extents)


def _reductions(site) -> list:
    ops = [site, *walk_ops(site)]
    return [op for op in ops if op.name == "linalg.generic" and "reduction" in iterator_kinds(op)]


def _is_site(op) -> bool:
    return op.name in ("scf.if", "linalg.generic") and bool(_reductions(op))


def _elementwise(op) -> bool:
    return op.name in ("linalg.fill", "linalg.copy") or (
        op.name == "linalg.generic" and "reduction" not in iterator_kinds(op))


def plan_blocks(loop, lanes: int = LANES) -> list[Reduction] | None:
    """The reductions of the first channel when `loop` can be blocked by `lanes` (see the module's doc)."""
    bounds = _bounds(loop)
    if bounds is None or len(loop.results) or bounds[2] != 1 or (bounds[1] - bounds[0]) % lanes \
            or bounds[1] - bounds[0] < lanes:
        return None
    iv = loop.regions[0].blocks[0].arguments[0]
    ops = body_ops(loop)
    sites = [op for op in ops if _is_site(op)]
    others = [op for op in ops if op.regions and op not in sites]
    if len(sites) != 1 or not all(_elementwise(op) for op in others):
        return None
    site = sites[0]
    if site.name == "scf.if":
        if _depends_on(site.operands[0], iv, loop) or len(site.results):
            return None
        if any(op.regions for op in walk_ops(site) if op.name != "linalg.generic"):
            return None
    found = [_reduction(g, iv, loop) for g in _reductions(site)]
    return None if not found or None in found else found


class ChannelEmitter:
    """The four channels' dot products of one reduction, at the insertion point."""

    lanes = LANES

    def __init__(self, reduction: Reduction):
        self.r = reduction
        self.i32 = ir.IntegerType.get_signless(32)
        self.index = ir.IndexType.get()
        self.maps = indexing_maps(reduction.generic)
        self.words = [_widen(chain, self.lanes) for chain in reduction.chains]

    def const_index(self, v: int) -> ir.Value:
        return arith.ConstantOp(self.index, v).result

    def call(self, name: str, *args: ir.Value) -> ir.Value:
        return func.CallOp([self.i32], ir.FlatSymbolRefAttr.get(name), list(args)).result

    def halves(self, k: int, dims: list[ir.Value]) -> tuple[ir.Value, ir.Value]:
        """Factor k's word at `dims`: channels (c, c+2) and (c+1, c+3) as 16-bit halves, offset added."""
        factor = self.r.factors[k]
        indices = [emit_affine(e, dims) for e in self.maps[factor.input_index].results]
        loaded = vector.LoadOp(ir.VectorType.get([LANES], ir.IntegerType.get_signless(8)), self.words[k],
                               indices).result
        word = vector.ExtractOp(vector.BitCastOp(ir.VectorType.get([1], self.i32), loaded).result, [], [0]).result
        if factor.offset == 0:
            return self.call("fdt_sxtb16", word), self.call("fdt_sxtb16_ror8", word)
        pair = arith.ConstantOp(self.i32, _pair_offset(factor.offset)).result
        return self.call("fdt_sxtab16", pair, word), self.call("fdt_sxtab16_ror8", pair, word)

    def tap(self, dims: list[ir.Value], accs: list[ir.Value]) -> list[ir.Value]:
        """Four MACs: accs are channels c, c+1, c+2, c+3."""
        (a02, a13), (b02, b13) = self.halves(0, dims), self.halves(1, dims)
        return [self.call("fdt_smlabb", a02, b02, accs[0]), self.call("fdt_smlabb", a13, b13, accs[1]),
                self.call("fdt_smlatt", a02, b02, accs[2]), self.call("fdt_smlatt", a13, b13, accs[3])]

    def bound(self, extent: int | DynamicExtent) -> ir.Value:
        if isinstance(extent, int):
            return self.const_index(extent)
        return memref.DimOp(self.r.generic.operands[extent.operand], self.const_index(extent.axis)).result

    def loops(self, dims: list[ir.Value], accs: list[ir.Value]) -> list[ir.Value]:
        """The reduction loops from dim len(dims) on, carrying the four accumulators."""
        if len(dims) == len(self.r.extents):
            return self.tap(dims, accs)
        extent = self.r.extents[len(dims)]
        if extent == 1:
            return self.loops(dims + [self.const_index(0)], accs)
        loop = scf.ForOp(self.const_index(0), self.bound(extent), self.const_index(1), accs)
        with ir.InsertionPoint(loop.body):
            scf.YieldOp(self.loops(dims + [loop.induction_variable], list(loop.inner_iter_args)))
        return list(loop.results)

    def load_accumulators(self, outputs: list[ir.Value], out_indices: list[ir.Value]) -> list[ir.Value]:
        return [memref.LoadOp(out, out_indices).result for out in outputs]

    def store_accumulators(self, accs: list[ir.Value], outputs: list[ir.Value], out_indices: list[ir.Value]) -> None:
        for acc, out in zip(accs, outputs):
            memref.StoreOp(acc, out, out_indices)

    def emit(self, outputs: list[ir.Value]) -> None:
        zero = self.const_index(0)
        out_indices = [zero] * ir.MemRefType(outputs[0].type).rank
        accs = self.load_accumulators(outputs, out_indices)
        extents = self.r.extents
        if all(isinstance(e, int) for e in extents) and math.prod(extents) <= UNROLL_TAPS:
            for point in itertools.product(*(range(e) for e in extents)):
                accs = self.tap([self.const_index(i) for i in point], accs)
        else:
            accs = self.loops([], accs)
        self.store_accumulators(accs, outputs, out_indices)


def _site_position(loop) -> int:
    return next(i for i, op in enumerate(body_ops(loop)) if _is_site(op))


def _erase_dead(block: ir.Block) -> None:
    """Erase ops of `block` left without uses that have no effect (index arithmetic, views)."""
    pure = ("arith.", "memref.subview", "memref.dim", "memref.get_global")
    changed = True
    while changed:
        changed = False
        for op in reversed([o.operation for o in block.operations]):
            if op.name.startswith(pure) and all(not list(r.uses) for r in op.results):
                op.erase()
                changed = True


def block(loop, reductions: list[Reduction], emitter=ChannelEmitter) -> None:
    """Unroll `loop` by the emitter's lanes (four); one site of its channels' dot products (the module's doc)."""
    body = loop.regions[0].blocks[0]
    index = ir.IndexType.get()
    copies = [clone_at(loop, k) for k in range(1, emitter.lanes)]
    with ir.InsertionPoint(loop), loop.location:
        loop.operands[2] = arith.ConstantOp(index, emitter.lanes).result
    site = body_ops(loop)[_site_position(loop)]
    yield_op = [op.operation for op in body.operations][-1]
    copy_sites = []
    for copy in copies:
        ops = body_ops(copy)
        position = _site_position(copy)
        for op in ops[:position]:
            op.move_before(site)
        copy_sites.append(ops[position])
        for op in ops[position + 1:]:
            op.move_before(yield_op)
    for i, reduction in enumerate(reductions):
        outputs = [reduction.generic.operands[num_inputs(reduction.generic)]]
        outputs += [(_reductions(s)[i]).operands[num_inputs(reduction.generic)] for s in copy_sites]
        with ir.InsertionPoint(reduction.generic), reduction.generic.location:
            emitter(reduction).emit(outputs)
        reduction.generic.erase()
    for copy in copies:
        copy.erase()
    # the blocks first: erasing dead ops must not leave a list holding them (only region-less ops are erased)
    blocks = [b for op in [site, *walk_ops(site)] for region in op.regions for b in region.blocks]
    for b in blocks:
        _erase_dead(b)
    _erase_dead(body)


@dataclass(frozen=True)
class DepthwiseChannelBlocks(ModulePass):
    """Four channels of a depthwise layer per iteration, a word of input and of weights per tap."""

    name = "fdt-depthwise-channel-blocks"
    summary = "depthwise layers four channels an iteration: a word of input and weights per tap, SMLABB/SMLATT"

    def apply(self, module: ir.Module) -> None:
        with module.context, ir.Location.unknown():
            # every loop planned first, in one walk: a rewrite erases only the copies it makes and ops
            # inside its own loop, never another planned loop (none nests in a depthwise channel loop)
            plans = [(loop, r) for loop in walk_ops(module.operation)
                     if loop.name == "scf.for" and (r := plan_blocks(loop)) is not None]
            for loop, reductions in plans:
                block(loop, reductions)
            if plans:
                declare_simd32(module)
