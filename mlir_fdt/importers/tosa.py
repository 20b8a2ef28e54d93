"""TOSA -> linalg on tensors with IREE's TOSA input pipeline, then batch 1 and static shapes."""

from __future__ import annotations

from ..errors import FdtError
from ..ir import ir, run_pipeline
from .diagnostics import one_line
from .i48 import sign_extend_tagged_constants, tag_i48_constants
from .specialize import specialize_dynamic_dims
from .transpose_conv_i48 import decompose_i48_transpose_convs


def lower_tosa_to_linalg(module: ir.Module, source: str) -> ir.Module:
    decompose_i48_transpose_convs(module)  # before IREE's decomposition, which would reshape i48 (see there)
    tag_i48_constants(module)
    try:
        run_pipeline(module, "builtin.module(iree-tosa-input-transformation-pipeline)")
    except ir.MLIRError as e:
        raise FdtError(f"{one_line(e, source)} (IREE's TOSA to linalg lowering rejects it)") from None
    # IREE zero-extends i48 constants to i64; TFLite's int16x8 bias is signed (see i48.py)
    sign_extend_tagged_constants(module)
    specialize_dynamic_dims(module)
    return module
