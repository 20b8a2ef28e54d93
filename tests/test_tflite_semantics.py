"""TFLite's semantics where the converter's TOSA differs, on small models written by
scripts/make_test_models.py (tests/data/models): QUANTIZE saturates and rounds as TFLite Micro, multi-I/O
keeps the flatbuffer's order and names, RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR sample and round
as TFLite Micro's kernels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import requires_qemu
from mlir_fdt.compiler import CompileOptions, compile_model
from mlir_fdt.errors import FdtError
from mlir_fdt.importers.tflite_flatbuffer import read_tflite
from mlir_fdt.reference.host import run_arena_program
from mlir_fdt.reference.tflm import run_tflite_micro

DATA = Path(__file__).resolve().parent / "data" / "models"


@pytest.fixture(scope="module")
def float_io(tmp_path_factory):
    out = tmp_path_factory.mktemp("float_io")
    model = DATA / "float_io_int8_conv.tflite"
    return model, compile_model(model, out, CompileOptions(run="host", checks=2)).to_json(), out


def test_float_input_is_drawn_inside_the_quantize_range(float_io):
    _, report, _ = float_io
    assert report["match"] and report["reference"] == "tflite-micro"
    assert report["reference_output_varies"] is True


def _assert_compiled_equals_tflite_micro(float_io, x: np.ndarray) -> None:
    """The compiled program's output on `x` (host) equals TFLite Micro's, bit for bit."""
    model, report, out = float_io
    spec_in, spec_out = report["inputs"][0], report["outputs"][0]
    (raw,) = run_arena_program(out / "fdt_model.host.vmfb", report["arena_bytes"], [(spec_in["offset"], x.tobytes())],
                               [(spec_out["offset"], spec_out["bytes"])])
    got = np.frombuffer(raw, np.float32).reshape(spec_out["shape"])
    (expected,) = run_tflite_micro(model, [x], 1)
    np.testing.assert_array_equal(got, expected.reshape(got.shape))


def test_quantize_writes_its_int8_output_over_the_float_input(float_io):
    """The float32 input and its int8 copy are not both whole (TFLite Micro holds both): the arena is
    the float input's bytes, and the outputs still match (test above and below)."""
    _, report, _ = float_io
    assert {"dying": "input0", "shift": 0}.items() <= next(
        a for a in report["shifted_aliases"] if a["dying"] == "input0").items()
    assert report["arena_bytes"] == report["inputs"][0]["bytes"]


@pytest.mark.parametrize("lo,hi", [(-10.0, 10.0), (-1e4, 1e4)])
def test_quantize_saturates_outside_its_range(float_io, lo, hi):
    """Inputs far outside the quantization range: TFLite clamps to [-128, 127]; the converter's TOSA
    narrowed an i32 to i8 by truncation (wrapped) before `importers/tflite_quantize`."""
    _, report, _ = float_io
    x = np.random.default_rng(1).uniform(lo, hi, report["inputs"][0]["shape"]).astype(np.float32)
    _assert_compiled_equals_tflite_micro(float_io, x)


def test_quantize_rounds_as_tflite_micro_at_half_steps(float_io):
    """Inputs on and next to the half-integer steps of the QUANTIZE: TFLite Micro rounds x / scale
    (float32) half away from zero; the converter's TOSA rounded x * (1 / scale) half to even, which
    quantizes many of these inputs one step apart."""
    model, report, _ = float_io
    spec_in = report["inputs"][0]
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
    _assert_compiled_equals_tflite_micro(float_io, x)


def test_multi_io_model_keeps_the_declared_order_and_names(tmp_path):
    report = compile_model(DATA / "multi_io_int8.tflite", tmp_path, CompileOptions(run="host", checks=2)).to_json()
    assert report["match"] and report["max_abs_diff"] == 0 and report["reference"] == "tflite-micro"
    names = [i["name"] for i in report["inputs"]]
    assert len(names) == 2 and any("image" in n for n in names) and any("features" in n for n in names)
    assert len(report["outputs"]) == 2
    assert all("scale" in t and "zero_point" in t for t in report["inputs"] + report["outputs"])


# Each: RESIZE ops of every flag combination TensorFlow writes, upscaling by 2, by a non-integer ratio
# and downscaling (the int16 and float ones fewer sizes); before importers/tflite_resize every one
# differed from TFLite Micro (nearest by up to the whole int8 range).
RESIZE_MODELS = ["resize_nearest_int8", "resize_bilinear_int8", "resize_float", "resize_int16",
                 "resize_nearest_floor_int8", "resize_nearest_float32_rounding_int8"]


@pytest.mark.parametrize("name", RESIZE_MODELS)
def test_resize_equals_tflite_micro(tmp_path, name):
    model = DATA / f"{name}.tflite"
    report = compile_model(model, tmp_path, CompileOptions(run="host", checks=2)).to_json()
    assert report["reference"] == "tflite-micro" and report["reference_output_varies"] is True
    assert report["match"]
    if all(o["dtype"] != "f32" for o in report["outputs"]):
        assert report["max_abs_diff"] == 0


def test_resize_models_cover_every_flag_combination():
    flags = set()
    for name in RESIZE_MODELS:
        flags |= {(op.name, op.flags["align_corners"], op.flags["half_pixel_centers"])
                  for op in read_tflite(DATA / f"{name}.tflite").operators if op.flags}
    for op in ("RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR"):
        assert {(a, h) for name, a, h in flags if name == op} == {(False, False), (True, False), (False, True)}


@pytest.mark.parametrize("name,operator,reason", [
    ("resize_bilinear_outside_int8", "RESIZE_BILINEAR", "1x3 -> 55x3 .* reads outside the input"),
    ("resize_nearest_unmatched_int8", "RESIZE_NEAREST_NEIGHBOR", "half_pixel_centers=True: TFLite's float32"),
    ("resize_bilinear_int16", "RESIZE_BILINEAR", "TFLite Micro has no kernel for it"),
])
def test_resize_without_exact_lowering_is_refused_by_name(tmp_path, name, operator, reason):
    with pytest.raises(FdtError, match=f"operator 0 {operator} .*{reason}"):
        compile_model(DATA / f"{name}.tflite", tmp_path, CompileOptions()).to_json()


@pytest.mark.qemu
@requires_qemu
def test_resize_bilinear_bit_exact_under_qemu(tmp_path):
    report = compile_model(DATA / "resize_bilinear_int8.tflite", tmp_path, CompileOptions(run="qemu")).to_json()
    assert report["match"] and report["qemu_max_abs_diff"] == 0 and report["max_abs_diff"] == 0


def test_a_tensor_listed_twice_among_the_outputs_is_written_at_both(tmp_path):
    """`repeated_output_int8` declares its pooled tensor as outputs 1 and 2: both are in the report (the
    same arena bytes) and both are checked against TFLite Micro."""
    model = DATA / "repeated_output_int8.tflite"
    report = compile_model(model, tmp_path, CompileOptions(run="host", checks=2)).to_json()
    declared = [t.name for t in read_tflite(model).outputs]
    assert [o["name"] for o in report["outputs"]] == declared and declared[1] == declared[2]
    assert report["outputs"][1]["offset"] == report["outputs"][2]["offset"]
    assert report["match"] and report["max_abs_diff"] == 0


def test_hard_swish_and_leaky_relu_match_tflite_micro(tmp_path):
    report = compile_model(DATA / "activations_int8.tflite", tmp_path, CompileOptions(run="host", checks=3)).to_json()
    assert report["reference"] == "tflite-micro" and report["match"] and report["max_abs_diff"] == 0
    assert report["reference_output_varies"] is True
