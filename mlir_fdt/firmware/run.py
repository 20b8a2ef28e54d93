"""Build the runner for a compiled model and run one inference under QEMU."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import FdtError
from ..targets import Target
from .build import build_firmware, run_qemu


@dataclass(frozen=True)
class ModelInterface:
    """What the runner needs to know of a compiled model (`CompileReport.interface`)."""

    arena_bytes: int
    inputs: list[tuple[int | None, int]]  # (offset, bytes) in the arena, in the model's order (None: streamed)
    outputs: list[tuple[int, int]]
    model_format: str = "static"    # static library object, or an embedded ELF the runner loads into RAM
    loader_ram_bytes: int = 0       # embedded-elf: RAM the loaded image takes
    # (index, bytes a row, rows, contiguous runs a row): delivered row by row (memory/stream_input.py)
    streamed_inputs: tuple[tuple[int, int, int, int], ...] = ()


def run_library_on_qemu(library: Path, library_query: str, model: ModelInterface, inputs: list[bytes],
                        work_dir: Path, target: Target, undersize: int = 0,
                        timeout: float = 600, profile: tuple[int, int] | None = None,
                        earlier: list[list[bytes]] = ()) -> tuple[dict, list[bytes]]:
    """(firmware result line as a dict, [bytes of every output]) for one inference of `library`
    on `inputs` (one buffer per model input, in the model's order), after the inferences `earlier` in the same
    boot (a stateful model's sequence; their outputs in the result's "earlier_outputs")."""
    if target.board is None:
        raise FdtError(f"target {target.name} has no QEMU board to run on; compile without --run qemu "
                       f"(or --run host) and link the static library into your own firmware")
    if len(inputs) != len(model.inputs):
        raise FdtError(f"the model takes {len(model.inputs)} inputs, {len(inputs)} given")
    for i, (data, (_, size)) in enumerate(zip(inputs, model.inputs)):
        if len(data) != size:
            raise FdtError(f"input {i} holds {len(data)} bytes, the model's takes {size}")
    elf = build_firmware(library, library_query, model.arena_bytes, model.inputs, model.outputs, work_dir,
                         undersize=undersize, target=target, model_format=model.model_format, profile=profile,
                         streamed=model.streamed_inputs)
    result, outputs = run_qemu(elf, inputs, work_dir, timeout=timeout, target=target, earlier=earlier)
    if result.get("status") != "ok":
        raise FdtError(f"the firmware failed under QEMU: {result.get('reason', result)}")
    if result["arena_bytes"] != model.arena_bytes:
        raise FdtError(f"the firmware's arena ({result['arena_bytes']} B) differs from the plan "
                       f"({model.arena_bytes} B)")
    if result["loader_ram_bytes"] != model.loader_ram_bytes:
        raise FdtError(f"the firmware's loaded image takes {result['loader_ram_bytes']} B of RAM, the ELF's "
                       f"load span says {model.loader_ram_bytes} B")
    if [len(o) for o in outputs] != [size for _, size in model.outputs]:
        raise FdtError(f"the firmware wrote outputs of {[len(o) for o in outputs]} bytes, the model's "
                       f"take {[size for _, size in model.outputs]}")
    return result, outputs
