"""TFLite QUANTIZE (float -> int8/int16) as TFLite computes it, where the converter's TOSA differs.

Saturation: TFLite clamps; the converter's TOSA wraps.

tosa-converter-for-tflite lowers QUANTIZE to `cast(add(cast_to_i32(mul(x, 1/scale)), zero_point))`:
the last `tosa.cast` from i32 to i8/i16 truncates the bits (TOSA's integer narrowing), so an input
outside the quantization range gives garbage where TFLite (`AffineQuantize`) clamps to the type's
range. A `tosa.maximum`/`tosa.minimum` with that range (TOSA's profiles allow no i32 `tosa.clamp`) goes in
before the narrowing cast of exactly this pattern.
"""

from __future__ import annotations

import numpy as np

from ..errors import InternalError
from ..ir import arith, ir, linalg, math, tensor, walk_ops
from .tflite_flatbuffer import TfliteModel


def _producer(value: ir.Value, name: str):
    owner = value.owner
    if isinstance(owner, ir.Block):
        return None
    op = owner.operation if hasattr(owner, "operation") else owner
    return op if op.name == name else None


def _is_float_to_i32_cast(value: ir.Value) -> bool:
    cast = _producer(value, "tosa.cast")
    return cast is not None and isinstance(ir.RankedTensorType(cast.operands[0].type).element_type,
                                           (ir.F32Type, ir.F16Type, ir.BF16Type))


def _quantize_narrowing(op) -> tuple[int, int] | None:
    """(min, max) of the narrow type when `op` is the narrowing cast of a lowered QUANTIZE."""
    if op.name != "tosa.cast":
        return None
    src = ir.RankedTensorType(op.operands[0].type).element_type
    dst = ir.RankedTensorType(op.results[0].type).element_type
    if not (isinstance(src, ir.IntegerType) and isinstance(dst, ir.IntegerType)):
        return None
    width = ir.IntegerType(dst).width
    if ir.IntegerType(src).width != 32 or width not in (8, 16):
        return None
    add = _producer(op.operands[0], "tosa.add")
    if add is None or not any(_is_float_to_i32_cast(v) for v in add.operands):
        return None
    return -(1 << (width - 1)), (1 << (width - 1)) - 1


def saturate_quantize_casts(module: ir.Module) -> int:
    """Clamp the i32 value of every lowered QUANTIZE to its narrow type's range before the narrowing
    cast; return how many were clamped."""
    count = 0
    with module.context, ir.Location.unknown():
        i32 = ir.IntegerType.get_signless(32)
        for op in walk_ops(module.operation):
            bounds = _quantize_narrowing(op)
            if bounds is None:
                continue
            value = op.operands[0]
            bound_type = ir.RankedTensorType.get([1] * ir.RankedTensorType(value.type).rank, i32)
            loc = op.location
            with ir.InsertionPoint(op):
                lo, hi = [ir.Operation.create("tosa.const", results=[bound_type], loc=loc, attributes={
                    "values": ir.DenseElementsAttr.get_splat(bound_type, ir.IntegerAttr.get(i32, b))}).result
                    for b in bounds]
                low = ir.Operation.create("tosa.maximum", results=[value.type], operands=[value, lo], loc=loc).result
                clamped = ir.Operation.create("tosa.minimum", results=[value.type], operands=[low, hi],
                                              loc=loc).result
            op.operands[0] = clamped
            count += 1
    return count


# Rounding: TFLite Micro's QUANTIZE divides by the scale in float32 and rounds half away from zero
# (`TfLiteRound(x / scale)`); the converter's TOSA multiplies by the float32 reciprocal and `tosa.cast`
# rounds half to even. About 4 in a million inputs (quotients near a half-integer, where the product
# errs by an ulp, and exact ties) then quantize one step apart: the division and the rounding are
# put back as TFLite computes them.


def _splat_f32(value: ir.Value) -> float | None:
    const = _producer(value, "tosa.const")
    if const is None:
        return None
    attr = ir.DenseElementsAttr(const.attributes["values"])
    if not attr.is_splat or not isinstance(ir.RankedTensorType(value.type).element_type, ir.F32Type):
        return None
    return float(ir.FloatAttr(attr.get_splat_value()).value)


def _quantize_scale(reciprocal: float, scales: list[float]) -> float | None:
    """The QUANTIZE output scale whose float32 reciprocal the converter wrote as `reciprocal`."""
    for s in scales:
        if reciprocal in (float(np.float32(1.0) / np.float32(s)), float(np.float32(1.0 / float(np.float32(s))))):
            return s
    return None


def _tflite_rounded_quotient(x: ir.Value, scale: float) -> ir.Value:
    """A generic computing round_half_away(x / scale) per element in float32, as TFLite Micro does
    (an integral float32: the converter's cast to i32 after it is then exact)."""
    t = ir.RankedTensorType(x.type)
    f32 = ir.F32Type.get()
    rank = t.rank
    identity = ir.AffineMapAttr.get(ir.AffineMap.get_identity(rank))
    parallel = ir.ArrayAttr.get([ir.Attribute.parse("#linalg.iterator_type<parallel>")] * rank)
    empty = tensor.EmptyOp(list(t.shape), f32).result
    op = linalg.GenericOp([t], [x], [empty], ir.ArrayAttr.get([identity, identity]), parallel)
    block = op.regions[0].blocks.append(f32, f32)
    with ir.InsertionPoint(block):
        v = block.arguments[0]
        s = arith.ConstantOp(f32, scale).result
        q = arith.DivFOp(v, s).result
        value = math.RoundOp(q).result  # half away from zero
        linalg.YieldOp([value])
    return op.results[0]


def exact_quantize_rounding(module: ir.Module, model: TfliteModel) -> int:
    """Replace the float32 product `x * (1/scale)` of every lowered float QUANTIZE with TFLite's
    rounded quotient; return how many. A QUANTIZE product whose reciprocal matches none of the model's
    QUANTIZE scales is an internal error (the converter's pattern changed), never a silent rounding."""
    scales = []
    for op in model.operators:
        if op.name == "QUANTIZE" and op.inputs and (src := model.tensor(op.inputs[0])) is not None \
                and src.dtype == "float32" and (dst := model.tensor(op.outputs[0])) is not None \
                and dst.scale is not None and len(np.atleast_1d(dst.scale)) == 1:
            scales.append(float(np.atleast_1d(dst.scale)[0]))
    count = 0
    with module.context, ir.Location.unknown():
        for cast in walk_ops(module.operation):
            if cast.name != "tosa.cast" or not _is_float_to_i32_cast(cast.results[0]):
                continue
            users = [u.owner.operation for u in cast.results[0].uses]
            if not users or not all(u.name == "tosa.add" and _quantize_narrowing_user(u) for u in users):
                continue
            mul = _producer(cast.operands[0], "tosa.mul")
            if mul is None:
                continue
            reciprocal = _splat_f32(mul.operands[1])
            scale = _quantize_scale(reciprocal, scales) if reciprocal is not None else None
            if scale is None:
                raise InternalError(f"a float QUANTIZE lowered as x * {reciprocal} matches none of the model's "
                                    f"QUANTIZE scales {scales} (has the TFLite to TOSA converter changed?)")
            with ir.InsertionPoint(cast), cast.location:
                cast.operands[0] = _tflite_rounded_quotient(mul.operands[0], scale)
            count += 1
    return count


def _quantize_narrowing_user(add) -> bool:
    return any(_quantize_narrowing(u.owner.operation) is not None for u in add.results[0].uses)
