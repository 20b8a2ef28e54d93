"""What a bare-metal loader needs to know about an embedded ELF, read on the host.

IREE's embedded-ELF output is an ELF32 ARM shared object. The firmware copies its PT_LOAD
segments into a static RAM buffer and relocates them, so the buffer's size and alignment must
be known when the firmware is built, and a relocation the C loader cannot apply should be
reported here, with the file's name, rather than as a failure code on the board.
`read_elf_image` checks exactly what the C loader (runner/fdt_elf_loader.c) checks, and a
little more (the relocation types, the entry symbol, the undefined symbols relocations need).
"""

from __future__ import annotations

import struct
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..errors import FdtError

EM_ARM = 40
ET_DYN = 3
PT_LOAD, PT_DYNAMIC = 1, 2
SHF_ALLOC = 0x2
DT_NULL, DT_HASH, DT_STRTAB, DT_SYMTAB, DT_RELA, DT_REL, DT_RELSZ, DT_PLTREL, DT_JMPREL = 0, 4, 5, 6, 7, 17, 18, 20, 23
DT_PLTRELSZ, DT_GNU_HASH = 2, 0x6FFFFEF5
SHN_UNDEF = 0
STB_WEAK = 2

# ARM relocation types the C loader applies (AAELF32 numbering).
RELOCATION_NAMES = {0: "R_ARM_NONE", 2: "R_ARM_ABS32", 3: "R_ARM_REL32", 21: "R_ARM_GLOB_DAT",
                    22: "R_ARM_JUMP_SLOT", 23: "R_ARM_RELATIVE"}
QUERY_SYMBOL = "iree_hal_executable_library_query"


@dataclass(frozen=True)
class Segment:
    """One PT_LOAD program header."""

    offset: int
    vaddr: int
    filesz: int
    memsz: int
    flags: int
    align: int


@dataclass(frozen=True)
class Section:
    """One section header (present in IREE's output; a loader must not rely on it)."""

    name: str
    type: int
    flags: int
    addr: int
    size: int
    align: int


@dataclass(frozen=True)
class Symbol:
    name: str
    value: int
    section: int
    binding: int


@dataclass(frozen=True)
class ElfImage:
    """The loadable view of an ELF32 ARM shared object."""

    file_bytes: int
    segments: tuple[Segment, ...]
    sections: tuple[Section, ...]
    symbols: tuple[Symbol, ...]                 # .dynsym, in table order (index 0 is the null symbol)
    relocations: tuple[tuple[int, int, int], ...]  # (offset, type, symbol index) from DT_REL and DT_JMPREL

    @property
    def load_start(self) -> int:
        return min(s.vaddr for s in self.segments)

    @property
    def load_end(self) -> int:
        return max(s.vaddr + s.memsz for s in self.segments)

    @property
    def load_span(self) -> int:
        """Bytes from the lowest to the highest loaded address: the RAM the image occupies."""
        return self.load_end - self.load_start

    @property
    def load_align(self) -> int:
        """Alignment the load address must keep.

        The largest alignment of an allocated section when there are section headers: a copy
        into RAM need not keep the segments' page alignment (64 KiB by default), only the
        alignment the code assumes of its data. Without section headers, the segments' own.
        """
        alloc = [s.align for s in self.sections if s.flags & SHF_ALLOC]
        align = max(alloc) if alloc else max(s.align for s in self.segments)
        return max(4, align)

    @property
    def ram_bytes(self) -> int:
        """RAM the firmware reserves: the span plus the start's offset within its alignment."""
        return self.load_span + self.load_start % self.load_align

    @property
    def relocation_types(self) -> Counter:
        return Counter(RELOCATION_NAMES.get(t, f"type {t}") for _, t, _ in self.relocations)

    def symbol(self, name: str) -> Symbol | None:
        return next((s for s in self.symbols if s.name == name and s.section != SHN_UNDEF), None)

    def section_bytes(self, *prefixes: str) -> int:
        return sum(s.size for s in self.sections if s.flags & SHF_ALLOC and s.name.startswith(prefixes))


class _Reader:
    """Bounds-checked little-endian reads: a truncated file is a clear FdtError, not a struct.error."""

    def __init__(self, data: bytes, what: str):
        self.data, self.what = data, what

    def unpack(self, fmt: str, offset: int) -> tuple:
        size = struct.calcsize("<" + fmt)
        if offset < 0 or offset + size > len(self.data):
            raise FdtError(f"{self.what}: truncated ELF (needs bytes [{offset}, {offset + size}), "
                           f"file has {len(self.data)})")
        return struct.unpack_from("<" + fmt, self.data, offset)

    def cstring(self, offset: int) -> str:
        end = self.data.find(b"\0", offset)
        if offset >= len(self.data) or end < 0:
            raise FdtError(f"{self.what}: string at {offset} runs past the end of the file")
        return self.data[offset:end].decode(errors="replace")


def _file_offset(segments: tuple[Segment, ...], vaddr: int, what: str) -> int:
    for s in segments:
        if s.vaddr <= vaddr < s.vaddr + s.filesz:
            return s.offset + vaddr - s.vaddr
    raise FdtError(f"{what}: dynamic table address {vaddr:#x} lies in no loaded file contents")


