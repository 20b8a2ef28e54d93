"""The model's executable in the chosen output format, and what report.json says about it.

`static` (default): iree-compile's static library object and header, linked into the firmware,
run from flash. `embedded-elf`: IREE's position-independent embedded ELF, which a firmware loads
into RAM at run time (runner/fdt_elf_loader.c): its whole load span, weights included, is then
RAM, reported as `loader_ram_bytes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import FdtError
from ..targets import Target
from .elf_image import QUERY_SYMBOL, read_elf_image
from .embedded_elf import compile_embedded_elf
from .iree_compile import compile_static_library
from .object_sizes import ObjectSizes, object_sizes

OUTPUT_FORMATS = ("static", "embedded-elf")


@dataclass(frozen=True)
class CompiledLibrary:
    path: Path
    output_format: str
    library_query: str          # entry symbol: `<name>_library_query`, or the ELF's dynamic symbol
    header: str | None          # the static library's header; an ELF has none
    sizes: ObjectSizes
    loader_ram_bytes: int       # RAM the firmware loads the image into; 0 when it runs from flash
    elf: dict | None = None     # facts of the embedded ELF, for report.json

    def report_fields(self) -> dict:
        return {"format": self.output_format, "library": self.path.name, "header": self.header,
                "library_query": self.library_query, "loader_ram_bytes": self.loader_ram_bytes,
                **({"embedded_elf": self.elf} if self.elf else {})}


def _elf_library(path: Path) -> CompiledLibrary:
    image = read_elf_image(path)
    code = image.section_bytes(".text", ".ARM.exidx")
    weights = image.section_bytes(".rodata")
    ram = sum(s.size for s in image.sections if s.name.startswith((".data", ".bss")) and
              not s.name.startswith(".data.rel.ro"))
    tables = image.section_bytes(".data.rel.ro")
    facts = {"file_bytes": image.file_bytes, "load_span_bytes": image.load_span, "load_align": image.load_align,
             "segments": [{"vaddr": s.vaddr, "filesz": s.filesz, "memsz": s.memsz, "align": s.align}
                          for s in image.segments],
             "relocations": dict(sorted(image.relocation_types.items())),
             "entry": QUERY_SYMBOL}
    return CompiledLibrary(path, "embedded-elf", QUERY_SYMBOL, None, ObjectSizes(code, weights, tables, ram),
                           image.ram_bytes, facts)


LIBRARY_QUERY_SUFFIX = "_library_query"  # a static library's query function: `<name>_library_query`


def compile_library(source: Path, out_dir: Path, name: str, target: Target, output_format: str = "static",
                    iree_flags: list[str] = ()) -> CompiledLibrary:
    """Compile the wrapped executable `source` into `out_dir/<name>.o` (+ `.h`) or `out_dir/<name>.so`."""
    if output_format == "static":
        path = compile_static_library(source, out_dir / f"{name}.o", target, list(iree_flags))
        return CompiledLibrary(path, "static", f"{name}{LIBRARY_QUERY_SUFFIX}", path.with_suffix(".h").name,
                               object_sizes(path), 0)
    if output_format == "embedded-elf":
        return _elf_library(compile_embedded_elf(source, out_dir / f"{name}.so", target, list(iree_flags)))
    raise FdtError(f"unknown output format '{output_format}'; choose {' or '.join(OUTPUT_FORMATS)}")
