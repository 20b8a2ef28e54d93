"""`compile_model`: a model file in, a static library, a host module and report.json out."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .analysis.input_ranges import index_input_ranges
from .analysis.layers import tag_layers
from .analysis.code_size import CODE_BYTES_BASE, CODE_BYTES_PER_OP
from .analysis.macs import count_macs
from .codegen.iree_compile import compile_host
from .codegen.library import compile_library
from .codegen.wrap_executable import WrapExecutable
from .errors import FdtError
from .importers import import_model
from .kernels.simd32 import UseArmDsp, uses_simd32
from .ir import copy_module, entry_function, ir, new_context, run_pipeline
from .pipeline import lower, prepare_tensor_program
from .plan import TilingPlan
from .targets import get_target

log = logging.getLogger(__name__)

OBJECTIVES = ("untiled", "min-ram", "max-overhead", "ram-budget")
FLOAT_TOLERANCE = 1e-4  # max |ours - reference| for float32 models, relative to max(1, max |reference|)
QDQ_TOLERANCE_NOTE = ("one quantization step of the output: the integer convolutions requantize an exact int32 "
                      "sum with a float32 multiplier (onnxruntime's QLinearConv arithmetic) where the ONNX graph "
                      "rounds a float32 sum; the two may round a near-tie value to neighbouring steps")


@dataclass
class CompileOptions:
    """What `mlir-fdt compile` was asked to do."""

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


@dataclass
class TensorInfo:
    name: str
    shape: list[int]
    dtype: str
    offset: int
    bytes: int
    declared: dict = field(default_factory=dict)  # name, and scale/zero_point, as the model file declares it

    def to_json(self) -> dict:
        d = {"name": self.declared.get("name", self.name), "arena_buffer": self.name, "shape": self.shape,
             "dtype": self.dtype, "offset": self.offset, "bytes": self.bytes}
        d.update({k: v for k, v in self.declared.items() if k in ("scale", "zero_point")})
        return d


def _signature(module: ir.Module) -> tuple[list[ir.RankedTensorType], list[ir.RankedTensorType]]:
    fn = entry_function(module)
    ftype = ir.FunctionType(ir.TypeAttr(fn.attributes["function_type"]).value)
    return list(ftype.inputs), list(ftype.results)


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


def max_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    if a.shape != b.shape:
        a = a.reshape(b.shape)
    if np.issubdtype(a.dtype, np.integer):
        return float(np.max(np.abs(a.astype(np.int64) - b.astype(np.int64)))) if a.size else 0.0
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))) if a.size else 0.0


def compile_model(model: str | Path, out_dir: str | Path, options: CompileOptions) -> dict:
    """Run the whole pipeline; write artefacts and `report.json` into `out_dir`; return the report."""
    model, out_dir = Path(model), Path(out_dir)
    target = get_target(options.target)
    if options.objective not in OBJECTIVES:
        raise FdtError(f"unknown objective '{options.objective}'; available: {', '.join(OBJECTIVES)}")
    _check_numbers(options)
    if options.run == "qemu":  # missing tools: say so now, not after the whole compile
        from .external import require_tools
        from .firmware.build import FIRMWARE_TOOLS
        require_tools(FIRMWARE_TOOLS, "--run qemu (building and running the firmware)")
    if options.check_intermediates:
        _require_intermediates_check(model, options)
    if out_dir.exists() and not out_dir.is_dir():
        raise FdtError(f"{out_dir}: exists and is not a directory (the output, -o, is a directory)")
    out_dir.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    ctx = new_context()
    html = options.report_html or options.plot
    # TFLite tensor names as locations: for the intermediates check, and to name each layer's TFLite operators
    tensor_names = options.check_intermediates or (html and model.suffix.lower() == ".tflite")
    module = import_model(model, ctx, tensor_names=tensor_names)
    with ctx:
        in_types, out_types = _signature(module)
        index_ranges = index_input_ranges(entry_function(module))
    timings["import_s"] = time.perf_counter() - t0
    (out_dir / "imported.mlir").write_text(str(module))
    t0 = time.perf_counter()
    prepare_tensor_program(module)
    named = None
    layers = _describe_layers(module, model) if html else None
    if options.check_intermediates:  # the prepared program with its TFLite tensor names; the compiled one without
        named = copy_module(module)
    if tensor_names:
        run_pipeline(module, "builtin.module(strip-debuginfo)")
    macs = count_macs(module)
    search_result = None
    if options.plan:
        tiling = TilingPlan.load(options.plan)
    elif options.objective == "untiled":
        tiling = TilingPlan()
    else:
        search_result = _search(module, macs, options, target, out_dir)
        tiling = search_result.chosen.plan
    timings["search_s"] = search_result.seconds if search_result else 0.0
    with ctx:  # buffers named after their layers (memory/buffer_labels.py)
        tag_layers(entry_function(module).regions[0].blocks[0])
    untiled_layout = _untiled_layout(module, options) if html and not tiling.is_untiled else None
    # a plan the search chose has been applied in a worker already: here in this process
    lowered = lower(module, tiling, options.planner, options.alignment, simd32_kernels=target.has_dsp,
                    isolate_plan=search_result is None)
    plan = lowered.plan
    executed_macs = lowered.executed_macs
    timings["transform_and_plan_s"] = time.perf_counter() - t0
    log.info("arena %d bytes (lower bound %d) with the %s planner", plan.arena_bytes, plan.lower_bound_bytes,
             plan.planner)

    t0 = time.perf_counter()
    executable = WrapExecutable(executable_name=options.library_name).run(module)
    source, host_source = _write_sources(executable, out_dir, options.library_name)
    compiled = compile_library(source, out_dir, options.library_name, target, options.output_format,
                               options.iree_flags)
    sizes = compiled.sizes
    timings["iree_compile_s"] = time.perf_counter() - t0

    declared = _declared_signature(model, len(in_types), len(out_types))
    declared_in, declared_out = _declared_io(declared, len(in_types), len(out_types))
    inputs_info = [TensorInfo(b["name"], list(t.shape), str(t.element_type), b["offset"], b["bytes"], d)
                   for b, t, d in zip(plan.io("input"), in_types, declared_in)]
    outputs_info = [TensorInfo(b["name"], list(t.shape), str(t.element_type), b["offset"], b["bytes"], d)
                    for b, t, d in zip(plan.io("output"), out_types, declared_out)]
    report = {
        "model": str(model),
        "target": target.name,
        "objective": _objective(options).label if not options.plan else f"plan {options.plan}",
        "planner": plan.planner,
        "arena_bytes": plan.arena_bytes,
        "lower_bound_bytes": plan.lower_bound_bytes,
        "stack_bytes": None,
        "flash_code_bytes": sizes.code + sizes.tables,
        "flash_weight_bytes": sizes.weights,
        "object_ram_bytes": sizes.ram,
        "macs": macs,
        "executed_macs": executed_macs,
        "mac_overhead": round(executed_macs / macs - 1.0, 6) if macs else 0.0,
        "tiling_plan": tiling.to_json(),
        "search": None if search_result is None else {
            "rounds": search_result.rounds, "plans_scored": len(search_result.evaluations),
            "pareto": "pareto.json",  # its duration is timings.search_s: the rest of the report is reproducible
            "untiled_arena_bytes": search_result.untiled.arena_bytes},
        "qemu_instructions": None,
        "estimated_instructions": lowered.estimated_instructions,
        "estimated_code_bytes": lowered.estimated_code_bytes,
        "reference": None,
        "max_abs_diff": None,
        "host_max_abs_diff": None,
        "register_tiles": plan.register_tiles,
        "in_place_reuses": lowered.in_place,
        "shifted_aliases": plan.shifted_aliases,
        "alignment": plan.alignment,
        "inputs": [i.to_json() for i in inputs_info],
        "outputs": [o.to_json() for o in outputs_info],
        "buffers": plan.buffers,
        **compiled.report_fields(),
        "timings": timings,
        "how_measured": {
            "arena_bytes": ("planned arena (inputs, outputs, every intermediate and tile buffer), "
                            "checked by the verifier"),
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
            "loader_ram_bytes": "embedded-elf: span of the ELF's PT_LOAD segments (code, weights, tables), the "
                                "static RAM buffer the runner loads them into; 0 for static (runs from flash)",
        },
    }
    if html:  # what report.html shows beyond the rest of the report
        report["layers"] = layers
        report["layer_steps"] = plan.layer_steps
        if untiled_layout is not None:
            report["untiled_plan"] = {"arena_bytes": untiled_layout.arena_bytes, "buffers": untiled_layout.buffers,
                                      "layer_steps": untiled_layout.layer_steps}
        report["tflite_micro_arena_bytes"] = _tflite_micro_arena(model, in_types, declared, index_ranges, options)
    if options.plot:
        from .memory.plot import plot_arena
        plot_arena(plan.buffers, plan.arena_bytes, out_dir / "arena.png",
                   f"{model.stem}: arena {plan.arena_bytes} B, lower bound {plan.lower_bound_bytes} B ({plan.planner})",
                   plan.layer_steps)
        report["plot"] = "arena.png"
        if untiled_layout is not None:  # the layout before tiling, for comparison
            plot_arena(untiled_layout.buffers, untiled_layout.arena_bytes, out_dir / "arena_untiled.png",
                       f"{model.stem} untiled: arena {untiled_layout.arena_bytes} B", untiled_layout.layer_steps)
    if options.run:
        _run_and_check(report, model, out_dir, executable, host_source, options, target, inputs_info, outputs_info,
                       in_types, out_types, index_ranges, declared, named)
    (out_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    if html:
        from .report.html import write_report_html
        pareto = search_result.to_json() if search_result is not None else None
        write_report_html(report, pareto, out_dir / "report.html")
    return report


def _describe_layers(module, model: Path) -> list[dict]:
    from .importers.tflite_flatbuffer import read_tflite
    from .report.layers import describe_layers
    return describe_layers(module, read_tflite(model) if model.suffix.lower() == ".tflite" else None)


def _tflite_micro_arena(model: Path, in_types, declared, index_ranges, options: CompileOptions) -> int | None:
    """TFLite Micro's arena head for the model (None for a model it cannot run, or not a .tflite)."""
    if model.suffix.lower() != ".tflite" or declared is None:
        return None
    from .reference.inputs import random_inputs, tflite_input_ranges, tflite_shape_inputs
    from .reference.tflm import tflite_micro_arena_head
    inputs = random_inputs([(list(t.shape), str(t.element_type)) for t in in_types], options.seed,
                           tflite_input_ranges(declared), index_ranges, tflite_shape_inputs(declared))
    return tflite_micro_arena_head(model, inputs)


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


