"""The pass interface (a frozen dataclass with a kebab-case `name`, typed options and `apply`) and the
registry of every pass of every stage by name, for `mlir-fdt-opt` and lit tests."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, fields
from typing import Callable, ClassVar

from .ir import ir


@dataclass(frozen=True)
class ModulePass:
    """A transformation of a whole module, in place."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""

    def apply(self, module: ir.Module) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    @classmethod
    def option_names(cls) -> list[str]:
        return [f.name.replace("_", "-") for f in fields(cls)]


# pass name -> "module:ClassName"; modules are imported only when the pass is asked for.
_PASSES = {
    "fdt-fuse-elementwise-chains": "mlir_fdt.transforms.fuse_elementwise:FuseElementwiseChains",
    "fdt-normalize-linalg": "mlir_fdt.transforms.normalize:NormalizeLinalg",
    "fdt-fold-slice-reads": "mlir_fdt.transforms.fold_slice_reads:FoldSliceReads",
    "fdt-unflatten-dense-inputs": "mlir_fdt.transforms.unflatten_dense_inputs:UnflattenDenseInputs",
    "fdt-fold-constant-transposes": "mlir_fdt.transforms.fold_constant_transposes:FoldConstantTransposes",
    "fdt-relayout-reduction-weights":
        "mlir_fdt.transforms.relayout_reduction_weights:RelayoutReductionWeights",
    "fdt-specialize-rescale": "mlir_fdt.transforms.specialize_rescale:SpecializeRescale",
    "fdt-apply-plan": "mlir_fdt.transforms.apply_plan:ApplyPlan",
    "fdt-simplify-guards": "mlir_fdt.transforms.simplify_guards:SimplifyGuards",
    "fdt-fold-pad-into-consumer": "mlir_fdt.transforms.fold_pad_into_consumer:FoldPadIntoConsumer",
    "fdt-fuse-epilogues": "mlir_fdt.transforms.fuse_epilogues:FuseEpilogues",
    "fdt-schedule-min-memory": "mlir_fdt.transforms.schedule:ScheduleMinMemory",
    "fdt-reuse-dying-inputs": "mlir_fdt.transforms.reuse_dying_inputs:ReuseDyingInputs",
    "fdt-bufferize": "mlir_fdt.transforms.bufferize:Bufferize",
    "fdt-plan-memory": "mlir_fdt.memory.plan_memory:PlanMemory",
    "fdt-peel-padded-windows": "mlir_fdt.kernels.peel_padded_windows:PeelPaddedWindows",
    "fdt-unswitch-window-tests": "mlir_fdt.kernels.unswitch_window_tests:UnswitchWindowTests",
    "fdt-dot-product-kernels": "mlir_fdt.kernels.dot_products:DotProductKernels",
    "fdt-block-output-channels": "mlir_fdt.kernels.block_output_channels:BlockOutputChannels",
    "fdt-use-arm-dsp": "mlir_fdt.kernels.simd32:UseArmDsp",
    "fdt-lower-to-loops": "mlir_fdt.codegen.wrap_executable:LowerToLoops",
    "fdt-outline-loop-nests": "mlir_fdt.codegen.outline_loop_nests:OutlineLoopNests",
    "fdt-wrap-executable": "mlir_fdt.codegen.wrap_executable:WrapExecutable",
}


def _loader(path: str) -> Callable[[], type]:
    def load() -> type:
        module, cls = path.split(":")
        return getattr(importlib.import_module(module), cls)
    return load


def get_all_passes() -> dict[str, Callable[[], type]]:
    """Pass name -> a function returning the pass class."""
    return {name: _loader(path) for name, path in _PASSES.items()}
