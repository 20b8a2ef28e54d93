"""`CompileReport`: what one `mlir-fdt compile` produced, typed. report.json, the firmware run and the
CLI's summary are written from it (`to_json`, `interface`, `failures`); nothing reads a dict back by key."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..analysis.code_size import CODE_BYTES_BASE, CODE_BYTES_PER_OP
from ..codegen.library import CompiledLibrary
from ..firmware.run import ModelInterface
from ..memory.plan_memory import MemoryPlan
from ..plan import TilingPlan

HOW_MEASURED = {
    "arena_bytes": "planned arena (inputs, outputs, every intermediate and tile buffer), checked by the verifier",
    "lower_bound_bytes": "max over the schedule of the bytes of live buffers (a pair that may share bytes "
                         "as a shifted alias counted as its smallest union)",
    "shifted_aliases": "buffer pairs that share bytes: the born buffer at `shift` bytes from the dying one, "
                       "a shift the overlap analysis proved safe (memory/overlap.py)",
    "in_place_reuses": "tensors (SSA names before bufferization) overwritten in place where they die, "
                       "by an element-at-a-time loop nest or one tile at a time",
    "stack_bytes": "firmware: stack painted at reset, high-water mark after one inference",
    "qemu_instructions": "firmware: SysTick ticks around the dispatch under QEMU -icount shift=0, "
                         "times instructions per tick",
    "estimated_code_bytes": f"cost model: {CODE_BYTES_BASE} + {CODE_BYTES_PER_OP} bytes per MLIR op of the "
                            "lowered program, fitted on flash_code_bytes of IREE's objects "
                            "(analysis/code_size.py)",
    "estimated_instructions": "executed MLIR ops of the lowered program (loop-invariant ops hoisted) "
                              "x instructions per op calibrated on QEMU (analysis/instructions.py)",
    "macs": "iteration-space size of every reduction op of the untiled linalg program (cost model)",
    "mac_overhead": "executed_macs / macs - 1, executed_macs summed over every loop iteration of the "
                    "tiled program (halo recomputation)",
    "flash": "arm-none-eabi-size -A of the static library object: .text+.ARM.exidx+.data.rel.ro "
             "(code, tables) and .rodata (weights); embedded-elf: the same sections of the ELF",
    "object_ram_bytes": "arm-none-eabi-size -A of the library: .data and .bss, the persistent state of stateful "
                        "layers (an SVDF's activation state), kept from one inference to the next; 0 otherwise",
    "loader_ram_bytes": "embedded-elf: span of the ELF's PT_LOAD segments (code, weights, tables), the "
                        "static RAM buffer the runner loads them into; 0 for static (runs from flash)",
}


@dataclass
class TensorInfo:
    """A model input or output: its buffer in the arena, and the model file's own account of it."""

    name: str
    shape: list[int]
    dtype: str
    offset: int | None  # None: not in the arena (a streamed input)
    bytes: int
    declared: dict = field(default_factory=dict)  # name, and scale/zero_point, as the model file declares it
    row_bytes: int | None = None  # a streamed input: delivered a row of this many bytes at a time,
    row_segments: int = 1         # made of this many contiguous runs of the input (NCHW: one a channel)

    @property
    def display_name(self) -> str:
        return self.declared.get("name", self.name)

    def to_json(self) -> dict:
        d = {"name": self.display_name, "arena_buffer": self.name, "shape": self.shape,
             "dtype": self.dtype, "offset": self.offset, "bytes": self.bytes}
        if self.row_bytes is not None:
            d["streamed_row_bytes"] = self.row_bytes
            d["streamed_row_segments"] = self.row_segments
        d.update({k: v for k, v in self.declared.items() if k in ("scale", "zero_point")})
        return d


@dataclass
class QemuRun:
    """The firmware's account of the first checked inference under QEMU."""

    instructions: int
    ticks: int
    stack_bytes: int
    loader_instructions: int | None = None


