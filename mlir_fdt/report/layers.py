"""Per-layer facts for report.html: each layer of the prepared tensor program (`analysis.layers`) with the
TFLite operators it computes, its shapes and MACs, and the bytes live while it runs in a memory plan.

The TFLite operators are found by location: imported with `tensor_names`, every op sits at the name of
the TFLite tensor its operator produces (`reference.tensor_values`)."""

from __future__ import annotations

import numpy as np

from ..analysis.layers import find_layers, own_ops
from ..analysis.macs import loop_ranges
from ..importers.tflite_flatbuffer import TfliteModel
from ..ir import entry_function, ir
from ..memory.liveness import element_bytes
from ..memory.plot import rectangles
from ..reference.tensor_values import location_names
from ..analysis.linalg_util import defining_op, num_inputs


def _operators(ops: list[ir.Operation], model: TfliteModel | None) -> list[dict]:
    if model is None:
        return []
    names = {n for op in ops for n in location_names(op.location)}
    return [{"index": o.index, "name": o.name} for o in model.operators if names & set(o.outputs)]


NOT_DATA = ("arith.constant", "tensor.empty")  # weights, and a pooling's window (a shape only)


def _activation_inputs(layer) -> list[list[int]]:
    """Shapes of the data a layer reads (its reductions' non-constant tensor inputs, seen through pads)."""
    shapes = []
    for r in layer.reductions:
        for v in list(r.operands)[:num_inputs(r)]:
            op = defining_op(v)
            if op is not None and op.name == "tensor.pad":
                v, op = op.operands[0], defining_op(op.operands[0])
            if not isinstance(v.type, ir.RankedTensorType) or (op is not None and op.name in NOT_DATA):
                continue
            shape = list(ir.RankedTensorType(v.type).shape)
            if shape not in shapes:
                shapes.append(shape)
    return shapes


def describe_layers(module: ir.Module, model: TfliteModel | None) -> list[dict]:
    """One entry per layer, in program order: name, kind, TFLite operators, shapes, MACs, output bytes."""
    rows = []
    with module.context:
        layers = find_layers(entry_function(module).regions[0].blocks[0])
        for layer, ops in zip(layers, own_ops(layers)):
            result = ir.RankedTensorType(layer.result.type)
            elements = int(np.prod(result.shape, dtype=np.int64))
            macs = sum(int(np.prod(r, dtype=np.int64)) for red in layer.reductions if (r := loop_ranges(red)))
            rows.append({"name": layer.name, "kind": layer.kind, "operators": _operators(ops, model),
                         "input_shapes": _activation_inputs(layer), "output_shape": list(result.shape),
                         "dtype": str(result.element_type), "macs": macs,
                         "output_bytes": elements * element_bytes(result.element_type)})
    return rows


def occupied_bytes(buffers: list[dict]) -> list[int]:
    """Per schedule step, the bytes of the arena that hold live data: the union of the live buffers'
    address ranges (a shifted alias pair shares bytes, so the sum of sizes would overstate it)."""
    steps = max((b["last"] for b in buffers), default=-1) + 1
    out = []
    for step in range(steps):
        ranges = sorted((offset, offset + size) for b in buffers for offset, size, first, last in rectangles(b)
                        if first <= step <= last)
        total, end = 0, 0
        for lo, hi in ranges:
            total += max(0, hi - max(lo, end))
            end = max(end, hi)
        out.append(total)
    return out


def _why_live(b: dict, order: list[str]) -> str:
    """A buffer's name and the layers that read it (what keeps it live), in schedule order."""
    label = b.get("label", b["name"])
    readers = sorted((r for r in b.get("readers", []) if r not in b.get("writers", [b.get("layer")])),
                     key=lambda r: order.index(r) if r in order else len(order))
    return f"{label}, read by {', '.join(readers)}" if readers else label


def live_bytes_by_layer(buffers: list[dict], layer_steps: dict[str, list[int]]) -> dict[str, dict]:
    """Per layer (and op group between layers): the most arena bytes in use while it runs, and the buffers
    then live."""
    occupied = occupied_bytes(buffers)
    out = {}
    for name, (first, last) in layer_steps.items():
        span = occupied[first:last + 1]
        peak = first + int(np.argmax(span)) if span else first
        out[name] = {"live_bytes": max(span, default=0),
                     "buffers": [_why_live(b, list(layer_steps)) for b in buffers if b["first"] <= peak <= b["last"]]}
    return out
