"""fdt-pool-windows: a pooling window's reduction in a register, its taps unrolled.

A max/min/sum pooling reaches the kernels as a `linalg.generic` (one output tile, its window the
reduction dimensions) whose body combines the output element with one input element. Lowered as it
is (`convert-linalg-to-loops`), every tap loads the output element, combines and stores it back: the
output and the input are views of the same arena, so LLVM cannot keep the element in a register. A
2x2 max pool of int8 then costs about 72 instructions an output (micro_kws_m's MaxPool, QEMU).

This pass writes such a generic, when its window has at most MAX_TAPS taps, as loops over the
parallel dimensions whose body loads the output element once, combines it with each tap's input
(unrolled, in the window's row-major order, as the loops would), and stores it once: the same
values in the same order, so the same result, float sums included.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from ..analysis.linalg_util import emit_affine, indexing_maps, input_index, involves_dim, iterator_kinds, num_inputs
from ..ir import arith, ir, memref, scf, walk_ops
from ..passes import ModulePass
from .dot_products import loop_extents

MAX_TAPS = 16
COMBINERS = ("arith.maxsi", "arith.minsi", "arith.maxui", "arith.minui", "arith.addi", "arith.maximumf",
             "arith.minimumf", "arith.maxnumf", "arith.minnumf", "arith.addf")


def _combiner(op):
    """The body's one combining op and the input it reads, when the body is `yield combine(out, in)`."""
    block = op.regions[0].blocks[0]
    ops = [o.operation for o in block.operations]
    if len(ops) != 2 or ops[0].name not in COMBINERS or ops[1].name != "linalg.yield":
        return None
    if ops[1].operands[0] != ops[0].results[0]:
        return None
    args = list(block.arguments)
    n_in = num_inputs(op)
    out = args[-1]
    operands = list(ops[0].operands)
    if out not in operands or len(args) != n_in + 1:
        return None
    read = input_index(operands[1] if operands[0] == out else operands[0], op)
    if read is None or any(len(list(args[i].uses)) for i in range(n_in) if i != read):
        return None
    return ops[0], read, operands[0] == out


def _window(op) -> tuple[list[int], list[int], list[int]] | None:
    """(parallel dims, reduction dims, every loop's trip count) of a pooling generic on memrefs with static
    shapes and a small window."""
    if op.name != "linalg.generic" or len(op.results) or len(list(op.operands)) - num_inputs(op) != 1:
        return None
    kinds = iterator_kinds(op)
    reductions = [d for d, k in enumerate(kinds) if k == "reduction"]
    sizes = loop_extents(op)
    if not reductions or sizes is None or not all(isinstance(e, int) for e in sizes):
        return None
    out_map = indexing_maps(op)[-1]
    if math.prod(sizes[d] for d in reductions) > MAX_TAPS or any(involves_dim(e, d) for e in out_map.results
                                                                 for d in reductions):
        return None
    return [d for d, k in enumerate(kinds) if k == "parallel"], reductions, sizes


def _reduce_in_register(op, dims: list, reductions: list[int], sizes: list[int], read: int, combine,
                        out_first: bool) -> None:
    """At the insertion point: load the output element, combine each tap into it, store it."""
    maps = indexing_maps(op)
    index = ir.IndexType.get()
    source, target = op.operands[read], op.operands[len(list(op.operands)) - 1]
    out_index = [emit_affine(e, dims) for e in maps[-1].results]
    acc = memref.LoadOp(target, out_index).result
    for point in itertools.product(*[range(sizes[d]) for d in reductions]):
        for d, v in zip(reductions, point):
            dims[d] = arith.ConstantOp(index, v).result
        value = memref.LoadOp(source, [emit_affine(e, dims) for e in maps[read].results]).result
        pair = [acc, value] if out_first else [value, acc]
        acc = ir.Operation.create(combine.name, results=[acc.type], operands=pair,
                                  attributes={k: combine.attributes[k] for k in combine.attributes}).results[0]
    memref.StoreOp(acc, target, out_index)


def _rewrite(op) -> bool:
    window = _window(op)
    found = _combiner(op) if window is not None else None
    if found is None:
        return False
    parallel, reductions, sizes = window
    index = ir.IndexType.get()
    dims: list = [None] * len(sizes)

    def nest(level: int) -> None:
        if level == len(parallel):
            combine, read, out_first = found
            _reduce_in_register(op, dims, reductions, sizes, read, combine, out_first)
            return
        loop = scf.ForOp(arith.ConstantOp(index, 0).result, arith.ConstantOp(index, sizes[parallel[level]]).result,
                         arith.ConstantOp(index, 1).result)
        dims[parallel[level]] = loop.induction_variable
        with ir.InsertionPoint(loop.body):
            nest(level + 1)
            scf.YieldOp([])

    with ir.InsertionPoint(op), op.location:
        nest(0)
    op.erase()
    return True


@dataclass(frozen=True)
class PoolWindows(ModulePass):
    """Write small-window pooling generics as one load, unrolled taps in a register, one store."""

    name = "fdt-pool-windows"
    summary = "pooling windows (max/min/sum, <= 16 taps) reduced in a register, taps unrolled"

    def apply(self, module: ir.Module) -> None:
        with module.context, ir.Location.unknown():
            for op in [o for o in walk_ops(module.operation) if o.name == "linalg.generic"]:
                _rewrite(op)
