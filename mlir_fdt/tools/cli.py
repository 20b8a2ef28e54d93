"""`mlir-fdt`: compile a model for a Cortex-M target, optionally run it under QEMU and check it."""

from __future__ import annotations

import argparse
import logging
import sys
import traceback

from ..diagnostics import first_diagnostic
from ..errors import FdtError, InternalError

log = logging.getLogger("mlir_fdt")


def build_parser() -> argparse.ArgumentParser:
    from ..codegen.library import OUTPUT_FORMATS
    from ..compiler import OBJECTIVES
    from ..memory.planner import PLANNERS
    from ..targets import TARGETS
    parser = argparse.ArgumentParser(prog="mlir-fdt", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks on errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each pipeline step")
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("compile", help="compile a model (.tflite, .onnx, .mlir, .mlirbc) into a static library")
    c.add_argument("model", help="model file: TFLite flatbuffer, ONNX model, or TOSA/linalg MLIR text or bytecode")
    c.add_argument("-o", "--output", required=True, help="output directory (library, header, report.json)")
    c.add_argument("--target", default="cortex-m4", help=f"target core: {', '.join(sorted(TARGETS))} "
                                                          "(default cortex-m4)")
    c.add_argument("--objective", default="min-ram", choices=OBJECTIVES,
                   help="min-ram (default): least arena with no extra MACs; max-overhead: least arena within "
                        "--max-overhead extra MACs and extra estimated instructions; ram-budget: fewest estimated "
                        "instructions within --ram-budget; untiled: no tiling")
    c.add_argument("--max-overhead", type=float, metavar="FRACTION",
                   help="allowed extra MACs and extra estimated instructions over the untiled program, e.g. "
                        "0.25 for +25%% (implies --objective max-overhead)")
    c.add_argument("--ram-budget", metavar="BYTES",
                   help="arena budget, e.g. 64KiB or 65536 (implies --objective ram-budget); exits non-zero "
                        "with the best arena found when nothing fits")
    c.add_argument("--search-time", type=float, default=240.0, metavar="SECONDS",
                   help="time budget of the plan search (default 240)")
    c.add_argument("--planner", default="best", choices=sorted(PLANNERS),
                   help="arena layout: best (default: the smaller of greedy and optimal), optimal (CP-SAT), "
                        "greedy (TFLite Micro's algorithm), linear (no reuse)")
    c.add_argument("--alignment", type=int, default=16, help="byte alignment of every buffer in the arena")
    c.add_argument("--run", choices=["host", "qemu"],
                   help="also run one inference on a seeded random input and compare it with the reference "
                        "(TFLite Micro for .tflite): on the host (iree.runtime), or the --target's firmware under QEMU "
                        "(then the host build too only when QEMU's output differs, to tell where the fault is)")
    c.add_argument("--check-intermediates", action="store_true",
                   help="with --run on a .tflite: also compare every intermediate tensor the untiled program "
                        "keeps whole with TFLite Micro's (a host variant that returns them), naming the first "
                        "wrong layer (report.json `intermediates`; exit 3 on a mismatch)")
    c.add_argument("--profile", action="store_true",
                   help="with --run qemu: also run a copy of the program that reads SysTick around each layer's "
                        "loop nest (report.json `layer_profile`: instructions per layer; the library written "
                        "is not instrumented)")
    c.add_argument("--stream-input", action="store_true",
                   help="the application delivers the model input a row at a time through a callback "
                        "(fdt_read_input_row, an import of the library), so the input is never whole in RAM; "
                        "needs a plan that streams the layers reading it (the default objective finds one); "
                        "checked with --run qemu")
    c.add_argument("--plan", help="tiling plan (JSON, see mlir_fdt/plan.py) to apply; default: untiled")
    c.add_argument("--emit-plan", metavar="FILE", help="write the tiling plan actually used to FILE")
    c.add_argument("--plot", action="store_true", help="write OUTDIR/arena.png (every buffer over time), "
                                                        "pareto.png and report.html")
    c.add_argument("--report", action="store_true", dest="report_html",
                   help="write OUTDIR/report.html: arena, plan and cost by layer, one self-contained page")
    c.add_argument("--seed", type=int, default=0, help="seed of the first random input for --run")
    c.add_argument("--checks", type=int, default=3, metavar="N",
                   help="--run: check N seeded inputs (seed, seed+1, ...; default 3); integer inputs are drawn "
                        "over their type's range, float inputs over the range their QUANTIZE maps")
    c.add_argument("--library-name", default="fdt_model",
                   help="C symbol prefix of the library (`<name>_library_query`)")
    c.add_argument("--format", default="static", choices=OUTPUT_FORMATS, dest="output_format",
                   help="static (default): an IREE static library object + header, run from flash; "
                        "embedded-elf: IREE's position-independent ELF, loaded into RAM by the runner")
    c.add_argument("--iree-flag", action="append", default=[], dest="iree_flags", metavar="FLAG",
                   help="extra flag passed unchanged to iree-compile (repeatable)")
    from .targets_cmd import add_targets_parser
    add_targets_parser(sub)
    from .fuzz_cmd import add_fuzz_parser
    add_fuzz_parser(sub)
    return parser


def _print_summary(report: dict) -> None:
    keys = ["model", "target", "objective", "planner", "arena_bytes", "lower_bound_bytes", "stack_bytes",
            "flash_code_bytes", "flash_weight_bytes", "loader_ram_bytes", "macs", "mac_overhead",
            "qemu_instructions", "reference", "max_abs_diff"]
    width = max(len(k) for k in keys)
    for k in keys:
        print(f"{k:<{width}}  {report.get(k)}")
    if report.get("reference_note"):
        print(f"{'':<{width}}  ({report['reference_note']})")
    checked = report.get("intermediates")
    if checked is not None:
        reasons = ", ".join(f"{v} {k}" for k, v in checked.get("skipped_by_reason", {}).items()) or "none"
        text = (checked["not_checked"] if "not_checked" in checked else
                f"{checked['compared']} compared, {len(checked['mismatches'])} differ, {checked['skipped']} "
                f"without a value of their own ({reasons})")
        print(f"{'intermediates':<{width}}  {text}")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="mlir-fdt: %(message)s")
    try:
        if args.command == "targets":
            from .targets_cmd import run_targets
            return run_targets(args)
        if args.command == "fuzz":
            from .fuzz_cmd import run_fuzz
            return run_fuzz(args)
        if args.command == "compile":
            from ..compiler import CompileOptions, compile_model
            from ..search.objectives import parse_bytes
            objective, max_overhead, ram_budget = args.objective, 0.0, None
            if args.max_overhead is not None:  # checked with the other numbers by compile_model
                objective, max_overhead = "max-overhead", args.max_overhead
            if args.ram_budget is not None:
                objective, ram_budget = "ram-budget", parse_bytes(args.ram_budget)
            options = CompileOptions(target=args.target, objective=objective, max_overhead=max_overhead,
                                     ram_budget=ram_budget, search_time_s=args.search_time, progress=True,
                                     planner=args.planner,
                                     alignment=args.alignment, run=args.run, seed=args.seed, checks=args.checks,
                                     library_name=args.library_name, iree_flags=args.iree_flags,
                                     plot=args.plot, report_html=args.report_html,
                                     output_format=args.output_format, plan=args.plan,
                                     check_intermediates=args.check_intermediates, profile=args.profile,
                                     stream_input=args.stream_input)
            report = compile_model(args.model, args.output, options)
            if args.emit_plan:
                report.tiling.save(args.emit_plan)
            _print_summary(report.to_json())
            failures = report.failures()
            if failures:
                print(f"error: {failures[0]}", file=sys.stderr)
                for line in failures[1:]:  # indented: the same error, continued
                    print(f"  {line}", file=sys.stderr)
                return 3
            return 0
    except InternalError as e:
        if args.debug:
            traceback.print_exc()
        print(f"internal error: {e} (rerun with --debug for the traceback)", file=sys.stderr)
        return e.exit_code
    except FdtError as e:
        if args.debug:
            traceback.print_exc()
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except OSError as e:  # a path given on the command line cannot be read or written
        if args.debug:
            traceback.print_exc()
        print(f"error: {e.filename + ': ' if e.filename else ''}{e.strerror or e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a bug: say so briefly, details with --debug
        if args.debug:
            traceback.print_exc()
        print(f"internal error: {type(e).__name__}: {first_diagnostic(e)} (rerun with --debug for the traceback)",
              file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
