"""The embedded ELF on the host: what IREE emits for Cortex-M (relocations, load span, entry) and the
clear errors for files the firmware's loader would refuse."""

from __future__ import annotations

import struct

import pytest

from mlir_fdt.codegen.elf_image import QUERY_SYMBOL, check_loadable, parse_elf_image, read_elf_image
from mlir_fdt.codegen.embedded_elf import SMALL_PAGE_FLAGS, _undefined_symbols_error, linker_wrapper_text
from mlir_fdt.errors import FdtError, ToolError
from mlir_fdt.firmware.model_format import model_cache_variables
from mlir_fdt.targets import get_target


@pytest.fixture(scope="module")
def kws_elf(compiled):
    report, out = compiled("kws_int8", run=None, output_format="embedded-elf")
    return report, out / report["library"]


def test_kws_elf_is_a_small_relocatable_image(kws_elf):
    report, path = kws_elf
    image = read_elf_image(path)
    # IREE's ARM32 output needs only base-relative relocations: no symbol, no import.
    assert set(image.relocation_types) == {"R_ARM_RELATIVE"}
    # Three PT_LOADs (read-only + weights, code, tables) packed by the 16-byte page wrapper.
    assert len(image.segments) == 3 and image.load_start == 0
    assert image.load_span == max(s.vaddr + s.memsz for s in image.segments)
    assert max(s.align for s in image.segments) <= 64 and image.load_align == 64
    # Code, weights and tables: the image is barely larger than what it loads (no page padding).
    loaded = sum(image.section_bytes(name) for name in (".rodata", ".text", ".data.rel.ro"))
    assert image.section_bytes(".rodata") > 30_000 and loaded <= image.load_span < loaded + 1024
    assert image.load_span <= image.file_bytes
    assert image.symbol(QUERY_SYMBOL).value & 1  # Thumb
    assert report["loader_ram_bytes"] == image.ram_bytes == image.load_span
    assert report["embedded_elf"]["relocations"] == {"R_ARM_RELATIVE": len(image.relocations)}
    assert report["format"] == "embedded-elf" and report["header"] is None


def test_cmake_variables_carry_the_load_span(kws_elf):
    _, path = kws_elf
    image = read_elf_image(path)
    assert model_cache_variables(path, "embedded-elf") == [
        "-DFDT_MODEL_FORMAT=embedded-elf", f"-DFDT_MODEL_ELF={path.resolve()}",
        f"-DFDT_MODEL_ELF_LOAD_BYTES={image.ram_bytes}", "-DFDT_MODEL_ELF_LOAD_ALIGN=64"]
    with pytest.raises(FdtError, match="unknown model format 'elf'"):
        model_cache_variables(path, "elf")


def test_linker_wrapper_appends_small_page_flags():
    text = linker_wrapper_text("/opt/iree lld")
    assert text.startswith("#!/bin/sh\n")
    assert "exec '/opt/iree lld' \"$@\" -z max-page-size=16 -z common-page-size=16 -z norelro" in text
    assert SMALL_PAGE_FLAGS[-1] == "norelro"


def test_missing_runtime_helpers_are_named():
    """ARMv6-M: 64-bit arithmetic calls libgcc helpers, which the embedded ELF cannot import."""
    stderr = ("iree-lld: error: undefined symbol: __aeabi_lmul\n>>> referenced by fdt_model.mlir:233\n"
              "iree-lld: error: undefined symbol: __aeabi_llsl\n" + "  %1 = llvm.add ...\n" * 40)
    error = _undefined_symbols_error(ToolError("iree-compile", 1, ["iree-compile"], stderr), get_target("cortex-m4"))
    assert "(__aeabi_llsl, __aeabi_lmul)" in str(error) and "use --format static" in str(error)
    other = ToolError("iree-compile", 1, [], "error: bad flag")
    assert _undefined_symbols_error(other, get_target("cortex-m4")) is None


def _patched(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    out = bytearray(data)
    struct.pack_into("<" + fmt, out, offset, value)
    return bytes(out)


def _first_relocation_offset(data: bytes) -> int:
    """File offset of the first DT_REL entry (the test's own tiny walk, independent of elf_image)."""
    phoff, phnum = struct.unpack_from("<I", data, 28)[0], struct.unpack_from("<H", data, 44)[0]
    phdrs = [struct.unpack_from("<8I", data, phoff + 32 * i) for i in range(phnum)]
    dyn = next(p for p in phdrs if p[0] == 2)
    for i in range(dyn[4] // 8):
        tag, value = struct.unpack_from("<iI", data, dyn[1] + 8 * i)
        if tag == 17:  # DT_REL: a virtual address; the first PT_LOAD maps file offset == vaddr
            return value
    raise AssertionError("no DT_REL")


@pytest.mark.parametrize("patch,message", [
    (lambda d: b"\x7fELG" + d[4:], "not an ELF file"),
    (lambda d: d[:4] + b"\x02" + d[5:], "ELF class 2, expected 1"),
    (lambda d: _patched(d, 18, "H", 62), "e_machine 62, expected 40"),
    (lambda d: _patched(d, 16, "H", 2), "e_type 2, expected 3"),
    (lambda d: d[:40], "truncated ELF header"),
    (lambda d: d[:2000], "truncated ELF"),
])
def test_bad_images_are_clear_errors(kws_elf, patch, message):
    data = kws_elf[1].read_bytes()
    with pytest.raises(FdtError, match=message):
        parse_elf_image(patch(data), "model.so")


def test_unsupported_relocation_is_refused_before_the_build(kws_elf):
    data = kws_elf[1].read_bytes()
    rel = _first_relocation_offset(data)
    image = parse_elf_image(_patched(data, rel + 4, "I", 0x1C), "model.so")  # R_ARM_CALL
    with pytest.raises(FdtError, match=r"relocation types \[28\] are not supported"):
        check_loadable(image, "model.so")


def test_missing_file_and_entry(kws_elf, tmp_path):
    with pytest.raises(FdtError, match="no such ELF file"):
        read_elf_image(tmp_path / "absent.so")
    with pytest.raises(FdtError, match="no dynamic symbol 'main'"):
        read_elf_image(kws_elf[1], entry="main")
