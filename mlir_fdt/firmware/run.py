"""Build the runner for a compiled model and run one inference under QEMU."""

from __future__ import annotations

from pathlib import Path

from ..errors import FdtError
from ..targets import Target
from .build import build_firmware, run_qemu


def run_library_on_qemu(library: Path, library_query: str, report: dict, input_bytes: bytes, work_dir: Path,
                        target: Target, undersize: int = 0, timeout: float = 600) -> tuple[dict, bytes]:
    """(firmware result line as a dict, output bytes) for one inference of `library` on `input_bytes`.

    `report["format"]` (default static) says whether `library` is a static library object or an
    embedded ELF the runner loads into RAM."""
    if target.board is None:
        raise FdtError(f"target {target.name} has no QEMU board to run on; compile without --run qemu "
                       f"(or --run host) and link the static library into your own firmware")
    (inp,), (out,) = report["inputs"], report["outputs"]
    elf = build_firmware(library, library_query, report["arena_bytes"], inp["offset"], inp["bytes"],
                         out["offset"], out["bytes"], work_dir, undersize=undersize, target=target,
                         model_format=report.get("format", "static"))
    result, output = run_qemu(elf, input_bytes, work_dir, timeout=timeout, target=target)
    if result.get("status") != "ok":
        raise FdtError(f"the firmware failed under QEMU: {result.get('reason', result)}")
    if result["arena_bytes"] != report["arena_bytes"]:
        raise FdtError(f"the firmware's arena ({result['arena_bytes']} B) differs from the plan "
                       f"({report['arena_bytes']} B)")
    if result["loader_ram_bytes"] != report.get("loader_ram_bytes", 0):
        raise FdtError(f"the firmware's loaded image takes {result['loader_ram_bytes']} B of RAM, the ELF's "
                       f"load span says {report.get('loader_ram_bytes', 0)} B")
    return result, output
