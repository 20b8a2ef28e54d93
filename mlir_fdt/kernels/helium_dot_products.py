"""fdt-helium-dot-products and fdt-helium-depthwise: int8 kernels sixteen elements a load on Helium (MVE,
Cortex-M55).

The same rows as `fdt-dot-product-kernels` (both operands contiguous along the innermost reduction
loop: NHWC channels, weights laid out by `fdt-relayout-reduction-weights`), at least 8 elements long,
are written with the vector dialect: a step loads 16 int8 of each operand (`vector<16xi8>`), widens,
multiplies and sums them (`vector.reduction <add>`), which LLVM selects as one VMLADAVA.S8: 16 MACs in
three instructions (two VLDRB and the multiply-accumulate across the vector), against 8 instructions
for 4 MACs with SIMD32. The zero points are not added per element: with x + ox and w + ow,

    sum((x + ox) * (w + ow)) = sum(x * w) + ow * sum(x) + ox * sum(w) + n * ox * ow,

so a factor with a non-zero offset adds the other factor's plain sum (one VADDVA.S8 a step) and the
correction is applied once per row. Integer arithmetic modulo 2^32 is exact in any order: the result
is the same i32. After the steps of 16, a half step of 8 (`vector<8xi8>`) if 8 or more are left; the
rest goes to the SIMD32 steps and the scalar tail of `dot_products._Builder` (the M55 has the DSP
extension too).

A depthwise layer (`fdt-helium-depthwise`) is blocked as `fdt-depthwise-channel-blocks` blocks it, by 8
channels instead of 4 (a channel loop whose trip count is a multiple of 8): per tap one vector<8xi8>
of input and one of weights, widened to i32 with the zero points added, multiplied and added to a
vector of the 8 channels' sums (VLDRB.S32 loads, VMUL/VADD), each channel's sum then stored to its own
accumulator for its own epilogue: the same integers as the scalar code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir import arith, ir, memref, scf, vector, walk_ops
from ..analysis.linalg_util import constant_int, defining_op, dense_to_numpy, emit_affine, mixed_offsets, num_inputs
from ..passes import ModulePass
from .depthwise_channels import ChannelEmitter, block, plan_blocks
from .dot_products import LANES, _Builder, _dot_product, _reads_rows, rewrite_generics

VECTOR_LANES = 16  # int8 elements of one 128-bit Helium register
HALF_LANES = 8  # a half step: 8 int8 widened to 16 bits fill a register (VLDRB.S16, VMLADAVA.S16)
# Rows of up to 2 Helium steps (half steps counted) in straight line; longer rows loop, one step an
# iteration (the low-overhead loop costs little). Longer straight-line rows spill: LLVM loads every vector
# first and MVE has eight Q registers (kws_int8 with rows of up to 4 steps in straight line: its streamed
# stack 552 -> 1,008 B; its first layer's rows of 2 steps and a half, in straight line: 868 B of stack
# untiled against 476 B looped). Two steps looped cost ResNet-8's 32-channel rows 1.9x.
STRAIGHT_STEPS = 2
# Rows of 4 steps or more read a constant factor's row sum from a compile-time table (int32 per row, in flash
# beside the weights) instead of summing it in every step (VADDVA): kws_int8 3,296,718 -> 3,200,687 on the
# M55. Folding rows of 3 steps too made ResNet-8 6 % slower and added 8.5 KB of tables.
FOLD_STEPS = 4


def _global(module_body: ir.Block, name: str):
    return next((o.operation for o in module_body.operations if o.operation.name == "memref.global"
                 and ir.StringAttr(o.operation.attributes["sym_name"]).value == name), None)


def _module_body(op) -> ir.Block:
    while op.parent is not None:
        op = op.parent
    return op.regions[0].blocks[0]


class _ConstantRows:
    """Where a factor reads a constant (a weights global) through subviews only: its root global, and the
    root coordinates of a row's first element."""

    def __init__(self, value: ir.Value):
        self.chain, self.root = [], None
        while (op := defining_op(value)) is not None and op.name == "memref.subview":
            self.chain.insert(0, op)
            value = op.operands[0]
        get = defining_op(value)
        if get is None or get.name != "memref.get_global" or not self.chain:
            return
        if any(ir.MemRefType(sv.results[0].type).rank != ir.MemRefType(sv.operands[0].type).rank or
               any(x != 1 for x in ir.DenseI64ArrayAttr(sv.attributes["static_strides"])) for sv in self.chain):
            return  # rank-reducing or strided views: coordinates do not simply add up
        self.global_op = _global(_module_body(get), ir.FlatSymbolRefAttr(get.attributes["name"]).value)
        if self.global_op is None or "constant" not in self.global_op.attributes:
            return
        self.root = value

    def root_indices(self, indices: list[ir.Value]) -> list:
        """The root coordinates (ints where static, else Values) of `indices` into the outermost view."""
        coords: list = list(indices)
        for sv in reversed(self.chain):
            offsets = mixed_offsets(sv)
            coords = [_add(c, o) for c, o in zip(coords, offsets)]
        return coords


