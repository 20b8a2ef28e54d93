"""TFLite models edited through TFLite's object API (`schema_py_generated`, shipped with TFLite Micro's Python
package, the test oracle): the operator-code table and serialization, shared by the importer's rewrites of the
converter's copy (`tflite_integer_kernels.as_placeholders`), the reference's model rewrites and the tests' model
builder."""

from __future__ import annotations

from pathlib import Path

import flatbuffers

from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema  # noqa: F401  (re-exported)


def builtin_code(model, op) -> int:
    """The BuiltinOperator of `op` (operators past 127 keep the placeholder 127 in the deprecated field)."""
    code = model.operatorCodes[op.opcodeIndex]
    return max(code.builtinCode, code.deprecatedBuiltinCode)


def operator_code(model, builtin: int) -> int:
    """The index of `builtin` in the model's operator codes, appended when absent."""
    for i, code in enumerate(model.operatorCodes):
        if max(code.deprecatedBuiltinCode, code.builtinCode) == builtin:
            return i
    code = schema.OperatorCodeT()
    # operators numbered past 127 carry the placeholder 127 in the deprecated int8 field (TFLite's schema)
    code.builtinCode, code.deprecatedBuiltinCode = builtin, min(builtin, 127)
    code.version = 2
    model.operatorCodes.append(code)
    return len(model.operatorCodes) - 1


def serialize(model) -> bytes:
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def save(model, target: Path) -> Path:
    target.write_bytes(serialize(model))
    return target
