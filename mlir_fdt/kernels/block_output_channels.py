"""fdt-block-output-channels: compute two output channels per iteration of the loop around a SIMD32
dot product, so both share the input's loads and sign extensions (register blocking).

`fdt-dot-product-kernels` leaves each output element's dot product inside the loop over output
channels: per four MACs one input word (load + two SXTAB16), one weight word (load + two SXTB16),
two SMLADs. This pass unrolls that loop by two and jams the copies: the body becomes
`pre(c), pre(c+1), dot(c) ⨝ dot(c+1), post(c), post(c+1)` where `pre` initialises the accumulator
(the bias), `post` is the epilogue (requantization, store) and the two dot products run in one loop
nest with two accumulators. The input word and its halves are then the same values for both
channels (same address; the SIMD32 helpers are pure) and LLVM keeps one copy: per eight MACs
1 + 2 + 2 x (1 + 2) + 4 = 13 instructions instead of 16.

Reordering is safe: the dot products only load (their accumulators are private allocas, one per
copy), and reading channel c+1's inputs before channel c's result is stored changes nothing, because
the memory plan never writes a byte that a later read of the same loop still needs (in-place layers
and shifted aliases included: `memory/verifier.py`). The arithmetic of each channel is unchanged, so
outputs are bit-identical.

Blocked: `scf.for` loops with a static, even trip count whose body holds exactly one loop nest (the
dot product, static bounds, no branches) besides straight-line ops.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis.linalg_util import constant_int
from ..ir import arith, ir, scf, walk_ops
from ..passes import ModulePass

# Channels an iteration. Four (two rounds) saved more on ic_resnet8_int8 (31.2 M instead of 32.4 M
# instructions) but cost 13.6 KB of code against 12.0 KB, and ran slower on kws_int8 (10.5 M against
# 10.3 M: register spills) and ad_int8 (+58 % code for -0.1 %).
FACTOR = 2


def _bounds(loop) -> tuple[int, int, int] | None:
    values = [constant_int(v) for v in list(loop.operands)[:3]]
    return None if None in values else tuple(values)


def _pairs_evenly(loop) -> bool:
    """A loop without results whose static trip count is a multiple of FACTOR (and at least FACTOR)."""
    bounds = _bounds(loop)
    if bounds is None or len(loop.results):
        return False
    lb, ub, step = bounds
    trips = -(-(ub - lb) // step) if step > 0 else 0
    return trips >= FACTOR and trips % FACTOR == 0


def body_ops(loop) -> list:
    """The ops of a loop's body, its terminator excluded."""
    return [op.operation for op in loop.regions[0].blocks[0].operations][:-1]


def _is_dot_product_nest(loop) -> bool:
    """A nest of scf.for loops with static bounds and no branches, holding SIMD32 multiply-accumulates."""
    nested = [loop, *walk_ops(loop)]
    if any(op.name == "scf.for" and _bounds(op) is None for op in nested):
        return False
    if any(op.regions and op.name != "scf.for" for op in nested):
        return False
    return any(_is_smlad(op) for op in nested)


def _dot_product_nest(loop):
    """The one loop nest in `loop`'s body if it is a dot product and every other op is straight-line
    (linalg ops on single elements included), else None."""
    nests = [op for op in body_ops(loop) if op.name == "scf.for"]
    others = [op for op in body_ops(loop) if op.regions and op.name != "scf.for"]
    if len(nests) != 1 or any(not op.name.startswith("linalg.") for op in others):
        return None
    return nests[0] if _is_dot_product_nest(nests[0]) else None


def blockable(loop) -> bool:
    """A loop over output elements (each copy initialises, accumulates and stores its own element:
    linalg ops and private accumulators in the body), static even trip count, around one dot product."""
    if not _pairs_evenly(loop) or _dot_product_nest(loop) is None:
        return False
    return any(op.name.startswith("linalg.") for op in body_ops(loop)) and bool(_private_allocas(loop))


