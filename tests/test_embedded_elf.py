"""`--format embedded-elf` under QEMU: the runner loads IREE's embedded ELF into RAM, relocates it,
calls it there, and the result is bit-exact with TFLite Micro, at the static library's speed."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import model_path, requires_qemu
from mlir_fdt.codegen.elf_image import read_elf_image
from mlir_fdt.codegen.embedded_elf import compile_embedded_elf
from mlir_fdt.firmware.build import build_firmware, run_qemu
from mlir_fdt.reference.tflm import run_tflite_micro
from mlir_fdt.targets import get_target

pytestmark = [pytest.mark.qemu, requires_qemu]


def _firmware_args(report: dict) -> dict:
    return dict(library_query=report["library_query"], arena_bytes=report["arena_bytes"],
                inputs=[(s["offset"], s["bytes"]) for s in report["inputs"]],
                outputs=[(s["offset"], s["bytes"]) for s in report["outputs"]])


def test_kws_embedded_elf_bit_exact_under_qemu(compiled):
    report, out = compiled("kws_int8", run="qemu", output_format="embedded-elf")
    assert report["format"] == "embedded-elf" and report["library"] == "fdt_model.so"
    assert report["qemu_max_abs_diff"] == 0 and report["max_abs_diff"] == 0
    image = read_elf_image(out / report["library"])
    assert report["loader_ram_bytes"] == image.ram_bytes > report["flash_weight_bytes"]
    assert report["loader_instructions"] > 0
    # The same code as the static library, run from RAM: the same dispatch, instruction for instruction.
    static, _ = compiled("kws_int8", run="qemu")
    assert static["loader_ram_bytes"] == 0
    assert report["qemu_instructions"] == pytest.approx(static["qemu_instructions"], rel=0.01)
    assert report["stack_bytes"] == static["stack_bytes"]
    elf = out / "firmware" / "build" / "fdt_runner.elf"
    for seed in (21, 22):
        x = np.random.default_rng(seed).integers(-128, 128, size=report["inputs"][0]["shape"], dtype=np.int8)
        result, (raw,) = run_qemu(elf, [x.tobytes()], out / "firmware")
        assert result["status"] == "ok" and result["loader_ram_bytes"] == report["loader_ram_bytes"]
        (expected,) = run_tflite_micro(model_path("kws_int8"), [x], 1)
        np.testing.assert_array_equal(np.frombuffer(raw, np.int8), expected.reshape(-1))


def test_default_64k_pages_load_too(compiled, tmp_path):
    """Without the page-size wrapper the segments sit 64 KiB apart and the RELRO segment ends in
    zero-filled padding (memsz > filesz): the loader zero-fills it and the span costs RAM."""
    report, out = compiled("kws_int8", run="qemu", output_format="embedded-elf")
    wide = compile_embedded_elf(out / "fdt_model.mlir", tmp_path / "wide.so", get_target("cortex-m4"),
                                small_pages=False)
    image = read_elf_image(wide)
    assert image.load_span > 2 * 65536 > 2.5 * report["loader_ram_bytes"]
    assert any(s.memsz > s.filesz for s in image.segments)
    elf = build_firmware(wide, **_firmware_args(report), work_dir=tmp_path / "fw", model_format="embedded-elf")
    x = np.random.default_rng(0).integers(-128, 128, size=report["inputs"][0]["shape"], dtype=np.int8)
    result, (raw,) = run_qemu(elf, [x.tobytes()], tmp_path / "fw")
    assert result["status"] == "ok" and result["loader_ram_bytes"] == image.ram_bytes
    (expected,) = run_tflite_micro(model_path("kws_int8"), [x], 1)
    np.testing.assert_array_equal(np.frombuffer(raw, np.int8), expected.reshape(-1))
