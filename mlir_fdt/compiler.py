"""`compile_model`: a model file in, a static library, a host module and report.json out."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .analysis.input_ranges import index_input_ranges
from .analysis.layers import tag_layers
from .analysis.macs import count_macs
from .codegen.iree_compile import compile_host
from .codegen.library import OUTPUT_FORMATS, CompiledLibrary, compile_library
from .codegen.wrap_executable import WrapExecutable, reset_export_of
from .errors import FdtError
from .importers import import_model
from .kernels.simd32 import UseArmDsp, uses_simd32
from .ir import copy_module, entry_function, ir, new_context, persistent_state_globals, run_pipeline
from .memory.plan_memory import MemoryPlan
from .memory.liveness import element_bytes
from .memory.stream_input import STREAM_ATTR
from .memory.planner import PLANNERS
from .pipeline import LoweredProgram, lower, prepare_tensor_program
from .plan import TilingPlan
from .reference.compare import largest_magnitude, max_abs_diff
from .report.compile_report import (CompileReport, OutputCheck, PageDetails, QemuRun, SearchSummary,
                                    TensorInfo)
from .targets import Target, get_target

log = logging.getLogger(__name__)

OBJECTIVES = ("untiled", "min-ram", "max-overhead", "ram-budget")
FLOAT_TOLERANCE = 1e-4  # max |ours - reference| for float32 models, relative to max(1, max |reference|)
QDQ_TOLERANCE_NOTE = ("one quantization step of the output: the integer layers requantize an exact int32 sum in "
                      "fixed point (TFLite's arithmetic) where the ONNX graph rounds a float32 sum; the two may "
                      "round a near-tie value to neighbouring steps")


@dataclass
class CompileOptions:
    """What `mlir-fdt compile` was asked to do; checked when created (`FdtError`), so a bad option fails
    before anything is imported or searched."""

    target: str = "cortex-m4"
    objective: str = "untiled"
    planner: str = "best"
    alignment: int = 16
    run: str | None = None          # None | "host" | "qemu"
    seed: int = 0                   # seed of the first random input of --run
    checks: int = 1                 # --run: inputs checked, seeds seed, seed+1, ...
    library_name: str = "fdt_model"
    iree_flags: list[str] = field(default_factory=list)
    plot: bool = False              # write arena.png (buffers over time); implies report_html
    report_html: bool = False       # write report.html (memory/plan/cost by layer, for a person)
    output_format: str = "static"   # "static" (library object) | "embedded-elf" (loaded into RAM)
    plan: str | None = None         # tiling plan JSON (see mlir_fdt/plan.py); overrides the search
    max_overhead: float = 0.0       # objective max-overhead: allowed extra MACs (0.25 = +25 %)
    ram_budget: int | None = None   # objective ram-budget: bytes the arena must fit in
    search_time_s: float = 240.0    # time budget of the search
    progress: bool = False          # progress bar during the search (the CLI turns it on)
    check_intermediates: bool = False  # --run on a .tflite: also compare every intermediate tensor with TFLite Micro
    profile: bool = False           # --run qemu: also run an instrumented copy, instructions per layer
    stream_input: bool = False      # inputs delivered a row at a time by the application (memory/stream_input.py)

    def __post_init__(self):
        get_target(self.target)
        _one_of("objective", self.objective, OBJECTIVES)
        _one_of("--planner", self.planner, PLANNERS)
        _one_of("--format", self.output_format, OUTPUT_FORMATS)
        if self.run is not None:
            _one_of("--run", self.run, ("host", "qemu"))
        if self.objective == "ram-budget" and self.ram_budget is None:
            raise FdtError("objective ram-budget needs a budget (--ram-budget 64KiB)")
        a = self.alignment
        if a < 1 or a & (a - 1):
            raise FdtError(f"--alignment must be a power of two (1, 2, 4, ..., 16 by default), got {a}")
        if self.checks < 1:
            raise FdtError(f"--checks must be at least 1, got {self.checks}")
        if self.search_time_s is not None and self.search_time_s <= 0:
            raise FdtError(f"--search-time must be positive, got {self.search_time_s:g}")
        if self.max_overhead is not None and self.max_overhead < 0:
            raise FdtError(f"--max-overhead must be 0 or more (0.25 allows +25 % MACs), got {self.max_overhead:g}")
        if self.check_intermediates and not self.run:
            raise FdtError("--check-intermediates runs the program: it needs --run host or --run qemu")
        if self.profile and self.run != "qemu":
            raise FdtError("--profile counts instructions on the device: it needs --run qemu")
        if self.stream_input and self.run == "host":
            raise FdtError("--stream-input: the host run (iree.runtime) has no row callback to call; check the "
                           "program with --run qemu, whose runner delivers input<i>.bin a row at a time")
        if self.stream_input and self.objective == "untiled" and not self.plan:
            raise FdtError("--stream-input needs a plan that streams the layers reading the input: use the default "
                           "objective (min-ram) or another search objective, or --plan with a \"stream\" path")
        if self.stream_input and self.output_format != "static":
            raise FdtError("--stream-input calls the application's row callback, which the linker resolves: it "
                           "needs --format static (an embedded ELF is loaded without a linker)")
        if self.stream_input and self.check_intermediates:
            raise FdtError("--check-intermediates runs the program on the host, which cannot deliver a streamed "
                           "input: drop one of the two")

    @property
    def html(self) -> bool:
        """report.html is written (--report, or --plot)."""
        return self.report_html or self.plot


def _one_of(what: str, value, choices) -> None:
    if value not in choices:
        raise FdtError(f"unknown {what} '{value}'; available: {', '.join(choices)}")


def _signature(module: ir.Module) -> tuple[list[ir.RankedTensorType], list[ir.RankedTensorType]]:
    fn = entry_function(module)
    ftype = ir.FunctionType(ir.TypeAttr(fn.attributes["function_type"]).value)
    return list(ftype.inputs), list(ftype.results)


def _unsigned_as_declared(types: list[ir.RankedTensorType], declared: list) -> list[ir.RankedTensorType]:
    """`types` with the i8 ones the model file declares uint8 as ui8: the program's integers are signless, and
    its uint8 inputs and outputs hold the application's uint8 bytes (`importers/tflite_uint8_io.py`)."""
    i8 = ir.IntegerType.get_signless(8)
    return [ir.RankedTensorType.get(t.shape, ir.IntegerType.get_unsigned(8))
            if t.element_type == i8 and getattr(d, "dtype", None) == "uint8" else t for t, d in zip(types, declared)]