def _check_numbers(options: CompileOptions) -> None:
    """Numeric options, checked before anything is compiled or searched."""
    a = options.alignment
    if a < 1 or a & (a - 1):
        raise FdtError(f"--alignment must be a power of two (1, 2, 4, ..., 16 by default), got {a}")
    if options.checks < 1:
        raise FdtError(f"--checks must be at least 1, got {options.checks}")
    if options.search_time_s is not None and options.search_time_s <= 0:
        raise FdtError(f"--search-time must be positive, got {options.search_time_s:g}")
    if options.max_overhead is not None and options.max_overhead < 0:
        raise FdtError(f"--max-overhead must be 0 or more (0.25 allows +25 % MACs), got {options.max_overhead:g}")


def _require_intermediates_check(model: Path, options: CompileOptions) -> None:
    if model.suffix.lower() != ".tflite":
        raise FdtError(f"--check-intermediates compares with TFLite Micro's tensors: it needs a .tflite model, "
                       f"not {model.name}")
    if not options.run:
        raise FdtError("--check-intermediates runs the program: it needs --run host or --run qemu")


def _untiled_layout(module, options: CompileOptions):
    """The memory plan of the untiled program (a copy of `module` is lowered), for --plot."""
    return lower(copy_module(module), None, options.planner, options.alignment).plan


