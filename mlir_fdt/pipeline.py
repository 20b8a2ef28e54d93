"""The compile pipeline as an ordered list of passes, shared by `mlir-fdt compile` and tests."""

from __future__ import annotations

from dataclasses import dataclass

from .ir import ir, walk_ops
from .memory.plan_memory import MemoryPlan, PlanMemory
from .transforms.bufferize import Bufferize
from .transforms.fold_constant_transposes import FoldConstantTransposes
from .transforms.fold_pad_into_consumer import FoldPadIntoConsumer
from .transforms.fuse_epilogues import FuseEpilogues
from .transforms.normalize import NormalizeLinalg
from .transforms.reuse_dying_inputs import REUSED_ATTR, ReuseDyingInputs

TENSOR_PASSES = (NormalizeLinalg(), FoldConstantTransposes(), FoldPadIntoConsumer())


@dataclass
class LoweredProgram:
    module: ir.Module
    plan: MemoryPlan
    in_place: list[str]  # loop nests that overwrite a dying input (the input's SSA name)


def prepare_tensor_program(module: ir.Module) -> None:
    """Normalize the imported linalg: generic ops, no weight transposes, no materialised pads."""
    for p in TENSOR_PASSES:
        p.apply(module)


def lower_untiled(module: ir.Module, planner: str = "best", alignment: int = 16) -> LoweredProgram:
    """Fuse epilogues per output element, bufferize and plan the arena (the untiled objective)."""
    FuseEpilogues().apply(module)
    ReuseDyingInputs().apply(module)
    in_place = [ir.StringAttr(op.attributes[REUSED_ATTR]).value for op in walk_ops(module.operation)
                if REUSED_ATTR in op.attributes]
    Bufferize().apply(module)
    plan = PlanMemory(algorithm=planner, alignment=alignment).run(module)
    return LoweredProgram(module, plan, in_place)