@dataclass
class OutputCheck:
    """What `--run` found: every seeded input's outputs against the model format's reference."""

    reference: str                       # tflite-micro | onnxruntime | iree-default
    checked_seeds: list[int]
    host_max_abs_diff: float | None      # None: not run on the host (--run qemu runs it only when QEMU differs)
    tolerance: float
    reference_output_varies: bool | None  # None with a single seed
    qemu_max_abs_diff: float | None = None
    qemu: QemuRun | None = None
    reference_note: str | None = None    # why the reference is not the format's own
    tolerance_note: str | None = None
    shape_inputs: dict | None = None     # inputs that only state a shape, and the shape given
    index_inputs: dict | None = None     # index inputs and the range they were drawn from
    intermediates: dict | None = None    # --check-intermediates (reference/intermediates.py)

    @property
    def max_abs_diff(self) -> float:
        return max(self.host_max_abs_diff or 0.0, self.qemu_max_abs_diff or 0.0)

    @property
    def match(self) -> bool:
        return self.max_abs_diff <= self.tolerance

    def _where_it_differs(self) -> str:
        """Under QEMU, what the host build of the same program (run only then) says about the fault."""
        if self.qemu_max_abs_diff is None or self.qemu_max_abs_diff <= self.tolerance:
            return ""
        if self.host_max_abs_diff is None:
            return " under QEMU"
        if self.host_max_abs_diff <= self.tolerance:
            return (f" under QEMU; the host build of the same program agrees with it (max_abs_diff "
                    f"{self.host_max_abs_diff}): the fault is in the code generated for the target")
        return (f" under QEMU and on the host (max_abs_diff {self.host_max_abs_diff}): the program itself is "
                f"wrong")

    def failures(self) -> list[str]:
        """What is wrong, first the output, then the first wrong intermediate tensor (the layer)."""
        failures = []
        if not self.match:
            failures.append(f"output differs from {self.reference}: max_abs_diff {self.max_abs_diff} "
                            f"(tolerance {self.tolerance}){self._where_it_differs()}")
        mismatches = (self.intermediates or {}).get("mismatches")
        if mismatches:
            m = mismatches[0]
            failures.append(f"intermediate tensor differs from tflite-micro: '{m['tensor']}' of operator "
                            f"{m['operator_index']} ({m['operator']}): max_abs_diff {m['max_abs_diff']} (tolerance "
                            f"{m['tolerance']}); {len(mismatches)} of {self.intermediates['compared']} compared "
                            f"differ")
        return failures

    def to_json(self) -> dict:
        d: dict = {}
        if self.shape_inputs:
            d["shape_inputs"] = self.shape_inputs
        if self.index_inputs:
            d["index_inputs"] = self.index_inputs
        d["reference"] = self.reference
        if self.reference_note:
            d["reference_note"] = self.reference_note
        if self.qemu is not None:
            d.update(stack_bytes=self.qemu.stack_bytes, qemu_instructions=self.qemu.instructions,
                     qemu_ticks=self.qemu.ticks)
            if self.qemu.loader_instructions is not None:
                d["loader_instructions"] = self.qemu.loader_instructions
        d.update(checked_seeds=self.checked_seeds, host_max_abs_diff=self.host_max_abs_diff)
        if self.qemu_max_abs_diff is not None:
            d["qemu_max_abs_diff"] = self.qemu_max_abs_diff
        d.update(max_abs_diff=self.max_abs_diff, reference_output_varies=self.reference_output_varies,
                 tolerance=self.tolerance)
        if self.tolerance_note:
            d["tolerance_note"] = self.tolerance_note
        d["match"] = self.match
        if self.intermediates is not None:
            d["intermediates"] = self.intermediates
        return d


@dataclass
class PageDetails:
    """What report.html shows beyond the rest of the report (`--report`, `--plot`)."""

    layers: list[dict]
    untiled: MemoryPlan | None              # the layout before tiling, for comparison (a tiled plan only)
    tflite_micro_arena_bytes: int | None
    plot: str | None = None                 # arena.png

    def to_json(self, plan: MemoryPlan) -> dict:
        d: dict = {"layers": self.layers, "layer_steps": plan.layer_steps}
        if self.untiled is not None:
            d["untiled_plan"] = {"arena_bytes": self.untiled.arena_bytes, "buffers": self.untiled.buffers_json(),
                                 "layer_steps": self.untiled.layer_steps}
        d["tflite_micro_arena_bytes"] = self.tflite_micro_arena_bytes
        if self.plot:
            d["plot"] = self.plot
        return d


