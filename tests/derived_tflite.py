"""Test models derived from committed ones with TFLite's own schema (TFLite Micro's Python package, a test
dependency), for file variants no committed model has: uint8 model inputs and outputs around the model."""

from __future__ import annotations

from pathlib import Path

import flatbuffers

from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema


def _operator_code(model, builtin: int) -> int:
    for i, code in enumerate(model.operatorCodes):
        if max(code.deprecatedBuiltinCode, code.builtinCode) == builtin:
            return i
    code = schema.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = builtin
    code.version = 2
    model.operatorCodes.append(code)
    return len(model.operatorCodes) - 1


def _uint8_tensor(model, graph, shape: list[int], name: str, scale: float, zero_point: int) -> int:
    t = schema.TensorT()
    t.shape, t.type, t.name = list(shape), schema.TensorType.UINT8, name.encode()
    model.buffers.append(schema.BufferT())
    t.buffer = len(model.buffers) - 1
    t.quantization = schema.QuantizationParametersT()
    t.quantization.scale, t.quantization.zeroPoint = [scale], [zero_point]
    graph.tensors.append(t)
    return len(graph.tensors) - 1


def _operator(code: int, source: int, result: int):
    op = schema.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = code, [source], [result]
    return op


def with_uint8_io(source: Path, target: Path, input_scale: float = 0.05, input_zero_point: int = 128) -> Path:
    """`source` with a uint8 input in front of its first input (a QUANTIZE to an int8 input, at that input's
    scale and its zero point + 128; a DEQUANTIZE, at `input_scale`/`input_zero_point`, to a float32 one) and,
    for an int8 first output, a QUANTIZE to a uint8 output behind it (zero point + 128)."""
    model = schema.ModelT.InitFromPackedBuf(source.read_bytes(), 0)
    graph = model.subgraphs[0]
    first_in, first_out = graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]]
    before, after = [], []
    if first_in.type == schema.TensorType.INT8:
        q = first_in.quantization
        u8 = _uint8_tensor(model, graph, first_in.shape, "input_uint8", q.scale[0], int(q.zeroPoint[0]) + 128)
        before.append(_operator(_operator_code(model, schema.BuiltinOperator.QUANTIZE), u8, graph.inputs[0]))
    else:
        u8 = _uint8_tensor(model, graph, first_in.shape, "input_uint8", input_scale, input_zero_point)
        before.append(_operator(_operator_code(model, schema.BuiltinOperator.DEQUANTIZE), u8, graph.inputs[0]))
    graph.inputs = [u8, *graph.inputs[1:]]
    if first_out.type == schema.TensorType.INT8:
        q = first_out.quantization
        u8 = _uint8_tensor(model, graph, first_out.shape, "output_uint8", q.scale[0], int(q.zeroPoint[0]) + 128)
        after.append(_operator(_operator_code(model, schema.BuiltinOperator.QUANTIZE), graph.outputs[0], u8))
        graph.outputs = [u8, *graph.outputs[1:]]
    graph.operators = before + list(graph.operators) + after
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    target.write_bytes(b.Output())
    return target
