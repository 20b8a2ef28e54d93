"""Compilation targets: one frozen `Target` row per `--target` name, the only table of them.

A row says how iree-compile generates code (LLVM triple, CPU, features, ABI), how
arm-none-eabi-gcc builds the firmware around it (-mcpu/-mfpu/-mfloat-abi: they must agree,
the linker rejects mixed VFP calling conventions) and which QEMU board runs it (machine,
linker script, SysTick calibration). IREE cannot derive ARM CPU features from the CPU name
("Resolution of CPU to CPU-features is not implemented"), so every row spells them out in
LLVM's names.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .errors import FdtError


@dataclass(frozen=True)
class QemuBoard:
    """A `qemu-system-arm` machine the firmware runs on, and what the firmware must know of it."""

    machine: str                      # -M
    cpu: str                          # -cpu (the board's own CPU: QEMU rejects any other)
    linker_script: str                # file in mlir_fdt/firmware/runner/ (FLASH/RAM from QEMU's memory map)
    # Instructions per SysTick tick (CLKSOURCE=processor) under `-icount shift=0`, where one
    # instruction is 1 ns of virtual time: 1e9 / the board's SysTick clock. Measured with the
    # firmware's FDT_CALIBRATE loop (4,000,000 instructions, see runner/main.c) on each board.
    instructions_per_tick: Fraction
    extra_args: tuple[str, ...] = ()  # further QEMU options the linker script relies on
    note: str = ""                    # what differs from the real part, for the docs and reports


@dataclass(frozen=True)
class Target:
    """One `--target`: code generation, firmware build and QEMU board."""

    name: str
    triple: str                   # --iree-llvmcpu-target-triple
    cpu: str                      # --iree-llvmcpu-target-cpu
    features: str                 # --iree-llvmcpu-target-cpu-features (LLVM ARM feature names)
    abi: str                      # --iree-llvmcpu-target-abi: aapcs-vfp (FP registers) | aapcs (soft float)
    float_abi: str                # hard | soft: --iree-llvmcpu-target-float-abi and gcc -mfloat-abi
    gcc_cpu: str                  # arm-none-eabi-gcc -mcpu
    gcc_fpu: str | None           # arm-none-eabi-gcc -mfpu (None: no FPU)
    board: QemuBoard | None       # None: compiles (static library) but cannot `--run qemu`

    @property
    def qemu_machine(self) -> str | None:
        return self.board.machine if self.board else None

    @property
    def has_dsp(self) -> bool:
        """The Armv7E-M DSP extension (SIMD32: SXTB16, SMLAD, ...): Cortex-M4/M7/M33/M55."""
        return "+dsp" in self.features.split(",")

    @property
    def kernels(self) -> str:
        """The int8 kernels its code uses (`pipeline.KERNELS`): "helium" with the M-profile Vector Extension
        (MVE, Cortex-M55), "simd32" with the DSP extension, else "scalar"."""
        if any(f.startswith("+mve") for f in self.features.split(",")):
            return "helium"
        return "simd32" if self.has_dsp else "scalar"


# SysTick clocks behind the calibrations (QEMU 7.2): the MPS2 FPGA images (AN385/386/500)
# 25 MHz -> 40; AN505 20 MHz -> 50; AN547 32 MHz -> 31.25; nRF51 (micro:bit) 16 MHz -> 62.5.
_MPS2_TICK = Fraction(40)

TARGETS: dict[str, Target] = {t.name: t for t in (
    Target("cortex-m0plus", "thumbv6m-none-eabi", "cortex-m0plus", "+thumb-mode,+strict-align", "aapcs",
           "soft", "cortex-m0plus", None,
           QemuBoard("microbit", "cortex-m0", "microbit.ld", Fraction(125, 2),
                     extra_args=("-global", "nrf51-soc.flash-size=4194304",
                                 "-global", "nrf51-soc.sram-size=4194304"),
                     note="QEMU has no Cortex-M0+: runs on the micro:bit's Cortex-M0 (the same ARMv6-M "
                          "instruction set) with flash and SRAM enlarged to 4 MiB each (the nRF51 has "
                          "256 KiB and 16 KiB)")),
    Target("cortex-m3", "thumbv7m-none-eabi", "cortex-m3", "+thumb-mode", "aapcs",
           "soft", "cortex-m3", None,
           QemuBoard("mps2-an385", "cortex-m3", "mps2_an385.ld", _MPS2_TICK)),
    Target("cortex-m4", "thumbv7em-none-eabihf", "cortex-m4", "+thumb-mode,+dsp,+vfp4d16sp", "aapcs-vfp",
           "hard", "cortex-m4", "fpv4-sp-d16",
           QemuBoard("mps2-an386", "cortex-m4", "mps2_an386.ld", _MPS2_TICK)),
    Target("cortex-m7", "thumbv7em-none-eabihf", "cortex-m7", "+thumb-mode,+dsp,+fp-armv8d16", "aapcs-vfp",
           "hard", "cortex-m7", "fpv5-d16",
           QemuBoard("mps2-an500", "cortex-m7", "mps2_an500.ld", _MPS2_TICK,
                     note="QEMU models no caches or TCMs")),
    Target("cortex-m33", "thumbv8m.main-none-eabihf", "cortex-m33", "+thumb-mode,+dsp,+fp-armv8d16sp",
           "aapcs-vfp", "hard", "cortex-m33", "fpv5-sp-d16",
           QemuBoard("mps2-an505", "cortex-m33", "mps2_an505.ld", Fraction(50),
                     note="runs in the Secure state from the Secure memory aliases")),
    # Helium (MVE) integer and float, FPv5 double precision with half precision
    # (LLVM's FPU fp-armv8-fullfp16-d16); gcc's -mfpu=auto takes the same from -mcpu.
    Target("cortex-m55", "thumbv8.1m.main-none-eabihf", "cortex-m55",
           "+thumb-mode,+dsp,+mve.fp,+fp-armv8d16,+fullfp16,+lob", "aapcs-vfp", "hard", "cortex-m55", "auto",
           QemuBoard("mps3-an547", "cortex-m55", "mps3_an547.ld", Fraction(125, 4),
                     note="runs in the Secure state; code and weights in the 512 KiB ITCM")),
)}


def get_target(name: str) -> Target:
    """The row for `name`, or an FdtError listing the known names."""
    if name not in TARGETS:
        raise FdtError(f"unknown target '{name}'; known targets: {', '.join(sorted(TARGETS))}")
    return TARGETS[name]
