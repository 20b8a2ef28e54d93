"""fdt-dot-product-kernels: int8 dot products read four elements a load and multiply-accumulate
two pairs an instruction.

After tiling and epilogue fusion, every convolution and dense layer computes each output element
with a `linalg.generic` reduction `acc += (sext(x) - zx) * (sext(w) - zw)` over i8 operands. Lowered
as is, that is one byte load per operand, a subtraction, a multiply-add and the loop per MAC. When
both operands are read contiguously along the innermost reduction loop (the input channels: NHWC
activations, and weights laid out by `fdt-relayout-reduction-weights`), this pass replaces the
generic with loops whose inner body loads four bytes of each operand as one i32, spreads them into
two pairs of 16-bit halves with the zero point subtracted (SXTAB16, or SXTB16 for a zero offset) and
accumulates both pairs with SMLAD: 4 MACs in 8 instructions. The helpers are the private functions
of `kernels/simd32.py`; a tail loop handles a trip count that is not a multiple of four.

Integer arithmetic is exact: `x - zx` and `w - zw` fit 16 bits for i8 data and zero points, the
products and sums wrap mod 2^32 exactly as the i32 reference does, so the result is bit-identical
whatever the order of accumulation.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from ..ir import arith, func, ir, memref, scf, vector, walk_ops
from ..analysis.linalg_util import (constant_int, defining_op, emit_affine, indexing_maps, input_index,
                                      involves_dim, iterator_kinds, num_inputs, reads_contiguously)
from ..passes import ModulePass
from .block_output_channels import in_blockable_loop
from .simd32 import declare_simd32

LANES = 4  # i8 elements per 32-bit load
UNROLL_STEPS = 16  # SIMD32 steps of one reduction row emitted in straight line (64 MACs, ~130 bytes of code)
STEPS_PER_ITERATION = 4  # SIMD32 steps per iteration of a longer row's loop (16 MACs)
UNROLL_WINDOW = 16  # MACs of a non-contiguous window (depthwise 3x3) emitted in straight line


@dataclass(frozen=True)
class DotOperand:
    """One factor of the product: the generic input it reads and the constant added to each element."""

    input_index: int
    offset: int


def _constant_int(value: ir.Value, op) -> int | None:
    """The integer a body value always holds: a constant, or a block argument bound to a constant input."""
    if isinstance(value.owner, ir.Block):
        index = input_index(value, op)
        if index is None:
            return None
        value = op.operands[index]
    return constant_int(value)


def _i8_input(value: ir.Value, op) -> int | None:
    """The input index of a body argument bound to an i8 memref input."""
    index = input_index(value, op)
    if index is None or not isinstance(op.operands[index].type, ir.MemRefType):
        return None
    element = ir.MemRefType(op.operands[index].type).element_type
    return index if isinstance(element, ir.IntegerType) and ir.IntegerType(element).width == 8 else None


def _factor(value: ir.Value, op, used: list) -> DotOperand | None:
    """`sext(x)`, `sext(x) - c` or `sext(x) + c` with `x` an i8 input element."""
    producer = defining_op(value)
    if producer is None:
        return None
    offset = 0
    if producer.name in ("arith.subi", "arith.addi"):
        c = _constant_int(producer.operands[1], op)
        if c is None:
            return None
        offset = -c if producer.name == "arith.subi" else c
        used.append(producer)
        producer = defining_op(producer.operands[0])
        if producer is None:
            return None
    if producer.name != "arith.extsi":
        return None
    used.append(producer)
    index = _i8_input(producer.operands[0], op)
    if index is None or not -32640 <= offset <= 32640:  # x + offset must fit a signed 16-bit half
        return None
    return DotOperand(index, offset)


def match_dot_product(op) -> tuple[DotOperand, DotOperand] | None:
    """The two factors of an i32 `acc + a * b` reduction body, or None."""
    block = op.regions[0].blocks[0]
    n_in = num_inputs(op)
    if len(op.results) or len(list(op.operands)) != n_in + 1:
        return None  # memref form, one output
    out_arg = block.arguments[n_in]
    if not isinstance(out_arg.type, ir.IntegerType) or ir.IntegerType(out_arg.type).width != 32:
        return None
    ops = [o.operation for o in block.operations]
    total = defining_op(ops[-1].operands[0])
    if total is None or total.name != "arith.addi":
        return None
    lhs, rhs = total.operands
    product = rhs if lhs == out_arg else lhs if rhs == out_arg else None
    mul = defining_op(product) if product is not None else None
    if mul is None or mul.name != "arith.muli":
        return None
    used = [total, mul]
    factors = [_factor(v, op, used) for v in mul.operands]
    others = [o for o in ops[:-1] if o not in used and o.name != "arith.constant"]
    if None in factors or others:
        return None  # anything else in the body (a padded read, a clamp) is not a plain dot product
    return factors[0], factors[1]


@dataclass(frozen=True)
class DynamicExtent:
    """A loop's trip count read at run time: axis `axis` of input `operand` (a window clipped at a border)."""

    operand: int
    axis: int


