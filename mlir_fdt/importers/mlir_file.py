"""MLIR text or bytecode, in TOSA or linalg on tensors."""

from __future__ import annotations

from pathlib import Path

from ..errors import FdtError
from ..ir import ir, walk_ops
from .specialize import specialize_dynamic_dims
from .tosa import lower_tosa_to_linalg


def import_mlir_file(path: Path, context: ir.Context) -> ir.Module:
    data = path.read_bytes()
    with context:
        try:
            module = ir.Module.parse(data if path.suffix == ".mlirbc" else data.decode(errors="replace"))
        except ir.MLIRError as e:
            raise FdtError(f"{path}: does not parse as MLIR:\n{e}") from None
    if any(op.name.startswith("tosa.") for op in walk_ops(module.operation)):
        return lower_tosa_to_linalg(module, str(path))
    specialize_dynamic_dims(module)
    return module
