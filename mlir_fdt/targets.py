"""Compilation targets: a `--target` name maps to an LLVM triple, CPU, features and a QEMU board."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import FdtError


@dataclass(frozen=True)
class Target:
    name: str
    triple: str
    cpu: str
    features: str
    abi: str
    float_abi: str  # for arm-none-eabi-gcc: hard | soft
    gcc_cpu: str
    gcc_fpu: str | None
    qemu_machine: str | None
    qemu_cpu: str | None = None
    # instructions per SysTick tick with -icount shift=0 (SysTick clock = CPU clock / divisor).
    flash_base: int = 0x00000000
    flash_size: int = 4 * 1024 * 1024
    ram_base: int = 0x20000000
    ram_size: int = 4 * 1024 * 1024


TARGETS = {
    "cortex-m4": Target("cortex-m4", "thumbv7em-none-eabihf", "cortex-m4", "+thumb-mode,+dsp,+vfp4d16sp", "aapcs-vfp",
                        "hard", "cortex-m4", "fpv4-sp-d16", "mps2-an386"),
}


def get_target(name: str) -> Target:
    if name not in TARGETS:
        raise FdtError(f"unknown target '{name}'; known targets: {', '.join(sorted(TARGETS))}")
    return TARGETS[name]
