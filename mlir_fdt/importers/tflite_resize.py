"""RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR with TFLite Micro's sampling and rounding.

tosa-converter-for-tflite lowers both to a `tosa.resize` whose scale/offset describe the exact ratio,
and IREE lowers that as TOSA says. TFLite's kernels differ:
- nearest without align_corners/half_pixel_centers floors x * in/out where TOSA rounds: 4 -> 8 rows read
  rows 0,1,1,2,2,3,3,3 instead of 0,0,1,1,2,2,3,3 (outputs off by up to the whole int8 range);
- nearest computes in float32, whose rounding moves some indices for some shapes (2 -> 82);
- int8 bilinear quantizes the scale to 1/1024 steps, clamps both taps to row 0 where half-pixel
  centres fall before it (IREE's lowering extrapolates there), and rounds half away from zero.

So each tosa.resize gets scale/offset/border for which IREE's lowering reads exactly TFLite's taps
(`resize_sampling` computes both, one axis at a time, and checks they agree before anything is
changed); the integer bilinear ones get n = 1024 (TFLite's weights), a leading copy of the first
row/column when half-pixel centres need it, and TFLite's rounding before the converter's rescale.
Where no such parameters exist the operator is refused by name, never compiled approximately.
"""

from __future__ import annotations

from ..errors import FdtError
from ..ir import ir, location_name, walk_ops
from .resize_sampling import AxisParams, bilinear_float_ok, bilinear_int_params, nearest_params
from .tflite_flatbuffer import TfliteModel, TfliteOperator
from .tflite_operators import refuse_operators


class _Unmatched(Exception):
    """This resize has no exact TOSA form: the reason, for the refusal that names its operator."""


# TFLite operator -> the tosa.resize mode the converter gives it
RESIZE_OPERATORS = {"RESIZE_NEAREST_NEIGHBOR": "NEAREST_NEIGHBOR", "RESIZE_BILINEAR": "BILINEAR"}


def resize_operators(model: TfliteModel) -> list[TfliteOperator]:
    return [op for op in model.operators if op.name in RESIZE_OPERATORS]


def _shape_values(value: ir.Value) -> list[int]:
    op = value.owner.operation if hasattr(value.owner, "operation") else value.owner
    values = [int(v) for v in ir.DenseIntElementsAttr(op.attributes["values"])]
    return [v - (1 << 64) if v >= (1 << 63) else v for v in values]  # index values read back unsigned


def _const_shape(values: list[int], loc) -> ir.Value:
    attr = ir.Attribute.parse(f"dense<[{', '.join(map(str, values))}]> : tensor<{len(values)}xindex>")
    return ir.Operation.create("tosa.const_shape", results=[ir.Type.parse(f"!tosa.shape<{len(values)}>")],
                               attributes={"values": attr}, loc=loc).result


def _splat(value: int, element: ir.Type, shape: list[int], loc) -> ir.Value:
    t = ir.RankedTensorType.get(shape, element)
    attr = ir.DenseElementsAttr.get_splat(t, ir.IntegerAttr.get(element, value))
    return ir.Operation.create("tosa.const", results=[t], attributes={"values": attr}, loc=loc).result


def _dims(value: ir.Value) -> list[int]:
    return list(ir.RankedTensorType(value.type).shape)


def _element(value: ir.Value) -> ir.Type:
    return ir.RankedTensorType(value.type).element_type


def _describe(op: TfliteOperator, in_hw, out_hw) -> str:
    flags = ", ".join(f"{k}={v}" for k, v in op.flags.items())
    return f"{in_hw[0]}x{in_hw[1]} -> {out_hw[0]}x{out_hw[1]} with {flags}"


def _set_params(resize: ir.Operation, y: AxisParams, x: AxisParams) -> None:
    with ir.InsertionPoint(resize):
        resize.operands[1] = _const_shape([y.n, y.d, x.n, x.d], resize.location)
        resize.operands[2] = _const_shape([y.offset, x.offset], resize.location)
        resize.operands[3] = _const_shape([y.border, x.border], resize.location)


def _pad_leading(value: ir.Value, axis: int, loc) -> ir.Value:
    """`value` with a copy of its first row (axis 1) or column (axis 2) in front."""
    dims = _dims(value)
    size = list(dims)
    size[axis] = 1
    first = ir.Operation.create("tosa.slice", results=[ir.RankedTensorType.get(size, _element(value))],
                                operands=[value, _const_shape([0, 0, 0, 0], loc), _const_shape(size, loc)],
                                loc=loc).result
    dims[axis] += 1
    return ir.Operation.create("tosa.concat", results=[ir.RankedTensorType.get(dims, _element(value))],
                               operands=[first, value],
                               attributes={"axis": ir.IntegerAttr.get(ir.IntegerType.get_signless(32), axis)},
                               loc=loc).result


def _only_rescale_user(resize: ir.Operation) -> ir.Operation | None:
    users = [u.owner for u in resize.results[0].uses]
    return users[0] if len(users) == 1 and users[0].name == "tosa.rescale" else None


