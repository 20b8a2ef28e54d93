"""The firmware's C ELF loader (runner/fdt_elf_loader.c), built for the host and driven with ctypes:
it relocates IREE's real Cortex-M image exactly as the host-side reader predicts, finds the entry
symbol, and answers every malformed image with its status code instead of a fault."""

from __future__ import annotations

import ctypes
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from mlir_fdt.codegen.elf_image import QUERY_SYMBOL, read_elf_image

LOADER = Path(__file__).resolve().parents[1] / "mlir_fdt" / "firmware" / "runner" / "fdt_elf_loader.c"
STATUS = {"ok": 0, "truncated": 1, "magic": 2, "class": 3, "machine": 4, "type": 5, "alignment": 8,
          "no_room": 9, "reloc_type": 13, "reloc_offset": 14, "not_found": 17}

pytestmark = pytest.mark.skipif(not shutil.which("cc"), reason="no host C compiler (cc)")


class Image(ctypes.Structure):
    """fdt_elf_image_t, field for field (ctypes applies the host's alignment, as cc does)."""

    _fields_ = [("bias", ctypes.c_size_t), ("vaddr_start", ctypes.c_uint32), ("vaddr_end", ctypes.c_uint32),
                ("ram_bytes", ctypes.c_uint32), ("relocations", ctypes.c_uint32), ("symtab", ctypes.c_void_p),
                ("strtab", ctypes.c_void_p), ("strsz", ctypes.c_uint32), ("symbol_count", ctypes.c_uint32),
                ("hash", ctypes.c_void_p), ("gnu_hash", ctypes.c_void_p), ("detail", ctypes.c_uint32)]


@pytest.fixture(scope="module")
def loader(tmp_path_factory):
    lib = tmp_path_factory.mktemp("loader") / "libfdt_elf_loader.so"
    subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-O1", "-fPIC", "-shared", str(LOADER),
                    "-o", str(lib)], check=True, capture_output=True)
    dll = ctypes.CDLL(str(lib))
    dll.fdt_elf_load.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t,
                                 ctypes.c_size_t, ctypes.POINTER(Image)]
    dll.fdt_elf_lookup.argtypes = [ctypes.POINTER(Image), ctypes.c_char_p, ctypes.POINTER(ctypes.c_size_t)]
    dll.fdt_elf_status_string.restype = ctypes.c_char_p
    return dll


@pytest.fixture(scope="module")
def kws_elf(compiled):
    report, out = compiled("kws_int8", run=None, output_format="embedded-elf")
    return out / report["library"]


class Ram:
    """A buffer of `size` bytes at an address aligned to `align` (plus `misalign`)."""

    def __init__(self, size: int, align: int = 64, misalign: int = 0):
        self.raw = ctypes.create_string_buffer(size + 2 * align)
        self.address = (ctypes.addressof(self.raw) + align - 1) // align * align + misalign
        self.size = size

    def read(self, offset: int, n: int) -> bytes:
        return ctypes.string_at(self.address + offset, n)


def load(loader, data: bytes, ram: Ram, align: int = 64) -> tuple[int, Image]:
    image = Image()
    status = loader.fdt_elf_load(data, len(data), ram.address, ram.size, align, ctypes.byref(image))
    return status, image


def test_loads_relocates_and_finds_the_entry(loader, kws_elf):
    data = kws_elf.read_bytes()
    expected = read_elf_image(kws_elf)
    ram = Ram(expected.ram_bytes)
    status, image = load(loader, data, ram)
    assert status == STATUS["ok"], loader.fdt_elf_status_string(status)
    assert image.ram_bytes == expected.ram_bytes and image.relocations == len(expected.relocations)
    assert image.bias == ram.address - expected.load_start
    # Every segment byte-for-byte, except the relocated words: original + (32-bit) load address.
    relocated = {offset for offset, _, _ in expected.relocations}
    for seg in expected.segments:
        loaded = ram.read(seg.vaddr, seg.filesz)
        original = data[seg.offset:seg.offset + seg.filesz]
        for offset in range(0, seg.filesz - 3, 4):
            if seg.vaddr + offset in relocated:
                (was,), (now,) = struct.unpack_from("<I", original, offset), struct.unpack_from("<I", loaded, offset)
                assert now == (was + image.bias) & 0xFFFFFFFF
            else:
                assert loaded[offset:offset + 4] == original[offset:offset + 4]
        assert ram.read(seg.vaddr + seg.filesz, seg.memsz - seg.filesz) == bytes(seg.memsz - seg.filesz)
    address = ctypes.c_size_t()
    assert loader.fdt_elf_lookup(ctypes.byref(image), QUERY_SYMBOL.encode(), ctypes.byref(address)) == 0
    assert address.value - image.bias == expected.symbol(QUERY_SYMBOL).value  # Thumb bit kept
    assert loader.fdt_elf_lookup(ctypes.byref(image), b"main", ctypes.byref(address)) == STATUS["not_found"]
    assert loader.fdt_elf_lookup(ctypes.byref(image), b"__aeabi_unwind_cpp_pr0",
                                 ctypes.byref(address)) == STATUS["not_found"]  # undefined: not an answer


def _patched(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    out = bytearray(data)
    struct.pack_into("<" + fmt, out, offset, value)
    return bytes(out)


@pytest.mark.parametrize("patch,status,detail", [
    (lambda d, e: d[:51], "truncated", 51),
    (lambda d, e: b"MZ\x90\x00" + d[4:], "magic", None),
    (lambda d, e: d[:4] + b"\x02" + d[5:], "class", 2 | 1 << 8),
    (lambda d, e: _patched(d, 18, "H", 3), "machine", 3),
    (lambda d, e: _patched(d, 16, "H", 2), "type", 2),
    (lambda d, e: _patched(d, _rel_table(d), "I", 0x1C), "reloc_type", 0x1C),
    (lambda d, e: _patched(d, _rel_table(d) - 4, "I", 0x7FFFFFF0), "reloc_offset", 0x7FFFFFF0),
])
def test_malformed_images_give_status_codes(loader, kws_elf, patch, status, detail):
    data = kws_elf.read_bytes()
    expected = read_elf_image(kws_elf)
    code, image = load(loader, patch(data, expected), Ram(expected.ram_bytes))
    assert code == STATUS[status], loader.fdt_elf_status_string(code)
    if detail is not None:
        assert image.detail == detail


def _rel_table(data: bytes) -> int:
    """File offset of the r_info field of the first DT_REL entry."""
    phoff, phnum = struct.unpack_from("<I", data, 28)[0], struct.unpack_from("<H", data, 44)[0]
    dyn = next(p for p in (struct.unpack_from("<8I", data, phoff + 32 * i) for i in range(phnum)) if p[0] == 2)
    for i in range(dyn[4] // 8):
        tag, value = struct.unpack_from("<iI", data, dyn[1] + 8 * i)
        if tag == 17:
            return value + 4  # the first PT_LOAD maps file offset == vaddr
    raise AssertionError("no DT_REL")


def test_buffer_too_small_or_misaligned(loader, kws_elf):
    data = kws_elf.read_bytes()
    need = read_elf_image(kws_elf).ram_bytes
    code, image = load(loader, data, Ram(need - 1))
    assert code == STATUS["no_room"] and image.detail == need
    code, image = load(loader, data, Ram(need, misalign=16))
    assert code == STATUS["alignment"] and image.detail == 64
    code, _ = load(loader, data, Ram(need), align=48)
    assert code == STATUS["alignment"]
    assert loader.fdt_elf_status_string(STATUS["reloc_type"]) == b"unsupported relocation type"
