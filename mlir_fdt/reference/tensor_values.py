"""Which value of the tensor program holds which TFLite tensor.

Imported with debug information, every op the converter emits for a TFLite operator is located at
the name of that operator's output tensor (`loc("conv2d/Relu"(...))`), IREE's TOSA lowering keeps
the locations, and ops fused together carry a `loc(fused[...])` of every name. A TFLite tensor is
found where an op of the entry block located at its name yields a value of the tensor's element
type and shape (unit dimensions aside: the program folds them): the last such value in program
order, the operator's final result (a quantized layer computes int32 steps first, an int16 ADD
rescales its operands to int32, and only the end has the tensor's type). An operator with several
outputs (SPLIT, UNPACK) locates each of its ops at all of its output names; its values are assigned
to its outputs in order.

A tensor has no value of its own when its computation was fused into the next operator's (an
element-wise chain is one generic located at its last operator; a quantized layer's final rescale
fused with the next ADD's rescale to int32) or its operator folded away (a RESHAPE that only drops
unit dimensions, a PAD that became a convolution's padding); it is then skipped, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..importers.tflite_flatbuffer import TfliteModel, TfliteOperator, TfliteTensor
from ..ir import ir
from .inputs import numpy_dtype

SKIPPED_FUSED = "fused: computed inside another operator's op (no value of its own type and shape)"
SKIPPED_FOLDED = "folded: a shape operator no op of the program is left of (folded into its neighbours)"
SKIPPED_TYPE = "type: no arena value can hold it"
RESHAPES = ("tensor.collapse_shape", "tensor.expand_shape", "tensor.cast", "tensor.reshape")
SHAPE_OPERATORS = ("RESHAPE", "SQUEEZE", "EXPAND_DIMS")
FOLDABLE_OPERATORS = (*SHAPE_OPERATORS, "PAD", "PADV2")  # may leave no op: a view, or a convolution's padding


@dataclass
class TensorValue:
    """One TFLite tensor and the program value that holds it."""

    tensor: TfliteTensor
    tensor_index: int            # index in the main subgraph's tensor list (TFLite Micro's GetTensor)
    operator: TfliteOperator     # the operator that produces it
    value: ir.Value


@dataclass
class TensorValues:
    found: list[TensorValue] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)  # {"tensor", "operator_index", "operator", "reason"}


def location_names(location: ir.Location) -> list[str]:
    """Every name of a NameLoc in `location`, looking inside fused and call-site locations."""
    names = getattr(location, "name_str", None)
    if names is not None:
        return [names, *location_names(location.child_loc)]
    found: list[str] = []
    for inner in getattr(location, "locations", []):
        found.extend(location_names(inner))
    return found


def reshape_root(value: ir.Value) -> ir.Value:
    """The value `value` is a reshape of (itself if none): the same bytes in the same order."""
    while not isinstance(value.owner, ir.Block) and value.owner.operation.name in RESHAPES:
        value = value.owner.operation.operands[0]
    return value


def _reshapes_own_value(result: ir.Value, name: str, operator: TfliteOperator) -> bool:
    """Whether a reshape located at `name` holds that tensor: it reshapes a value computed at the same
    name (the converter reshapes a result back to the tensor's rank), or the operator only reshapes.
    Otherwise it reshapes an operand for the operator's computation (an input's view)."""
    if operator.name in SHAPE_OPERATORS:
        return True
    root = reshape_root(result)
    return not isinstance(root.owner, ir.Block) and name in location_names(root.owner.operation.location)


def _squeezed(shape) -> tuple[int, ...]:
    return tuple(int(d) for d in shape if d != 1)


def holds(value_type: ir.Type, tensor: TfliteTensor) -> bool:
    """Whether a value of `value_type` can hold `tensor`: same element type, same shape up to unit
    dimensions. Not booleans: the arena cannot hold an i1 tensor."""
    if tensor.dtype in (None, "bool"):
        return False
    if not isinstance(value_type, ir.RankedTensorType) or not value_type.has_static_shape:
        return False
    try:
        dtype = numpy_dtype(str(value_type.element_type))
    except Exception:  # noqa: BLE001 - an element type no numpy dtype stands for
        return False
    return (tensor.dtype is not None and dtype == np.dtype(tensor.dtype)
            and _squeezed(value_type.shape) == _squeezed(tensor.shape))


def intermediate_tensors(model: TfliteModel) -> dict[str, tuple[int, TfliteOperator]]:
    """Name -> (tensor index, producing operator) of every tensor an operator produces that is not a
    model output."""
    outputs = {t.name for t in model.outputs}
    index = {t.name: i for i, t in enumerate(model.tensors)}
    found = {}
    for op in model.operators:
        for name in op.outputs:
            if name and name not in outputs and name in index:
                found[name] = (index[name], op)
    return found


def find_tensor_values(fn, model: TfliteModel) -> TensorValues:
    """The values of `fn`'s entry block that hold the model's intermediate tensors, and the tensors
    that have none (with the reason)."""
    wanted = intermediate_tensors(model)
    last: dict[str, ir.Value] = {}
    named: set[str] = set()
    seen_outputs: dict[tuple, int] = {}  # multi-output operator -> how many of its values came so far
    for op in fn.regions[0].blocks[0].operations:
        op = op.operation
        all_names = location_names(op.location)
        names = [n for n in all_names if n in wanted]
        named.update(names)
        if not names or op.name == "arith.constant":
            continue
        for result in op.results:
            fits = [n for n in names if holds(result.type, model.tensors[wanted[n][0]])
                    and (op.name not in RESHAPES or _reshapes_own_value(result, n, wanted[n][1]))]
            if not fits:
                continue
            # several fused operators: the value is the last one's result
            producer = wanted[max(fits, key=lambda n: wanted[n][1].index)][1]
            outputs = [n for n in producer.outputs if n in all_names]
            if len(outputs) > 1:
                # one location names every output of a SPLIT, UNPACK...: its values come in output order
                key = (producer.index, tuple(outputs))
                k = seen_outputs.get(key, 0)
                seen_outputs[key] = k + 1
                if k < len(outputs) and outputs[k] in fits:
                    last[outputs[k]] = result
                continue
            last[next(n for n in fits if wanted[n][1] is producer)] = result
    result = TensorValues()
    for name, (index, op) in sorted(wanted.items(), key=lambda kv: (kv[1][1].index, kv[1][0])):
        tensor = model.tensors[index]
        if name in last:
            result.found.append(TensorValue(tensor, index, op, last[name]))
            continue
        reason = (SKIPPED_TYPE if tensor.dtype in (None, "bool")
                  else SKIPPED_FOLDED if op.name in FOLDABLE_OPERATORS and name not in named else SKIPPED_FUSED)
        result.skipped.append({"tensor": name, "operator_index": op.index, "operator": op.name, "reason": reason})
    return result
