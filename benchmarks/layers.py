"""Per-layer speed: each loop nest of a model's compiled program run alone under QEMU. Prints a table,
writes JSON.

    .venv/bin/python benchmarks/layers.py ../shared/models/kws_int8.tflite [--target cortex-m4]
                                          [--json benchmarks/results/layers_kws_int8.json]

How each figure is obtained: the model is compiled as `mlir-fdt compile --objective untiled` does; then,
for each top-level loop nest of the lowered program (one layer, its epilogue fused), a copy of the
program keeping only that nest is compiled for the target and run under QEMU on a seeded input; its
instruction count (SysTick under `-icount shift=0`, a resolution of 40 instructions) minus that of a
copy with no nest at all (the dispatch itself) is the nest's. The nest's instructions do not depend on
the data it reads (no data-dependent branch in the kernels), so the figures add up to the whole
program's within the counter's resolution. Kind: whether the nest uses the SIMD32 kernels or a
peeled padded window.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mlir_fdt.analysis.layers import top_level_nests  # noqa: E402
from mlir_fdt.codegen.library import compile_library  # noqa: E402
from mlir_fdt.codegen.profile_nests import describe_nest  # noqa: E402
from mlir_fdt.codegen.wrap_executable import wrap_as_executable  # noqa: E402
from mlir_fdt.firmware.run import ModelInterface, run_library_on_qemu  # noqa: E402
from mlir_fdt.importers import import_model  # noqa: E402
from mlir_fdt.ir import copy_module, entry_function, new_context  # noqa: E402
from mlir_fdt.kernels.simd32 import UseArmDsp, uses_simd32  # noqa: E402
from mlir_fdt.pipeline import lower, prepare_tensor_program  # noqa: E402
from mlir_fdt.targets import get_target  # noqa: E402


def _top_level_nests(module) -> list:
    return top_level_nests(entry_function(module))


def _instructions(module, keep: int | None, work: Path, target, interface: ModelInterface) -> int:
    variant = copy_module(module)
    with variant.context:
        for i, nest in reversed(list(enumerate(_top_level_nests(variant)))):  # users before producers
            if i != keep and not any(list(r.uses) for r in nest.results):
                nest.erase()  # (a nest whose results a kept nest uses stays: part of every variant)
        executable = wrap_as_executable(variant, "fdt_layer")
        if uses_simd32(executable):
            UseArmDsp().apply(executable)
    source = work / "fdt_layer.mlir"
    source.write_text(str(executable))
    compiled = compile_library(source, work, "fdt_layer", target)
    inputs = [bytes(size) for _, size in interface.inputs]
    result, _ = run_library_on_qemu(compiled.path, compiled.library_query, interface, inputs, work / "fw", target)
    return result["instructions"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--target", default="cortex-m4")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    target = get_target(args.target)
    ctx = new_context()
    module = import_model(args.model, ctx)
    prepare_tensor_program(module)
    lowered = lower(module, None, kernels=target.kernels)
    plan = lowered.plan
    interface = ModelInterface(plan.arena_bytes, [(b.offset, b.bytes) for b in plan.io("input")],
                               [(b.offset, b.bytes) for b in plan.io("output")])
    rows = []
    with tempfile.TemporaryDirectory() as tmp, ctx:
        work = Path(tmp)
        base = _instructions(module, -1, work, target, interface)
        for i, nest in enumerate(_top_level_nests(module)):
            instructions = _instructions(module, i, work, target, interface) - base
            rows.append({"nest": i, "kind": describe_nest(nest), "instructions": instructions})
            print(f"nest {i}: {instructions:,}", file=sys.stderr, flush=True)
    total = sum(r["instructions"] for r in rows)
    print(f"| nest | kind | instructions ({args.target}) | share |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['nest']} | {r['kind']} | {r['instructions']:,} | {100 * r['instructions'] / total:.1f} % |")
    print(f"| all | | {total:,} | |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"model": args.model.name, "target": args.target, "rows": rows,
                                         "dispatch_instructions": base, "how_measured": __doc__}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
