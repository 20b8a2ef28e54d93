"""MLIR text or bytecode, in TOSA or linalg on tensors."""

from __future__ import annotations

from pathlib import Path

from ..errors import FdtError
from ..ir import entry_function, ir, walk_ops
from ..diagnostics import one_line
from .specialize import specialize_dynamic_dims
from .tosa import lower_tosa_to_linalg


def import_mlir_file(path: Path, context: ir.Context) -> ir.Module:
    with context:
        try:
            # parseFile, not parse(text): locations then name the file, so errors point into it
            module = ir.Module.parseFile(str(path))
        except ir.MLIRError as e:
            raise FdtError(f"{one_line(e, str(path))} (does not parse as MLIR)") from None
        try:
            entry_function(module)
        except FdtError as e:
            raise FdtError(f"{path}: {e} (the model's entry point, e.g. `func.func @main`)") from None
    if any(op.name.startswith("tosa.") for op in walk_ops(module.operation)):
        return lower_tosa_to_linalg(module, str(path))
    specialize_dynamic_dims(module)
    return module
