"""iree-compile command lines (pure functions) and their invocation."""

from __future__ import annotations

from pathlib import Path

from ..external import find_tool, invoke
from ..targets import Target


def host_command(source: Path, output: Path, extra_flags: list[str] = ()) -> list[str]:
    """Compile for this machine, runnable by `iree.runtime` (local-sync device)."""
    return [find_tool("iree-compile"), str(source), "--iree-hal-target-device=local",
            "--iree-hal-local-target-device-backends=llvm-cpu", "--iree-llvmcpu-target-cpu=host",
            *extra_flags, "-o", str(output)]


def static_library_command(source: Path, library: Path, target: Target, extra_flags: list[str] = ()) -> list[str]:
    """Compile for a Cortex-M target as a static library object plus header (`library.o`, `library.h`)."""
    return [find_tool("iree-compile"), str(source), "--iree-hal-target-device=local",
            "--iree-hal-local-target-device-backends=llvm-cpu",
            f"--iree-llvmcpu-target-triple={target.triple}", f"--iree-llvmcpu-target-cpu={target.cpu}",
            f"--iree-llvmcpu-target-cpu-features={target.features}", f"--iree-llvmcpu-target-abi={target.abi}",
            # Explicit: without it a soft-float triple still gets the hard-float calling convention
            # ("calling convention is hard-float, but floating-point registers are unavailable").
            f"--iree-llvmcpu-target-float-abi={target.float_abi}",
            "--iree-llvmcpu-link-embedded=false", "--iree-llvmcpu-link-static",
            f"--iree-llvmcpu-static-library-output-path={library}", *extra_flags, "-o", "/dev/null"]


def beside_source(source: Path) -> tuple[Path, Path]:
    """(working directory, source path) to run iree-compile with: the source's own directory and
    its bare name. IREE stores the source's name as given in the executable's source-location
    table (`.rodata`, so flash) and in DWARF; a full path would make the library depend on the
    output directory, and two compiles of one model into two directories differ. (Relative paths
    in extra flags are then relative to that directory.)"""
    source = Path(source).resolve()
    return source.parent, Path(source.name)


def compile_host(source: Path, output: Path, extra_flags: list[str] = ()) -> Path:
    cwd, name = beside_source(source)
    invoke(host_command(name, Path(output).resolve(), extra_flags), tool="iree-compile", cwd=cwd)
    return output


def compile_static_library(source: Path, library: Path, target: Target, extra_flags: list[str] = ()) -> Path:
    cwd, name = beside_source(source)
    invoke(static_library_command(name, Path(library).resolve(), target, extra_flags), tool="iree-compile",
           hint="the IREE flags are passed through unchanged; check them with `iree-compile --help`", cwd=cwd)
    return library


def statistics_command(source: Path, statistics: Path, target: Target) -> list[str]:
    """IREE's default compilation of `source` for `target`, writing its scheduling statistics as CSV (no
    library: the figure wanted is the transient memory IREE's own allocator plans)."""
    return [find_tool("iree-compile"), str(source), "--iree-hal-target-device=local",
            "--iree-hal-local-target-device-backends=llvm-cpu",
            # triple and CPU only, as the README's reference figures were measured (the memory plan does
            # not depend on the code generation flags)
            f"--iree-llvmcpu-target-triple={target.triple}", f"--iree-llvmcpu-target-cpu={target.cpu}",
            "--iree-scheduling-dump-statistics-format=csv", f"--iree-scheduling-dump-statistics-file={statistics}",
            "--compile-to=executable-sources", "-o", "/dev/null"]  # the plan is made by then: no code needed


def iree_default_transient_bytes(source: Path, target: Target) -> int:
    """"Transient Size" of IREE's default compilation of the imported program (its own buffer planning of
    every intermediate tensor; the input and output, which the caller allocates, not included): the
    figure ../shared/models/README.md gives as "IREE default transient"."""
    import csv
    import tempfile
    with tempfile.TemporaryDirectory(prefix="mlir-fdt-iree-stats-") as tmp:
        stats = Path(tmp) / "statistics.csv"
        invoke(statistics_command(Path(source).resolve(), stats, target), tool="iree-compile")
        rows = [r for r in csv.reader(line for line in stats.read_text().splitlines()
                                      if line and not line.startswith(";"))]
    header = next(i for i, r in enumerate(rows) if "Transient Size" in r)
    return int(rows[header + 1][rows[header].index("Transient Size")])
