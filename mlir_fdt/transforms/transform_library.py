"""Loading the transform-dialect libraries in `passes/` and running a generated entry sequence."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import FdtError
from ..ir import ir, transform_interpreter

PASSES_DIR = Path(__file__).resolve().parents[2] / "passes"


def library_text(name: str) -> str:
    """The body (named sequences) of `passes/<name>.mlir`, without its outer module."""
    path = PASSES_DIR / f"{name}.mlir"
    if not path.exists():  # installed as a wheel: the libraries are package data
        path = Path(__file__).resolve().parent / "library" / f"{name}.mlir"
    text = path.read_text()
    header = re.search(r"module attributes \{[^}]*\}\s*\{", text)
    if header is None:
        raise FdtError(f"{path}: expected `module attributes {{transform.with_named_sequence}} {{`")
    return text[header.end(): text.rindex("}")]


def run_transform_script(payload: ir.Module, libraries: list[str], main_body: str) -> None:
    """Parse `libraries` plus a generated `__transform_main` with `main_body`, and apply it."""
    text = ("module attributes {transform.with_named_sequence} {\n"
            + "\n".join(library_text(lib) for lib in libraries)
            + "\n  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {\n"
            + main_body + "\n    transform.yield\n  }\n}\n")
    with payload.context:
        script = ir.Module.parse(text)
        entry = next(op for op in script.body.operations
                     if op.operation.name == "transform.named_sequence"
                     and ir.StringAttr(op.attributes["sym_name"]).value == "__transform_main")
        try:
            transform_interpreter.apply_named_sequence(payload.operation, entry, script)
        except (ir.MLIRError, ValueError) as e:  # the interpreter raises ValueError with diagnostics
            raise FdtError(f"transform script failed: {e}") from None