@dataclass
class SearchSummary:
    rounds: int
    plans_scored: int
    untiled_arena_bytes: int


@dataclass
class CompileReport:
    model: Path
    target: str
    objective: str
    memory: MemoryPlan
    library: CompiledLibrary
    macs: int
    executed_macs: int
    tiling: TilingPlan
    search: SearchSummary | None
    estimated_instructions: int | None
    estimated_code_bytes: int | None
    in_place_reuses: list[str]
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    timings: dict[str, float]
    page: PageDetails | None = None
    check: OutputCheck | None = None
    layer_profile: list[dict] | None = None  # --profile: instructions of each loop nest under QEMU
    profiled_copy_instructions: int | None = None  # --profile: the instrumented copy's whole dispatch
    reset_export: int | None = None  # a stateful model: the library's export that resets its state

    @property
    def arena_bytes(self) -> int:
        return self.memory.arena_bytes

    @property
    def mac_overhead(self) -> float:
        return round(self.executed_macs / self.macs - 1.0, 6) if self.macs else 0.0

    @property
    def interface(self) -> ModelInterface:
        """What a firmware needs to run the library: the arena and where each input and output is."""
        return ModelInterface(self.arena_bytes, [(t.offset, t.bytes) for t in self.inputs],
                              [(t.offset, t.bytes) for t in self.outputs], self.library.output_format,
                              self.library.loader_ram_bytes,
                              tuple((k, t.row_bytes, t.bytes // t.row_bytes, t.row_segments)
                                    for k, t in enumerate(self.inputs) if t.row_bytes))

    def failures(self) -> list[str]:
        return self.check.failures() if self.check is not None else []

    def to_json(self) -> dict:
        sizes, qemu = self.library.sizes, self.check.qemu if self.check else None
        d = {
            "model": str(self.model), "target": self.target, "objective": self.objective,
            "planner": self.memory.planner, "arena_bytes": self.arena_bytes,
            "lower_bound_bytes": self.memory.lower_bound_bytes,
            "stack_bytes": qemu.stack_bytes if qemu else None,
            "flash_code_bytes": sizes.code + sizes.tables, "flash_weight_bytes": sizes.weights,
            "object_ram_bytes": sizes.ram, "reset_export": self.reset_export,
            "macs": self.macs, "executed_macs": self.executed_macs, "mac_overhead": self.mac_overhead,
            "tiling_plan": self.tiling.to_json(),
            # the search's duration is timings.search_s: the rest of the report is reproducible
            "search": None if self.search is None else {
                "rounds": self.search.rounds, "plans_scored": self.search.plans_scored, "pareto": "pareto.json",
                "untiled_arena_bytes": self.search.untiled_arena_bytes},
            "qemu_instructions": qemu.instructions if qemu else None,
            "estimated_instructions": self.estimated_instructions,
            "estimated_code_bytes": self.estimated_code_bytes,
            "reference": None, "max_abs_diff": None, "host_max_abs_diff": None,
            "register_tiles": self.memory.register_tiles, "in_place_reuses": self.in_place_reuses,
            "shifted_aliases": self.memory.shifted_aliases, "alignment": self.memory.alignment,
            "inputs": [t.to_json() for t in self.inputs], "outputs": [t.to_json() for t in self.outputs],
            "buffers": self.memory.buffers_json(),
            **self.library.report_fields(),
            "timings": self.timings,
            "how_measured": HOW_MEASURED,
        }
        if self.page is not None:
            d.update(self.page.to_json(self.memory))
        if self.check is not None:
            d.update(self.check.to_json())
        if self.layer_profile is not None:
            d["layer_profile"] = self.layer_profile
            d["profiled_copy_instructions"] = self.profiled_copy_instructions
        return d

    def write(self, out_dir: Path) -> None:
        (out_dir / "report.json").write_text(json.dumps(self.to_json(), indent=2) + "\n")
