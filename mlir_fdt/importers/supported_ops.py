"""Refuse, at import, ops the rest of the pipeline does not handle, naming the op and where it is.

mlir-fdt compiles linalg on tensors: structured linalg ops (generalized later), with arith,
math and tensor ops around and inside them, `scf` loops (the time loop of a lowered LSTM), and the
reads and writes of a persistent state (an SVDF's activation state: a mutable `memref.global`).
Anything else used to travel through every pass and fail deep inside iree-compile with an error
about its generated executable, far from the user's model (`linalg.softmax`: "illegal for this
phase of lowering"; `tosa.fft2d`, which IREE's TOSA pipeline lowers to `index.*` ops
iree-compile's parser does not register).
"""

from __future__ import annotations

from ..errors import FdtError
from ..ir import ir, walk_ops
from ..diagnostics import location_text

SUPPORTED_DIALECTS = ("builtin", "func", "arith", "math", "tensor", "linalg", "scf")
# a layer's persistent state (an SVDF's, importers/tflite_svdf.py): a mutable global read and written once a run
PERSISTENT_STATE_OPS = ("memref.global", "memref.get_global", "bufferization.to_tensor",
                        "bufferization.materialize_in_destination")
# linalg ops that are not structured (no iteration space to generalize, tile or fuse)
UNSTRUCTURED_LINALG = ("linalg.softmax", "linalg.pack", "linalg.unpack", "linalg.winograd_filter_transform",
                       "linalg.winograd_input_transform", "linalg.winograd_output_transform")


def check_supported_ops(module: ir.Module, source: str) -> None:
    """Raise FdtError naming the first op of `module` that mlir-fdt cannot compile (the first one
    with a location in the model file, if any has one)."""
    unsupported = [op for op in walk_ops(module.operation)
                   if (op.name.split(".", 1)[0] not in SUPPORTED_DIALECTS and op.name not in PERSISTENT_STATE_OPS)
                   or op.name in UNSTRUCTURED_LINALG]
    if not unsupported:
        return
    located = [op for op in unsupported if location_text(op.location, "") != ""]
    op = (located or unsupported)[0]
    raise FdtError(f"{location_text(op.location, source)}: unsupported op '{op.name}' in the imported linalg "
                   "program; mlir-fdt compiles structured linalg ops with arith, math, tensor and scf ops")
