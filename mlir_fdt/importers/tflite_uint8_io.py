"""uint8 model inputs and outputs around an int8 model (TensorFlow's `inference_input_type=tf.uint8` /
`inference_output_type=tf.uint8`: camera pixels in, a uint8 score out).

TFLite Micro's kernels no longer take uint8, but its QUANTIZE takes a uint8 input to int8 and an int8 input
to a uint8 output, and its DEQUANTIZE takes uint8 to float32: such a model runs, and mlir-fdt compiles it.
TOSA has no uint8 there, so the converter reads a copy of the file in which each such input or output is
int8 with its zero point lowered by 128: the same real values (s * (u - z) = s * ((u - 128) - (z - 128))),
whose int8 bytes are the uint8 bytes with the top bit flipped. After the import the program flips that bit
where it reads each such input and before it returns each such output, so its inputs and outputs are the
uint8 bytes the application has; the compiler reports them as uint8 (the file's own types). Every other
uint8 tensor is refused (`tflite_operators`).
"""

from __future__ import annotations

from flatbuffers.table import Table

from ..ir import call_new_function, entry_function, ir, run_pipeline
from .tflite_flatbuffer import TfliteModel, TfliteOperator
from .tflite_tensor_tables import main_subgraph_io, rewrite_tensors, tensor_type, zero_points

_UINT8, _INT8 = 3, 9  # schema.fbs TensorType
# the operators TFLite Micro runs on a uint8 model input (-> the types of their outputs) or into a uint8 output
_READS_UINT8_INPUT = {"QUANTIZE": ("int8",), "DEQUANTIZE": ("float32",)}
_WRITES_UINT8_OUTPUT = {"QUANTIZE": ("int8",)}


def _uint8(model: TfliteModel, names: list[str]) -> list[str]:
    return [n for n in names if n and (t := model.tensor(n)) is not None and t.dtype == "uint8"]


def _is_uint8_io(model: TfliteModel, op: TfliteOperator) -> bool:
    """Whether every uint8 tensor `op` touches is a model input it converts (`_READS_UINT8_INPUT`) or a model
    output it writes (`_WRITES_UINT8_OUTPUT`)."""
    inputs, outputs = {t.name for t in model.inputs}, {t.name for t in model.outputs}
    uint8_in, uint8_out = _uint8(model, op.inputs), _uint8(model, op.outputs)
    if uint8_in:
        types = [model.tensor(n).dtype for n in op.outputs if n]
        if uint8_out or not set(uint8_in) <= inputs or types not in [list(_READS_UINT8_INPUT.get(op.name, ()))]:
            return False
    if uint8_out:
        types = [model.tensor(n).dtype for n in op.inputs if n]
        if not set(uint8_out) <= outputs or types not in [list(_WRITES_UINT8_OUTPUT.get(op.name, ()))]:
            return False
    return True


def uint8_reason(model: TfliteModel, op: TfliteOperator) -> str | None:
    """Why `op`'s uint8 tensors are not compiled (None: it has none, or only uint8 model inputs and outputs
    that TFLite Micro converts)."""
    if not _uint8(model, op.inputs + op.outputs) or _is_uint8_io(model, op):
        return None
    return ("uint8 tensors inside the model (TFLite's legacy asymmetric quantization, which TFLite Micro's kernels "
            "no longer run): quantize the model to int8 (uint8 model inputs and outputs that a QUANTIZE or "
            "DEQUANTIZE converts are compiled)")


def signed_io(data: bytes) -> tuple[bytes, int]:
    """`data` with its uint8 model inputs and outputs made int8, zero points lowered by 128, and how many."""
    inputs, outputs = main_subgraph_io(data)
    io = set(inputs) | set(outputs)

    def edit(g: int, i: int, t: Table, tables: list[Table]) -> dict | None:
        if g != 0 or i not in io or tensor_type(t) != _UINT8:
            return None
        return {"type": _INT8, "zero_point": [z - 128 for z in zero_points(t)] or [-128]}

    return rewrite_tensors(data, edit)


def _flip_function(name: str, t: ir.RankedTensorType) -> str:
    """A function flipping the top bit of each element of `t` (i8): uint8 bytes <-> int8 ones."""
    rank = len(t.shape)
    dims = ", ".join(f"d{k}" for k in range(rank))
    return f"""
func.func private @{name}(%x: {t}) -> {t} {{
  %init = tensor.empty() : {t}
  %r = linalg.generic {{indexing_maps = [affine_map<({dims}) -> ({dims})>, affine_map<({dims}) -> ({dims})>],
                       iterator_types = [{", ".join(['"parallel"'] * rank)}]}}
      ins(%x : {t}) outs(%init : {t}) {{
  ^bb0(%a: i8, %b: i8):
    %top = arith.constant -128 : i8
    %f = arith.xori %a, %top : i8
    linalg.yield %f : i8
  }} -> {t}
  return %r : {t}
}}"""


def flip_uint8_io(module: ir.Module, model: TfliteModel) -> int:
    """Flip the top bit where the entry function reads each uint8 model input and before it returns each uint8
    output (the converter's copy had them int8: `signed_io`); how many."""
    flips = 0
    with module.context, ir.Location.unknown():
        fn = entry_function(module)
        entry = fn.regions[0].blocks[0]
        ret = entry.operations[len(entry.operations) - 1]

        def call(value: ir.Value, where: ir.InsertionPoint) -> ir.Value:
            nonlocal flips
            text = _flip_function(f"fdt_uint8_io_{flips}", ir.RankedTensorType(value.type))
            flips += 1
            with where:
                return call_new_function(module, text, [value]).results[0]

        for arg, t in zip(entry.arguments, model.inputs):
            if t.dtype == "uint8":
                flipped = call(arg, ir.InsertionPoint.at_block_begin(entry))
                arg.replace_all_uses_except(flipped, flipped.owner.operation)
        for k, t in enumerate(model.outputs):
            if t.dtype == "uint8":
                ret.operands[k] = call(ret.operands[k], ir.InsertionPoint(ret))
    if flips:
        run_pipeline(module, "builtin.module(inline,symbol-dce)")
    return flips
