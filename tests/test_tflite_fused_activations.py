"""Fused activations as TFLite Micro applies them (`importers/tflite_fused_activations.py`): the converter drops
a pooling's fused activation (the program was silently unclamped), and applies a fused TANH that TFLite Micro
ignores (refused)."""

from __future__ import annotations

import pytest

from tflite_builder import fully_connected, pooling
from mlir_fdt.compiler import CompileOptions, compile_model
from mlir_fdt.errors import FdtError


@pytest.mark.parametrize("kind,activation,dtype", [
    ("MAX_POOL_2D", "RELU6", "int8"), ("AVERAGE_POOL_2D", "RELU", "int8"), ("MAX_POOL_2D", "RELU", "int8"),
    ("MAX_POOL_2D", "RELU6", "float32"), ("AVERAGE_POOL_2D", "RELU", "float32"),
    ("AVERAGE_POOL_2D", "RELU_N1_TO_1", "float32")])
def test_a_poolings_fused_activation_is_applied(tmp_path, kind, activation, dtype):
    """Each differed from TFLite Micro before (int8 by up to 92 steps), but RELU_N1_TO_1, whose clamp the
    seeded inputs in [-1, 1) never reach (kept for the float bounds' path)."""
    model = pooling(tmp_path / "pool.tflite", kind, activation, dtype)
    report = compile_model(model, tmp_path / "out", CompileOptions(objective="untiled", run="host", checks=2)).to_json()
    assert report["match"] and report["reference"] == "tflite-micro"
    assert report["reference_output_varies"] is True


def test_a_fused_tanh_is_refused_naming_the_operator(tmp_path):
    model = fully_connected(tmp_path / "fc.tflite", "TANH")
    with pytest.raises(FdtError, match="operator 0 FULLY_CONNECTED .*a fused TANH, which TFLite Micro ignores"):
        compile_model(model, tmp_path / "out", CompileOptions(objective="untiled"))


def test_a_fused_relu6_on_a_dense_layer_still_matches(tmp_path):
    model = fully_connected(tmp_path / "fc.tflite", "RELU6")
    report = compile_model(model, tmp_path / "out", CompileOptions(objective="untiled", run="host")).to_json()
    assert report["match"] and report["reference"] == "tflite-micro"
