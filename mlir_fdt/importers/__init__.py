"""Import stage: a model file (TFLite, ONNX, TOSA/linalg MLIR) becomes linalg on tensors, static shapes, batch 1."""

from __future__ import annotations

from pathlib import Path

from ..errors import FdtError
from ..ir import ir
from .mlir_file import import_mlir_file
from .onnx import import_onnx
from .supported_ops import check_supported_ops
from .tflite import import_tflite

SUPPORTED_SUFFIXES = {".tflite": "TFLite flatbuffer", ".onnx": "ONNX",
                      ".mlir": "MLIR text (TOSA or linalg)",
                      ".mlirbc": "MLIR bytecode (TOSA or linalg)"}


def import_model(path: str | Path, context: ir.Context, tensor_names: bool = False) -> ir.Module:
    """Read `path` and return a linalg-on-tensors module with one public `main`-like function; with
    `tensor_names` (TFLite only), ops located at the TFLite tensor they compute."""
    path = Path(path)
    if not path.exists():
        raise FdtError(f"{path}: no such file")
    if path.is_dir():
        raise FdtError(f"{path}: is a directory, expected a model file")
    suffix = path.suffix.lower()
    if suffix == ".tflite":
        module = import_tflite(path, context, tensor_names)
    elif suffix == ".onnx":
        module = import_onnx(path, context)
    elif suffix in (".mlir", ".mlirbc"):
        module = import_mlir_file(path, context)
    else:
        supported = ", ".join(f"{k} ({v})" for k, v in SUPPORTED_SUFFIXES.items())
        raise FdtError(f"{path}: unsupported model format '{suffix or '(no suffix)'}'; supported: {supported}")
    with context:
        check_supported_ops(module, str(path))
    return module
