"""Flash and RAM footprint of a compiled static library object, by section (arm-none-eabi-size -A)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..external import find_tool, invoke


@dataclass(frozen=True)
class ObjectSizes:
    code: int      # .text* and .ARM.exidx*: instructions in flash
    weights: int   # .rodata*: constants (weights, lookup tables) in flash
    tables: int    # .data.rel.ro*: IREE's library tables, kept in flash by the linker script
    ram: int       # .data*/.bss*: would need RAM (expected 0)


def parse_size_output(text: str) -> ObjectSizes:
    code = weights = tables = ram = 0
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 2 or not parts[1].isdigit():
            continue
        name, size = parts[0], int(parts[1])
        if name.startswith((".text", ".ARM.exidx")):
            code += size
        elif name.startswith(".rodata"):
            weights += size
        elif name.startswith(".data.rel.ro"):
            tables += size
        elif name.startswith((".data", ".bss")):
            ram += size
    return ObjectSizes(code, weights, tables, ram)


def object_sizes(obj: Path) -> ObjectSizes:
    out = invoke([find_tool("arm-none-eabi-size"), "-A", str(obj)], tool="arm-none-eabi-size").stdout.decode()
    return parse_size_output(out)
