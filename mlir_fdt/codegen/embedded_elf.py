"""iree-compile into IREE's embedded-ELF form: a position-independent ELF32 shared object.

The firmware loads that image into RAM (runner/fdt_elf_loader.c), so its span is RAM. iree-lld
aligns segments to 64 KiB pages by default, which would cost a Cortex-M up to 128 KiB of gaps;
`--iree-llvmcpu-embedded-linker-path` takes a program, so a two-line shell wrapper around
iree-lld appends `-z max-page-size=16 -z common-page-size=16 -z norelro` (norelro drops the
padding that rounds the RELRO segment up to a page). The ELF itself comes out of the
compilation through `--iree-hal-dump-executable-binaries-to`: `--compile-mode=hal-executable`
rejects our input, whose host function `run` dispatches the executable.
"""

from __future__ import annotations

import logging
import re
import shlex
import shutil
import tempfile
from pathlib import Path

from ..errors import FdtError, ToolError
from ..external import find_tool, invoke
from ..targets import Target
from .iree_compile import beside_source

log = logging.getLogger(__name__)

SMALL_PAGE_FLAGS = ("-z", "max-page-size=16", "-z", "common-page-size=16", "-z", "norelro")
WRAPPER_NAME = "iree-lld-small-pages"
_UNDEFINED = re.compile(r"iree-lld: error: undefined symbol: (\S+)")


def _undefined_symbols_error(error: ToolError, target: Target) -> FdtError | None:
    """iree-lld links the embedded ELF with no runtime library, so a helper call that a static link
    takes from libgcc (e.g. `__aeabi_lmul` for 64-bit arithmetic on ARMv6-M) is fatal; say so
    plainly instead of ending the message with the tail of IREE's IR dump."""
    symbols = sorted(set(_UNDEFINED.findall(error.stderr)))
    if not symbols:
        return None
    return FdtError(f"the embedded ELF for {target.name} needs runtime helpers that IREE's embedded linker does "
                    f"not provide ({', '.join(symbols)}); use --format static, whose firmware link supplies "
                    "them from libgcc")


def linker_wrapper_text(iree_lld: str, flags: tuple[str, ...] = SMALL_PAGE_FLAGS) -> str:
    """A POSIX shell script running iree-lld with iree-compile's arguments followed by `flags`
    (later -z options win, so `-z norelro` overrides IREE's `-z relro`)."""
    return f"#!/bin/sh\nexec {shlex.quote(iree_lld)} \"$@\" {' '.join(map(shlex.quote, flags))}\n"


def write_linker_wrapper(directory: Path, flags: tuple[str, ...] = SMALL_PAGE_FLAGS) -> Path:
    path = directory / WRAPPER_NAME
    path.write_text(linker_wrapper_text(find_tool("iree-lld"), flags))
    path.chmod(0o755)
    return path


def embedded_elf_command(source: Path, dump_dir: Path, target: Target, linker: Path | None,
                         extra_flags: list[str] = ()) -> list[str]:
    """Compile `source` for `target`, dumping each executable's ELF into `dump_dir` (the VM module
    itself is discarded). Debug symbols are off: the whole file is stored in flash.
    `linker=None` keeps IREE's own iree-lld (64 KiB pages)."""
    command = [find_tool("iree-compile"), str(source), "--iree-hal-target-device=local",
               "--iree-hal-local-target-device-backends=llvm-cpu",
               f"--iree-llvmcpu-target-triple={target.triple}", f"--iree-llvmcpu-target-cpu={target.cpu}",
               f"--iree-llvmcpu-target-cpu-features={target.features}", f"--iree-llvmcpu-target-abi={target.abi}",
               f"--iree-llvmcpu-target-float-abi={target.float_abi}",
               "--iree-llvmcpu-link-embedded=true", "--iree-llvmcpu-debug-symbols=false",
               f"--iree-hal-dump-executable-binaries-to={dump_dir}"]
    if linker is not None:
        command.append(f"--iree-llvmcpu-embedded-linker-path={linker}")
    return [*command, *extra_flags, "-o", "/dev/null"]


def compile_embedded_elf(source: Path, output: Path, target: Target, extra_flags: list[str] = (),
                         small_pages: bool = True) -> Path:
    """Write the embedded ELF of the single executable in `source` to `output`."""
    with tempfile.TemporaryDirectory(prefix="mlir-fdt-elf-") as tmp:
        tmp_dir = Path(tmp)
        linker = write_linker_wrapper(tmp_dir) if small_pages else None
        dump_dir = tmp_dir / "binaries"
        try:
            cwd, name = beside_source(source)  # no output-directory path in the image
            invoke(embedded_elf_command(name, dump_dir, target, linker, extra_flags), tool="iree-compile",
                   hint="the IREE flags are passed through unchanged; check them with `iree-compile --help`",
                   cwd=cwd)
        except ToolError as error:
            raise _undefined_symbols_error(error, target) or error from error
        found = sorted(dump_dir.glob("*.so")) if dump_dir.is_dir() else []
        if len(found) != 1:
            raise FdtError(f"expected one embedded ELF from iree-compile, found {len(found)} "
                           f"({', '.join(p.name for p in found) or 'none'}); is the output format embedded?")
        shutil.copyfile(found[0], output)
    log.info("embedded ELF %s (%d bytes)", output, output.stat().st_size)
    return output