def in_blockable_loop(generic) -> bool:
    """Whether the loop around the dot-product generic `generic` (before `fdt-dot-product-kernels`
    rewrites it) will be blocked: the same conditions as `blockable`, read on the linalg form."""
    loop = generic.parent
    if loop is None or loop.name != "scf.for" or not _pairs_evenly(loop):
        return False
    ops = body_ops(loop)
    if any(op.name in ("scf.for", "scf.if") for op in ops):
        return False
    return sum(op.name == "linalg.generic" and "reduction" in str(op.attributes["iterator_types"])
               for op in ops) == 1


def _private_allocas(loop) -> list[ir.Value]:
    """The one-element `memref.alloca`s `loop` uses: accumulators, each initialised, accumulated and read
    within one output element's code, so a copy of the body may use one of its own (the peeled interior
    and border loops of a layer share one). (A padded window, `kernels/pad_border_windows.py`, is filled
    outside the loop and shared.)"""
    found = []
    for op in walk_ops(loop):
        for v in op.operands:
            owner = v.owner
            if not isinstance(owner, ir.Block) and owner.operation.name == "memref.alloca" and v not in found \
                    and all(d == 1 for d in ir.MemRefType(v.type).shape):
                found.append(v)
    return found


def clone_at(loop, offset: int):
    """A copy of `loop`, inserted before it, whose body computes iteration `iv + offset` of `loop`'s own
    induction variable (the copy's is replaced by it) with accumulators (the one-element allocas the body
    uses) of its own: the unrolled copy of an unroll-and-jam, to be moved into `loop`'s body."""
    accumulators = _private_allocas(loop)
    with ir.InsertionPoint(loop), loop.location:
        copy = loop.clone()
    for acc in accumulators:
        with ir.InsertionPoint(acc.owner.operation), acc.owner.operation.location:
            own = acc.owner.operation.clone().results[0]
        for use in list(acc.uses):
            if _inside(use.owner.operation, copy):
                use.owner.operation.operands[use.operand_number] = own
    copy_body = copy.regions[0].blocks[0]
    with ir.InsertionPoint.at_block_begin(copy_body), loop.location:
        shifted = arith.AddIOp(copy_body.arguments[0], arith.ConstantOp(ir.IndexType.get(), offset).result).result
    copy_body.arguments[0].replace_all_uses_except(shifted, shifted.owner.operation)
    copy_body.arguments[0].replace_all_uses_with(loop.regions[0].blocks[0].arguments[0])
    return copy


def _inside(op, loop) -> bool:
    while op is not None:
        if op == loop:
            return True
        op = op.parent
    return False


def _split(ops: list) -> tuple[list, object | None, list]:
    """(ops before the one nested scf.for, that loop, ops after it); (ops, None, []) when there is none."""
    loops = [op for op in ops if op.name == "scf.for"]
    if not loops:
        return ops, None, []
    k = ops.index(loops[0])
    return ops[:k], loops[0], ops[k + 1:]


def _is_smlad(op) -> bool:
    return op.name == "func.call" and ir.FlatSymbolRefAttr(op.attributes["callee"]).value == "fdt_smlad"


def _steps(ops: list) -> list[list]:
    """`ops` cut after each run of SIMD32 multiply-accumulates: one SIMD32 step a piece."""
    pieces, current = [], []
    for k, op in enumerate(ops):
        current.append(op)
        if _is_smlad(op) and not (k + 1 < len(ops) and _is_smlad(ops[k + 1])):
            pieces.append(current)
            current = []
    return pieces + ([current] if current else [])


def _interleave(ops1: list, ops2: list) -> list:
    """The straight-line code of two copies, step by step (copy 1's step k, then copy 2's): the input
    word both load is then used by both right away, not kept in a register across a whole row."""
    steps1, steps2 = _steps(ops1), _steps(ops2)
    if len(steps1) != len(steps2):
        return ops1 + ops2
    return [op for a, b in zip(steps1, steps2) for op in a + b]


