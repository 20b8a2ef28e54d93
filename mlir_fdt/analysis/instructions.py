"""Instruction estimate of a lowered (memref) program, calibrated on QEMU.

The program mlir-fdt hands to IREE is scalar loops over memrefs, so what the core executes
follows the MLIR ops executed: every op counts once per iteration of the loops around it, except
pure index/arithmetic ops that do not depend on a loop (LLVM hoists them out of it, so they
count at the level where their operands are defined). Views, constants and yields are free; a
loop adds two ops per iteration (increment, branch). Loop bounds and tile guards are evaluated
per iteration where they depend on a tile position (`index_eval`), so edge tiles count exactly.

`INSTRUCTIONS_PER_OP` converts executed ops into instructions, one factor a code path: the SIMD32
kernels (a target with the DSP extension: one op is an SMLAD or a 32-bit load the compiler cannot
merge) and the scalar loops (M0+/M3: loads and extends fold into the multiply-accumulate).
`benchmarks/calibrate_estimate.py` fits both on QEMU runs of the four int8 MLPerf Tiny models
(geometric mean of measured / estimated, untiled and min-ram plans) and prints every model's error;
fitted 2026-12-06: KWS, VWW, ResNet-8 and AD within -11 % ... +10 % on both paths (AD's dense
layers the outlier). `tests/test_qemu.py` keeps the Cortex-M4 figures within 15 %.
"""

from __future__ import annotations

from ..ir import block_encloses, ir, walk_block
from .index_eval import NotStatic, compile_index

INSTRUCTIONS_PER_OP = {"simd32": 0.93, "scalar": 0.61}  # benchmarks/calibrate_estimate.py
LOOP_OPS = 2
FREE_OPS = {"arith.constant", "memref.subview", "memref.view", "memref.reinterpret_cast", "memref.expand_shape",
            "memref.collapse_shape", "memref.alloca", "scf.yield", "func.return",
            "hal.interface.binding.subspan", "vector.bitcast", "vector.extract"}
PURE_PREFIXES = ("arith.", "affine.", "index.")
NOTHING_HOISTED: frozenset = frozenset()  # a block that is no loop body (one object: counts are keyed by its id)


def _defining_block(value: ir.Value) -> ir.Block:
    return value.owner if isinstance(value.owner, ir.Block) else value.owner.operation.block


def _loop_invariant_ops(body: ir.Block) -> set:
    """Pure ops of a loop body whose operands all come from outside it or from other such ops."""
    invariant: set = set()
    for op in body.operations:
        op = op.operation
        if not op.name.startswith(PURE_PREFIXES) or op.name in FREE_OPS:
            continue
        if all((not isinstance(v.owner, ir.Block) and v.owner.operation in invariant)
               or not block_encloses(body, _defining_block(v)) for v in op.operands):
            invariant.add(op)
    return invariant


def _depends_on_data(value: ir.Value, memo: dict) -> bool:
    """Whether `value` depends on anything but constants and loop induction variables (`memo`: the values
    answered so far: a tile's interior test is asked about once per tile position)."""
    if value in memo:
        return memo[value]
    owner = value.owner
    if isinstance(owner, ir.Block):
        parent = owner.owner.operation if owner.owner is not None else None
        found = not (parent is not None and parent.name == "scf.for" and value == owner.arguments[0])
    elif owner.operation.name == "arith.constant":
        found = False
    elif not owner.operation.name.startswith(PURE_PREFIXES):
        found = True
    else:
        found = any(_depends_on_data(v, memo) for v in owner.operation.operands)
    memo[value] = found
    return found


class _Counter:
    """One count of a function. A body enumerated over its loop's indices is visited once per index:
    each body's loop-invariant ops are found once, and a block's count is kept per value of the loop
    indices its control flow depends on (`loop_indices_steering`), so a peeled window's interior is
    counted once."""

    def __init__(self):
        self.invariants: dict = {}
        self.indices: dict = {}
        self.counts: dict = {}
        self.summaries: dict = {}
        self.compiled: dict = {}  # value -> its index_eval.compile_index function
        self.data_dependent: dict = {}  # value -> `_depends_on_data`

    def value(self, v: ir.Value, env: dict) -> int:
        return compile_index(v, self.compiled)(env)

    def summary(self, block: ir.Block, hoisted: set) -> tuple[int, list]:
        """(straight-line ops counted, the loops and branches of `block` in order), read once."""
        key = (block, id(hoisted))
        if key not in self.summaries:
            plain, control = 0, []
            for op in block.operations:
                op = op.operation
                if op in hoisted:
                    continue
                if op.name in ("scf.for", "scf.if"):
                    control.append(op)
                elif op.name not in FREE_OPS:
                    plain += 1
            self.summaries[key] = (plain, control)
        return self.summaries[key]

    def hoisted(self, body: ir.Block) -> set:
        if body not in self.invariants:
            self.invariants[body] = _loop_invariant_ops(body)
        return self.invariants[body]

    def key(self, block: ir.Block, env: dict, hoisted: set) -> tuple:
        if block not in self.indices:
            self.indices[block] = loop_indices_steering(block)
        return (block, id(hoisted), tuple(env.get(iv) for iv in self.indices[block]))


