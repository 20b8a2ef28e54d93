"""int16x8 TRANSPOSE_CONV: rescale before the stride phases are interleaved, not after.

IREE's TOSA pipeline decomposes a strided `tosa.transpose_conv2d` into a stride-1 `tosa.conv2d` whose
output channels hold every stride phase, then a `tosa.reshape` (and transpose, slice) that interleaves
the phases, then a `tosa.add` of the bias. With 16-bit activations the accumulator is i48, and TOSA's
profiles allow neither a reshape nor an add of i48: IREE's validation rejects the model.

So the op is decomposed here, before the pipeline, in an order that keeps every i48 value inside the
conv: the bias is tiled over the phases into the conv's own bias operand, the consuming
`tosa.rescale` (TFLite's requantization, per output channel) is applied to the conv's output with its
multipliers and shifts tiled the same way, and only the rescaled i16/i8 tensor is interleaved and
cropped. Rescaling commutes with the interleave (it is per element and per channel), so the values are
the same, bit for bit.

The decomposition, for stride (sy, sx) and kernel (KH, KW) (the same idea as upstream MLIR's):
out[q*sy + r] = sum_j in[q - j] * w[r + sy*j] is, per phase r, a stride-1 correlation with the kernel
taps r, r + sy, ... reversed, on the input padded by J - 1 = ceil(KH / sy) - 1 on each side.
"""

from __future__ import annotations

import re

import numpy as np

from ..ir import ir, walk_ops


def _owner(value: ir.Value):
    owner = value.owner
    if isinstance(owner, ir.Block):
        return None
    return owner.operation if hasattr(owner, "operation") else owner


def _constant(value: ir.Value) -> np.ndarray | None:
    """The values of a `tosa.const` operand as int64, or None when it is not a constant."""
    op = _owner(value)
    if op is None or op.name != "tosa.const":
        return None
    attr = op.attributes["values"]
    shape = ir.ShapedType(attr.type).shape
    dense = ir.DenseIntElementsAttr(attr)
    if dense.is_splat:
        return np.full(shape, ir.IntegerAttr(dense.get_splat_value()).value, np.int64)
    width = ir.IntegerType(ir.ShapedType(attr.type).element_type).width
    if width in (8, 16, 32, 64):
        return np.array(dense).astype(np.int64).reshape(shape)
    return parse_dense(str(attr), width).reshape(shape)  # i48: the bindings give no values


def parse_dense(text: str, width: int) -> np.ndarray:
    """The integers of a printed `dense<...>` attribute, flat: a (nested) list, or hex bytes (little endian,
    width/8 bytes each, as MLIR prints large attributes)."""
    hex_match = re.search(r'dense<"0x([0-9A-Fa-f]*)">', text)
    if hex_match is None:
        body = text[text.index("<") + 1:text.rindex(">")]
        return np.array([int(v) for v in re.findall(r"-?\d+", body.split(">")[0])], np.int64)
    raw, size = bytes.fromhex(hex_match[1]), width // 8
    values = [int.from_bytes(raw[i:i + size], "little", signed=True) for i in range(0, len(raw), size)]
    return np.array(values, np.int64)


def dense_attr(values: np.ndarray, element: ir.Type) -> ir.Attribute:
    """A dense attribute of integer `values` with element type `element` (i48 through its text form)."""
    t = ir.RankedTensorType.get(list(values.shape), element)
    if ir.IntegerType(element).width in (8, 16, 32, 64):
        return ir.DenseElementsAttr.get(np.ascontiguousarray(values.astype(f"int{ir.IntegerType(element).width}")),
                                        type=t)
    # i48: no numpy type; the values are few (a bias), printed as nested lists
    return ir.Attribute.parse(f"dense<{values.astype(np.int64).tolist()}> : {t}")


class TosaBuilder:
    """Creates TOSA ops before `anchor`, at its location."""

    def __init__(self, anchor: ir.Operation):
        self.ip, self.loc = ir.InsertionPoint(anchor), anchor.location

    def op(self, name: str, result: ir.Type, operands: list, attributes: dict | None = None) -> ir.Value:
        with self.ip:
            return ir.Operation.create(name, results=[result], operands=operands, attributes=attributes or {},
                                       loc=self.loc).result

    def const(self, values: np.ndarray, element: ir.Type) -> ir.Value:
        return self.op("tosa.const", ir.RankedTensorType.get(list(values.shape), element), [],
                       {"values": dense_attr(values, element)})

    def shape(self, dims: list[int]) -> ir.Value:
        index = ir.IndexType.get()
        values = ir.DenseElementsAttr.get(np.array(dims, np.int64), type=ir.RankedTensorType.get([len(dims)], index))
        return self.op("tosa.const_shape", ir.Type.parse(f"!tosa.shape<{len(dims)}>"), [], {"values": values})

    def reshape(self, x: ir.Value, dims: list[int]) -> ir.Value:
        element = ir.RankedTensorType(x.type).element_type
        return self.op("tosa.reshape", ir.RankedTensorType.get(dims, element), [x, self.shape(dims)])


def i64_array(values) -> ir.Attribute:
    return ir.DenseI64ArrayAttr.get([int(v) for v in values])


