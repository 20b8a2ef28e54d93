"""TFLite CAST from float to integer truncates toward zero; tosa.cast rounds to nearest even.

tosa-converter-for-tflite lowers CAST to a bare tosa.cast, so 2.7 became 3 (TFLite: 2) and
-0.6 became -1 (TFLite: 0) - an out-of-range gather index in mlonmcu_text_class. The converter
also emits float-to-integer tosa.cast ops whose rounding is wanted (QUANTIZE: scale, add the
zero point, round), so only the casts that a TFLite CAST produced are changed: the converter's
debug locations name each op after its TFLite op's output tensor, IREE's TOSA lowering keeps
them, and the flatbuffer says which tensors CAST ops produce.

The change is made on the lowered linalg: the cast's `math.roundeven` becomes `math.trunc`, the
clamping and conversion around it stay. Truncating in TOSA instead takes a compare and a select
whose i1 tensor the arena cannot hold (IREE does not emulate an i1 memref.view).
"""

from __future__ import annotations

from ..ir import ir, location_name, walk_ops



def truncate_cast_roundings(module: ir.Module, cast_outputs: set[str]) -> int:
    """Make the rounding of every lowered cast located at a name in `cast_outputs` (outputs of
    TFLite CAST ops) truncate toward zero; return how many roundings were changed."""
    count = 0
    with module.context:
        for op in walk_ops(module.operation):
            if op.name != "math.roundeven" or location_name(op) not in cast_outputs:
                continue
            with ir.InsertionPoint(op), op.location:
                trunc = ir.Operation.create("math.trunc", results=[op.results[0].type], operands=[op.operands[0]])
            op.results[0].replace_all_uses_with(trunc.result)
            op.erase()
            count += 1
    return count
