"""The `tfl.*` ops tosa-converter-for-tflite leaves for mlir-fdt's own lowerings (an LSTM, an SVDF): matched with the
flatbuffer's operators of that name (in order, one for one), replaced by the calls of their lowerings, inlined."""

from __future__ import annotations

from ..errors import FdtError
from ..ir import ir, run_pipeline, walk_ops
from .tflite_flatbuffer import TfliteModel, TfliteOperator


def unconverted_operators(module: ir.Module, model: TfliteModel, tfl_op: str,
                          operator: str) -> list[tuple[ir.Operation, TfliteOperator]]:
    """(the converter's `tfl_op` op, the flatbuffer's `operator` operator) pairs, in program order."""
    found = [op for op in walk_ops(module.operation) if op.name == tfl_op]
    declared = [op for op in model.operators if op.name == operator]
    if found and len(found) != len(declared):
        raise FdtError(f"{model.path}: the converter left {len(found)} {tfl_op} ops for the {len(declared)} "
                       f"{operator} operators of the model")
    return list(zip(found, declared))


def replace_by_call(model: TfliteModel, operator: TfliteOperator, tfl: ir.Operation, call: ir.Operation) -> None:
    """`tfl`'s result replaced by `call`'s (the call of its lowering), which must have the converter's type."""
    if call.results[0].type != tfl.results[0].type:
        raise FdtError(f"{model.path}: operator {operator.index} {operator.name}: the converter's output type "
                       f"{tfl.results[0].type} differs from the flatbuffer's {call.results[0].type}")
    tfl.results[0].replace_all_uses_with(call.results[0])
    tfl.erase()


def inline_lowerings(module: ir.Module) -> None:
    """Erase the `tfl.no_value`s nothing reads any more (an absent operand: an LSTM's peephole, an SVDF's bias) and
    inline the lowerings' calls."""
    for op in walk_ops(module.operation):
        if op.name == "tfl.no_value" and not list(op.results[0].uses):
            op.erase()
    run_pipeline(module, "builtin.module(inline,symbol-dce)")
