"""Code-size estimate of a lowered (memref) program, calibrated on IREE's Cortex-M4 objects.

Each MLIR op of the loops mlir-fdt hands to IREE becomes a few Thumb-2 instructions, once, in
flash: code bytes grow with the number of ops in the program text (not with how often they
run). `CODE_BYTES_PER_OP` and `CODE_BYTES_BASE` (IREE's dispatch prologue, tables) are a
least-squares fit of `flash_code_bytes` (`arm-none-eabi-size` of the static library: .text,
.ARM.exidx, IREE's tables) against the op count, on the untiled four int8 models and three tiled
plans (ResNet-8 FFMT, VWW FDT): within -10 % ... +7 % of the measurement on those seven.
Views, constants and yields are free, as in the instruction estimate; a call of an int8 kernel's
SIMD32 helper is one instruction.
"""

from __future__ import annotations

from ..ir import walk_ops
from .instructions import FREE_OPS

CODE_BYTES_BASE = 740
CODE_BYTES_PER_OP = 5.9
CALL_BYTES = 4  # a call of a SIMD32 helper (kernels/simd32.py) is inlined as one 32-bit instruction


def estimate_code_bytes(fn) -> int:
    """Estimated flash bytes of the code IREE generates for the lowered entry function `fn`."""
    ops = [op.name for op in walk_ops(fn) if op.name not in FREE_OPS]
    calls = ops.count("func.call")
    return round(CODE_BYTES_BASE + CODE_BYTES_PER_OP * (len(ops) - calls) + CALL_BYTES * calls)
