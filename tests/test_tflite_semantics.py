"""TFLite's semantics where the converter's TOSA differs, on small models written by
scripts/make_test_models.py (tests/data/models): QUANTIZE saturates and rounds as TFLite Micro, multi-I/O keeps the
flatbuffer's order and names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mlir_fdt.compiler import CompileOptions, compile_model
from mlir_fdt.importers.tflite_flatbuffer import read_tflite
from mlir_fdt.reference.host import run_arena_program
from mlir_fdt.reference.tflm import run_tflite_micro

DATA = Path(__file__).resolve().parent / "data" / "models"


@pytest.fixture(scope="module")
def float_io(tmp_path_factory):
    out = tmp_path_factory.mktemp("float_io")
    model = DATA / "float_io_int8_conv.tflite"
    return model, compile_model(model, out, CompileOptions(run="host", checks=2)), out


def test_float_input_is_drawn_inside_the_quantize_range(float_io):
    _, report, _ = float_io
    assert report["match"] and report["reference"] == "tflite-micro"
    assert report["reference_output_varies"] is True


@pytest.mark.parametrize("lo,hi", [(-10.0, 10.0), (-1e4, 1e4)])
def test_quantize_saturates_outside_its_range(float_io, lo, hi):
    """Inputs far outside the quantization range: TFLite clamps to [-128, 127]; the converter's TOSA
    narrowed an i32 to i8 by truncation (wrapped) before `importers/tflite_quantize`."""
    model, report, out = float_io
    spec_in, spec_out = report["inputs"][0], report["outputs"][0]
    x = np.random.default_rng(1).uniform(lo, hi, spec_in["shape"]).astype(np.float32)
    (raw,) = run_arena_program(out / "fdt_model.host.vmfb", report["arena_bytes"], [(spec_in["offset"], x.tobytes())],
                               [(spec_out["offset"], spec_out["bytes"])])
    got = np.frombuffer(raw, np.float32).reshape(spec_out["shape"])
    (expected,) = run_tflite_micro(model, [x], 1)
    np.testing.assert_array_equal(got, expected.reshape(got.shape))


def test_quantize_rounds_as_tflite_micro_at_half_steps(float_io):
    """Inputs on and next to the half-integer steps of the QUANTIZE: TFLite Micro rounds x / scale
    (float32) half away from zero; the converter's TOSA rounded x * (1 / scale) half to even, which
    quantizes many of these inputs one step apart."""
    model, report, out = float_io
    spec_in, spec_out = report["inputs"][0], report["outputs"][0]
    fb = read_tflite(model)
    quantized = fb.tensor(next(op for op in fb.operators if op.name == "QUANTIZE").outputs[0])
    scale, zero_point = np.float32(quantized.scale[0]), int(quantized.zero_point[0])
    n = int(np.prod(spec_in["shape"]))
    rng = np.random.default_rng(0)
    steps = rng.integers(-127 - zero_point, 127 - zero_point, n).astype(np.float32) + np.float32(0.5)
    x = steps * scale
    x = np.where(rng.random(n) < 0.5, x, np.nextafter(x, np.where(rng.random(n) < 0.5, -np.inf, np.inf)))
    x = x.astype(np.float32)
    tflite_micro = np.trunc(x / scale + np.copysign(np.float32(0.5), x))
    converter = np.rint(x * (np.float32(1) / scale))
    assert np.count_nonzero(tflite_micro != converter) > n // 10  # the inputs do probe the difference
    x = x.reshape(spec_in["shape"])
    (raw,) = run_arena_program(out / "fdt_model.host.vmfb", report["arena_bytes"], [(spec_in["offset"], x.tobytes())],
                               [(spec_out["offset"], spec_out["bytes"])])
    got = np.frombuffer(raw, np.float32).reshape(spec_out["shape"])
    (expected,) = run_tflite_micro(model, [x], 1)
    np.testing.assert_array_equal(got, expected.reshape(got.shape))


def test_multi_io_model_keeps_the_declared_order_and_names(tmp_path):
    report = compile_model(DATA / "multi_io_int8.tflite", tmp_path, CompileOptions(run="host", checks=2))
    assert report["match"] and report["max_abs_diff"] == 0 and report["reference"] == "tflite-micro"
    names = [i["name"] for i in report["inputs"]]
    assert len(names) == 2 and any("image" in n for n in names) and any("features" in n for n in names)
    assert len(report["outputs"]) == 2
    assert all("scale" in t and "zero_point" in t for t in report["inputs"] + report["outputs"])