def loop_extents(op) -> list[int | DynamicExtent] | None:
    """Trip count of every loop of a memref generic, read off the operand shapes: static where any operand
    gives it, else the size of a dynamically shaped operand's axis."""
    maps = indexing_maps(op)
    extents: list[int | DynamicExtent | None] = [None] * maps[0].n_dims
    for i, (value, affine_map) in enumerate(zip(op.operands, maps)):
        if not isinstance(value.type, ir.MemRefType):
            continue
        shape = ir.MemRefType(value.type).shape
        for axis, expr in enumerate(affine_map.results):
            if not isinstance(expr, ir.AffineDimExpr):
                continue
            d = ir.AffineDimExpr(expr).position
            if shape[axis] >= 0:
                extents[d] = shape[axis]
            elif extents[d] is None:
                extents[d] = DynamicExtent(i, axis)
    return None if None in extents else extents


def _innermost_stride_is_one(value: ir.Value) -> bool:
    strides, _ = ir.MemRefType(value.type).get_strides_and_offset()
    return bool(strides) and strides[-1] == 1


def _pair_offset(offset: int) -> int:
    """`offset` in both 16-bit halves of an i32 (as a signed i32)."""
    half = offset & 0xFFFF
    packed = half | (half << 16)
    return packed - (1 << 32) if packed >= 1 << 31 else packed