def parse_elf_image(data: bytes, what: str = "ELF image") -> ElfImage:
    """Parse and check an ELF32 little-endian ARM shared object; FdtError names what is wrong."""
    r = _Reader(data, what)
    if data[:4] != b"\x7fELF":
        raise FdtError(f"{what}: not an ELF file (bad magic)")
    if len(data) < 52:
        raise FdtError(f"{what}: truncated ELF header ({len(data)} bytes)")
    if data[4] != 1:
        raise FdtError(f"{what}: ELF class {data[4]}, expected 1 (ELF32)")
    if data[5] != 1:
        raise FdtError(f"{what}: ELF data encoding {data[5]}, expected 1 (little-endian)")
    e_type, e_machine = r.unpack("HH", 16)
    if e_machine != EM_ARM:
        raise FdtError(f"{what}: e_machine {e_machine}, expected {EM_ARM} (EM_ARM)")
    if e_type != ET_DYN:
        raise FdtError(f"{what}: e_type {e_type}, expected {ET_DYN} (ET_DYN, a position-independent shared object)")
    phoff, shoff = r.unpack("II", 28)
    phentsize, phnum, shentsize, shnum, shstrndx = r.unpack("HHHHH", 42)
    if phentsize != 32:
        raise FdtError(f"{what}: program header entries of {phentsize} bytes, expected 32")

    segments, dynamic = [], None
    for i in range(phnum):
        p_type, p_offset, p_vaddr, _, p_filesz, p_memsz, p_flags, p_align = r.unpack("8I", phoff + i * 32)
        if p_type == PT_LOAD:
            if p_filesz > p_memsz:
                raise FdtError(f"{what}: PT_LOAD {i} has more file bytes ({p_filesz}) than memory bytes ({p_memsz})")
            if p_offset + p_filesz > len(data):
                raise FdtError(f"{what}: truncated ELF (PT_LOAD {i} needs bytes [{p_offset}, {p_offset + p_filesz}), "
                               f"file has {len(data)})")
            segments.append(Segment(p_offset, p_vaddr, p_filesz, p_memsz, p_flags, p_align))
        elif p_type == PT_DYNAMIC:
            dynamic = (p_offset, p_filesz)
    if not segments:
        raise FdtError(f"{what}: no PT_LOAD segment")
    segments_t = tuple(segments)

    sections = []
    if shoff and shnum and shentsize == 40 and shstrndx < shnum:
        str_off = r.unpack("10I", shoff + shstrndx * 40)[4]
        for i in range(shnum):
            name, s_type, flags, addr, _, size, _, _, align, _ = r.unpack("10I", shoff + i * 40)
            sections.append(Section(r.cstring(str_off + name), s_type, flags, addr, size, max(align, 1)))

    if dynamic is None:
        raise FdtError(f"{what}: no PT_DYNAMIC segment (not a shared object IREE's loader accepts)")
    tags: dict[int, int] = {}
    for i in range(dynamic[1] // 8):
        tag, value = r.unpack("iI", dynamic[0] + i * 8)
        if tag == DT_NULL:
            break
        tags.setdefault(tag, value)
    if DT_RELA in tags:
        raise FdtError(f"{what}: has DT_RELA relocations; the loader applies DT_REL only")

    symbols: list[Symbol] = []
    if DT_SYMTAB in tags and DT_STRTAB in tags:
        if DT_HASH in tags:
            count = r.unpack("II", _file_offset(segments_t, tags[DT_HASH], what))[1]  # nchain
        else:
            # Without DT_HASH the table ends where the string table starts (lld's layout).
            count = max(0, (tags[DT_STRTAB] - tags[DT_SYMTAB]) // 16)
        sym_off = _file_offset(segments_t, tags[DT_SYMTAB], what)
        str_off = _file_offset(segments_t, tags[DT_STRTAB], what)
        for i in range(count):
            name, value, _, info, _, shndx = r.unpack("IIIBBH", sym_off + i * 16)
            symbols.append(Symbol(r.cstring(str_off + name), value, shndx, info >> 4))

    relocations = []
    for table, size in ((DT_REL, DT_RELSZ), (DT_JMPREL, DT_PLTRELSZ)):
        if table in tags:
            base = _file_offset(segments_t, tags[table], what)
            for i in range(tags.get(size, 0) // 8):
                offset, info = r.unpack("II", base + i * 8)
                relocations.append((offset, info & 0xFF, info >> 8))
    return ElfImage(len(data), segments_t, tuple(sections), tuple(symbols), tuple(relocations))


def check_loadable(image: ElfImage, what: str, entry: str = QUERY_SYMBOL) -> None:
    """Raise FdtError when the firmware's loader could not load `image` or find `entry`."""
    unknown = sorted({t for _, t, _ in image.relocations if t not in RELOCATION_NAMES})
    if unknown:
        raise FdtError(f"{what}: relocation types {unknown} are not supported by the loader "
                       f"(it applies {', '.join(RELOCATION_NAMES.values())})")
    for _, r_type, index in image.relocations:
        if r_type in (2, 3, 21, 22):
            if index >= len(image.symbols):
                raise FdtError(f"{what}: relocation refers to symbol {index}, beyond the dynamic symbol table")
            sym = image.symbols[index]
            if sym.section == SHN_UNDEF and sym.binding != STB_WEAK:
                raise FdtError(f"{what}: relocation needs undefined symbol '{sym.name}' (nothing to import it from)")
    query = image.symbol(entry)
    if query is None:
        raise FdtError(f"{what}: no dynamic symbol '{entry}'")
    if not query.value & 1:
        raise FdtError(f"{what}: '{entry}' at {query.value:#x} is not Thumb code (bit 0 clear); "
                       "Cortex-M executes Thumb only")


def read_elf_image(path: str | Path, entry: str = QUERY_SYMBOL) -> ElfImage:
    """Read, parse and check the embedded ELF at `path`."""
    path = Path(path)
    if not path.is_file():
        raise FdtError(f"{path}: no such ELF file")
    image = parse_elf_image(path.read_bytes(), str(path))
    check_loadable(image, str(path), entry)
    return image
