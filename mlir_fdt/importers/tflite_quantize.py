"""TFLite QUANTIZE (float -> int8/int16) saturates; the converter's TOSA for it wraps.

tosa-converter-for-tflite lowers QUANTIZE to `cast(add(cast_to_i32(mul(x, 1/scale)), zero_point))`:
the last `tosa.cast` from i32 to i8/i16 truncates the bits (TOSA's integer narrowing), so an input
outside the quantization range gives garbage where TFLite (`AffineQuantize`) clamps to the type's
range. A `tosa.maximum`/`tosa.minimum` with that range (TOSA's profiles allow no i32 `tosa.clamp`) goes in
before the narrowing cast of exactly this pattern.
"""

from __future__ import annotations

from ..ir import ir, walk_ops


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
