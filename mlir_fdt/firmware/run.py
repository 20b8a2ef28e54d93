"""Build the runner for a compiled model and run one inference under QEMU."""

from __future__ import annotations

from pathlib import Path

from ..errors import FdtError
from ..targets import Target
from .build import build_firmware, run_qemu


def run_library_on_qemu(library: Path, library_query: str, report: dict, inputs: list[bytes], work_dir: Path,
                        target: Target, undersize: int = 0, timeout: float = 600) -> tuple[dict, list[bytes]]:
    """(firmware result line as a dict, [bytes of every output]) for one inference of `library`
    on `inputs` (one buffer per model input, in the model's order).

    `report["inputs"]` / `report["outputs"]` give each buffer's "offset" and "bytes" in the arena;
    `report["format"]` (default static) says whether `library` is a static library object or an
    embedded ELF the runner loads into RAM."""
    if target.board is None:
        raise FdtError(f"target {target.name} has no QEMU board to run on; compile without --run qemu "
                       f"(or --run host) and link the static library into your own firmware")
    in_specs, out_specs = report["inputs"], report["outputs"]
    if len(inputs) != len(in_specs):
        raise FdtError(f"the model takes {len(in_specs)} inputs, {len(inputs)} given")
    for i, (data, spec) in enumerate(zip(inputs, in_specs)):
        if len(data) != spec["bytes"]:
            raise FdtError(f"input {i} holds {len(data)} bytes, the model's takes {spec['bytes']}")
    elf = build_firmware(library, library_query, report["arena_bytes"],
                         [(s["offset"], s["bytes"]) for s in in_specs],
                         [(s["offset"], s["bytes"]) for s in out_specs], work_dir, undersize=undersize,
                         target=target, model_format=report.get("format", "static"))
    result, outputs = run_qemu(elf, inputs, work_dir, timeout=timeout, target=target)
    if result.get("status") != "ok":
        raise FdtError(f"the firmware failed under QEMU: {result.get('reason', result)}")
    if result["arena_bytes"] != report["arena_bytes"]:
        raise FdtError(f"the firmware's arena ({result['arena_bytes']} B) differs from the plan "
                       f"({report['arena_bytes']} B)")
    if result["loader_ram_bytes"] != report.get("loader_ram_bytes", 0):
        raise FdtError(f"the firmware's loaded image takes {result['loader_ram_bytes']} B of RAM, the ELF's "
                       f"load span says {report.get('loader_ram_bytes', 0)} B")
    if [len(o) for o in outputs] != [s["bytes"] for s in out_specs]:
        raise FdtError(f"the firmware wrote outputs of {[len(o) for o in outputs]} bytes, the model's "
                       f"take {[s['bytes'] for s in out_specs]}")
    return result, outputs
