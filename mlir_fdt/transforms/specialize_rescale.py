"""fdt-specialize-rescale: per-channel requantization without 64-bit variable shifts.

TOSA's `rescale` with per-channel multipliers and shifts (TFLite Micro's
MultiplyByQuantizedMultiplier, double rounding) lowers to i64 arithmetic on the shift read from a
table at run time: `(x*m + (1 << s >> 1) + (s > 31 ? (x >= 0 ? 2^30 : -2^30) : 0)) >> s`. On a
Cortex-M4 the i64 shift left and right by a variable amount, the selects on i64 and the i64 adds
cost about 30 instructions per output element — more than the MACs of a small layer. The shifts
are constants: when every one of them is in [32, 63] (a multiplier below one; TFLite's usual
case), the rounding constant c = 2^(s-1) ± 2^30 is built from two 32-bit words (a shift and a few
selects on 32-bit values, no table: the weights in flash stay as they are) and the result is
`((x*m + c) >> 32) >> (s - 32)`: one SMLAL multiply-add, the high word, one 32-bit shift. The
result is the same integer: for s >= 32, floor(v / 2^s) is the high word of v shifted by s - 32,
and the high word fits 32 bits because |x*m| < 2^62. The single-rounding form `(x*m + (1 << s >> 1)) >> s`
(the ONNX importer's fixed-point requantization, onnx_requantize.py) is specialized the same way, c = 2^(s-1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir import arith, ir, walk_ops
from ..analysis.linalg_util import (constant_int, defining_op, dense_to_numpy, erase_dead_body_ops, input_index,
                                    is_all_parallel, numpy_to_dense)
from ..passes import ModulePass


@dataclass
class Rescale:
    """One matched rescale: its result, the value rescaled, and the table inputs of m and s."""

    result: ir.Value        # the i32 `trunci(v >> s)`
    x: ir.Value             # the i32 accumulator
    multiplier: ir.Value    # body argument (i32) of the multiplier table
    shift: ir.Value         # body argument (i8) of the shift table
    shift_input: int        # generic input index of the shift table
    double_round: bool      # TOSA's double rounding (c = 2^(s-1) +- 2^30), else single (c = 2^(s-1))


def _op(value: ir.Value, name: str):
    producer = defining_op(value)
    return producer if producer is not None and producer.name == name else None


def _table_arg(value: ir.Value, op) -> int | None:
    """The input index of a body argument bound to a constant table input of `op`."""
    index = input_index(value, op)
    if index is None:
        return None
    source = op.operands[index]
    producer = defining_op(source)
    if producer is None or producer.name != "arith.constant" or not isinstance(source.type, ir.RankedTensorType):
        return None
    return index


def _rounded_product(base_add, s64_value, op):
    """(x, multiplier) when `base_add` is x*m + (1 << s64 >> 1), m a table's body argument; else None."""
    if base_add is None:
        return None
    product, rounding = base_add.operands
    mul = _op(product, "arith.muli")
    half = _op(rounding, "arith.shrui")
    if mul is None or half is None or constant_int(half.operands[1]) != 1:
        return None
    one_shl = _op(half.operands[0], "arith.shli")
    if one_shl is None or constant_int(one_shl.operands[0]) != 1 or one_shl.operands[1] != s64_value:
        return None
    x64, m64 = (_op(v, "arith.extsi") for v in mul.operands)
    if x64 is None or m64 is None:
        return None
    multiplier = m64.operands[0]
    if _table_arg(multiplier, op) is None:
        x64, m64 = m64, x64
        multiplier = m64.operands[0]
        if _table_arg(multiplier, op) is None:
            return None
    x = x64.operands[0]
    if not (isinstance(x.type, ir.IntegerType) and ir.IntegerType(x.type).width == 32):
        return None
    return x, multiplier