class _Builder:
    """Emits the replacement loops at the generic's position."""

    def __init__(self, op, factors: tuple[DotOperand, DotOperand], extents: list[int],
                 straight_steps: int = UNROLL_STEPS):
        self.op = op
        self.straight_steps = straight_steps
        self.factors = factors
        self.extents = extents
        self.maps = indexing_maps(op)
        self.i32 = ir.IntegerType.get_signless(32)
        self.index = ir.IndexType.get()

    def const_index(self, v: int) -> ir.Value:
        return arith.ConstantOp(self.index, v).result

    def bound(self, extent: int | DynamicExtent) -> ir.Value:
        if isinstance(extent, int):
            return self.const_index(extent)
        return memref.DimOp(self.op.operands[extent.operand], self.const_index(extent.axis)).result

    def const_i32(self, v: int) -> ir.Value:
        return arith.ConstantOp(self.i32, v).result

    def indices(self, map_index: int, dims: list[ir.Value]) -> list[ir.Value]:
        return [emit_affine(e, dims) for e in self.maps[map_index].results]

    def call(self, name: str, *args: ir.Value) -> ir.Value:
        return func.CallOp([self.i32], ir.FlatSymbolRefAttr.get(name), list(args)).result

    def pairs(self, word: ir.Value, offset: int) -> tuple[ir.Value, ir.Value]:
        """Bytes (0, 2) and (1, 3) of `word` as signed 16-bit halves, plus `offset` each."""
        if offset == 0:
            return self.call("fdt_sxtb16", word), self.call("fdt_sxtb16_ror8", word)
        packed = self.const_i32(_pair_offset(offset))
        return self.call("fdt_sxtab16", packed, word), self.call("fdt_sxtab16_ror8", packed, word)

    def load_word(self, operand: DotOperand, dims: list[ir.Value]) -> ir.Value:
        base = self.op.operands[operand.input_index]
        vec4 = ir.VectorType.get([LANES], ir.IntegerType.get_signless(8))
        loaded = vector.LoadOp(vec4, base, self.indices(operand.input_index, dims)).result
        word = vector.BitCastOp(ir.VectorType.get([1], self.i32), loaded).result
        return vector.ExtractOp(word, [], [0]).result

    def load_element(self, operand: DotOperand, dims: list[ir.Value]) -> ir.Value:
        base = self.op.operands[operand.input_index]
        x = memref.LoadOp(base, self.indices(operand.input_index, dims)).result
        wide = arith.ExtSIOp(self.i32, x).result
        return arith.AddIOp(wide, self.const_i32(operand.offset)).result if operand.offset else wide

    def simd32_step(self, dims: list[ir.Value], acc: ir.Value) -> ir.Value:
        """Four MACs: one word of each operand, two SMLADs."""
        a, b = self.factors
        a_lo, a_hi = self.pairs(self.load_word(a, dims), a.offset)
        b_lo, b_hi = self.pairs(self.load_word(b, dims), b.offset)
        return self.call("fdt_smlad", a_hi, b_hi, self.call("fdt_smlad", a_lo, b_lo, acc))

    def mac(self, dims: list[ir.Value], acc: ir.Value) -> ir.Value:
        """One MAC, scalar."""
        a, b = self.factors
        return arith.AddIOp(acc, arith.MulIOp(self.load_element(a, dims), self.load_element(b, dims)).result).result

    def emit_unrolled(self, outer: list[ir.Value] | None = None) -> None:
        """One scf.for per parallel loop, then every MAC of the (small) reduction window in straight
        line: constant offsets from one base address, no loop counter, no index arithmetic."""
        outer = outer or []
        kinds = iterator_kinds(self.op)
        if len(outer) < len(self.extents) and kinds[len(outer)] == "parallel":
            loop = scf.ForOp(self.const_index(0), self.const_index(self.extents[len(outer)]), self.const_index(1))
            with ir.InsertionPoint(loop.body):
                self.emit_unrolled(outer + [loop.induction_variable])
                scf.YieldOp([])
            return
        out = self.op.operands[num_inputs(self.op)]
        zero = self.const_index(0)
        out_indices = self.indices(num_inputs(self.op), outer + [zero] * (len(self.extents) - len(outer)))
        acc = memref.LoadOp(out, out_indices).result
        for point in itertools.product(*(range(e) for e in self.extents[len(outer):])):
            acc = self.mac(outer + [self.const_index(i) for i in point], acc)
        memref.StoreOp(acc, out, out_indices)

    def emit(self, outer: list[ir.Value] | None = None) -> None:
        """One scf.for per loop but the innermost reduction, then the dot product along it (`emit_row`)."""
        outer = outer or []
        if len(outer) < len(self.extents) - 1:
            loop = scf.ForOp(self.const_index(0), self.bound(self.extents[len(outer)]), self.const_index(1))
            with ir.InsertionPoint(loop.body):
                self.emit(outer + [loop.induction_variable])
                scf.YieldOp([])
            return
        self.emit_row(outer)

    def emit_row(self, outer: list[ir.Value]) -> None:
        """The dot product along the innermost loop at `outer`: SIMD32 steps, then scalar MACs."""
        inner = len(self.extents) - 1
        trip = self.extents[inner]
        whole = trip - trip % LANES
        out = self.op.operands[num_inputs(self.op)]
        out_indices = self.indices(num_inputs(self.op), outer + [self.const_index(0)])
        acc = memref.LoadOp(out, out_indices).result
        a, b = self.factors
        looped = 0 if whole // LANES <= self.straight_steps else whole - whole % (LANES * STEPS_PER_ITERATION)
        if looped:  # a long row: a loop of STEPS_PER_ITERATION SIMD32 steps, the rest in straight line
            loop = scf.ForOp(self.const_index(0), self.const_index(looped),
                             self.const_index(LANES * STEPS_PER_ITERATION), [acc])
            with ir.InsertionPoint(loop.body):
                step_acc = loop.inner_iter_args[0]
                for j in range(STEPS_PER_ITERATION):
                    k = arith.AddIOp(loop.induction_variable, self.const_index(LANES * j)).result
                    step_acc = self.simd32_step(outer + [k], step_acc)
                scf.YieldOp([step_acc])
            acc = loop.results[0]
        for k in range(looped, whole, LANES):  # straight line: loads at constant offsets
            acc = self.simd32_step(outer + [self.const_index(k)], acc)
        for k in range(whole, trip):
            acc = self.mac(outer + [self.const_index(k)], acc)
        memref.StoreOp(acc, out, out_indices)