def _check_io_types(model: Path, in_types: list, out_types: list, declared) -> None:
    """Every input and output of a type the compiler and its checks handle (`reference.inputs.IO_DTYPES`),
    or an error naming it: a float64 one (a PyTorch export of a double model) failed in iree-compile, which
    narrows float64 arithmetic to float32 for the target but not the buffers the program reads."""
    from .reference.inputs import IO_DTYPES
    for kind, types, names in (("input", in_types, declared.inputs if declared else None),
                               ("output", out_types, declared.outputs if declared else None)):
        for k, t in enumerate(types):
            if str(t.element_type) not in IO_DTYPES:
                name = f"'{names[k].name}'" if names else str(k)
                raise FdtError(f"{model}: {kind} {name} is {t.element_type}: mlir-fdt compiles models whose inputs and "
                               f"outputs are {', '.join(IO_DTYPES)} (convert a float64 model to float32 before "
                               "exporting it)")
            shape = getattr(names[k], "shape", None) if names else None
            if shape is not None and all(d > 0 for d in shape) and int(np.prod(shape)) != int(np.prod(t.shape)):
                raise FdtError(f"{model}: {kind} '{names[k].name}' is {'x'.join(map(str, shape)) or 'a scalar'} "
                               f"in the model but {'x'.join(map(str, t.shape)) or 'a scalar'} in its import"
                               f"{_producer(declared, names[k].name)}: an importer fault; please report it")


def _producer(declared, tensor: str) -> str:
    """` (computed by operator 3 SPLIT_V)`: the TFLite operator computing `tensor`, if known."""
    ops = [op for op in getattr(declared, "operators", []) if tensor in op.outputs]
    return f" (computed by operator {ops[0].index} {ops[0].name})" if ops else ""


def _declared_signature(model: Path, n_inputs: int, n_outputs: int):
    """The model file's own account of its inputs and outputs (a TFLite flatbuffer's tensors, with names
    and quantization; an ONNX graph's inputs and outputs), or None when it has none or it does not match
    the imported signature."""
    if model.suffix.lower() == ".onnx":
        from .importers.onnx_model import read_onnx
        declared = read_onnx(model)
    elif model.suffix.lower() == ".tflite":
        from .importers.tflite_flatbuffer import read_tflite
        declared = read_tflite(model)
    else:
        return None
    return declared if len(declared.inputs) == n_inputs and len(declared.outputs) == n_outputs else None


def _declared_io(declared, n_inputs: int, n_outputs: int) -> tuple[list[dict], list[dict]]:
    """Names (and quantization) of the inputs and outputs as the model file declares them."""
    if declared is not None:
        return [t.to_json() for t in declared.inputs], [t.to_json() for t in declared.outputs]
    return ([{"name": f"input{i}"} for i in range(n_inputs)], [{"name": f"output{i}"} for i in range(n_outputs)])