def _match(trunc, op) -> Rescale | None:
    """`trunci(shrsi(select(s > 31, d + b, b), s64))` with b = x*m + (1 << s64 >> 1) (TOSA's double rounding),
    or `trunci(shrsi(b, s64))` (single rounding, half up)."""
    shr = _op(trunc.operands[0], "arith.shrsi")
    if shr is None:
        return None
    s64 = _op(shr.operands[1], "arith.extui")
    if s64 is None:
        return None
    shift = s64.operands[0]
    shift_input = _table_arg(shift, op)
    if shift_input is None:
        return None
    select = _op(shr.operands[0], "arith.select")
    if select is None:
        found = _rounded_product(_op(shr.operands[0], "arith.addi"), s64.results[0], op)
        return Rescale(trunc.results[0], *found, shift, shift_input, False) if found else None
    cond = _op(select.operands[0], "arith.cmpi")
    if cond is None or constant_int(cond.operands[1]) != 31:
        return None
    s32 = _op(cond.operands[0], "arith.extui")
    if s32 is None or s32.operands[0] != shift or int(ir.IntegerAttr(cond.attributes["predicate"]).value) != 4:
        return None  # predicate 4: sgt
    base = select.operands[2]
    doubled = _op(select.operands[1], "arith.addi")
    if doubled is None or base not in list(doubled.operands):
        return None
    found = _rounded_product(_op(base, "arith.addi"), s64.results[0], op)
    if found is None:
        return None
    x = found[0]
    sign_select = _op([v for v in doubled.operands if v != base][0], "arith.select")
    sign = _op(sign_select.operands[0], "arith.cmpi") if sign_select is not None else None
    if sign is None or sign.operands[0] != x or constant_int(sign.operands[1]) != 0 or \
            int(ir.IntegerAttr(sign.attributes["predicate"]).value) != 5:  # sge
        return None
    if (constant_int(sign_select.operands[1]), constant_int(sign_select.operands[2])) != (1 << 30, -(1 << 30)):
        return None
    return Rescale(trunc.results[0], *found, shift, shift_input, True)


def _find(op) -> Rescale | None:
    body = op.regions[0].blocks[0]
    matches = [m for o in body.operations if o.operation.name == "arith.trunci"
               and (m := _match(o.operation, op)) is not None]
    return matches[0] if len(matches) == 1 else None


def _c32(v: int) -> ir.Value:
    i32 = ir.IntegerType.get_signless(32)
    return arith.ConstantOp(i32, v - (1 << 32) if v >= 1 << 31 else v).result


def _high_word(rescale: Rescale, hi: ir.Value, lo: ir.Value) -> ir.Value:
    """The high word of x*m + (hi:lo) (one SMLAL)."""
    i64 = ir.IntegerType.get_signless(64)
    words = arith.OrIOp(arith.ShLIOp(arith.ExtUIOp(i64, hi).result, arith.ConstantOp(i64, 32).result).result,
                        arith.ExtUIOp(i64, lo).result).result
    product = arith.MulIOp(arith.ExtSIOp(i64, rescale.x).result, arith.ExtSIOp(i64, rescale.multiplier).result)
    v = arith.AddIOp(product.result, words).result
    high = arith.ShRSIOp(v, arith.ConstantOp(i64, 32).result).result
    return arith.TruncIOp(ir.IntegerType.get_signless(32), high).result


def _from_32(op, rescale: Rescale) -> ir.Value:
    """Shifts in [32, 63]: the rounding constant's words built from s at run time."""
    i32 = ir.IntegerType.get_signless(32)
    with ir.InsertionPoint(rescale.result.owner), op.location:
        s32 = arith.ExtUIOp(i32, rescale.shift).result
        exact32 = arith.CmpIOp(arith.CmpIPredicate.eq, s32, _c32(32)).result
        # c = 2^(s-1) + 2^30 (x >= 0) or 2^(s-1) - 2^30 (x < 0), as two 32-bit words
        power = arith.ShLIOp(_c32(1), arith.MaxSIOp(arith.SubIOp(s32, _c32(33)).result, _c32(0)).result).result
        hi = arith.SelectOp(exact32, _c32(0), power).result
        if not rescale.double_round:  # c = 2^(s-1): 2^31 in the low word (s = 32), else 2^(s-33) in the high
            lo = arith.SelectOp(exact32, _c32(0x80000000), _c32(0)).result
            return arith.ShRSIOp(_high_word(rescale, hi, lo), arith.SubIOp(s32, _c32(32)).result).result
        lo = arith.SelectOp(exact32, _c32(0xC0000000), _c32(0x40000000)).result
        negative = arith.CmpIOp(arith.CmpIPredicate.slt, rescale.x, _c32(0)).result
        lo = arith.SelectOp(negative, arith.XOrIOp(lo, _c32(0x80000000)).result, lo).result
        borrow = arith.AndIOp(negative, arith.XOrIOp(exact32, arith.ConstantOp(ir.IntegerType.get_signless(1),
                                                                               1).result).result).result
        hi = arith.SelectOp(borrow, arith.SubIOp(hi, _c32(1)).result, hi).result
        return arith.ShRSIOp(_high_word(rescale, hi, lo), arith.SubIOp(s32, _c32(32)).result).result