def _dot_product(op) -> tuple | None:
    """(factors, loop extents) of a dot-product generic whose innermost loop is a reduction the output
    does not index, else None."""
    if op.name != "linalg.generic":
        return None
    kinds = iterator_kinds(op)
    inner = len(kinds) - 1
    if inner < 0 or kinds[inner] != "reduction":
        return None
    factors = match_dot_product(op)
    extents = loop_extents(op) if factors else None
    if extents is None:
        return None
    if any(involves_dim(e, inner) for e in indexing_maps(op)[num_inputs(op)].results):
        return None
    return factors, extents


def _reads_rows(op, factors, extents) -> bool:
    """Both factors read four or more contiguous elements along the innermost loop: SIMD32 rows."""
    inner = len(extents) - 1
    maps = indexing_maps(op)
    return isinstance(extents[inner], int) and extents[inner] >= LANES and all(
        reads_contiguously(maps[f.input_index], inner) and _innermost_stride_is_one(op.operands[f.input_index])
        for f in factors)


def is_simd32_dot_product(op) -> bool:
    """Whether `rewrite` turns `op` into SIMD32 rows."""
    found = _dot_product(op)
    return found is not None and _reads_rows(op, *found)


def rewrite(op) -> bool:
    """Replace one dot-product generic by SIMD32 loops (True), or a small window of them by straight-line
    scalar MACs; leave anything else."""
    found = _dot_product(op)
    if found is None:
        return False
    factors, extents = found
    kinds = iterator_kinds(op)
    # a row that fdt-block-output-channels will pair with the next channel's: a loop of a few steps, so
    # the shared input words stay in registers (in straight line LLVM computes them all first, and spills)
    # (a nest with bounds read at run time, an edge tile's, is not blocked: its rows stay in straight line)
    blocked = in_blockable_loop(op) and all(isinstance(e, int) for e in extents)
    builder = _Builder(op, factors, extents, STEPS_PER_ITERATION if blocked else UNROLL_STEPS)
    contiguous = _reads_rows(op, factors, extents)
    first_reduction = kinds.index("reduction")
    static = all(isinstance(e, int) for e in extents)
    window = math.prod(extents[first_reduction:]) if static else None
    if not contiguous and not (static and window <= UNROLL_WINDOW and "parallel" not in kinds[first_reduction:]):
        return False
    with ir.InsertionPoint(op), op.location:
        builder.emit() if contiguous else builder.emit_unrolled()
    op.erase()
    return contiguous


@dataclass(frozen=True)
class DotProductKernels(ModulePass):
    """Rewrite contiguous int8 dot-product reductions into SIMD32 loops (SXTAB16 + SMLAD)."""

    name = "fdt-dot-product-kernels"
    summary = "int8 dot products four elements a load, two MACs an instruction (SIMD32 helpers)"

    def apply(self, module: ir.Module) -> None:
        rewrite_generics(module, rewrite)


def rewrite_generics(module: ir.Module, rewrite_one) -> None:
    """`rewrite_one` on every linalg.generic of `module`; the SIMD32 helpers declared when any emitted one
    (it returns True then)."""
    with module.context, ir.Location.unknown():
        candidates = [op for op in walk_ops(module.operation) if op.name == "linalg.generic"]
        if sum(rewrite_one(op) for op in candidates):
            declare_simd32(module)
