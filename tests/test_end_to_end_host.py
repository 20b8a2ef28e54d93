"""Every reference model compiled by mlir-fdt and run on the host equals TFLite Micro:
bit for bit for int8, within the stated tolerance for float32."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import FP32_MODELS, INT8_MODELS, TFLM_HEAD, model_path
from mlir_fdt.compiler import FLOAT_TOLERANCE, max_abs_diff
from mlir_fdt.reference.host import run_arena_program
from mlir_fdt.reference.tflm import run_tflite_micro

SEEDS = [1, 2, 3]


def _inputs(report: dict, seed: int) -> np.ndarray:
    spec = report["inputs"][0]
    rng = np.random.default_rng(seed)
    if spec["dtype"] == "i8":
        return rng.integers(-128, 128, size=spec["shape"], dtype=np.int8)
    return rng.uniform(-1, 1, size=spec["shape"]).astype(np.float32)


def _host_output(report: dict, out: Path, x: np.ndarray) -> np.ndarray:
    spec_in, spec_out = report["inputs"][0], report["outputs"][0]
    vmfb = out / "fdt_model.host.vmfb"
    (raw,) = run_arena_program(vmfb, report["arena_bytes"], [(spec_in["offset"], x.tobytes())],
                               [(spec_out["offset"], spec_out["bytes"])])
    dtype = np.int8 if spec_out["dtype"] == "i8" else np.float32
    return np.frombuffer(raw, dtype).reshape(spec_out["shape"])


@pytest.mark.parametrize("name", INT8_MODELS)
def test_int8_bit_exact_on_host(compiled, name):
    report, out = compiled(name)
    assert report["reference"] == "tflite-micro"
    assert report["max_abs_diff"] == 0
    for seed in SEEDS:
        x = _inputs(report, seed)
        (expected,) = run_tflite_micro(model_path(name), [x], 1)
        got = _host_output(report, out, x)
        np.testing.assert_array_equal(got, expected.reshape(got.shape), err_msg=f"{name} seed {seed}")


@pytest.mark.parametrize("name", INT8_MODELS)
def test_int8_arena_within_tflite_micro(compiled, name):
    report, _ = compiled(name)
    assert report["lower_bound_bytes"] <= report["arena_bytes"] <= TFLM_HEAD[name]
    # the input and output are part of the arena (they may share bytes once the input is dead)
    names = {b["name"] for b in report["buffers"]}
    assert {"input0", "output0"} <= names
    assert report["arena_bytes"] >= max(report["inputs"][0]["bytes"], report["outputs"][0]["bytes"])


@pytest.mark.parametrize("name", INT8_MODELS)
def test_code_size_estimate_is_near_the_object(compiled, name):
    """The cost model's code size (analysis/code_size.py) against IREE's object for the target."""
    report, _ = compiled(name)
    assert abs(report["estimated_code_bytes"] / report["flash_code_bytes"] - 1) < 0.15


@pytest.mark.parametrize("name", FP32_MODELS)
def test_float_within_tolerance_on_host(compiled, name):
    report, out = compiled(name)
    assert report["match"], report
    if name in TFLM_HEAD:
        assert report["reference"] == "tflite-micro"
        assert report["arena_bytes"] <= TFLM_HEAD[name]
        x = _inputs(report, 5)
        (expected,) = run_tflite_micro(model_path(name), [x], 1)
        got = _host_output(report, out, x)
        scale = max(1.0, float(np.max(np.abs(expected))))
        assert max_abs_diff(got, expected) <= FLOAT_TOLERANCE * scale
    else:  # kws_fp32: TFLite Micro fails to allocate it; IREE's default compilation is the reference
        assert report["reference"] == "iree-default"


def test_report_has_the_documented_fields(compiled):
    report, out = compiled("kws_int8")
    for key in ("model", "target", "objective", "arena_bytes", "lower_bound_bytes", "stack_bytes",
                "flash_code_bytes", "flash_weight_bytes", "macs", "mac_overhead", "qemu_instructions",
                "reference", "max_abs_diff"):
        assert key in report
    assert report["objective"] == "untiled" and report["mac_overhead"] == 0
    assert report["macs"] > 2_000_000
    assert (out / "fdt_model.o").exists() and (out / "fdt_model.h").exists() and (out / "report.json").exists()
    # weights live in .rodata (flash): at least the int8 conv weights of KWS (~22 KB)
    assert report["flash_weight_bytes"] > 20_000
