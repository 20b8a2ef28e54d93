"""A QDQ model's float32 requantization as fixed-point integer arithmetic (no floating point in the int8 body).

`onnx_qdq.py` states each integer layer's requantization in ONNX terms: the int32 sum cast to float32,
times the float32 multiplier M = (x_scale * w_scale) / y_scale (a scalar, or one per output channel),
QuantizeLinear with scale 1 and y's zero point. torch-mlir lowers that, and the element-wise fusion
puts it in one body: `fptosi(min(max(roundeven(sitofp(acc) * M) + zp, lo), hi))`. On a Cortex-M4 that
is four floating-point instructions an element and a float32 unit the firmware must enable; a
Cortex-M0+/M3 has none.

This step rewrites every such body into fixed-point integer arithmetic: M = m * 2^-s with m a 31-bit
integer in [2^30, 2^31) (exact: a float32 mantissa has 24 bits), acc * m in 64 bits (exact), rounded
once at bit s — half to even as QuantizeLinear rounds where a tie can occur at all (`ties_possible`: a
multiplier with few significant bits, such as an average pool's 1/4), half up elsewhere (the same
integer) — with m and s as per-channel constant tables, so `fdt-specialize-rescale` turns it into one
SMLAL and 32-bit shifts as for a TFLite model; then the zero point added and the clamp to int8 done on
integers. The same holds for any affine float chain between an integer and a QuantizeLinear (A * t + B:
a dequantized int8 value plus a float bias, `_affine`), with B kept as an integer offset at 2^-16 of an
input step.

The result is the exact round(acc * M). onnxruntime evaluates the ONNX graph in float32 (a dequantized
float sum, divided by y_scale): the two agree except where acc * M lies within float32's rounding error
of a half-integer, and such a one-step difference in one layer can move a later layer's sum: hence the
QDQ tolerance (compiler.QDQ_TOLERANCE_NOTE) and the measured figures in the README.
"""

from __future__ import annotations

import math

import numpy as np

from ..analysis.linalg_util import (constant_int, defining_op, dense_to_numpy, erase_dead_body_ops, indexing_maps,
                                    input_index, move_body, num_inputs)
from ..ir import arith, ir, linalg, walk_ops


def fixed_point_multiplier(multiplier: float) -> tuple[int, int] | None:
    """(m, s) with multiplier = m * 2^-s exactly, m in [2^30, 2^31), s in [0, 63]; None when out of range."""
    if not multiplier > 0 or not math.isfinite(multiplier):
        return None
    fraction, exponent = math.frexp(float(np.float32(multiplier)))  # fraction in [0.5, 1)
    m, s = int(round(fraction * (1 << 31))), 31 - exponent
    if m == 1 << 31:
        m, s = 1 << 30, s - 1
    return (m, s) if 0 <= s <= 63 else None


def _single_user(value: ir.Value, name: str):
    uses = list(value.uses)
    if len(uses) != 1 or uses[0].owner.name != name:
        return None
    return uses[0].owner


def _float_constant(value: ir.Value) -> float | None:
    op = defining_op(value)
    if op is None or op.name != "arith.constant" or not isinstance(op.attributes["value"], ir.FloatAttr):
        return None
    return ir.FloatAttr(op.attributes["value"]).value


class _Affine:
    """A float32 value of a body as A * t + B: t an integer value (what `sitofp` converts), A and B scalars or
    per-channel arrays read from constant tables through one indexing map (`table_input`)."""

    def __init__(self, t: ir.Value, a, b, table_input: int | None):
        self.t, self.a, self.b, self.table_input = t, a, b, table_input


def _operand_constant(generic, value: ir.Value):
    """(value as a float or a 1-D float array, the input index of its table or None), or None."""
    scalar = _float_constant(value)
    if scalar is not None:
        return scalar, None
    index = input_index(value, generic)
    if index is None:
        return None
    table = defining_op(generic.operands[index])
    if table is None or table.name != "arith.constant" or not isinstance(
            ir.RankedTensorType(table.results[0].type).element_type, ir.F32Type):
        return None
    return dense_to_numpy(table.attributes["value"]).reshape(-1).astype(np.float64), index


def _affine(generic, value: ir.Value) -> _Affine | None:
    """`value` as an affine function of one integer (sitofp, then mulf/divf/addf/subf by constants), or None."""
    op = defining_op(value)
    if op is None or len(list(value.uses)) != 1:
        return None
    if op.name == "arith.sitofp":
        return _Affine(op.operands[0], 1.0, 0.0, None)
    if op.name not in ("arith.mulf", "arith.divf", "arith.addf", "arith.subf"):
        return None
    lhs, rhs = op.operands
    const = _operand_constant(generic, rhs)
    if const is None and op.name in ("arith.mulf", "arith.addf"):
        lhs, rhs = rhs, lhs
        const = _operand_constant(generic, rhs)
    inner = _affine(generic, lhs) if const is not None else None
    if inner is None:
        return None
    c, table = const
    if table is not None and inner.table_input not in (None, table):
        return None  # tables read through different maps
    a, b = inner.a, inner.b
    if op.name == "arith.mulf":
        a, b = a * c, b * c
    elif op.name == "arith.divf":
        a, b = a / c, b / c
    elif op.name == "arith.addf":
        b = b + c
    else:
        b = b - c
    return _Affine(inner.t, a, b, table if table is not None else inner.table_input)


