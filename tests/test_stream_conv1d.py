"""Streamed paths over TxC maps: Conv1D models (IMU, ECG, audio; Keras writes a map of height 1, which folds to
time x channels) stream one time step at a time, found by the default objective; bit-exact under QEMU, the input
delivered a sample at a time with --stream-input. Max poolings (no requantization) compute their accumulator one
element at a time, so their output may trail their input (`fdt-fuse-epilogues`)."""

from __future__ import annotations

import json

import pytest

from conftest import requires_qemu
from conv1d_models import conv1d_model
from mlir_fdt.compiler import CompileOptions, compile_model


@pytest.fixture(scope="module")
def imu_model(tmp_path_factory):
    return conv1d_model(tmp_path_factory.mktemp("conv1d") / "imu.tflite")


@requires_qemu
@pytest.mark.qemu
def test_the_default_objective_streams_a_conv1d_model(tmp_path, imu_model):
    untiled = compile_model(imu_model, tmp_path / "untiled", CompileOptions(objective="untiled")).to_json()
    options = CompileOptions(objective="min-ram", run="qemu", checks=2)  # the command line's default
    report = compile_model(imu_model, tmp_path / "out", options).to_json()
    assert report["qemu_max_abs_diff"] == 0 and report["reference"] == "tflite-micro"
    assert report["mac_overhead"] == 0
    streamed = [p for p in report["tiling_plan"]["paths"] if p["method"] == "stream"]
    assert streamed and "conv_0" in streamed[0]["layers"]
    # 12,288 B untiled (2026-12-07): conv_0's 512x16 output and the pooling's never whole
    assert report["arena_bytes"] <= 0.7 * untiled["arena_bytes"], (report["arena_bytes"], untiled["arena_bytes"])


@requires_qemu
@pytest.mark.qemu
def test_a_conv1d_input_streams_a_sample_at_a_time(tmp_path, imu_model):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"paths": [{"layers": ["conv_0", "pool_1", "conv_2", "pool_3"], "method": "stream"}]}))
    report = compile_model(imu_model, tmp_path / "out", CompileOptions(plan=str(plan), run="qemu", stream_input=True,
                                                                       checks=2)).to_json()
    assert report["qemu_max_abs_diff"] == 0
    assert report["inputs"][0]["streamed_row_bytes"] == 3  # one sample of three axes


def test_a_max_pooling_output_trails_its_input(tmp_path):
    """Its accumulator fill was a nest of its own over the whole output: the output could not overlap the input
    it dies with (8x8x4 -> 3x3x4: the two side by side before)."""
    from tflite_builder import pooling
    model = pooling(tmp_path / "pool.tflite", "MAX_POOL_2D", "NONE", "int8", filter_hw=3, stride=2)
    report = compile_model(model, tmp_path / "out", CompileOptions(objective="untiled", run="host", checks=2)).to_json()
    assert report["match"]
    sizes = {b["label"]: b["bytes"] for b in report["buffers"]}
    assert report["arena_bytes"] < sum(sizes.values()), (report["arena_bytes"], sizes)
    assert report["shifted_aliases"]


def test_an_onnx_conv1d_model_runs_channels_last_and_streams(tmp_path):
    """PyTorch's Conv1d/MaxPool1d export NCW: they were left channels-first (no SIMD-friendly reduction, no rows to
    stream: the search's stream candidates failed). Now NWC as the 2-D ones are NHWC."""
    from conv1d_models import onnx_conv1d_model
    model = onnx_conv1d_model(tmp_path / "conv1d.onnx")
    untiled = compile_model(model, tmp_path / "untiled", CompileOptions(objective="untiled", run="host")).to_json()
    report = compile_model(model, tmp_path / "out", CompileOptions(objective="min-ram", run="host", checks=2)).to_json()
    assert untiled["match"] and report["match"] and report["reference"] == "onnxruntime"
    assert any(p["method"] == "stream" for p in report["tiling_plan"]["paths"])
    assert report["arena_bytes"] <= 0.6 * untiled["arena_bytes"], (report["arena_bytes"], untiled["arena_bytes"])