def _jam(first, second) -> None:
    """Fuse two dot-product nests with the same static bounds that only load memory and write their
    own accumulators: at every level the body becomes `pre1, pre2, jam(inner1, inner2), post1, post2`;
    loops carrying accumulators (iter_args) become one loop carrying both."""
    with ir.InsertionPoint(first), first.location:
        fused = scf.ForOp(first.operands[0], first.operands[1], first.operands[2],
                          [*list(first.operands)[3:], *list(second.operands)[3:]])
    n = len(first.results)
    for old, args in ((first, list(fused.inner_iter_args)[:n]), (second, list(fused.inner_iter_args)[n:])):
        old_body = old.regions[0].blocks[0]
        old_body.arguments[0].replace_all_uses_with(fused.induction_variable)
        for arg, new in zip(list(old_body.arguments)[1:], args):
            arg.replace_all_uses_with(new)
    ops1, ops2 = [op.operation for op in first.regions[0].blocks[0].operations], \
        [op.operation for op in second.regions[0].blocks[0].operations]
    (pre1, inner1, post1), (pre2, inner2, post2) = _split(ops1[:-1]), _split(ops2[:-1])
    for op in _interleave(pre1, pre2) + ([inner1, inner2] if inner1 is not None else []) + _interleave(post1, post2):
        fused.body.append(op)
    with ir.InsertionPoint(fused.body), first.location:
        scf.YieldOp([*ops1[-1].operands, *ops2[-1].operands])
    for old, results in ((first, list(fused.results)[:n]), (second, list(fused.results)[n:])):
        for r, new in zip(old.results, results):
            r.replace_all_uses_with(new)
        old.erase()
    if inner1 is not None:
        _jam(inner1, inner2)


def block(loop) -> None:
    """Unroll `loop` by two and jam the copies (see the module's doc)."""
    _, _, step = _bounds(loop)
    copy = clone_at(loop, step)
    index = ir.IndexType.get()
    with ir.InsertionPoint(loop), loop.location:
        loop.operands[2] = arith.ConstantOp(index, step * FACTOR).result
    pre1, nest1, post1 = _split(body_ops(loop))
    pre2, nest2, post2 = _split(body_ops(copy))
    yield_op = _terminator(loop)
    for op in pre2:
        op.move_before(nest1)
    for op in [nest2, *post2]:
        op.move_before(yield_op)
    copy.erase()
    nest2.move_after(nest1)  # pre1, pre2, nest1, nest2, post1, post2
    with ir.InsertionPoint(nest1), loop.location:
        _jam(nest1, nest2)
    fused = next(op for op in body_ops(loop) if op.name == "scf.for")
    # the nest's loops, listed before any op is erased (the list must not hold an erased op)
    for nested in [fused, *(op for op in walk_ops(fused) if op.name == "scf.for")]:
        _share_identical_reads(nested.regions[0].blocks[0])


_SHARED_CALLS = ("fdt_sxtb16", "fdt_sxtb16_ror8", "fdt_sxtab16", "fdt_sxtab16_ror8")


def _share_identical_reads(block: ir.Block) -> None:
    """In a jammed dot product, keep one of ops that compute the same value twice: the two channels'
    index arithmetic, input loads and sign extensions (LLVM would merge them too; merged here, the
    instruction and code-size estimates count what runs). Loads qualify because the nest writes only
    its accumulators (allocas)."""
    first: dict = {}
    for op in [o.operation for o in block.operations]:
        name = op.name
        if name == "func.call":
            if ir.FlatSymbolRefAttr(op.attributes["callee"]).value not in _SHARED_CALLS:
                continue
        elif not (name.startswith("arith.") or name in ("vector.load", "vector.bitcast", "vector.extract")):
            continue
        key = (name, tuple(op.operands), tuple((n, str(op.attributes[n])) for n in op.attributes),
               tuple(str(r.type) for r in op.results))
        if key not in first:
            first[key] = op
            continue
        for old, new in zip(op.results, first[key].results):
            old.replace_all_uses_with(new)
        op.erase()


def _terminator(loop):
    ops = loop.regions[0].blocks[0].operations
    return ops[len(ops) - 1].operation


@dataclass(frozen=True)
class BlockOutputChannels(ModulePass):
    """Unroll-and-jam by two the output-channel loop around each SIMD32 dot product."""

    name = "fdt-block-output-channels"
    summary = "two output channels per iteration around a SIMD32 dot product (shared input words)"

    def apply(self, module: ir.Module) -> None:
        with module.context, ir.Location.unknown():
            for loop in [op for op in walk_ops(module.operation) if op.name == "scf.for" and blockable(op)]:
                block(loop)