def _objective(options: CompileOptions):
    from .search.objectives import Objective
    if options.objective == "max-overhead":
        return Objective("max-overhead", max_overhead=options.max_overhead)
    if options.objective == "ram-budget":
        if options.ram_budget is None:
            raise FdtError("objective ram-budget needs a budget (--ram-budget 64KiB)")
        return Objective("ram-budget", ram_budget=options.ram_budget)
    return Objective(options.objective)


def _search(module, macs: int, options: CompileOptions, target, out_dir: Path):
    """Run the search, write pareto.json (and pareto.png with --plot); fail clearly when a RAM
    budget cannot be met, naming the smallest arena found."""
    from .search.driver import search
    objective = _objective(options)
    result = search(module, macs, objective, planner=options.planner, alignment=options.alignment,
                    time_budget_s=options.search_time_s, progress=options.progress,
                    simd32_kernels=target.has_dsp)
    (out_dir / "pareto.json").write_text(json.dumps(result.to_json(), indent=2) + "\n")
    if options.plot:
        from .search.plot import plot_pareto
        plot_pareto(result, out_dir / "pareto.png")
    if objective.kind == "ram-budget" and result.chosen.arena_bytes > objective.ram_budget:
        best = min((e for e in result.evaluations if e.ok), key=lambda e: e.arena_bytes)
        raise FdtError(f"no plan found fits the RAM budget of {objective.ram_budget} bytes: the smallest arena "
                       f"found is {best.arena_bytes} bytes (+{result.overhead(best):.0%} MACs, plan "
                       f"{json.dumps(best.plan.to_json()['paths'])}); see {out_dir / 'pareto.json'}")
    return result


