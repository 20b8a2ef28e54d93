"""The compile pipeline as an ordered list of passes, shared by `mlir-fdt compile`, the search
and tests."""

from __future__ import annotations

from dataclasses import dataclass

from .analysis.code_size import estimate_code_bytes
from .analysis.instructions import estimate_instructions
from .analysis.macs import count_macs_tiled
from .codegen.wrap_executable import LowerToLoops
from .kernels.block_output_channels import BlockOutputChannels
from .kernels.dot_products import DotProductKernels
from .kernels.peel_padded_windows import PeelPaddedWindows
from .kernels.unswitch_window_tests import UnswitchWindowTests
from .ir import entry_function, ir, run_pipeline, walk_ops
from .memory.plan_memory import MemoryPlan, PlanMemory
from .plan import TilingPlan
from .transforms.apply_plan import ApplyPlan
from .transforms.bufferize import Bufferize
from .transforms.fold_constant_transposes import FoldConstantTransposes
from .transforms.fold_pad_into_consumer import FoldPadIntoConsumer
from .transforms.fold_slice_reads import FoldSliceReads
from .transforms.fuse_elementwise import FuseElementwiseChains
from .transforms.fuse_epilogues import FuseEpilogues
from .transforms.normalize import NormalizeLinalg
from .transforms.relayout_reduction_weights import RelayoutReductionWeights
from .transforms.reuse_dying_inputs import REUSED_ATTR, ReuseDyingInputs
from .transforms.schedule import ScheduleMinMemory
from .transforms.specialize_rescale import SpecializeRescale
from .transforms.simplify_guards import SimplifyGuards
from .transforms.unflatten_dense_inputs import UnflattenDenseInputs


@dataclass
class LoweredProgram:
    module: ir.Module
    plan: MemoryPlan
    in_place: list[str]  # loop nests that overwrite a dying input (the input's SSA name)
    executed_macs: int    # reduction iterations actually run, halo recomputation included
    estimated_instructions: int | None  # analysis/instructions.py, calibrated on QEMU
    estimated_code_bytes: int | None    # analysis/code_size.py, calibrated on IREE's objects


def prepare_tensor_program(module: ir.Module) -> None:
    """Normalize the imported linalg: element-wise chains fused, generic ops, unit dims folded, weight
    transposes folded, dense layers reading their producer's map unflattened, weights laid out in
    the order their reductions read them, per-channel requantization rounding tabulated."""
    FuseElementwiseChains().apply(module)
    NormalizeLinalg().apply(module)
    FoldConstantTransposes().apply(module)
    FoldSliceReads().apply(module)
    UnflattenDenseInputs().apply(module)  # before the relayout: it lays out the unflattened weights
    RelayoutReductionWeights().apply(module)
    SpecializeRescale().apply(module)
    run_pipeline(module, "builtin.module(canonicalize,cse)")


def lower(module: ir.Module, tiling: TilingPlan | None = None, planner: str = "best",
          alignment: int = 16, simd32_kernels: bool = False, isolate_plan: bool = True,
          estimate: bool = True, arena_cutoff: int = 0) -> LoweredProgram:
    """Tile as `tiling` says, read pads through, fuse epilogues per output element, reuse dying
    inputs, bufferize, plan the arena and lower to loops. With `simd32_kernels` (a target with the
    DSP extension), int8 dot products become SIMD32 loops (`kernels/`); the arena is the same.
    `isolate_plan`: apply the plan in a child process (a plan not yet known to apply cleanly).
    Without `estimate` (the search scoring a plan: arena and MACs only) it stops at the memory plan:
    no code generation, no instruction or code-size estimate (`None`). `arena_cutoff`: the arena the
    search must beat; a program whose lower bound is above it gets the greedy layout only."""
    if tiling is not None and not tiling.is_untiled:
        if isolate_plan:
            ApplyPlan.apply_plan(module, tiling)
        else:
            ApplyPlan.apply_plan_in_process(module, tiling)
        SimplifyGuards().apply(module)
    # counted on tile-level tensors: only the few tile loops enclose a reduction here
    with module.context:
        executed_macs = count_macs_tiled(entry_function(module))
    FoldPadIntoConsumer().apply(module)
    FuseEpilogues().apply(module)
    ScheduleMinMemory().apply(module)
    ReuseDyingInputs().apply(module)
    in_place = [ir.StringAttr(op.attributes[REUSED_ATTR]).value for op in walk_ops(module.operation)
                if REUSED_ATTR in op.attributes]
    Bufferize().apply(module)
    plan = PlanMemory(algorithm=planner, alignment=alignment, cutoff_bytes=arena_cutoff).run(module)
    if not estimate:
        return LoweredProgram(module, plan, in_place, executed_macs, None, None)
    PeelPaddedWindows().apply(module)
    if simd32_kernels:
        UnswitchWindowTests().apply(module)
        DotProductKernels().apply(module)
        BlockOutputChannels().apply(module)
    LowerToLoops().apply(module)  # the loops IREE gets: what the instruction estimate counts
    with module.context:
        instructions = estimate_instructions(entry_function(module))
        code_bytes = estimate_code_bytes(entry_function(module))
    return LoweredProgram(module, plan, in_place, executed_macs, instructions, code_bytes)


def lower_untiled(module: ir.Module, planner: str = "best", alignment: int = 16) -> LoweredProgram:
    return lower(module, None, planner, alignment)