def _add(a, b):
    ca = a if isinstance(a, int) else constant_int(a)
    cb = b if isinstance(b, int) else constant_int(b)
    if ca is not None and cb is not None:
        return ca + cb
    index = ir.IndexType.get()
    a = arith.ConstantOp(index, ca).result if ca is not None else a
    b = arith.ConstantOp(index, cb).result if cb is not None else b
    return arith.AddIOp(a, b).result


class _HeliumBuilder(_Builder):
    def row_sums(self, factor, outer: list[ir.Value], n: int) -> ir.Value | None:
        """The sum of a constant factor's row (its first `n` elements from `outer`'s row start), read from a
        table computed at compile time (a private global beside the weights), or None."""
        rows = _ConstantRows(self.op.operands[factor.input_index])
        if rows.root is None:
            return None
        coords = rows.root_indices(self.indices(factor.input_index, outer + [self.const_index(0)]))
        start = coords[-1] if isinstance(coords[-1], int) else constant_int(coords[-1])
        if start is None:
            return None
        weights = dense_to_numpy(rows.global_op.attributes["initial_value"])
        if start + n > weights.shape[-1]:
            return None
        sums = weights[..., start:start + n].astype(np.int64).sum(axis=-1).astype(np.int32)
        name = f"{ir.StringAttr(rows.global_op.attributes['sym_name']).value}_rowsum_{start}_{n}"
        t = ir.MemRefType.get(list(sums.shape) or [1], self.i32)
        body = _module_body(self.op)
        if _global(body, name) is None:
            with ir.InsertionPoint(rows.global_op), rows.global_op.location:
                tensor_type = ir.RankedTensorType.get(t.shape, self.i32)
                memref.GlobalOp(name, ir.TypeAttr.get(t), sym_visibility="private", constant=True,
                                initial_value=ir.DenseElementsAttr.get(sums.reshape(t.shape), type=tensor_type))
        table = memref.GetGlobalOp(t, name).result
        index = [c if not isinstance(c, int) else self.const_index(c) for c in coords[:-1]] or [self.const_index(0)]
        return memref.LoadOp(table, index).result

    def vector_load(self, input_index: int, dims: list[ir.Value], lanes: int) -> ir.Value:
        vector_type = ir.VectorType.get([lanes], ir.IntegerType.get_signless(8))
        return vector.LoadOp(vector_type, self.op.operands[input_index], self.indices(input_index, dims)).result

    def widen(self, v: ir.Value) -> ir.Value:
        return arith.ExtSIOp(ir.VectorType.get(ir.VectorType(v.type).shape, self.i32), v).result

    def reduce(self, v: ir.Value, acc: ir.Value) -> ir.Value:
        return vector.ReductionOp(self.i32, vector.CombiningKind.ADD, v, acc=acc).result

    def helium_step(self, dims: list[ir.Value], sums: list[ir.Value], lanes: int = VECTOR_LANES) -> list[ir.Value]:
        """`lanes` MACs into sums[0]; sums[1] (sum of a's elements) and sums[2] (of b's) where an offset needs
        them."""
        a, b = self.factors
        xa = self.widen(self.vector_load(a.input_index, dims, lanes))
        xb = self.widen(self.vector_load(b.input_index, dims, lanes))
        out = [self.reduce(arith.MulIOp(xa, xb).result, sums[0]), sums[1], sums[2]]
        if b.offset and self.folded[1] is None:
            out[1] = self.reduce(xa, sums[1])
        if a.offset and self.folded[0] is None:
            out[2] = self.reduce(xb, sums[2])
        return out

    def emit_row(self, outer: list[ir.Value]) -> None:
        """The row at `outer`: Helium steps, SIMD32 steps, MACs."""
        inner = len(self.extents) - 1
        trip = self.extents[inner]
        full = trip - trip % VECTOR_LANES
        helium = full + (HALF_LANES if trip - full >= HALF_LANES else 0)
        out = self.op.operands[num_inputs(self.op)]
        out_indices = self.indices(num_inputs(self.op), outer + [self.const_index(0)])
        zero = self.const_i32(0)
        sums = [memref.LoadOp(out, out_indices).result, zero, zero]
        # a constant factor's row sums come from a table, no sum of it in the steps: on rows of FOLD_STEPS
        # steps or more (on shorter ones the table's load costs about what the steps' sums do)
        a, b = self.factors
        fold = full // VECTOR_LANES >= FOLD_STEPS
        self.folded = [self.row_sums(b, outer, helium) if a.offset and fold else None,
                       self.row_sums(a, outer, helium) if b.offset and fold else None]
        steps = full // VECTOR_LANES
        if steps + (helium > full) > STRAIGHT_STEPS:  # a loop of one step an iteration (two an iteration
            #                                         measured slower on kws_int8)
            loop = scf.ForOp(self.const_index(0), self.const_index(full), self.const_index(VECTOR_LANES), sums)
            with ir.InsertionPoint(loop.body):
                scf.YieldOp(self.helium_step(outer + [loop.induction_variable], list(loop.inner_iter_args)))
            sums = list(loop.results)
        else:
            for k in range(0, full, VECTOR_LANES):
                sums = self.helium_step(outer + [self.const_index(k)], sums)
        if helium > full:
            sums = self.helium_step(outer + [self.const_index(full)], sums, HALF_LANES)
        acc = self._corrected(sums, helium)
        whole = trip - trip % LANES
        for k in range(helium, whole, LANES):
            acc = self.simd32_step(outer + [self.const_index(k)], acc)
        for k in range(whole, trip):
            acc = self.mac(outer + [self.const_index(k)], acc)
        memref.StoreOp(acc, out, out_indices)

    def _corrected(self, sums: list[ir.Value], n: int) -> ir.Value:
        """sum(x * w) + ow * sum(x) + ox * sum(w) + n * ox * ow, the offsets' terms folded after the steps."""
        a, b = self.factors
        acc = sums[0]
        sum_a = self.folded[1] if self.folded[1] is not None else sums[1]
        sum_b = self.folded[0] if self.folded[0] is not None else sums[2]
        if b.offset:
            acc = arith.AddIOp(acc, arith.MulIOp(sum_a, self.const_i32(b.offset)).result).result
        if a.offset:
            acc = arith.AddIOp(acc, arith.MulIOp(sum_b, self.const_i32(a.offset)).result).result
        if a.offset and b.offset:
            acc = arith.AddIOp(acc, self.const_i32(_wrap32(n * a.offset * b.offset))).result
        return acc


