"""Valid value ranges of program inputs used as indices (token ids of an embedding lookup).

The self-test draws random inputs. A float input uniform in [-1, 1) that a CAST turns into a
GATHER index is almost always index 0, or out of range (TFLite Micro fails; IREE reads outside
the table): the comparison then says nothing about the lookup. `index_input_ranges` follows each
input of the imported linalg program through ops that keep its values (casts, rounding, clamps,
reshapes, elementwise generics) to the `tensor.extract` ops that index with it, and bounds the
input by the extents it indexes: inputs drawn in that range address the table validly.

It is a heuristic for choosing test inputs, not a proof: a clamp to a bound inside the range
would narrow what is valid, and arithmetic on the value (an offset, a scale) ends the search.
"""

from __future__ import annotations

from ..ir import ir

# ops whose result equals their operand for every value in an index range: conversions,
# rounding, and the clamps and selects IREE's cast lowering adds for saturation
_SCALAR_KEEPERS = {
    "arith.fptosi", "arith.fptoui", "arith.sitofp", "arith.uitofp", "arith.index_cast", "arith.index_castui",
    "arith.extsi", "arith.extui", "arith.trunci", "arith.extf", "arith.truncf", "math.roundeven", "math.round",
    "math.trunc", "math.floor", "math.ceil", "arith.maximumf", "arith.minimumf", "arith.maxnumf", "arith.minnumf",
    "arith.maxsi", "arith.minsi", "arith.select",
}
# tensor ops whose result holds the operand's values, moved
_TENSOR_KEEPERS = {
    "tensor.expand_shape", "tensor.collapse_shape", "tensor.reshape", "tensor.cast", "tensor.extract_slice",
    "linalg.transpose", "linalg.copy", "linalg.broadcast",
}

Range = tuple[int, int]  # [lo, hi)


def _input_block_argument(op: ir.Operation, operand: int) -> ir.Value | None:
    """The body's block argument that an input operand of a linalg.generic binds."""
    inputs = list(ir.DenseI32ArrayAttr(op.attributes["operandSegmentSizes"]))[0]
    if operand >= inputs:
        return None
    return op.regions[0].blocks[0].arguments[operand]


def _extract_bound(op: ir.Operation, operand: int) -> Range | None:
    """[0, size) of the source dim that operand `operand` of a tensor.extract indexes."""
    if operand == 0:
        return None
    size = ir.RankedTensorType(op.operands[0].type).shape[operand - 1]
    return None if size == ir.ShapedType.get_dynamic_size() else (0, size)


def _next_values(op: ir.Operation, operand: int) -> list[ir.Value]:
    """Values that carry the values of operand `operand` of `op` unchanged."""
    if op.name == "linalg.generic":
        arg = _input_block_argument(op, operand)
        return [arg] if arg is not None else []
    if op.name == "linalg.yield" and op.parent.name == "linalg.generic":
        return [op.parent.results[operand]]
    if op.name == "arith.select" and operand == 0:
        return []
    if op.name in _SCALAR_KEEPERS or (op.name in _TENSOR_KEEPERS and operand == 0):
        return list(op.results)
    return []


def _index_bounds(value: ir.Value) -> list[Range]:
    """Bounds from every tensor.extract that `value` reaches as an index."""
    bounds, seen, todo = [], set(), [value]
    while todo:
        v = todo.pop()
        for use in v.uses:
            op = use.owner.operation
            key = (op, use.operand_number)
            if key in seen:
                continue
            seen.add(key)
            if op.name == "tensor.extract":
                bound = _extract_bound(op, use.operand_number)
                if bound is not None:
                    bounds.append(bound)
                continue
            todo.extend(_next_values(op, use.operand_number))
    return bounds


def index_input_ranges(fn: ir.Operation) -> dict[int, Range]:
    """Per input of `fn` used as an index: the [lo, hi) every index use of it accepts."""
    ranges = {}
    for i, arg in enumerate(fn.regions[0].blocks[0].arguments):
        bounds = _index_bounds(arg)
        if bounds:
            lo, hi = max(b[0] for b in bounds), min(b[1] for b in bounds)
            if lo < hi:
                ranges[i] = (lo, hi)
    return ranges
