"""Code-size estimate of a lowered (memref) program, calibrated on IREE's Cortex-M4 objects.

Each MLIR op of the loops mlir-fdt hands to IREE becomes a few Thumb-2 instructions, once, in
flash: code bytes grow with the number of ops in the program text (not with how often they
run). `CODE_BYTES_PER_OP` and `CODE_BYTES_BASE` (IREE's dispatch prologue, tables) are a
least-squares fit of `flash_code_bytes` (`arm-none-eabi-size` of the static library: .text,
.ARM.exidx, IREE's tables) against the op count, on the untiled four int8 models and three tiled
plans (ResNet-8 FFMT, VWW FDT): within -10 % ... +7 % of the measurement on those seven.
Views, constants and yields are free, as in the instruction estimate; a call of an int8 kernel's
SIMD32 helper and a word load are one instruction (5 bytes with their address set-up); sign
extensions (folded into LDRSB) and global addresses are free. With the int8 kernels (2026-11-29):
AD -8 %, KWS +7 %, VWW +12 %, ResNet-8 +2 %. Register blocking and unswitched windows (2026-12-05)
made the program text larger than its code (LLVM merges the two copies of what the unswitched branches
share): the per-op bytes were scaled by 0.885 to the untiled four int8 models, now AD -4 %, KWS +4 %,
VWW +13 %, ResNet-8 +2 %. The kernels of 2026-12-06 (depthwise channel blocks, padded border windows,
2x2 blocking: many more ops, much of them straight-line code LLVM shares between the copies) left it
24-26 % high: refitted (least squares of the relative error, all three constants) on the four int8
models untiled and the three with a default plan: KWS +4 % / -2 % (min-ram), VWW +5 % / +5 %, ResNet-8
-2 % / -15 % (its streamed path: one loop holding every layer compiles larger than its ops suggest),
AD +2 %.
"""

from __future__ import annotations

from ..ir import walk_ops
from .instructions import FREE_OPS

CODE_BYTES_BASE = 1490
CODE_BYTES_PER_OP = 2.74
ONE_INSTRUCTION_BYTES = 5.47  # ops that become one 32-bit instruction, and their share of address set-up
ONE_INSTRUCTION_OPS = ("func.call", "vector.load")  # a SIMD32 helper (kernels/simd32.py, inlined); a word load
FOLDED_OPS = ("arith.extsi", "memref.get_global")  # folded into a sign-extending load; an address set up once


def estimate_code_bytes(fn) -> int:
    """Estimated flash bytes of the code IREE generates for the lowered entry function `fn`."""
    ops = [op.name for op in walk_ops(fn) if op.name not in FREE_OPS and op.name not in FOLDED_OPS]
    single = sum(ops.count(name) for name in ONE_INSTRUCTION_OPS)
    return round(CODE_BYTES_BASE + CODE_BYTES_PER_OP * (len(ops) - single) + ONE_INSTRUCTION_BYTES * single)