def phase_weights(w: np.ndarray, wzp: int, sy: int, sx: int) -> np.ndarray:
    """[OC, KH, KW, IC] -> [sy*sx*OC, J, Jx, IC]: row (ry*sx + rx)*OC + oc holds phase (ry, rx)'s taps,
    reversed; taps past the kernel are the weight zero point (they add nothing)."""
    oc, kh, kw, ic = w.shape
    jy, jx = -(-kh // sy), -(-kw // sx)
    padded = np.full((oc, jy * sy, jx * sx, ic), wzp, w.dtype)
    padded[:, :kh, :kw, :] = w
    # padded[oc, ry + sy*j, rx + sx*i] -> [ry, rx, oc, j, i], then taps reversed
    phases = padded.reshape(oc, jy, sy, jx, sx, ic).transpose(2, 4, 0, 1, 3, 5)[:, :, :, ::-1, ::-1, :]
    return phases.reshape(sy * sx * oc, jy, jx, ic)


def _decompose(conv: ir.Operation, rescale: ir.Operation) -> bool:
    x, w_value, b_value, izp, wzp_value = conv.operands
    w, bias, wzp = _constant(w_value), _constant(b_value), _constant(wzp_value)
    multiplier, shift = _constant(rescale.operands[1]), _constant(rescale.operands[2])
    if any(v is None for v in (w, bias, wzp, multiplier, shift)):
        return False
    sy, sx = (int(s) for s in ir.DenseI64ArrayAttr(conv.attributes["stride"]))
    top, bottom, left, right = (int(p) for p in ir.DenseI64ArrayAttr(conv.attributes["out_pad"]))
    if max(top, bottom, left, right) > 0:
        return False  # extra rows that hold only the bias: TFLite's TRANSPOSE_CONV does not make them
    n, ih, iw, _ = ir.RankedTensorType(x.type).shape
    oc, kh, kw, _ = w.shape
    _, oh, ow, _ = ir.RankedTensorType(conv.results[0].type).shape
    phases = sy * sx
    jy, jx = -(-kh // sy), -(-kw // sx)
    q, p = ih + jy - 1, iw + jx - 1
    acc = ir.RankedTensorType(conv.results[0].type).element_type
    out = ir.RankedTensorType(rescale.results[0].type).element_type
    weight_element = ir.RankedTensorType(w_value.type).element_type
    per_channel = ir.BoolAttr(rescale.attributes["per_channel"]).value

    b = TosaBuilder(rescale)
    weights = b.const(phase_weights(w, int(wzp.ravel()[0]), sy, sx), weight_element)
    tiled_bias = b.const(np.tile(np.broadcast_to(bias.ravel(), (oc,)), phases), acc)
    acc_all = b.op("tosa.conv2d", ir.RankedTensorType.get([n, q, p, phases * oc], acc),
                   [x, weights, tiled_bias, izp, wzp_value],
                   {"acc_type": ir.TypeAttr.get(acc), "dilation": i64_array([1, 1]),
                    "pad": i64_array([jy - 1, jy - 1, jx - 1, jx - 1]), "stride": i64_array([1, 1])})
    mul, sh = rescale.operands[1], rescale.operands[2]
    if per_channel:
        mul = b.const(np.tile(multiplier.ravel(), phases), ir.RankedTensorType(mul.type).element_type)
        sh = b.const(np.tile(shift.ravel(), phases), ir.RankedTensorType(sh.type).element_type)
    attributes = {name: rescale.attributes[name] for name in rescale.attributes}
    y = b.op("tosa.rescale", ir.RankedTensorType.get([n, q, p, phases * oc], out),
             [acc_all, mul, sh, rescale.operands[3], rescale.operands[4]], attributes)
    if phases > 1:
        y = b.reshape(y, [n, q, p, sy, sx, oc])
        y = b.op("tosa.transpose", ir.RankedTensorType.get([n, q, sy, p, sx, oc], out), [y],
                 {"perms": ir.DenseI32ArrayAttr.get([0, 1, 3, 2, 4, 5])})
        y = b.reshape(y, [n, q * sy, p * sx, oc])
    if (q * sy, p * sx) != (oh, ow):
        y = b.op("tosa.slice", ir.RankedTensorType.get([n, oh, ow, oc], out),
                 [y, b.shape([0, -top, -left, 0]), b.shape([n, oh, ow, oc])])
    rescale.results[0].replace_all_uses_with(y)
    rescale.erase()
    conv.erase()
    return True


def _with_rescale(op: ir.Operation) -> tuple[ir.Operation, ir.Operation] | None:
    """(op, its rescale) when `op` is an i48-accumulating transpose conv whose only use is a rescale."""
    if op.name != "tosa.transpose_conv2d":
        return None
    acc = ir.RankedTensorType(op.results[0].type).element_type
    uses = list(op.results[0].uses)
    if not (isinstance(acc, ir.IntegerType) and ir.IntegerType(acc).width == 48) or len(uses) != 1:
        return None
    user = uses[0].owner
    user = user.operation if hasattr(user, "operation") else user
    return (op, user) if user.name == "tosa.rescale" else None


def decompose_i48_transpose_convs(module: ir.Module) -> int:
    """Decompose every i48-accumulating `tosa.transpose_conv2d` whose only use is a `tosa.rescale` (and
    whose weights, bias and rescale parameters are constants); return how many."""
    with module.context, ir.Location.unknown():
        found = [pair for op in walk_ops(module.operation) if (pair := _with_rescale(op))]  # before erasing any
        return sum(_decompose(conv, rescale) for conv, rescale in found)
