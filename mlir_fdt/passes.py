"""The pass interface (a frozen dataclass with a kebab-case `name`, typed options and `apply`), the
registry of every pass of every stage by name, and pipelines of them as text (`a,b{x=1}`), run by
`mlir-fdt compile` (`pipeline.py`), `mlir-fdt-opt` and lit tests alike."""

from __future__ import annotations

import dataclasses
import importlib
import re
from dataclasses import dataclass, fields
from typing import Callable, ClassVar

from .errors import FdtError
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
    "fdt-trim-window-inputs": "mlir_fdt.transforms.trim_window_inputs:TrimWindowInputs",
    "fdt-materialize-constant-outputs": "mlir_fdt.transforms.materialize_constant_outputs:MaterializeConstantOutputs",
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
    "fdt-stream-input": "mlir_fdt.memory.stream_input:StreamInput",
    "fdt-plan-memory": "mlir_fdt.memory.plan_memory:PlanMemory",
    "fdt-fold-unit-loops": "mlir_fdt.kernels.fold_unit_loops:FoldUnitLoops",
    "fdt-peel-padded-windows": "mlir_fdt.kernels.peel_padded_windows:PeelPaddedWindows",
    "fdt-pool-windows": "mlir_fdt.kernels.pool_windows:PoolWindows",
    "fdt-helium-dot-products": "mlir_fdt.kernels.helium_dot_products:HeliumDotProducts",
    "fdt-helium-depthwise": "mlir_fdt.kernels.helium_dot_products:HeliumDepthwise",
    "fdt-helium-window-rows": "mlir_fdt.kernels.helium_window_rows:HeliumWindowRows",
    "fdt-depthwise-channel-blocks": "mlir_fdt.kernels.depthwise_channels:DepthwiseChannelBlocks",
    "fdt-collapse-reduction-rows": "mlir_fdt.kernels.collapse_reduction_rows:CollapseReductionRows",
    "fdt-unswitch-window-tests": "mlir_fdt.kernels.unswitch_window_tests:UnswitchWindowTests",
    "fdt-pad-border-windows": "mlir_fdt.kernels.pad_border_windows:PadBorderWindows",
    "fdt-dot-product-kernels": "mlir_fdt.kernels.dot_products:DotProductKernels",
    "fdt-block-output-channels": "mlir_fdt.kernels.block_output_channels:BlockOutputChannels",
    "fdt-block-output-pixels": "mlir_fdt.kernels.block_output_pixels:BlockOutputPixels",
    "fdt-use-arm-dsp": "mlir_fdt.kernels.simd32:UseArmDsp",
    "fdt-lower-to-loops": "mlir_fdt.codegen.wrap_executable:LowerToLoops",
    "fdt-widen-bool-buffers": "mlir_fdt.codegen.widen_bool_buffers:WidenBoolBuffers",
    "fdt-resolve-branch-dims": "mlir_fdt.codegen.resolve_branch_dims:ResolveBranchDims",
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


@dataclass
class PipelineElement:
    name: str
    options: dict[str, str]
    text: str  # as written, for upstream passes


def split_top_level(text: str, sep: str = ",") -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "({":
            depth += 1
        elif ch in ")}":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts


def parse_pipeline(text: str) -> list[PipelineElement]:
    """`builtin.module(a,b{x=1})` or `a,b{x=1}` -> elements (nested anchors other than the
    module are kept as text for the upstream pass manager)."""
    text = text.strip()
    m = re.fullmatch(r"builtin\.module\((.*)\)", text, re.S)
    if m:
        text = m.group(1)
    elements = []
    for part in split_top_level(text):
        pm = re.fullmatch(r"([\w.\-]+)(\{(.*)\})?", part, re.S)
        if pm and "(" not in part:
            opts = {}
            for kv in (pm.group(3) or "").split():
                if "=" not in kv:
                    raise FdtError(f"pass option '{kv}' of '{pm.group(1)}' is not of the form name=value")
                k, v = kv.split("=", 1)
                opts[k] = v
            elements.append(PipelineElement(pm.group(1), opts, part))
        else:
            elements.append(PipelineElement(part.split("(")[0], {}, part))
    return elements


def instantiate(element: PipelineElement):
    """An mlir-fdt pass object, or None for an upstream pass."""
    registry = get_all_passes()
    if element.name not in registry:
        return None
    cls = registry[element.name]()
    fields = {f.name.replace("_", "-"): f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in element.options.items():
        if key not in fields:
            known = ", ".join(sorted(fields)) or "none"
            raise FdtError(f"unknown option '{key}' for pass '{element.name}' (options: {known})")
        kwargs[fields[key].name] = _option_value(element.name, key, fields[key].type, value)
    return cls(**kwargs)


def _option_value(pass_name: str, key: str, kind, value: str):
    """A pass option's text as its field's type (int, bool as true/false, or text)."""
    try:
        if kind in (int, "int"):
            return int(value)
    except ValueError:
        raise FdtError(f"option '{key}' of pass '{pass_name}' expects an integer, got '{value}'") from None
    if kind in (bool, "bool"):
        if value not in ("true", "false", "1", "0"):
            raise FdtError(f"option '{key}' of pass '{pass_name}' expects true or false, got '{value}'")
        return value in ("true", "1")
    return value


def run_element(module, element: PipelineElement) -> None:
    """Run one element of a pipeline: an mlir-fdt pass by its registry name, or an upstream pass."""
    from .ir import run_pipeline
    p = instantiate(element)
    if p is not None:
        p.apply(module)
    else:
        run_pipeline(module, f"builtin.module({element.text})")