def _only_rescale_reads(rescale: Rescale) -> bool:
    """Whether the shift's body argument feeds nothing but the matched rescale (its table may change)."""
    inside, pending = set(), [rescale.result.owner]
    while pending:
        o = pending.pop()
        if o in inside:
            continue
        inside.add(o)
        pending += [p for v in o.operands if (p := defining_op(v)) is not None]
    return all(use.owner in inside for use in rescale.shift.uses)


def _above_32(op, rescale: Rescale, shifts: np.ndarray) -> ir.Value:
    """Shifts in [33, 63] (TFLite's usual case): the table holds t = s - 33 instead of s (same bytes), so
    c = 2^(s-1) ± 2^30 has the high word 2^t (minus the borrow, -1 when x < 0: x >> 31) and the low
    word 2^30 or 3·2^30 (single rounding: c = 2^(s-1), high word 2^t, low word 0), and the result is
    (high >> t) >> 1; a shift common to every channel is a constant (per-tensor quantization, or a channel
    of an FDT partition)."""
    i32 = ir.IntegerType.get_signless(32)
    table = defining_op(op.operands[rescale.shift_input])
    t_values = (shifts - 33).astype(np.int8).reshape(ir.RankedTensorType(table.results[0].type).shape)
    with ir.InsertionPoint(op), op.location:
        op.operands[rescale.shift_input] = arith.ConstantOp(
            table.results[0].type, numpy_to_dense(t_values, ir.RankedTensorType(table.results[0].type))).result
    if not list(table.results[0].uses):
        table.erase()
    with ir.InsertionPoint(rescale.result.owner), op.location:
        t = _c32(int(t_values.flat[0])) if np.all(t_values == t_values.flat[0]) else \
            arith.ExtUIOp(i32, rescale.shift).result
        hi = arith.ShLIOp(_c32(1), t).result
        lo = _c32(0)
        if rescale.double_round:
            sign = arith.ShRSIOp(rescale.x, _c32(31)).result  # -1 when x < 0, else 0
            hi = arith.AddIOp(hi, sign).result
            lo = arith.OrIOp(arith.AndIOp(rescale.x, _c32(0x80000000)).result, _c32(0x40000000)).result
        return arith.ShRSIOp(arith.ShRSIOp(_high_word(rescale, hi, lo), t).result, _c32(1)).result


def specialize(op) -> bool:
    """Rewrite the one per-channel rescale in the body of `op`; False when there is none or a shift is
    below 32."""
    rescale = _find(op)
    if rescale is None:
        return False
    shifts = dense_to_numpy(defining_op(op.operands[rescale.shift_input]).attributes["value"]).astype(np.int64)
    if shifts.size == 0 or shifts.min() < 32 or shifts.max() > 63:
        return False
    if shifts.min() >= 33 and _only_rescale_reads(rescale):
        result = _above_32(op, rescale, shifts)
    else:
        result = _from_32(op, rescale)
    old = rescale.result.owner
    rescale.result.replace_all_uses_with(result)
    old.erase()
    erase_dead_body_ops(op.regions[0].blocks[0])
    return True


@dataclass(frozen=True)
class SpecializeRescale(ModulePass):
    """Rewrite per-channel requantizations whose shifts are all >= 32 into 32-bit shifts of the high word."""

    name = "fdt-specialize-rescale"
    summary = "per-channel rescale as one i64 multiply-add and 32-bit shifts (shifts known to be >= 32)"

    def apply(self, module: ir.Module) -> None:
        with module.context, ir.Location.unknown():
            for op in [o for o in walk_ops(module.operation) if o.name == "linalg.generic" and is_all_parallel(o)]:
                specialize(op)
