"""`mlir-fdt targets`: the target table, as a summary for people or as JSON for build systems.

cmake/MlirFdt.cmake reads the JSON, so a firmware project gets -mcpu/-mfpu/-mfloat-abi, the
board's linker script and the QEMU command line from mlir_fdt/targets.py, the one table,
instead of a copy of it.
"""

from __future__ import annotations

import argparse
import json

from ..firmware.build import RUNNER_DIR
from ..targets import TARGETS, Target, get_target


def add_targets_parser(sub: argparse._SubParsersAction) -> None:
    """Register the `targets` subcommand."""
    t = sub.add_parser("targets", help="list the --target names: code generation, firmware flags, QEMU board")
    t.add_argument("names", nargs="*", metavar="TARGET", help="only these targets (default: all)")
    t.add_argument("--json", action="store_true", help="machine-readable: one JSON object per target, in a list")


def target_facts(target: Target) -> dict:
    """Everything a build system needs to know about `target`, as plain JSON values."""
    board = target.board
    return {
        "name": target.name,
        "iree": {"triple": target.triple, "cpu": target.cpu, "features": target.features, "abi": target.abi,
                 "float_abi": target.float_abi},
        "gcc": {"cpu": target.gcc_cpu, "fpu": target.gcc_fpu or "none", "float_abi": target.float_abi},
        "board": None if board is None else {
            "machine": board.machine,
            "cpu": board.cpu,
            "qemu_args": ["-M", board.machine, "-cpu", board.cpu, *board.extra_args],
            "linker_script": str(RUNNER_DIR / board.linker_script),
            "runner_dir": str(RUNNER_DIR),
            "instructions_per_tick": [board.instructions_per_tick.numerator, board.instructions_per_tick.denominator],
            "note": board.note,
        },
    }


def run_targets(args: argparse.Namespace) -> int:
    """Print the table (or the JSON list); an unknown name is an FdtError like `--target`'s."""
    targets = [get_target(name) for name in args.names] if args.names else list(TARGETS.values())
    if args.json:
        print(json.dumps([target_facts(t) for t in targets], indent=2))
        return 0
    rows = [("target", "triple", "gcc flags", "QEMU board")]
    for t in targets:
        fpu = f" -mfpu={t.gcc_fpu}" if t.gcc_fpu else ""
        board = f"{t.board.machine} ({t.board.note})" if t.board and t.board.note else (
            t.board.machine if t.board else "none: compile only")
        rows.append((t.name, t.triple, f"-mcpu={t.gcc_cpu}{fpu} -mfloat-abi={t.float_abi}", board))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        print("  ".join(f"{c:<{w}}" for c, w in zip(r, widths)) + "  " + r[3])
    return 0
