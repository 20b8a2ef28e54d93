"""`--profile`: instructions of every layer on the device, from a copy of the program that reads SysTick
around each loop nest (codegen/profile_nests.py); the library itself is not instrumented."""

from __future__ import annotations

import pytest

from conftest import requires_qemu
from mlir_fdt.compiler import CompileOptions
from mlir_fdt.errors import FdtError


@requires_qemu
def test_profile_names_every_layer_and_adds_up(compiled):
    report, out = compiled("kws_int8", run="qemu", objective="untiled", profile=True)
    profile = report["layer_profile"]
    names = [p["layers"] for p in profile]
    assert names[:3] == ["conv_0", "dw_1", "pw_2"] and "dense_10" in names
    assert all(p["instructions"] >= 0 for p in profile)
    total = sum(p["instructions"] for p in profile)
    # the nests are all the instrumented dispatch does but a few views and the counter reads ...
    assert 0.99 * report["profiled_copy_instructions"] <= total <= report["profiled_copy_instructions"]
    # ... and LLVM compiles that copy a little differently from the library (kws_int8: -0.6 %; -3 % on
    # earlier code)
    library = report["qemu_instructions"]
    assert 0.9 * library <= report["profiled_copy_instructions"] <= 1.1 * library
    assert max(profile, key=lambda p: p["instructions"])["layers"].startswith(("conv", "pw"))
    assert "fdt_systick" not in (out / "fdt_model.mlir").read_text()  # the library written is the plain one
    assert "fdt_systick" in (out / "profile" / "fdt_model.mlir").read_text()
    assert report["max_abs_diff"] == 0 and report["qemu_max_abs_diff"] == 0


def test_profile_needs_a_qemu_run():
    with pytest.raises(FdtError, match="--profile .* needs --run qemu"):
        CompileOptions(profile=True, run="host")
