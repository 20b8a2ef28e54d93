"""The compile pipeline as an ordered list of passes, shared by `mlir-fdt compile`, the search
and tests."""

from __future__ import annotations

from dataclasses import dataclass

from .analysis.code_size import estimate_code_bytes
from .analysis.instructions import estimate_instructions
from .analysis.macs import count_macs_tiled
from .errors import FdtError
from .ir import entry_function, ir, walk_ops
from .memory.plan_memory import MemoryPlan
from .passes import instantiate, parse_pipeline, run_element
from .plan import TilingPlan
from .transforms.apply_plan import ApplyPlan
from .transforms.reuse_dying_inputs import REUSED_ATTR
from .transforms.simplify_guards import SimplifyGuards


@dataclass
class LoweredProgram:
    module: ir.Module
    plan: MemoryPlan
    in_place: list[str]  # loop nests that overwrite a dying input (the input's SSA name)
    executed_macs: int    # reduction iterations actually run, halo recomputation included
    estimated_instructions: int | None  # analysis/instructions.py, calibrated on QEMU
    estimated_code_bytes: int | None    # analysis/code_size.py, calibrated on IREE's objects


# The passes `mlir-fdt compile` runs, by registry name: `mlir-fdt-opt -p fdt-prepare` and `-p fdt-lower`
# expand to these same lists (`named_pipeline`).
PREPARE_PASSES = (
    "fdt-fuse-elementwise-chains", "fdt-trim-window-inputs", "fdt-normalize-linalg", "fdt-fold-constant-transposes",
    "fdt-fold-slice-reads",
    "fdt-unflatten-dense-inputs",  # before the relayout: it lays out the unflattened weights
    "fdt-relayout-reduction-weights", "fdt-specialize-rescale", "canonicalize", "cse",
    "fdt-materialize-constant-outputs")  # last: canonicalization would fold its copies back
# after the tiling plan, up to the memory plan (what the search scores): passes on tensors, then bufferization
TENSOR_PASSES = ("fdt-fold-pad-into-consumer", "fdt-fuse-epilogues", "fdt-schedule-min-memory",
                 "fdt-reuse-dying-inputs")
BUFFER_PASSES = (*TENSOR_PASSES, "fdt-bufferize", "fdt-stream-input")
SIMD32_PASSES = ("fdt-depthwise-channel-blocks", "fdt-collapse-reduction-rows", "fdt-unswitch-window-tests",
                 "fdt-pad-border-windows", "fdt-dot-product-kernels", "fdt-block-output-channels",
                 "fdt-block-output-pixels")


def memory_plan_pass(planner: str = "best", alignment: int = 16, arena_cutoff: int = 0,
                     time_limit_ms: int | None = None) -> str:
    limit = "" if time_limit_ms is None else f" time-limit-ms={time_limit_ms}"
    return f"fdt-plan-memory{{algorithm={planner} alignment={alignment} cutoff-bytes={arena_cutoff}{limit}}}"


KERNELS = ("scalar", "simd32", "helium")  # the int8 kernel sets: plain loops, Arm DSP (SIMD32), Helium (MVE)
# Helium (the M55 has the DSP extension too): its depthwise blocks before the SIMD32 ones, its rows after the
# rows are collapsed and borders padded, before the SIMD32 rows (which take what Helium leaves: rows under 16)
HELIUM_PASSES = ("fdt-helium-depthwise", *SIMD32_PASSES[:4], "fdt-helium-window-rows", "fdt-helium-dot-products",
                 *SIMD32_PASSES[4:])


def kernel_passes(kernels: str) -> tuple[str, ...]:
    """After the memory plan: the loops IREE gets, with the target's int8 kernels (`Target.kernels`)."""
    if kernels not in KERNELS:
        raise FdtError(f"unknown kernels '{kernels}' (known: {', '.join(KERNELS)})")
    chosen = {"scalar": (), "simd32": SIMD32_PASSES, "helium": HELIUM_PASSES}[kernels]
    return ("fdt-fold-unit-loops", "fdt-peel-padded-windows", *chosen, "fdt-pool-windows", "fdt-lower-to-loops",
            "fdt-resolve-branch-dims", "fdt-widen-bool-buffers")