def _wrap32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


class _HeliumChannels(ChannelEmitter):
    """A depthwise layer's 8 channels in one vector: per tap one vector<8xi8> of input and of weights,
    widened to i32 with the zero points added (VLDRB.S32: two Q registers each), multiplied and accumulated
    lane by lane into two Q registers (the channels keep their own sums: the same integers as the scalar
    code). 16 channels a vector would need 12 of MVE's 8 Q registers: measured on vww_int8, 208 B more
    stack and 11 KB more code for 1 % fewer instructions."""

    lanes = HALF_LANES

    def vector_type(self, bits: int) -> ir.VectorType:
        return ir.VectorType.get([self.lanes], ir.IntegerType.get_signless(bits))

    def operand(self, k: int, dims: list[ir.Value]) -> ir.Value:
        factor = self.r.factors[k]
        indices = [emit_affine(e, dims) for e in self.maps[factor.input_index].results]
        wide = arith.ExtSIOp(self.vector_type(32), vector.LoadOp(self.vector_type(8), self.words[k], indices).result)
        if not factor.offset:
            return wide.result
        splat = arith.ConstantOp(self.vector_type(32), ir.DenseElementsAttr.get_splat(
            self.vector_type(32), ir.IntegerAttr.get(self.i32, factor.offset))).result
        return arith.AddIOp(wide.result, splat).result

    def tap(self, dims: list[ir.Value], accs: list[ir.Value]) -> list[ir.Value]:
        product = arith.MulIOp(self.operand(0, dims), self.operand(1, dims)).result
        return [arith.AddIOp(accs[0], product).result]

    def load_accumulators(self, outputs: list[ir.Value], out_indices: list[ir.Value]) -> list[ir.Value]:
        return [vector.FromElementsOp(self.vector_type(32), super().load_accumulators(outputs, out_indices)).result]

    def store_accumulators(self, accs: list[ir.Value], outputs: list[ir.Value], out_indices: list[ir.Value]) -> None:
        lanes = [vector.ExtractOp(accs[0], [], [k]).result for k in range(self.lanes)]
        super().store_accumulators(lanes, outputs, out_indices)


