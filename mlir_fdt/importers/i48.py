"""Keep i48 constants signed through IREE's TOSA input pipeline.

TOSA carries the int16x8 (16-bit activations, 8-bit weights) accumulator and bias as i48. IREE's
pipeline widens every i48 to i64 (`iree-tosa-convert-i48-to-i64`) but rebuilds constant attributes
with `APInt::getZExtValue`, so a bias of -34 becomes 2^48 - 34 and the accumulator, hence the
rescaled output, is wrong (TFLite Micro adds its int64 bias signed). The pipeline is one registered
pass pipeline whose passes the Python bindings cannot run one by one, so we cannot fix the constants
right after that pass: instead the i48 constants enter the pipeline as `arith.constant`s carrying a
unit attribute (a discardable attribute that every pass keeps, the i48 pass included), and after the
pipeline each tagged constant gets bit 47 of its now-i64 values sign-extended.
"""

from __future__ import annotations

import numpy as np

from ..ir import ir, walk_ops

TAG = "fdt.i48"


def _is_i48(t: ir.Type) -> bool:
    if isinstance(t, ir.ShapedType):
        t = ir.ShapedType(t).element_type
    return isinstance(t, ir.IntegerType) and ir.IntegerType(t).width == 48


def _as_tagged_arith_constant(op: ir.Operation) -> None:
    """Replace a `tosa.const` by an equal `arith.constant` that carries the tag.

    tosa-to-arith would rebuild a `tosa.const` as an `arith.constant` without its discardable attributes.
    """
    with ir.InsertionPoint(op), op.location:
        const = ir.Operation.create("arith.constant", results=[op.results[0].type],
                                    attributes={"value": op.attributes["values"], TAG: ir.UnitAttr.get()})
    op.results[0].replace_all_uses_with(const.results[0])
    op.erase()


def tag_i48_constants(module: ir.Module) -> None:
    """Mark every i48 constant of a TOSA module, whose values IREE's i48 -> i64 pass will zero-extend."""
    with module.context:
        for op in walk_ops(module.operation):
            if op.name not in ("tosa.const", "arith.constant") or not _is_i48(op.results[0].type):
                continue
            if op.name == "tosa.const":
                _as_tagged_arith_constant(op)
            else:
                op.attributes[TAG] = ir.UnitAttr.get()


def sign_extend_48(values: np.ndarray) -> np.ndarray:
    """Reinterpret the low 48 bits of each integer as a signed 48-bit integer (as int64)."""
    low = values.astype(np.int64) & ((1 << 48) - 1)
    return np.where(low >= (1 << 47), low - (1 << 48), low).astype(np.int64)


def _sign_extended_attr(attr: ir.Attribute, t: ir.Type) -> ir.Attribute:
    if isinstance(attr, ir.IntegerAttr):
        return ir.IntegerAttr.get(t, int(sign_extend_48(np.array([ir.IntegerAttr(attr).value]))[0]))
    dense = ir.DenseIntElementsAttr(attr)
    shaped = ir.ShapedType(t)
    if dense.is_splat:
        value = int(sign_extend_48(np.array([ir.IntegerAttr(dense.get_splat_value()).value]))[0])
        return ir.DenseElementsAttr.get_splat(t, ir.IntegerAttr.get(shaped.element_type, value))
    return ir.DenseElementsAttr.get(sign_extend_48(np.array(dense)), type=t)


def sign_extend_tagged_constants(module: ir.Module) -> None:
    """Restore the sign of the tagged (formerly i48, now i64) constants and drop the tag."""
    with module.context, ir.Location.unknown():
        for op in walk_ops(module.operation):
            if TAG not in op.attributes:
                continue
            op.attributes["value"] = _sign_extended_attr(op.attributes["value"], op.results[0].type)
            del op.attributes[TAG]
