"""TOSA -> linalg on tensors with IREE's TOSA input pipeline, then batch 1 and static shapes."""

from __future__ import annotations

import re

from ..errors import FdtError
from ..ir import ir, run_pipeline
from ..diagnostics import one_line
from .i48 import sign_extend_tagged_constants, tag_i48_constants
from .specialize import specialize_dynamic_dims
from .depthwise_i48 import widen_i48_pointwise_depthwise
from .transpose_conv_i48 import decompose_i48_transpose_convs

IREE_REJECTS = "IREE's TOSA to linalg lowering rejects it"
_NAME_LOC = re.compile(r'loc\("([^"]*)"\(')


class TosaLoweringError(FdtError):
    """IREE's TOSA pipeline rejected an op. `names`: the names of the rejected ops' name locations (the
    TFLite tensor an op computes, when the converter emitted debug info); `detail`: the first
    diagnostic's message alone."""

    def __init__(self, error: ir.MLIRError, source: str):
        super().__init__(f"{one_line(error, source)} ({IREE_REJECTS})")
        diagnostics = list(error.error_diagnostics)
        self.detail = " ".join(diagnostics[0].message.split()) if diagnostics else str(error.message)
        self.names = [m[1] for d in diagnostics if (m := _NAME_LOC.search(str(d.location)))]


def lower_tosa_to_linalg(module: ir.Module, source: str) -> ir.Module:
    decompose_i48_transpose_convs(module)  # before IREE's decomposition, which would reshape i48 (see there)
    widen_i48_pointwise_depthwise(module)  # IREE would decompose a 1x1 one with an i16 -> i48 cast
    tag_i48_constants(module)
    try:
        run_pipeline(module, "builtin.module(iree-tosa-input-transformation-pipeline)")
    except ir.MLIRError as e:
        raise TosaLoweringError(e, source) from None
    # IREE zero-extends i48 constants to i64; TFLite's int16x8 bias is signed (see i48.py)
    sign_extend_tagged_constants(module)
    specialize_dynamic_dims(module)
    return module