def _bounded_int8(value: ir.Value) -> bool:
    """Whether the integer `value` is an int8 value widened, less a constant (|value| < 2^9)."""
    op = defining_op(value)
    if op is not None and op.name == "arith.subi" and constant_int(op.operands[1]) is not None \
            and abs(constant_int(op.operands[1])) <= 255:
        op = defining_op(op.operands[0])
    return op is not None and op.name == "arith.extsi" and str(op.operands[0].type) == "i8"


OFFSET_BITS = 16  # t * 2^16 + round(B / A * 2^16): an added offset kept to 2^-17 of an input step


class _Requantize:
    """One matched body: `fptosi(min(max(roundeven(A * t + B) + zp, lo), hi))` with A > 0 (module docstring).
    `v` is t (B = 0: an accumulator) or t * 2^16 + round(B / A * 2^16) (t a widened int8, B an offset such as
    a float bias), requantized by A (or A * 2^-16) in fixed point."""

    def __init__(self, generic, roundeven):
        self.ok = False
        affine = _affine(generic, roundeven.operands[0])
        if affine is None or str(affine.t.type) not in ("i32", "i64"):
            return
        a = np.broadcast_to(np.asarray(affine.a, np.float64), np.shape(affine.b) or np.shape(affine.a))
        b = np.broadcast_to(np.asarray(affine.b, np.float64), a.shape)
        self.t, self.table_input = affine.t, affine.table_input
        self.offsets = None
        if np.any(b != 0):
            if not _bounded_int8(self.t) or np.any(a <= 0):
                return
            offsets = np.round(b / a * (1 << OFFSET_BITS))
            if np.any(np.abs(offsets) >= 1 << 30):
                return
            self.offsets = offsets.astype(np.int64)
            a = a / (1 << OFFSET_BITS)
        elif str(self.t.type) != "i32":
            return
        add = _single_user(roundeven.results[0], "arith.addf")
        low = _single_user(add.results[0], "arith.maximumf") if add is not None else None
        high = _single_user(low.results[0], "arith.minimumf") if low is not None else None
        to_int = _single_user(high.results[0], "arith.fptosi") if high is not None else None
        if to_int is None:
            return
        bounds = [_float_constant([v for v in o.operands if v != prev][0])
                  for o, prev in ((add, roundeven.results[0]), (low, add.results[0]), (high, low.results[0]))]
        if any(b is None or b != int(b) for b in bounds):
            return
        self.zero, self.lo, self.hi = (int(b) for b in bounds)
        self.to_int = to_int
        self.fixed = [fixed_point_multiplier(float(v)) for v in np.reshape(a, -1)]
        self.ok = all(f is not None for f in self.fixed)


def _i(width: int) -> ir.IntegerType:
    return ir.IntegerType.get_signless(width)


def _c(width: int, value: int) -> ir.Value:
    return arith.ConstantOp(_i(width), value).result


def ties_possible(m: int, s: int, bits: int = 31) -> bool:
    """Whether x * m / 2^s is exactly half an odd integer for some |x| < 2^bits: x must have exactly
    s - 1 - tz trailing zero bits, tz those of m (a float32 mantissa shifted up: tz >= 7)."""
    tz = (m & -m).bit_length() - 1
    return 0 <= s - 1 - tz < bits


def _apply_scale(x: ir.Value, m: ir.Value, s: ir.Value, ties_to_even: bool) -> ir.Value:
    """round(x * m / 2^s) of the i32 `x` by i32 `m` and i8 `s`, in i64 with one rounding: half up,
    `(x*m + (1 << s >> 1)) >> s` (the form `fdt-specialize-rescale` turns into one SMLAL and 32-bit shifts),
    or, where a tie can occur, half to even as QuantizeLinear rounds: plus ((x*m >> s) & 1) - 1."""
    i32, i64 = _i(32), _i(64)
    s64 = arith.ExtUIOp(i64, s).result
    product = arith.MulIOp(arith.ExtSIOp(i64, x).result, arith.ExtSIOp(i64, m).result).result
    rounding = arith.ShRUIOp(arith.ShLIOp(_c(64, 1), s64).result, _c(64, 1)).result
    if ties_to_even:
        odd = arith.AndIOp(arith.ShRSIOp(product, s64).result, _c(64, 1)).result
        rounding = arith.AddIOp(rounding, arith.SubIOp(odd, _c(64, 1)).result).result
    return arith.TruncIOp(i32, arith.ShRSIOp(arith.AddIOp(product, rounding).result, s64).result).result


