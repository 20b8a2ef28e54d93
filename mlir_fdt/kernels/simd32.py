"""The Armv7E-M SIMD32 operations the int8 kernels use, as small private functions.

`fdt_sxtb16(x)`: sign-extend bytes 0 and 2 of `x` into two 16-bit halves. `fdt_sxtab16(o, x)`: the
same, each half added to the matching half of `o` (mod 2^16). `fdt_smlad(a, b, acc)`:
`acc + a.lo*b.lo + a.hi*b.hi` over signed 16-bit halves (mod 2^32); `fdt_smlabb` / `fdt_smlatt`:
`acc + a.lo*b.lo` / `acc + a.hi*b.hi` (one product, for kernels whose halves belong to different
output channels: depthwise). A kernel calls them; their
bodies decide what runs. `PORTABLE` spells them in `arith` (for the host build, and any target
without the DSP extension: the host run then checks the kernels' indexing and arithmetic);
`ARM_DSP` calls the LLVM intrinsics that become single SXTB16 / SXTAB16 / SMLAD / SMLABB / SMLATT instructions
(Cortex-M4/M7/M33/M55). LLVM inlines either. The `_ror8` variants take bytes 1 and 3: their rotate
right by 8 is folded into the instruction's `ror #8` operand (one instruction, as the instruction
estimate counts a call).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..ir import ir, walk_ops
from ..passes import ModulePass

NAMES = ("fdt_sxtb16", "fdt_sxtab16", "fdt_sxtb16_ror8", "fdt_sxtab16_ror8", "fdt_smlad", "fdt_smlabb",
         "fdt_smlatt")

_SIGNATURES = {
    "fdt_sxtb16": "(%x: i32) -> i32",
    "fdt_sxtab16": "(%o: i32, %x: i32) -> i32",
    "fdt_sxtb16_ror8": "(%x: i32) -> i32",
    "fdt_sxtab16_ror8": "(%o: i32, %x: i32) -> i32",
    "fdt_smlad": "(%a: i32, %b: i32, %acc: i32) -> i32",
    "fdt_smlabb": "(%a: i32, %b: i32, %acc: i32) -> i32",
    "fdt_smlatt": "(%a: i32, %b: i32, %acc: i32) -> i32",
}

_ROR8 = """
    %r8 = arith.constant 8 : i32
    %r24 = arith.constant 24 : i32
    %xr0 = arith.shrui %x, %r8 : i32
    %xr1 = arith.shli %x, %r24 : i32
    %xr = arith.ori %xr0, %xr1 : i32"""


def _rotated(bodies: dict[str, str]) -> dict[str, str]:
    """Add the `_ror8` variants: the same body on `x` rotated right by 8 (bytes 1 and 3)."""
    out = dict(bodies)
    for name in ("fdt_sxtb16", "fdt_sxtab16"):
        out[f"{name}_ror8"] = _ROR8 + bodies[name].replace("%x", "%xr")
    return out


_PORTABLE_BODIES = {
    "fdt_sxtab16": """
    %c8 = arith.constant 8 : i32
    %c16 = arith.constant 16 : i32
    %c24 = arith.constant 24 : i32
    %mask = arith.constant 65535 : i32
    %l0 = arith.shli %x, %c24 : i32
    %lx = arith.shrsi %l0, %c24 : i32
    %h0 = arith.shli %x, %c8 : i32
    %hx = arith.shrsi %h0, %c24 : i32
    %o0 = arith.shli %o, %c16 : i32
    %lo_o = arith.shrsi %o0, %c16 : i32
    %hi_o = arith.shrsi %o, %c16 : i32
    %lo = arith.addi %lo_o, %lx : i32
    %hi = arith.addi %hi_o, %hx : i32
    %lm = arith.andi %lo, %mask : i32
    %hs = arith.shli %hi, %c16 : i32
    %r = arith.ori %lm, %hs : i32
    return %r : i32""",
    "fdt_smlad": """
    %c16 = arith.constant 16 : i32
    %a0 = arith.shli %a, %c16 : i32
    %alo = arith.shrsi %a0, %c16 : i32
    %b0 = arith.shli %b, %c16 : i32
    %blo = arith.shrsi %b0, %c16 : i32
    %ahi = arith.shrsi %a, %c16 : i32
    %bhi = arith.shrsi %b, %c16 : i32
    %p0 = arith.muli %alo, %blo : i32
    %p1 = arith.muli %ahi, %bhi : i32
    %s0 = arith.addi %acc, %p0 : i32
    %r = arith.addi %s0, %p1 : i32
    return %r : i32""",
    "fdt_smlabb": """
    %c16 = arith.constant 16 : i32
    %a0 = arith.shli %a, %c16 : i32
    %alo = arith.shrsi %a0, %c16 : i32
    %b0 = arith.shli %b, %c16 : i32
    %blo = arith.shrsi %b0, %c16 : i32
    %p = arith.muli %alo, %blo : i32
    %r = arith.addi %acc, %p : i32
    return %r : i32""",
    "fdt_smlatt": """
    %c16 = arith.constant 16 : i32
    %ahi = arith.shrsi %a, %c16 : i32
    %bhi = arith.shrsi %b, %c16 : i32
    %p = arith.muli %ahi, %bhi : i32
    %r = arith.addi %acc, %p : i32
    return %r : i32""",
}

# SXTB16 is SXTAB16 with nothing to add
_PORTABLE_BODIES["fdt_sxtb16"] = "\n    %o = arith.constant 0 : i32" + _PORTABLE_BODIES["fdt_sxtab16"]

_ARM_DSP_BODIES = {
    "fdt_sxtb16": """
    %r = llvm.call_intrinsic "llvm.arm.sxtb16"(%x) : (i32) -> i32
    return %r : i32""",
    "fdt_sxtab16": """
    %r = llvm.call_intrinsic "llvm.arm.sxtab16"(%o, %x) : (i32, i32) -> i32
    return %r : i32""",
    "fdt_smlad": """
    %r = llvm.call_intrinsic "llvm.arm.smlad"(%a, %b, %acc) : (i32, i32, i32) -> i32
    return %r : i32""",
    "fdt_smlabb": """
    %r = llvm.call_intrinsic "llvm.arm.smlabb"(%a, %b, %acc) : (i32, i32, i32) -> i32
    return %r : i32""",
    "fdt_smlatt": """
    %r = llvm.call_intrinsic "llvm.arm.smlatt"(%a, %b, %acc) : (i32, i32, i32) -> i32
    return %r : i32""",
}


def _functions_text(bodies: dict[str, str]) -> str:
    return "\n".join(f"func.func private @{name}{_SIGNATURES[name]} {{{bodies[name]}\n}}" for name in NAMES)


def declare_simd32(module: ir.Module) -> None:
    """Add the portable helper functions to `module` (once)."""
    present = {ir.StringAttr(op.attributes["sym_name"]).value for op in module.body.operations
               if op.operation.name == "func.func"}
    if set(NAMES) <= present:
        return
    helpers = ir.Module.parse(_functions_text(_rotated(_PORTABLE_BODIES)), module.context)
    for op in list(helpers.body.operations):
        op.operation.move_before(module.body.operations[0])


def uses_simd32(module: ir.Module) -> bool:
    return any(op.name == "func.func" and ir.StringAttr(op.attributes["sym_name"]).value in NAMES
               for op in walk_ops(module.operation))


@dataclass(frozen=True)
class UseArmDsp(ModulePass):
    """Give the SIMD32 helper functions their Arm DSP bodies (one instruction each)."""

    name = "fdt-use-arm-dsp"
    summary = "implement the int8 kernels' SIMD32 helpers with SXTB16/SXTAB16/SMLAD intrinsics"

    def apply(self, module: ir.Module) -> None:
        arm = ir.Module.parse(_functions_text(_rotated(_ARM_DSP_BODIES)), module.context)
        replacement = {ir.StringAttr(op.attributes["sym_name"]).value: op.operation
                       for op in arm.body.operations}
        helpers = [op for op in walk_ops(module.operation) if op.name == "func.func"
                   and ir.StringAttr(op.attributes["sym_name"]).value in replacement]
        for op in helpers:
            replacement[ir.StringAttr(op.attributes["sym_name"]).value].move_before(op)
            op.erase()
