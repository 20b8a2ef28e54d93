"""Tensor names that tell a model's tensors apart.

TFLite and TFLite Micro know tensors by index; names are free text, and some files have none or
repeat them (TFLite Micro's `keyword_scrambled` strips them all, model obfuscators do the same). mlir-fdt
finds an operator's tensors, and the converter's ops (by their debug locations), by name, so before
anything reads a model every unnamed tensor becomes `tensor_<index>` and a repeated name gets
`#<index>` appended after its first use: `read_tflite` reports these names, and the converter reads a copy
of the file carrying them (`tflite_tensor_tables`).
"""

from __future__ import annotations

from flatbuffers.table import Table

from .tflite_tensor_tables import rewrite_tensors, tensor_name


def unique_tensor_names(names: list[str]) -> list[str]:
    """`names` (a subgraph's, by tensor index) with the empty and the repeated ones made unique."""
    taken = set(names)
    seen: set[str] = set()
    unique = []
    for i, name in enumerate(names):
        if not name or name in seen:
            new = f"{name}#{i}" if name else f"tensor_{i}"
            while new in taken:
                new += "_"
            name = new
            taken.add(name)
        seen.add(name)
        unique.append(name)
    return unique


def name_tensors_uniquely(data: bytes) -> tuple[bytes, int]:
    """`data` with the tensors `unique_tensor_names` renames renamed, and how many (0: `data` unchanged)."""
    renamed: dict[int, list[str]] = {}

    def edit(g: int, i: int, t: Table, tables: list[Table]) -> dict | None:
        if g not in renamed:
            renamed[g] = unique_tensor_names([tensor_name(table) for table in tables])
        return {"name": renamed[g][i]} if renamed[g][i] != tensor_name(t) else None

    return rewrite_tensors(data, edit)