def loop_indices_steering(block: ir.Block) -> list:
    """The `scf.for` induction variables that the loop bounds and `scf.if` conditions in `block` (nested
    ones included) depend on, directly or through pure index arithmetic: all the count reads."""
    found: dict = {}
    seen: set = set()
    stack = [v for op in walk_block(block) for v in
             (list(op.operands)[:3] if op.name == "scf.for" else list(op.operands)[:1] if op.name == "scf.if" else [])]
    while stack:
        v = stack.pop()
        if v in seen:
            continue
        seen.add(v)
        owner = v.owner
        if isinstance(owner, ir.Block):
            parent = owner.owner.operation if owner.owner is not None else None
            if parent is not None and parent.name == "scf.for" and v == owner.arguments[0]:
                found[v] = None
        elif owner.operation.name.startswith(PURE_PREFIXES):
            stack.extend(owner.operation.operands)
    return list(found)


def _count(block: ir.Block, env: dict, hoisted: set, counter: _Counter) -> int:
    key = counter.key(block, env, hoisted)
    if key not in counter.counts:
        counter.counts[key] = _count_once(block, env, hoisted, counter)
    return counter.counts[key]


def _count_once(block: ir.Block, env: dict, hoisted: set, counter: _Counter) -> int:
    total, control = counter.summary(block, hoisted)
    for op in control:
        if op.name == "scf.for":
            total += _count_loop(op, env, counter)
        else:
            regions = [r for r in op.regions if len(r.blocks)]
            try:
                taken = op.regions[0] if counter.value(op.operands[0], env) else op.regions[1]
                total += 1 + (_count(taken.blocks[0], env, NOTHING_HOISTED, counter) if len(taken.blocks) else 0)
            except NotStatic:
                if not _depends_on_data(op.operands[0], counter.data_dependent):
                    raise  # decided by enclosing loop indices (a peeled window's interior test): enumerate them
                # data-dependent: the longer
                total += 1 + max((_count(r.blocks[0], env, NOTHING_HOISTED, counter) for r in regions), default=0)
    return total


def _count_loop(loop: ir.Operation, env: dict, counter: _Counter) -> int:
    lb, ub, step = (counter.value(loop.operands[k], env) for k in range(3))
    trips = max(0, -(-(ub - lb) // step))
    if not trips:
        return 0
    body = loop.regions[0].blocks[0]
    hoisted = counter.hoisted(body)
    total = len(hoisted)
    try:  # the body does not depend on the induction variable's value: count it once
        return total + trips * (_count(body, env, hoisted, counter) + LOOP_OPS)
    except NotStatic:
        iv = body.arguments[0]
        try:
            for x in range(lb, ub, step):
                env[iv] = x
                total += _count(body, env, hoisted, counter) + LOOP_OPS
        finally:  # also when an outer index is needed (NotStatic propagates): no stale binding left
            env.pop(iv, None)
        return total


def executed_ops(fn: ir.Operation) -> int:
    """MLIR ops executed by one call of the lowered function `fn` (loop-invariant ops hoisted)."""
    return _count(fn.regions[0].blocks[0], {}, NOTHING_HOISTED, _Counter())


def estimate_instructions(fn: ir.Operation, kernels: str) -> int:
    """Instructions one inference of `fn` (the lowered program) executes, with the target's int8 kernels
    (`pipeline.KERNELS`). Helium programs use the SIMD32 factor (not calibrated on them: a vector op counts
    as one op)."""
    return round(executed_ops(fn) * INSTRUCTIONS_PER_OP["scalar" if kernels == "scalar" else "simd32"])