def named_pipeline(name: str, options: dict[str, str]) -> list[str] | None:
    """`fdt-prepare` (PREPARE_PASSES), `fdt-lower{planner=best alignment=16 kernels=simd32}` (BUFFER_PASSES,
    the memory plan and the kernel passes); None for any other name."""
    if name == "fdt-prepare":
        return list(PREPARE_PASSES)
    if name == "fdt-lower":
        unknown = set(options) - {"planner", "alignment", "kernels"}
        if unknown:
            raise FdtError(f"unknown option(s) {', '.join(sorted(unknown))} of fdt-lower "
                           "(options: planner, alignment, kernels)")
        kernels = options.get("kernels", "scalar")
        if kernels not in KERNELS:
            raise FdtError(f"option 'kernels' of fdt-lower expects one of {', '.join(KERNELS)}, got '{kernels}'")
        return [*BUFFER_PASSES, memory_plan_pass(options.get("planner", "best"), int(options.get("alignment", 16))),
                *kernel_passes(kernels)]
    return None


def run_passes(module: ir.Module, names) -> None:
    for text in names:
        for element in parse_pipeline(text):
            run_element(module, element)


def prepare_tensor_program(module: ir.Module) -> None:
    """Normalize the imported linalg: element-wise chains fused, generic ops, unit dims folded, weight
    transposes folded, dense layers reading their producer's map unflattened, weights laid out in
    the order their reductions read them, per-channel requantization rounding tabulated."""
    run_passes(module, PREPARE_PASSES)


def tile(module: ir.Module, tiling: TilingPlan | None, isolate_plan: bool = True) -> int:
    """Apply `tiling` (none: untiled); the MACs the tiled program executes, halo recomputation included.
    `isolate_plan`: apply the plan in a child process (a plan not yet known to apply cleanly)."""
    if tiling is not None and not tiling.is_untiled:
        if isolate_plan:
            ApplyPlan.apply_plan(module, tiling)
        else:
            ApplyPlan.apply_plan_in_process(module, tiling)
        SimplifyGuards().apply(module)
    # counted on tile-level tensors: only the few tile loops enclose a reduction here
    with module.context:
        return count_macs_tiled(entry_function(module))


def lower(module: ir.Module, tiling: TilingPlan | None = None, planner: str = "best",
          alignment: int = 16, kernels: str = "scalar", isolate_plan: bool = True,
          estimate: bool = True, arena_cutoff: int = 0) -> LoweredProgram:
    """Tile as `tiling` says (`tile`), then `lower_tiled`."""
    executed_macs = tile(module, tiling, isolate_plan)
    return lower_tiled(module, executed_macs, planner, alignment, kernels, estimate, arena_cutoff)


def lower_tiled(module: ir.Module, executed_macs: int, planner: str = "best", alignment: int = 16,
                kernels: str = "scalar", estimate: bool = True, arena_cutoff: int = 0,
                layout_time_limit_ms: int | None = None) -> LoweredProgram:
    """Read pads through, fuse epilogues per output element, reuse dying inputs, bufferize, plan the
    arena and lower to loops (BUFFER_PASSES, the memory plan, the kernel passes) a tiled module. `kernels`
    (the target's, `Target.kernels`): int8 dot products become SIMD32 loops or Helium vector steps
    (`kernels/`); the arena is the same.
    Without `estimate` (the search scoring a plan: arena and MACs only) it stops at the memory plan:
    no code generation, no instruction or code-size estimate (`None`). `arena_cutoff`: the arena the
    search must beat; a program whose lower bound is above it gets the greedy layout only.
    `layout_time_limit_ms`: the optimal planner's limit (None: its default; a search scoring many plans
    gives each less, `memory.planner.SCORING_TIME_LIMIT_S`)."""
    run_passes(module, TENSOR_PASSES)
    in_place = [ir.StringAttr(op.attributes[REUSED_ATTR]).value for op in walk_ops(module.operation)
                if REUSED_ATTR in op.attributes]
    run_passes(module, BUFFER_PASSES[len(TENSOR_PASSES):])
    (element,) = parse_pipeline(memory_plan_pass(planner, alignment, arena_cutoff, layout_time_limit_ms))
    plan = instantiate(element).run(module)
    if not estimate:
        return LoweredProgram(module, plan, in_place, executed_macs, None, None)
    run_passes(module, kernel_passes(kernels))  # the loops IREE gets: what the instruction estimate counts
    with module.context:
        instructions = estimate_instructions(entry_function(module), kernels)
        code_bytes = estimate_code_bytes(entry_function(module))
    return LoweredProgram(module, plan, in_place, executed_macs, instructions, code_bytes)


def lower_untiled(module: ir.Module, planner: str = "best", alignment: int = 16) -> LoweredProgram:
    return lower(module, None, planner, alignment)