@dataclass
class ImportedModel:
    """The prepared tensor program and what the later stages need to know of the model file."""

    path: Path
    module: ir.Module
    in_types: list[ir.RankedTensorType]
    out_types: list[ir.RankedTensorType]
    index_ranges: dict            # index inputs (a gather's indices): the range a test input is drawn from
    declared: object | None       # the file's own signature (importers: TfliteModel / OnnxModel)
    macs: int
    named: ir.Module | None       # --check-intermediates: the prepared program with its TFLite tensor names
    layers: list[dict] | None     # report.html's layer table
    stateful: bool = False        # layers keep state from one run to the next (SVDF, LSTM): checks run in sequence


def compile_model(model: str | Path, out_dir: str | Path, options: CompileOptions) -> CompileReport:
    """Run the whole pipeline; write artefacts and `report.json` into `out_dir`; return the report."""
    model, out_dir = Path(model), Path(out_dir)
    target = get_target(options.target)
    _check_before_compiling(model, out_dir, options)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    imported = _import(model, out_dir, options)
    timings["import_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    _prepare(imported, options)
    readers = _input_readers(imported.module) if options.stream_input else set()
    tiling, search = _choose_tiling(imported, options, target, out_dir)
    timings["search_s"] = search.seconds if search else 0.0
    lowered, untiled = _lower(imported.module, tiling, search, options, target)
    if options.stream_input:
        _check_streamed(lowered, imported, tiling, readers)
    timings["transform_and_plan_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    profiled = copy_module(lowered.module) if options.profile else None  # (wrapping takes the lowered ops)
    library, host_source, reset_export = _generate_library(lowered.module, out_dir, options, target)
    timings["iree_compile_s"] = time.perf_counter() - t0
    report = _report(imported, options, target, tiling, search, lowered, library, timings)
    report.reset_export = reset_export
    if options.html:
        report.page = _page_details(imported, lowered, untiled, out_dir, options)
    if options.run:
        report.check = _run_and_check(report, imported, out_dir, host_source, options, target)
    if profiled is not None:
        report.layer_profile, report.profiled_copy_instructions = _profile_on_qemu(profiled, report, out_dir,
                                                                                   options, target)
    report.write(out_dir)
    if options.html:
        from .report.html import write_report_html
        write_report_html(report.to_json(), search.to_json() if search else None, out_dir / "report.html")
    return report


def _check_before_compiling(model: Path, out_dir: Path, options: CompileOptions) -> None:
    """What the options need from the machine and the model file, checked before any work."""
    if options.run == "qemu":  # missing tools: say so now, not after the whole compile
        from .external import require_tools
        from .firmware.build import FIRMWARE_TOOLS
        require_tools(FIRMWARE_TOOLS, "--run qemu (building and running the firmware)")
    if options.check_intermediates and model.suffix.lower() != ".tflite":
        raise FdtError(f"--check-intermediates compares with TFLite Micro's tensors: it needs a .tflite model, "
                       f"not {model.name}")
    if out_dir.exists() and not out_dir.is_dir():
        raise FdtError(f"{out_dir}: exists and is not a directory (the output, -o, is a directory)")
    out_dir.mkdir(parents=True, exist_ok=True)


def _import(model: Path, out_dir: Path, options: CompileOptions) -> ImportedModel:
    ctx = new_context()
    module = import_model(model, ctx, tensor_names=_tensor_names(model, options))
    with ctx:
        in_types, out_types = _signature(module)
        index_ranges = index_input_ranges(entry_function(module))
    (out_dir / "imported.mlir").write_text(str(module))
    declared = _declared_signature(model, len(in_types), len(out_types))
    if declared is not None:
        with ctx, ir.Location.unknown():
            in_types, out_types = _unsigned_as_declared(in_types, declared.inputs), \
                _unsigned_as_declared(out_types, declared.outputs)
    _check_io_types(model, in_types, out_types, declared)
    stateful = bool(persistent_state_globals(module))  # (intermediates: each input a first inference, both sides)
    return ImportedModel(model, module, in_types, out_types, index_ranges, declared, 0, None, None, stateful)


def _tensor_names(model: Path, options: CompileOptions) -> bool:
    """Whether to import TFLite tensor names as locations: for the intermediates check, and to name each
    layer's TFLite operators in report.html (stripped once the program is prepared)."""
    return options.check_intermediates or (options.html and model.suffix.lower() == ".tflite")


def _prepare(imported: ImportedModel, options: CompileOptions) -> None:
    """The tensor program the search and the lowering start from (its layer table and its TFLite-named
    copy taken first, where asked for)."""
    module = imported.module
    prepare_tensor_program(module)
    if options.html:
        imported.layers = _describe_layers(module, imported.path)
    if options.check_intermediates:  # the prepared program with its TFLite tensor names; the compiled one without
        imported.named = copy_module(module)
    if _tensor_names(imported.path, options):
        run_pipeline(module, "builtin.module(strip-debuginfo)")
    imported.macs = count_macs(module)
    with module.context:  # buffers named after their layers (memory/buffer_labels.py)
        tag_layers(entry_function(module).regions[0].blocks[0])
        if options.stream_input:  # fdt-stream-input reads it, in the search's workers too
            entry_function(module).attributes[STREAM_ATTR] = ir.UnitAttr.get()


STREAM_INPUT_REFUSAL = "--stream-input: the plan cannot stream input"  # how _check_streamed's error begins


def _input_readers(module: ir.Module) -> set[str]:
    """The layers reading the model's inputs (for --stream-input's error)."""
    from .search.graph import build_graph
    with module.context:
        graph = build_graph(module)
    return {graph.layers[i].name for i in graph.input_consumers}


def _check_streamed(lowered: LoweredProgram, imported: ImportedModel, tiling: TilingPlan, readers: set[str]) -> None:
    """--stream-input: every input that is a map (two dimensions above 1) arrives row by row, or a clear error
    saying why one cannot; a vector or scalar input (a token index, a state) may stay in the arena when another
    input streams."""
    streamed = {entry[0] for entry in lowered.plan.streamed_inputs}
    for k, t in enumerate(imported.in_types):
        is_map = sum(d > 1 for d in t.shape) >= 2
        if k in streamed or (streamed and not is_map):
            continue
        paths = [p for p in tiling.paths if p.method == "stream"]
        names = ', '.join('+'.join(p.layers) for p in paths)
        if not is_map:
            why = "it is a vector, not a map of rows"
        elif not readers or any(readers <= set(p.layers) for p in paths):
            why = ("it reaches the layers that read it through a transpose or an element-wise op, not as whole rows "
                   "(an ONNX model's NCHW input, say)")
        elif paths:
            why = (f"the plan streams {names}, which does not hold every layer reading it "
                   f"({', '.join(sorted(readers))})")
        else:
            why = "the plan has no streamed path"
        raise FdtError(f"{STREAM_INPUT_REFUSAL} {k} ({'x'.join(map(str, t.shape))}x{t.element_type}), which is "
                       f"still read whole: {why}. A streamed path (\"method\": \"stream\") must start at the layers "
                       "that read the input, and the input must be an HxWxC map read a row at a time (not a dense "
                       "layer's vector, not a reshape)")


def _choose_tiling(imported: ImportedModel, options: CompileOptions, target: Target, out_dir: Path):
    """(tiling plan, search result or None): the user's plan, none (untiled), or the search's choice."""
    if options.plan:
        return TilingPlan.load(options.plan), None
    if options.objective == "untiled":
        return TilingPlan(), None
    search = _search(imported.module, imported.macs, options, target, out_dir)
    return search.chosen.plan, search


def _lower(module: ir.Module, tiling: TilingPlan, search, options: CompileOptions,
           target: Target) -> tuple[LoweredProgram, LoweredProgram | None]:
    """(the program lowered with `tiling`, the untiled program's lowering for report.html or None). The
    search's worker has lowered its chosen plan already (for its estimate): that program is taken."""
    untiled = _untiled_layout(module, options) if options.html and not tiling.is_untiled else None
    kept = search.chosen.lowered if search is not None else None
    if kept is not None:
        path = Path(kept["bytecode"])
        chosen = search.chosen
        lowered = LoweredProgram(ir.Module.parse(path.read_bytes(), context=module.context),
                                 MemoryPlan.from_json(kept["memory_plan"]), kept["in_place"], chosen.executed_macs,
                                 chosen.estimated_instructions, chosen.estimated_code_bytes)
        path.unlink()
    else:  # a user's plan in a child process (it may crash the interpreter); the search's applied cleanly
        lowered = lower(module, tiling, options.planner, options.alignment, kernels=target.kernels,
                        isolate_plan=search is None)
    log.info("arena %d bytes (lower bound %d) with the %s planner", lowered.plan.arena_bytes,
             lowered.plan.lower_bound_bytes, lowered.plan.planner)
    return lowered, untiled


def _generate_library(module: ir.Module, out_dir: Path, options: CompileOptions,
                      target: Target) -> tuple[CompiledLibrary, Path, int | None]:
    """(the library IREE compiled for the target, the host source of the same executable, the ordinal of its export
    resetting a persistent state, if it keeps one)."""
    executable = WrapExecutable(executable_name=options.library_name).run(module)
    reset_export = reset_export_of(executable)
    source, host_source = _write_sources(executable, out_dir, options.library_name)
    library = compile_library(source, out_dir, options.library_name, target, options.output_format,
                              options.iree_flags)
    return library, host_source, reset_export


def _report(imported: ImportedModel, options: CompileOptions, target: Target, tiling: TilingPlan, search,
            lowered: LoweredProgram, library: CompiledLibrary, timings: dict) -> CompileReport:
    plan = lowered.plan
    declared_in, declared_out = _declared_io(imported.declared, len(imported.in_types), len(imported.out_types))
    in_arena = {b.name: b for b in plan.io("input")}
    streamed = {f"input{index}": (row_bytes, segments) for index, row_bytes, _, segments in plan.streamed_inputs}
    inputs = [TensorInfo(f"input{k}", list(t.shape), str(t.element_type), None,
                         int(np.prod(t.shape)) * element_bytes(t.element_type), d, *streamed[f"input{k}"])
              if f"input{k}" in streamed else
              TensorInfo(f"input{k}", list(t.shape), str(t.element_type), in_arena[f"input{k}"].offset,
                         in_arena[f"input{k}"].bytes, d)
              for k, (t, d) in enumerate(zip(imported.in_types, declared_in))]
    outputs = [TensorInfo(b.name, list(t.shape), str(t.element_type), b.offset, b.bytes, d)
               for b, t, d in zip(plan.io("output"), imported.out_types, declared_out)]
    summary = None if search is None else SearchSummary(search.rounds, len(search.evaluations),
                                                        search.untiled.arena_bytes)
    return CompileReport(
        model=imported.path, target=target.name,
        objective=f"plan {options.plan}" if options.plan else _objective(options).label,
        memory=plan, library=library, macs=imported.macs, executed_macs=lowered.executed_macs, tiling=tiling,
        search=summary, estimated_instructions=lowered.estimated_instructions,
        estimated_code_bytes=lowered.estimated_code_bytes, in_place_reuses=lowered.in_place,
        inputs=inputs, outputs=outputs, timings=timings)


def _page_details(imported: ImportedModel, lowered: LoweredProgram, untiled: LoweredProgram | None,
                  out_dir: Path, options: CompileOptions) -> PageDetails:
    page = PageDetails(imported.layers, untiled.plan if untiled else None,
                       _tflite_micro_arena(imported, options))
    if options.plot:
        from .memory.plot import plot_arena
        plan, stem = lowered.plan, imported.path.stem
        plot_arena(plan.buffers_json(), plan.arena_bytes, out_dir / "arena.png",
                   f"{stem}: arena {plan.arena_bytes} B, lower bound {plan.lower_bound_bytes} B ({plan.planner})",
                   plan.layer_steps)
        page.plot = "arena.png"
        if untiled is not None:  # the layout before tiling, for comparison
            u = untiled.plan
            plot_arena(u.buffers_json(), u.arena_bytes, out_dir / "arena_untiled.png", f"{stem} untiled: arena "
                       f"{u.arena_bytes} B", u.layer_steps)
    return page


def _describe_layers(module, model: Path) -> list[dict]:
    from .importers.tflite_flatbuffer import read_tflite
    from .report.layers import describe_layers
    return describe_layers(module, read_tflite(model) if model.suffix.lower() == ".tflite" else None)


def _tflite_micro_arena(imported: ImportedModel, options: CompileOptions) -> int | None:
    """TFLite Micro's arena head for the model (None for a model it cannot run, or not a .tflite)."""
    declared = imported.declared
    if imported.path.suffix.lower() != ".tflite" or declared is None:
        return None
    from .reference.inputs import random_inputs, tflite_input_ranges, tflite_shape_inputs
    from .reference.tflm import tflite_micro_arena_head
    inputs = random_inputs([(list(t.shape), str(t.element_type)) for t in imported.in_types], options.seed,
                           tflite_input_ranges(declared), imported.index_ranges, tflite_shape_inputs(declared))
    return tflite_micro_arena_head(imported.path, inputs)


def _write_sources(executable: ir.Module, out_dir: Path, name: str) -> tuple[Path, Path]:
    """(device source, host source) of the wrapped executable. They differ only where the kernels use
    SIMD32 helpers: the device's call the Arm DSP intrinsics, the host's spell them in arith
    (`kernels/simd32.py`), so a host run checks everything but the single instructions."""
    source = out_dir / f"{name}.mlir"
    if not uses_simd32(executable):
        source.write_text(str(executable))
        return source, source
    host_source = out_dir / f"{name}.host.mlir"
    host_source.write_text(str(executable))
    device = copy_module(executable)
    UseArmDsp().apply(device)
    source.write_text(str(device))
    return source, host_source


def _profile_on_qemu(module: ir.Module, report: CompileReport, out_dir: Path, options: CompileOptions,
                     target) -> tuple[list[dict], int]:
    """(instructions of each top-level loop nest (`codegen/profile_nests.py`), the instrumented copy's whole
    dispatch), from a run of the copy under QEMU on the first checked input."""
    from .codegen.profile_nests import instrument, nest_instructions
    from .firmware.run import ModelInterface, run_library_on_qemu
    layout = instrument(module)
    work = out_dir / "profile"
    work.mkdir(exist_ok=True)
    library, _, _ = _generate_library(module, work, replace(options, output_format="static"), target)
    interface = report.interface
    inputs = [(out_dir / f"test_input{i}.bin").read_bytes() for i in range(len(interface.inputs))]
    profiled = ModelInterface(layout.arena_bytes, interface.inputs, interface.outputs)
    result, _ = run_library_on_qemu(library.path, library.library_query, profiled, inputs, work / "firmware",
                                    target, profile=(layout.offset, layout.nests + 1))
    ticks = result.get("profile_ticks", [])
    if len(ticks) != layout.nests:
        raise FdtError(f"the profiled firmware reported {len(ticks)} loop nests, the program has {layout.nests}")
    counts = nest_instructions(ticks, target.board.instructions_per_tick)
    return ([{"nest": i, "layers": layers, "kind": kind, "instructions": n}
             for i, (layers, kind, n) in enumerate(zip(layout.layers, layout.kinds, counts))], result["instructions"])


def _untiled_layout(module, options: CompileOptions) -> LoweredProgram:
    """The untiled program (a copy of `module` is lowered), for report.html and --plot."""
    return lower(copy_module(module), None, options.planner, options.alignment, estimate=False)


def _objective(options: CompileOptions):
    from .search.objectives import Objective
    if options.objective == "max-overhead":
        return Objective("max-overhead", max_overhead=options.max_overhead)
    if options.objective == "ram-budget":
        return Objective("ram-budget", ram_budget=options.ram_budget)
    return Objective(options.objective)


def _search(module, macs: int, options: CompileOptions, target, out_dir: Path):
    """Run the search, write pareto.json (and pareto.png with --plot); fail clearly when a RAM
    budget cannot be met, naming the smallest arena found."""
    from .search.driver import search
    objective = _objective(options)
    result = search(module, macs, objective, planner=options.planner, alignment=options.alignment,
                    time_budget_s=options.search_time_s, progress=options.progress,
                    kernels=target.kernels, keep_chosen=out_dir / ".chosen.mlirbc")
    (out_dir / "pareto.json").write_text(json.dumps(result.to_json(), indent=2) + "\n")
    if options.plot:
        from .search.plot import plot_pareto
        plot_pareto(result, out_dir / "pareto.png")
    if objective.kind == "ram-budget" and result.chosen.arena_bytes > objective.ram_budget:
        best = min((e for e in result.evaluations if e.ok), key=lambda e: e.arena_bytes)
        (out_dir / ".chosen.mlirbc").unlink(missing_ok=True)
        raise FdtError(f"no plan found fits the RAM budget of {objective.ram_budget} bytes: the smallest arena "
                       f"found is {best.arena_bytes} bytes (+{result.overhead(best):.0%} MACs, plan "
                       f"{json.dumps(best.plan.to_json()['paths'])}); see {out_dir / 'pareto.json'}")
    return result


def _reference_outputs(model: Path, input_sets: list[list[np.ndarray]], n_outputs: int,
                       out_dir: Path, sequence: bool = False) -> tuple[str, list[list[np.ndarray]], str | None]:
    """(reference name, the outputs of each input set, why not TFLite Micro). A .tflite is checked against
    TFLite Micro, a .onnx against onnxruntime (never anything else: an ONNX model onnxruntime cannot run is
    an error); only a .tflite that TFLite Micro cannot run at all falls back to IREE's default compilation
    of the imported program, and the reason is kept (report.json `reference_note`, and a warning).
    `sequence` (a stateful model): the input sets are consecutive inferences of one interpreter."""
    from .reference.host import run_default_iree, run_default_iree_sequence
    note = None
    if model.suffix.lower() == ".onnx":
        from .reference.ort import run_onnxruntime
        return "onnxruntime", [run_onnxruntime(model, inputs) for inputs in input_sets], None
    if model.suffix.lower() == ".tflite":
        from .reference.tflm import run_tflite_micro, run_tflite_micro_sequence
        try:
            if sequence:
                return "tflite-micro", run_tflite_micro_sequence(model, input_sets, n_outputs), None
            return "tflite-micro", [run_tflite_micro(model, inputs, n_outputs) for inputs in input_sets], None
        except FdtError as e:
            note = f"{e}; compared with IREE's default compilation of the imported program instead"
    vmfb = out_dir / "reference.vmfb"
    compile_host(out_dir / "imported.mlir", vmfb)  # always: one left by an earlier model in out_dir is stale
    if sequence:
        return "iree-default", run_default_iree_sequence(vmfb, input_sets), note
    return "iree-default", [run_default_iree(vmfb, inputs) for inputs in input_sets], note


def _run_and_check(report: CompileReport, imported: ImportedModel, out_dir: Path, source: Path,
                   options: CompileOptions, target: Target) -> OutputCheck:
    """Run `options.checks` seeded inputs (seed, seed+1, ...) on the host with --run host, under QEMU with
    --run qemu; compare every output with the reference; record the worst difference. A QEMU run that
    differs is run on the host too: whether the host build of the same program agrees tells a fault of
    the target's code from one of the program. With --check-intermediates, compare every intermediate
    tensor too (`OutputCheck.intermediates`)."""
    from .importers.tflite_flatbuffer import TfliteModel
    from .reference.inputs import declared_input_ranges, numpy_dtype, random_inputs, tflite_shape_inputs
    declared, inputs_info, outputs_info = imported.declared, report.inputs, report.outputs
    out_dtypes = [numpy_dtype(str(t.element_type)) for t in imported.out_types]
    ranges = declared_input_ranges(declared)
    fixed = tflite_shape_inputs(declared) if isinstance(declared, TfliteModel) else {}
    checked_inputs = [random_inputs([(list(t.shape), str(t.element_type)) for t in imported.in_types],
                                    options.seed + k, ranges, imported.index_ranges, fixed)
                      for k in range(options.checks)]
    reference_name, references, note = _reference_outputs(imported.path, checked_inputs, len(imported.out_types),
                                                          out_dir, sequence=imported.stateful)
    references = [[np.asarray(e).reshape(o.shape) for e, o in zip(expected, outputs_info)] for expected in references]
    if note:
        log.warning("%s", note)
    # The first seeded input and its reference outputs, raw: a firmware's self-test vector
    # (cmake/MlirFdt.cmake TEST_VECTOR bakes them into <name>_test_vector.h).
    for i, x in enumerate(checked_inputs[0]):
        (out_dir / f"test_input{i}.bin").write_bytes(x.tobytes())
    for i, (e, d) in enumerate(zip(references[0], out_dtypes)):
        (out_dir / f"test_expected{i}.bin").write_bytes(np.ascontiguousarray(e, dtype=d).tobytes())
    tolerance, tolerance_note = _tolerance(declared, references[0], out_dtypes)

    def worst(runs: list[list[bytes]]) -> float:
        return max(max_abs_diff(np.frombuffer(b, d).reshape(o.shape), e)
                   for outputs, expected in zip(runs, references)
                   for b, d, o, e in zip(outputs, out_dtypes, outputs_info, expected))

    host_worst, qemu_worst, qemu = None, None, None
    if options.run == "qemu":
        from .firmware.run import run_library_on_qemu
        qemu_outputs = []
        if imported.stateful and any(t.row_bytes for t in inputs_info):
            raise FdtError(f"{imported.path}: a stateful model (SVDF, LSTM) with a streamed input: the QEMU check runs "
                           "inferences in sequence, which the row callback's runner does not; compile without "
                           "--stream-input, or without --run qemu")
        if imported.stateful:  # the inferences in sequence in one boot; the last one measured
            result, outputs = run_library_on_qemu(report.library.path, report.library.library_query,
                                                  report.interface, [x.tobytes() for x in checked_inputs[-1]],
                                                  out_dir / "firmware", target,
                                                  earlier=[[x.tobytes() for x in inputs]
                                                           for inputs in checked_inputs[:-1]])
            qemu_outputs = result.pop("earlier_outputs", []) + [outputs]
            qemu = QemuRun(result["instructions"], result["ticks"], result["stack_bytes"],
                           result.get("loader_instructions"))
        else:  # one boot an input
            for k, inputs in enumerate(checked_inputs):
                result, outputs = run_library_on_qemu(report.library.path, report.library.library_query,
                                                      report.interface, [x.tobytes() for x in inputs],
                                                      out_dir / "firmware", target)
                qemu_outputs.append(outputs)
                if k == 0:
                    qemu = QemuRun(result["instructions"], result["ticks"], result["stack_bytes"],
                                   result.get("loader_instructions"))
        qemu_worst = worst(qemu_outputs)
    # a streamed input comes through the runner's row callback: the host (iree.runtime) cannot run the program
    host_can_run = not any(t.row_bytes for t in inputs_info)
    if host_can_run and (options.run == "host" or qemu_worst > tolerance):
        if options.run == "qemu":
            log.warning("the program under QEMU differs from %s (max_abs_diff %g): running its host build too",
                        reference_name, qemu_worst)
        host_worst = worst(_run_on_host(report, checked_inputs, out_dir, source, options))
    varies = _varies(references)
    if varies is False:
        log.warning("the reference output is the same for all %d seeded inputs: the check proves little "
                    "(saturated model, or inputs outside the range it was trained on)", len(references))
    check = OutputCheck(
        reference=reference_name, checked_seeds=[options.seed + k for k in range(options.checks)],
        host_max_abs_diff=host_worst, tolerance=tolerance, reference_output_varies=varies,
        qemu_max_abs_diff=qemu_worst, qemu=qemu, reference_note=note, tolerance_note=tolerance_note,
        # inputs that only state a shape (given that shape in every check), and index inputs with the
        # range they were drawn from: what the test inputs were, where it is not the default
        shape_inputs={inputs_info[i].display_name: v.tolist() for i, v in fixed.items()} or None,
        index_inputs={inputs_info[i].display_name: list(r) for i, r in imported.index_ranges.items()} or None)
    if imported.named is not None:
        check.intermediates = _check_intermediates(check, imported, checked_inputs, out_dir, options, report.timings)
    return check


def _run_on_host(report: CompileReport, checked_inputs: list[list[np.ndarray]], out_dir: Path, source: Path,
                 options: CompileOptions) -> list[list[bytes]]:
    """The outputs of the program's host build (`iree.runtime`, the same arena) on each input set, in order, the
    program loaded once (a stateful model's state carries from one to the next, as on the device)."""
    from .reference.host import run_arena_program_sequence
    vmfb = compile_host(source, out_dir / f"{options.library_name}.host.vmfb", options.iree_flags)
    return run_arena_program_sequence(vmfb, report.arena_bytes,
                                      [[(i.offset, x.tobytes()) for i, x in zip(report.inputs, inputs)]
                                       for inputs in checked_inputs],
                                      [(o.offset, o.bytes) for o in report.outputs])


def _tolerance(declared, expected: list[np.ndarray], out_dtypes: list) -> tuple[float, str | None]:
    """(tolerance, why it is more than the float one): 0 for integer outputs, FLOAT_TOLERANCE of the
    largest reference output for float ones, one quantization step for a QDQ model's dequantized output."""
    is_float = any(np.issubdtype(d, np.floating) for d in out_dtypes)
    scale = max(1.0, largest_magnitude(expected)) if is_float else 1.0
    tolerance, note = (FLOAT_TOLERANCE * scale if is_float else 0), None
    steps = [s for s in declared.output_steps() if s] if hasattr(declared, "output_steps") else []
    if steps:  # a QDQ model's dequantized output: one step (importers/onnx_qdq.py says why)
        # one step, plus the float32 rounding of two dequantized values (each (q - zero) * scale, |q - zero|
        # <= 255: a relative 2^-24 of 255 steps each)
        tolerance, note = max(tolerance, max(steps) * (1 + 1e-4)), QDQ_TOLERANCE_NOTE
    return tolerance, note


def _check_intermediates(check: OutputCheck, imported: ImportedModel, checked_inputs: list, out_dir: Path,
                         options: CompileOptions, timings: dict) -> dict:
    """report `intermediates`: every intermediate tensor of the untiled program against TFLite Micro's."""
    from .reference.intermediates import check_intermediates
    if check.reference != "tflite-micro" or imported.declared is None:
        why = check.reference_note or "the model's signature differs from the imported program's"
        log.warning("intermediates not checked: no TFLite Micro tensors to compare with: %s", why)
        return {"compared": 0, "not_checked": f"no TFLite Micro tensors to compare with: {why}"}
    t0 = time.perf_counter()
    result = check_intermediates(imported.named, imported.path, imported.declared, checked_inputs, out_dir,
                                 options.alignment, options.iree_flags, FLOAT_TOLERANCE)
    timings["intermediates_s"] = time.perf_counter() - t0
    return result.to_json()  # a mismatch: the CLI names the first one and exits 3


def _varies(references: list[list[np.ndarray]]) -> bool | None:
    """Whether any output differs between seeds (None with a single seed: unknown)."""
    if len(references) < 2:
        return None
    return any(not np.array_equal(r[j], references[0][j]) for r in references[1:] for j in range(len(r)))
