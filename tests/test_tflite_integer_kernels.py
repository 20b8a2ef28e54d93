"""TFLite integer operators the TOSA converter rejects, computed as TFLite Micro's kernels
(`importers/tflite_integer_kernels.py`): SOFTMAX from int8 to int16, QUANTIZE with an int16 zero point."""

from __future__ import annotations

import numpy as np
import pytest

from tflite_builder import In, operator_model, options
from mlir_fdt.compiler import CompileOptions, compile_model
from mlir_fdt.errors import FdtError
from mlir_fdt.importers.tflite_integer_kernels import exp_on_negative_values
from mlir_fdt.reference.host import run_arena_program
from mlir_fdt.reference.tflm import run_tflite_micro


def _every_difference() -> np.ndarray:
    """Rows of 8 int8 values reaching every difference to the row's maximum (-255..0), and random rows."""
    sweep = np.array([[127, 127 - d, 127 - (d + 1) % 256, -128, 0, 60, 127 - d // 2, 5] for d in range(256)])
    rng = np.random.default_rng(2)
    return np.concatenate([sweep, rng.integers(-128, 128, (64, 8))]).astype(np.int8)


@pytest.mark.parametrize("scale,beta", [(0.05, 1.0), (0.2, 1.0), (1.0, 0.5), (0.01, 2.0), (0.5, 4.0)])
def test_int8_to_int16_softmax_equals_tflite_micro(tmp_path, scale, beta):
    """Every difference to the row's maximum at five input scales x beta (some leave differences below
    TFLite Micro's diff_min out: those outputs are the minimum)."""
    x = _every_difference()
    model = operator_model(tmp_path / "m.tflite", "SOFTMAX", [In(list(x.shape), "int8", scale, 3)],
                           [In(list(x.shape), "int16", 1 / 65536, -32768)], options("Softmax", beta=beta))
    out = tmp_path / "out"
    report = compile_model(model, out, CompileOptions(objective="untiled", run="host")).to_json()
    assert report["match"]
    i, o = report["inputs"][0], report["outputs"][0]
    (raw,) = run_arena_program(out / "fdt_model.host.vmfb", report["arena_bytes"], [(i["offset"], x.tobytes())],
                               [(o["offset"], o["bytes"])])
    (expected,) = run_tflite_micro(model, [x], 1)
    np.testing.assert_array_equal(np.frombuffer(raw, np.int16).reshape(x.shape), expected)
    assert len(np.unique(expected)) > 20  # (a steep softmax, scale x beta 2, takes 30 values)


@pytest.mark.parametrize("source,target", [
    (("int16", 1 / 65536, -32768), ("int32", 3.051851e-05, 0)),   # keyword_scrambled's last operator
    (("int16", 0.001, 100), ("int8", 0.05, -3)),
    (("int8", 0.05, -3), ("int16", 0.0007, -20)),
])
def test_requantize_with_an_int16_zero_point_equals_tflite_micro(tmp_path, source, target):
    model = operator_model(tmp_path / "m.tflite", "QUANTIZE", [In([1, 64], *source)], [In([1, 64], *target)])
    report = compile_model(model, tmp_path / "out", CompileOptions(objective="untiled", run="host", checks=3)).to_json()
    assert report["match"] and report["reference"] == "tflite-micro"


def test_a_softmax_to_int16_quantized_otherwise_is_refused_by_name(tmp_path):
    model = operator_model(tmp_path / "m.tflite", "SOFTMAX", [In([1, 8], "int8", 0.1, 0)],
                           [In([1, 8], "int16", 1 / 32768, 0)], options("Softmax", beta=1.0))
    with pytest.raises(FdtError, match="operator 0 SOFTMAX.*scale 1/65536 and zero point -32768"):
        compile_model(model, tmp_path / "out", CompileOptions())


def test_gemmlowp_exp_at_known_points():
    """exp_on_negative_values (Q5.26 in, Q0.31 out) against the exponential: within gemmlowp's precision."""
    for real in (0.0, -0.125, -0.25, -1.0, -3.3, -8.0, -20.0):
        raw = exp_on_negative_values(int(round(real * (1 << 26))))
        assert abs(raw / 2 ** 31 - np.exp(real)) < 2e-6, real
