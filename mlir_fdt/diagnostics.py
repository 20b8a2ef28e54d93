"""MLIR diagnostics as one `FILE:LINE:COL: message` line, the form compilers and editors use.

The bindings raise `MLIRError` with a generic headline ("Unable to parse module assembly")
and the real diagnostics attached; printed whole they span lines and, for text parsed from a
string, name the file `"-"`. The CLI promises one line: the first error, at its location.
"""

from __future__ import annotations

import re

from .ir import ir

_FILE_LOC = re.compile(r'loc\("(?P<file>[^"]*)":(?P<line>\d+):(?P<col>\d+)')
_LEGALIZE = re.compile(r"^(failed to legalize operation '[^']+'): .*$")


def location_text(location: ir.Location | str, fallback: str) -> str:
    """`file:line:col` of the first file location inside `location` (fused and call-site
    locations included), or `fallback` when it has none or names the unnamed buffer "-"."""
    m = _FILE_LOC.search(str(location))
    if m is None:
        return fallback
    file = fallback if m["file"] in ("-", "") else m["file"]
    return f"{file}:{m['line']}:{m['col']}"


def one_line(error: ir.MLIRError, fallback: str) -> str:
    """The first error diagnostic of `error` as `location: message` on one line."""
    diagnostics = list(error.error_diagnostics)
    if not diagnostics:
        return f"{fallback}: {' '.join(str(error.message).split())}"
    first = diagnostics[0]
    message = " ".join(first.message.split())
    message = _LEGALIZE.sub(r"\1", message)  # the op's generic form adds nothing to its name and location
    return f"{location_text(first.location, fallback)}: {message}"


def first_diagnostic(error: BaseException) -> str:
    """One line that says what went wrong: an MLIR error's first diagnostic with its location (not
    the headline "Failure while executing pass pipeline", nor the last line of an IR dump)."""
    if getattr(error, "error_diagnostics", None):
        return one_line(error, "unknown location")
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
