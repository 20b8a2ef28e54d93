"""fdt-normalize-linalg: every named linalg op becomes a `linalg.generic` without unit dims."""

from __future__ import annotations

from dataclasses import dataclass

from ..ir import ir, run_pipeline
from ..passes import ModulePass


@dataclass(frozen=True)
class NormalizeLinalg(ModulePass):
    """Generalize named ops and drop unit-extent dims (batch 1, multiplier-1 depthwise, 1x1 kernels),
    so that every later pass deals with one op form and reshapes fold away."""

    name = "fdt-normalize-linalg"
    summary = "generalize named linalg ops and fold unit-extent dims"

    def apply(self, module: ir.Module) -> None:
        run_pipeline(module, "builtin.module(func.func(linalg-generalize-named-ops,"
                             "linalg-fold-unit-extent-dims,canonicalize,cse))")
