"""TOSA -> linalg on tensors with IREE's TOSA input pipeline, then batch 1 and static shapes."""

from __future__ import annotations

from ..errors import FdtError
from ..ir import ir, run_pipeline
from .diagnostics import one_line
from .specialize import specialize_dynamic_dims


def lower_tosa_to_linalg(module: ir.Module, source: str) -> ir.Module:
    try:
        run_pipeline(module, "builtin.module(iree-tosa-input-transformation-pipeline)")
    except ir.MLIRError as e:
        raise FdtError(f"{one_line(e, source)} (IREE's TOSA to linalg lowering rejects it)") from None
    specialize_dynamic_dims(module)
    return module
