"""Operators that the installed TFLite Micro kernels compute otherwise than TFLite defines them, rewritten, for the
reference run only, into operators of the same function that its kernels compute right.

SPACE_TO_BATCH_ND with padding: the kernel's Prepare leaves its padding value unset, so the padded elements hold
whatever the operator's persistent buffer held before (int8: 0, 32 and 80 seen in one process; float32 too, after
other models ran in the process: the reference was not even deterministic), where TensorFlow Lite pads with the zero
point (a real 0), as the converter's TOSA and so the compiled program do. For the reference such an operator becomes
a PAD (TFLite Micro pads with the zero point, 0.0 for float32) and a SPACE_TO_BATCH_ND without padding. Tensors
keep their indices (new ones are appended), so the intermediates check reads the same tensors.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np


def _constant(schema, model, graph, values: np.ndarray, name: str) -> int:
    t = schema.TensorT()
    t.shape, t.type, t.name = list(values.shape), schema.TensorType.INT32, name.encode()
    buffer = schema.BufferT()
    buffer.data = values.astype(np.int32).reshape(-1).view(np.uint8)
    model.buffers.append(buffer)
    t.buffer = len(model.buffers) - 1
    graph.tensors.append(t)
    return len(graph.tensors) - 1


def _padded_space_to_batch(data: bytes) -> bytes | None:
    """The model with each padded SPACE_TO_BATCH_ND split into PAD + SPACE_TO_BATCH_ND (None: none to split)."""
    from ..importers.tflite_schema import builtin_code, operator_code, schema, serialize
    model = schema.ModelT.InitFromPackedBuf(data, 0)
    graph = model.subgraphs[0]
    operators, changed = [], False
    for op in graph.operators:
        if builtin_code(model, op) == schema.BuiltinOperator.SPACE_TO_BATCH_ND:
            x, paddings = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[2]]
            stored = model.buffers[paddings.buffer].data if paddings.buffer else None
            pads = np.frombuffer(bytes(stored), np.int32).reshape(-1, 2) if stored is not None and len(stored) else None
            if pads is not None and pads.any():
                spec = np.zeros([len(x.shape), 2], np.int32)
                spec[1:1 + len(pads)] = pads
                padded = schema.TensorT()
                padded.shape = [int(d + a + b) for d, (a, b) in zip(x.shape, spec)]
                padded.type, padded.name, padded.quantization = x.type, x.name + b"/padded", x.quantization
                model.buffers.append(schema.BufferT())
                padded.buffer = len(model.buffers) - 1
                graph.tensors.append(padded)
                padded_index = len(graph.tensors) - 1
                pad = schema.OperatorT()
                pad.opcodeIndex = operator_code(model, schema.BuiltinOperator.PAD)
                pad.inputs = [op.inputs[0], _constant(schema, model, graph, spec, x.name.decode() + "/paddings")]
                pad.outputs = [padded_index]
                pad.builtinOptionsType, pad.builtinOptions = schema.BuiltinOptions.PadOptions, schema.PadOptionsT()
                op.inputs = [padded_index, op.inputs[1],
                             _constant(schema, model, graph, np.zeros_like(pads), x.name.decode() + "/no_paddings")]
                operators.append(pad)
                changed = True
        operators.append(op)
    if not changed:
        return None
    graph.operators = operators
    return serialize(model)


def reference_model(model: Path) -> Path:
    """`model`, or a rewritten copy (in the temporary folder, named by its content) if TFLite Micro's kernels would
    compute one of its operators otherwise than TFLite defines it."""
    from ..importers.tflite_flatbuffer import read_tflite
    if "SPACE_TO_BATCH_ND" not in read_tflite(model).op_counts():
        return model
    rewritten = _padded_space_to_batch(model.read_bytes())
    if rewritten is None:
        return model
    copy = Path(tempfile.gettempdir()) / f"mlir-fdt-reference-{hashlib.sha256(rewritten).hexdigest()[:16]}.tflite"
    if not copy.exists():
        partial = copy.with_name(f"{copy.name}.{os.getpid()}")
        partial.write_bytes(rewritten)
        os.replace(partial, copy)  # parallel checks may write the same copy
    return copy
