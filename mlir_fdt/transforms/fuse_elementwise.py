"""fdt-fuse-elementwise-chains: a chain of element-wise `linalg.generic`s becomes one generic.

The TOSA import spells one TFLite op as several element-wise steps, each with a whole tensor of its
own: QUANTIZE is mul -> cast to i32 -> add zero point -> narrow to i8 (an f32 and an i32 copy of the
input), an int16 ADD rescales both operands to i32 before adding them. Fused, the chain reads its
inputs and writes its output one element at a time: a float-input model then holds the f32 input
and the int8 copy, as TFLite Micro does, and seanet_add0 drops from 3840 B to 1920 B.

Run before generalization: the structured named ops (convolutions, pooling) are not generics yet,
so only element-wise chains fuse; a convolution's epilogue is fused by `fdt-fuse-epilogues`, which
keeps the convolution's structure for tiling.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..ir import ir, run_pipeline
from ..passes import ModulePass


@dataclass(frozen=True)
class FuseElementwiseChains(ModulePass):
    """Fuse producer/consumer chains of element-wise generics (upstream `linalg-fuse-elementwise-ops`)
    while the structured ops are still named."""

    name = "fdt-fuse-elementwise-chains"
    summary = "fuse chains of element-wise linalg.generic ops (before named ops are generalized)"

    def apply(self, module: ir.Module) -> None:
        run_pipeline(module, "builtin.module(func.func(linalg-fuse-elementwise-ops,canonicalize,cse))")