def _reference_outputs(model: Path, inputs: list[np.ndarray], n_outputs: int,
                       out_dir: Path) -> tuple[str, list[np.ndarray], str | None]:
    """(reference name, outputs, why not TFLite Micro). A .tflite is checked against TFLite Micro, a .onnx
    against onnxruntime (never anything else: an ONNX model onnxruntime cannot run is an error); only a
    .tflite that TFLite Micro cannot run at all falls back to IREE's default compilation of the
    imported program, and the reason is kept (report.json `reference_note`, and a warning)."""
    from .reference.host import run_default_iree
    note = None
    if model.suffix.lower() == ".onnx":
        from .reference.ort import run_onnxruntime
        return "onnxruntime", run_onnxruntime(model, inputs), None
    if model.suffix.lower() == ".tflite":
        from .reference.tflm import run_tflite_micro
        try:
            return "tflite-micro", run_tflite_micro(model, inputs, n_outputs), None
        except FdtError as e:
            note = f"{e}; compared with IREE's default compilation of the imported program instead"
    vmfb = out_dir / "reference.vmfb"
    compile_host(out_dir / "imported.mlir", vmfb)  # always: one left by an earlier model in out_dir is stale
    return "iree-default", run_default_iree(vmfb, inputs), note


def _run_and_check(report: dict, model: Path, out_dir: Path, executable, source: Path, options: CompileOptions,
                   target, inputs_info, outputs_info, in_types, out_types, index_ranges, declared,
                   named=None) -> None:
    """Run `options.checks` seeded inputs (seed, seed+1, ...) on the host, and under QEMU with --run qemu;
    compare every output with the reference; record the worst difference. With `named` (the prepared
    program with TFLite tensor names), compare every intermediate tensor too (report `intermediates`)."""
    from .reference.host import run_arena_program
    from .importers.tflite_flatbuffer import TfliteModel
    from .reference.inputs import declared_input_ranges, numpy_dtype, random_inputs, tflite_shape_inputs
    if options.run not in ("host", "qemu"):
        raise FdtError(f"unknown --run '{options.run}'; choose host or qemu")
    out_dtypes = [numpy_dtype(str(t.element_type)) for t in out_types]
    ranges = declared_input_ranges(declared)
    fixed = tflite_shape_inputs(declared) if isinstance(declared, TfliteModel) else {}
    if fixed:  # inputs that only state a shape: given that shape in every check
        report["shape_inputs"] = {inputs_info[i].declared.get("name", inputs_info[i].name): v.tolist()
                                  for i, v in fixed.items()}
    if index_ranges:  # what the test inputs were drawn from, where it is not the default
        report["index_inputs"] = {inputs_info[i].declared.get("name", inputs_info[i].name): list(r)
                                  for i, r in index_ranges.items()}
    vmfb = compile_host(source, out_dir / f"{options.library_name}.host.vmfb", options.iree_flags)
    host_worst, qemu_worst, references, checked_inputs = 0.0, 0.0, [], []
    for k in range(max(1, options.checks)):
        seed = options.seed + k
        inputs = random_inputs([(list(t.shape), str(t.element_type)) for t in in_types], seed, ranges, index_ranges,
                               fixed)
        reference_name, expected, note = _reference_outputs(model, inputs, len(out_types), out_dir)
        expected = [np.asarray(e).reshape(o.shape) for e, o in zip(expected, outputs_info)]
        references.append(expected)
        checked_inputs.append(inputs)
        if k == 0:
            report["reference"] = reference_name
            if note:
                report["reference_note"] = note
                log.warning("%s", note)
            # The seeded inputs and the reference outputs, raw: a firmware's self-test vector
            # (cmake/MlirFdt.cmake TEST_VECTOR bakes them into <name>_test_vector.h).
            for i, x in enumerate(inputs):
                (out_dir / f"test_input{i}.bin").write_bytes(x.tobytes())
            for i, (e, d) in enumerate(zip(expected, out_dtypes)):
                (out_dir / f"test_expected{i}.bin").write_bytes(np.ascontiguousarray(e, dtype=d).tobytes())
        host_out = run_arena_program(vmfb, report["arena_bytes"],
                                     [(i.offset, x.tobytes()) for i, x in zip(inputs_info, inputs)],
                                     [(o.offset, o.bytes) for o in outputs_info])
        host_arrays = [np.frombuffer(b, d).reshape(o.shape) for b, d, o in zip(host_out, out_dtypes, outputs_info)]
        host_worst = max(host_worst, max(max_abs_diff(h, e) for h, e in zip(host_arrays, expected)))
        if options.run == "qemu":
            from .firmware.run import run_library_on_qemu
            result, outputs = run_library_on_qemu(out_dir / report["library"], report["library_query"], report,
                                                  [x.tobytes() for x in inputs], out_dir / "firmware", target)
            qemu_arrays = [np.frombuffer(b, d).reshape(o.shape) for b, d, o in zip(outputs, out_dtypes, outputs_info)]
            qemu_worst = max(qemu_worst, max(max_abs_diff(q, e) for q, e in zip(qemu_arrays, expected)))
            if k == 0:
                report["stack_bytes"] = result["stack_bytes"]
                report["qemu_instructions"] = result["instructions"]
                report["qemu_ticks"] = result["ticks"]
                if result.get("loader_instructions") is not None:
                    report["loader_instructions"] = result["loader_instructions"]
    report["checked_seeds"] = [options.seed + k for k in range(max(1, options.checks))]
    report["host_max_abs_diff"] = host_worst
    final = host_worst
    if options.run == "qemu":
        report["qemu_max_abs_diff"] = qemu_worst
        final = max(final, qemu_worst)
    report["max_abs_diff"] = final
    report["reference_output_varies"] = _varies(references)
    if report["reference_output_varies"] is False:
        log.warning("the reference output is the same for all %d seeded inputs: the check proves little "
                    "(saturated model, or inputs outside the range it was trained on)", len(references))
    is_float = any(np.issubdtype(d, np.floating) for d in out_dtypes)
    scale = max(1.0, max(float(np.max(np.abs(e))) for e in references[0] if e.size)) if is_float else 1.0
    report["tolerance"] = FLOAT_TOLERANCE * scale if is_float else 0
    steps = [s for s in declared.output_steps() if s] if hasattr(declared, "output_steps") else []
    if steps:  # a QDQ model's dequantized output: one step (importers/onnx_qdq.py says why)
        report["tolerance"] = max(report["tolerance"], max(steps))
        report["tolerance_note"] = QDQ_TOLERANCE_NOTE
    report["match"] = final <= report["tolerance"]
    if named is not None:
        _check_intermediates(report, named, model, declared, checked_inputs, out_dir, options)


def _check_intermediates(report: dict, named, model: Path, declared, checked_inputs: list, out_dir: Path,
                         options: CompileOptions) -> None:
    """report `intermediates`: every intermediate tensor of the untiled program against TFLite Micro's."""
    from .reference.intermediates import check_intermediates
    if report["reference"] != "tflite-micro" or declared is None:
        why = report.get("reference_note") or "the model's signature differs from the imported program's"
        report["intermediates"] = {"compared": 0, "not_checked": f"no TFLite Micro tensors to compare with: {why}"}
        log.warning("intermediates not checked: %s", report["intermediates"]["not_checked"])
        return
    t0 = time.perf_counter()
    check = check_intermediates(named, model, declared, checked_inputs, out_dir, options.alignment,
                                options.iree_flags, FLOAT_TOLERANCE)
    report["timings"]["intermediates_s"] = time.perf_counter() - t0
    report["intermediates"] = check.to_json()  # a mismatch: the CLI names the first one and exits 3


def _varies(references: list[list[np.ndarray]]) -> bool | None:
    """Whether any output differs between seeds (None with a single seed: unknown)."""
    if len(references) < 2:
        return None
    return any(not np.array_equal(r[j], references[0][j]) for r in references[1:] for j in range(len(r)))
