"""One wrapper for every external tool: pure command-line builders elsewhere, one `invoke` here.

`MLIR_FDT_SAVE_TEMPS=DIR` keeps every command line (and the tools' outputs stay in the
output directory the caller chose).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .errors import FdtError, ToolError, ToolMissing

log = logging.getLogger(__name__)

INSTALL_HINTS = {
    "arm-none-eabi-gcc": "install it with `sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi` "
                         "(or run scripts/setup.sh)",
    "arm-none-eabi-size": "it comes with the Arm toolchain: `sudo apt-get install gcc-arm-none-eabi` "
                          "(or run scripts/setup.sh)",
    "qemu-system-arm": "install it with `sudo apt-get install qemu-system-arm` (or run scripts/setup.sh)",
    "cmake": "install it with `sudo apt-get install cmake ninja-build` (or run scripts/setup.sh)",
    "ninja": "install it with `sudo apt-get install ninja-build` (or run scripts/setup.sh)",
    "iree-compile": "install it with `pip install iree-base-compiler==3.13.*` (or run scripts/setup.sh)",
    "tosa-converter-for-tflite": "install it with `pip install tosa-converter-for-tflite` (or run scripts/setup.sh)",
    "iree-lld": "it ships inside `pip install iree-base-compiler==3.13.*` (or run scripts/setup.sh)",
}
# Tools the iree-base-compiler package keeps inside itself rather than in the venv's bin.
IREE_BUILTIN_TOOLS = ("iree-lld",)


def find_tool(name: str) -> str:
    """Absolute path of `name`, looking next to the running Python first (the venv's bin)."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if not found and name in IREE_BUILTIN_TOOLS:
        found = _iree_builtin_tool(name)
    if not found:
        raise ToolMissing(name, INSTALL_HINTS.get(name, "install it and put it on PATH"))
    return found


def require_tools(names: tuple[str, ...], purpose: str) -> None:
    """Fail before a long compile, not after it, when a later step needs tools that are missing:
    one line naming every missing tool with its install hint."""
    missing = []
    for name in names:
        try:
            find_tool(name)
        except ToolMissing:
            missing.append(name)
    if missing:
        hints = "; ".join(f"{name}: {INSTALL_HINTS.get(name, 'install it and put it on PATH')}" for name in missing)
        raise FdtError(f"{purpose} needs {', '.join(missing)}, not found on PATH; {hints}")


def _iree_builtin_tool(name: str) -> str | None:
    try:
        from iree.compiler.tools.binaries import find_tool as iree_find_tool
        return iree_find_tool(name)
    except (ImportError, ValueError):
        return None


def invoke(command: list[str], *, tool: str | None = None, hint: str = "", timeout: float | None = None,
           input_bytes: bytes | None = None, cwd: str | Path | None = None) -> subprocess.CompletedProcess:
    """Run `command`; raise ToolError carrying the command and stderr when it fails."""
    tool = tool or Path(command[0]).name
    log.debug("running: %s", " ".join(map(str, command)))
    save = os.environ.get("MLIR_FDT_SAVE_TEMPS")
    if save:
        Path(save).mkdir(parents=True, exist_ok=True)
        with open(Path(save) / "commands.sh", "a") as f:
            f.write(" ".join(map(str, command)) + "\n")
    try:
        proc = subprocess.run([str(c) for c in command], capture_output=True, timeout=timeout,
                              input=input_bytes, cwd=cwd)
    except subprocess.TimeoutExpired as e:
        raise ToolError(tool, -1, [str(c) for c in command], f"timed out after {timeout} s", hint) from e
    if proc.returncode != 0:
        raise ToolError(tool, proc.returncode, [str(c) for c in command],
                        proc.stderr.decode(errors="replace") + proc.stdout.decode(errors="replace")[-2000:], hint)
    return proc