def rewrite(op) -> bool:
    """Replace a contiguous dot-product generic whose rows hold at least one Helium step; leave anything else."""
    found = _dot_product(op)
    if found is None or not _reads_rows(op, *found):
        return False
    factors, extents = found
    if not isinstance(extents[-1], int) or extents[-1] < HALF_LANES:
        return False
    with ir.InsertionPoint(op), op.location:
        _HeliumBuilder(op, factors, extents).emit()
    op.erase()
    return True


@dataclass(frozen=True)
class HeliumDotProducts(ModulePass):
    """Rewrite contiguous int8 dot-product rows of 8 or more into Helium (MVE) vector steps."""

    name = "fdt-helium-dot-products"
    summary = "int8 dot products sixteen elements a load, one multiply-accumulate across the vector (MVE)"

    def apply(self, module: ir.Module) -> None:
        rewrite_generics(module, rewrite)  # (the rows' tails are SIMD32 steps: the helpers are declared)


@dataclass(frozen=True)
class HeliumDepthwise(ModulePass):
    """Eight channels of a depthwise layer per iteration, one vector of input and of weights per tap."""

    name = "fdt-helium-depthwise"
    summary = "depthwise layers eight channels an iteration: a vector<8xi8> of input and weights per tap (MVE)"

    def apply(self, module: ir.Module) -> None:
        with module.context, ir.Location.unknown():
            # planned in one walk first, as fdt-depthwise-channel-blocks does (a rewrite erases only its own loop)
            plans = [(loop, r) for loop in walk_ops(module.operation)
                     if loop.name == "scf.for" and (r := plan_blocks(loop, _HeliumChannels.lanes)) is not None]
            for loop, reductions in plans:
                block(loop, reductions, _HeliumChannels)