def _integer_chain(match: _Requantize, m: ir.Value, s: ir.Value, offset: ir.Value | None) -> None:
    """Replace the match's `fptosi` by the integer requantization of its integer value."""
    out_type = match.to_int.results[0].type
    with ir.InsertionPoint(match.to_int), match.to_int.location:
        v = match.t
        if str(v.type) != "i32":
            v = arith.TruncIOp(_i(32), v).result
        if offset is not None:
            v = arith.AddIOp(arith.ShLIOp(v, _c(32, OFFSET_BITS)).result, offset).result
        ties = any(ties_possible(mv, sv) for mv, sv in match.fixed)
        r = arith.AddIOp(_apply_scale(v, m, s, ties), _c(32, match.zero)).result
        r = arith.MinSIOp(arith.MaxSIOp(r, _c(32, match.lo)).result, _c(32, match.hi)).result
        result = arith.TruncIOp(out_type, r).result
    match.to_int.results[0].replace_all_uses_with(result)


def _with_tables(generic, table_input: int, tables: list[tuple[np.ndarray, int]]) -> tuple:
    """`generic` rebuilt with one more input per (values, bit width) table, read through the map of input
    `table_input`; the body moved over. Returns the new generic and the tables' body arguments."""
    n_in = num_inputs(generic)
    maps = indexing_maps(generic)
    old_block = generic.regions[0].blocks[0]
    shape = list(ir.RankedTensorType(generic.operands[table_input].type).shape)  # the float table's
    with ir.InsertionPoint(generic), generic.location:
        constants = []
        for values, width in tables:
            t = ir.RankedTensorType.get(shape, _i(width))
            array = np.asarray(values, {8: np.int8, 32: np.int32}[width]).reshape(shape)
            constants.append(arith.ConstantOp(t, ir.DenseElementsAttr.get(array, type=t)).result)
        operands = list(generic.operands)
        new_maps = [*maps[:n_in], *[maps[table_input]] * len(tables), *maps[n_in:]]
        new = linalg.GenericOp([r.type for r in generic.results], [*operands[:n_in], *constants],
                               operands[n_in:], ir.ArrayAttr.get([ir.AffineMapAttr.get(x) for x in new_maps]),
                               generic.attributes["iterator_types"])
    arg_types = [a.type for a in old_block.arguments]
    block = new.regions[0].blocks.append(*arg_types[:n_in], *[_i(w) for _, w in tables], *arg_types[n_in:])
    new_args = list(block.arguments)
    for i, old in enumerate(old_block.arguments):
        old.replace_all_uses_with(new_args[i] if i < n_in else new_args[i + len(tables)])
    move_body(old_block, block)
    for old, replacement in zip(generic.results, new.results):
        old.replace_all_uses_with(replacement)
    generic.erase()
    return new, new_args[n_in:n_in + len(tables)]


def _rewrite(generic, match: _Requantize):
    """Rewrite one matched body; returns the generic (a new one when tables were added)."""
    m_values = [f[0] for f in match.fixed]
    s_values = [f[1] for f in match.fixed]
    if match.table_input is None:  # one multiplier: constants
        with ir.InsertionPoint(match.to_int), match.to_int.location:
            offset = None if match.offsets is None else _c(32, int(np.reshape(match.offsets, -1)[0]))
            _integer_chain(match, _c(32, m_values[0]), _c(8, s_values[0]), offset)
        return generic
    tables = [(m_values, 32), (s_values, 8)]
    if match.offsets is not None:
        tables.append((np.reshape(match.offsets, -1), 32))
    generic, args = _with_tables(generic, match.table_input, tables)
    _integer_chain(match, args[0], args[1], args[2] if len(args) > 2 else None)
    return generic


def _rewrite_one(generic) -> bool:
    for body_op in list(generic.regions[0].blocks[0].operations):
        if body_op.operation.name == "math.roundeven":
            match = _Requantize(generic, body_op.operation)
            if match.ok:
                generic = _rewrite(generic, match)
                erase_dead_body_ops(generic.regions[0].blocks[0])
                return True
    return False


def integer_requantization(module: ir.Module) -> int:
    """Rewrite every float32 requantization body of `module` (module docstring); return how many."""
    count = 0
    with module.context, ir.Location.unknown():
        while True:  # a body may hold two (a layer's requantization, then a bias added in float and requantized)
            rewritten = sum(_rewrite_one(op) for op in walk_ops(module.operation) if op.name == "linalg.generic")
            if not rewritten:
                return count
            count += rewritten