def _round_half_away_then_rescale(resize: ir.Operation, rescale: ir.Operation) -> None:
    """Replace the converter's rescale of the 2^20-scaled sum by TFLite's rounding: (acc + 2^19) / 2^20
    rounded half away from zero, i.e. round half up of acc - 1 for a negative acc. acc + (acc >> 31)
    subtracts that 1 (an arithmetic shift of a negative number is -1); the rescale (x * 2^14 + 2^33) >> 34
    then rounds half up."""
    acc = resize.results[0]
    element = _element(acc)
    width = ir.IntegerType(element).width
    loc = rescale.location
    rank = len(_dims(acc))
    with ir.InsertionPoint(rescale):
        sign = ir.Operation.create(
            "tosa.arithmetic_right_shift", results=[acc.type],
            operands=[acc, _splat(width - 1, element, [1] * rank, loc)],
            attributes={"round": ir.BoolAttr.get(False)}, loc=loc).result
        corrected = ir.Operation.create("tosa.add", results=[acc.type], operands=[acc, sign], loc=loc).result
        i8, i16 = ir.IntegerType.get_signless(8), ir.IntegerType.get_signless(16)
        out_element = _element(rescale.results[0])
        attributes = {name: rescale.attributes[name] for name in rescale.attributes}
        attributes["scale32"] = ir.BoolAttr.get(False)
        attributes["per_channel"] = ir.BoolAttr.get(False)
        attributes["rounding_mode"] = ir.Attribute.parse("#tosa<rounding_mode<SINGLE_ROUND>>")
        new = ir.Operation.create(
            "tosa.rescale", results=[rescale.results[0].type],
            operands=[corrected, _splat(1 << 14, i16, [1], loc), _splat(34, i8, [1], loc),
                      _splat(0, element, [1], loc), _splat(0, out_element, [1], loc)],
            attributes=attributes, loc=loc)
    rescale.results[0].replace_all_uses_with(new.results[0])
    rescale.erase()


def _fix_bilinear_int(op, resize, in_hw, out_hw) -> None:
    if ir.IntegerType(_element(resize.operands[0])).width != 8:
        # TFLite's kernel would be ResizeBilinearInteger<int16_t>, but its i48 sum needs a sign shift TOSA
        # does not profile for i48, and there is no oracle to check it against
        raise _Unmatched("int16 RESIZE_BILINEAR: TFLite Micro has no kernel for it (float and int8 "
                                         "only); mlir-fdt compiles int8 and float32 bilinear resizes")
    flags = (op.flags.get("align_corners", False), op.flags.get("half_pixel_centers", False))
    y, x = (bilinear_int_params(s, o, *flags) for s, o in zip(in_hw, out_hw))
    if y is None or x is None:
        raise _Unmatched(f"{_describe(op, in_hw, out_hw)}: TFLite's integer kernel reads "
                                         "outside the input for this shape (its lower row index is not clamped)")
    rescale = _only_rescale_user(resize)
    if rescale is None:
        raise _Unmatched("the converter's integer bilinear resize is not followed by its rescale")
    source = resize.operands[0]
    with ir.InsertionPoint(resize):
        if y.pad:
            source = _pad_leading(source, 1, resize.location)
        if x.pad:
            source = _pad_leading(source, 2, resize.location)
    resize.operands[0] = source
    _set_params(resize, y.params, x.params)
    _round_half_away_then_rescale(resize, rescale)


def _fix(op: TfliteOperator, resize: ir.Operation) -> None:
    in_hw, out_hw = _dims(resize.operands[0])[1:3], _dims(resize.results[0])[1:3]
    flags = (op.flags.get("align_corners", False), op.flags.get("half_pixel_centers", False))
    if op.name == "RESIZE_NEAREST_NEIGHBOR":
        y, x = (nearest_params(s, o, *flags) for s, o in zip(in_hw, out_hw))
        if y is None or x is None:
            raise _Unmatched(f"{_describe(op, in_hw, out_hw)}: TFLite's float32 index rounding "
                                             "for this shape has no TOSA resize equivalent")
        _set_params(resize, y, x)
    elif isinstance(_element(resize.results[0]), ir.IntegerType):
        _fix_bilinear_int(op, resize, in_hw, out_hw)
    else:
        scale, offset = _shape_values(resize.operands[1]), _shape_values(resize.operands[2])
        axes = [AxisParams(scale[2 * i], scale[2 * i + 1], offset[i], in_hw[i], out_hw[i]) for i in (0, 1)]
        if not all(bilinear_float_ok(p, *flags) for p in axes):
            raise _Unmatched(f"{_describe(op, in_hw, out_hw)}: the converter's float bilinear "
                                             "resize samples other positions than TFLite's kernel")



def fix_resizes(module: ir.Module, model: TfliteModel) -> int:
    """Give every tosa.resize TFLite's semantics (matched to its TFLite operator by the converter's debug
    location, the operator's output tensor name); return how many were rewritten."""
    operators = resize_operators(model)
    by_output = {op.outputs[0]: op for op in operators if op.outputs}
    count, refused = 0, {}
    with module.context, ir.Location.unknown():
        resizes = [op for op in walk_ops(module.operation) if op.name == "tosa.resize"]
        for resize in resizes:
            op = by_output.get(location_name(resize))
            if op is None or RESIZE_OPERATORS[op.name] not in str(resize.attributes["mode"]):
                raise FdtError(f"{model.path}: cannot tell which TFLite operator a tosa.resize comes from "
                               f"(location {resize.location}); the resize operators are "
                               f"{', '.join(str(o.index) for o in operators) or 'none'}")
            try:
                _fix(op, resize)
                count += 1
            except _Unmatched as e:
                refused[op.index] = str(e)
        if refused:
            raise refuse_operators(model, refused)
        module.operation.verify()
    return count
