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


def _compiled_output(tmp_path, model, x: np.ndarray, dtype) -> np.ndarray:
    """The program's output on `x` (untiled, host build), after the compile's own seeded check passed."""
    out = tmp_path / "out"
    report = compile_model(model, out, CompileOptions(objective="untiled", run="host")).to_json()
    assert report["match"]
    i, o = report["inputs"][0], report["outputs"][0]
    (raw,) = run_arena_program(out / "fdt_model.host.vmfb", report["arena_bytes"], [(i["offset"], x.tobytes())],
                               [(o["offset"], o["bytes"])])
    return np.frombuffer(raw, dtype).reshape(x.shape)


@pytest.mark.parametrize("scale,beta", [(0.05, 1.0), (0.2, 1.0), (1.0, 0.5), (0.01, 2.0), (0.5, 4.0)])
def test_int8_to_int16_softmax_equals_tflite_micro(tmp_path, scale, beta):
    """Every difference to the row's maximum at five input scales x beta (some leave differences below
    TFLite Micro's diff_min out: those outputs are the minimum)."""
    x = _every_difference()
    model = operator_model(tmp_path / "m.tflite", "SOFTMAX", [In(list(x.shape), "int8", scale, 3)],
                           [In(list(x.shape), "int16", 1 / 65536, -32768)], options("Softmax", beta=beta))
    (expected,) = run_tflite_micro(model, [x], 1)
    np.testing.assert_array_equal(_compiled_output(tmp_path, model, x, np.int16), expected)
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


def _int16_rows() -> np.ndarray:
    """Rows of 16 int16 values: differences to the row's maximum sweeping every entry of the exp table (at the
    scales below), rows of equal values (the largest sums), one large value among small ones, random rows."""
    rng = np.random.default_rng(3)
    sweep = [np.concatenate([[3000], 3000 - (np.arange(15) + 15 * k) * 7]) for k in range(180)]
    bands = [rng.integers(-width, 1, 16) + rng.integers(-30000, 30000) for width in (100, 2000, 20000, 60000)
             for _ in range(40)]
    special = [np.full(16, v) for v in (-32768, 0, 32767)] + [np.array([32767] + [-32768] * 15)]
    rows = np.concatenate([np.array(sweep), np.clip(bands, -32768, 32767), np.array(special)])
    return rows.astype(np.int16)


@pytest.mark.parametrize("scale,beta", [(0.0005, 1.0), (0.002, 1.0), (0.0001, 0.5), (1 / 4096, 2.0)])
def test_int16_softmax_equals_tflite_micro(tmp_path, scale, beta):
    """TFLite Micro's SoftmaxInt16 with the tables its Prepare builds in float32 (the converter's were up to
    18,362 steps off): 344 rows of 16, every entry of the exp table reached across the four scales."""
    x = _int16_rows()
    model = operator_model(tmp_path / "m.tflite", "SOFTMAX", [In(list(x.shape), "int16", scale, 0)],
                           [In(list(x.shape), "int16", 1 / 32768, 0)], options("Softmax", beta=beta))
    (expected,) = run_tflite_micro(model, [x], 1)
    np.testing.assert_array_equal(_compiled_output(tmp_path, model, x, np.int16), expected)
    assert len(np.unique(expected)) > 1000


@pytest.mark.parametrize("beta", [0.5, 2.0])
def test_int8_softmax_with_another_beta_equals_tflite_micro(tmp_path, beta):
    """int8 to int8 with beta != 1, which the converter leaves unconverted: the same fixed point, 8 output bits."""
    x = _every_difference()
    model = operator_model(tmp_path / "m.tflite", "SOFTMAX", [In(list(x.shape), "int8", 0.1, 3)],
                           [In(list(x.shape), "int8", 1 / 256, -128)], options("Softmax", beta=beta))
    (expected,) = run_tflite_micro(model, [x], 1)
    np.testing.assert_array_equal(_compiled_output(tmp_path, model, x, np.int8), expected)


def test_an_int8_softmax_with_beta_0_is_refused_by_name(tmp_path):
    """TFLite Micro aborts (the whole process) preparing it: refused before any reference runs."""
    model = operator_model(tmp_path / "m.tflite", "SOFTMAX", [In([1, 8], "int8", 0.1, 0)],
                           [In([1, 8], "int16", 1 / 65536, -32768)], options("Softmax"))
    with pytest.raises(FdtError, match="operator 0 SOFTMAX.*beta 0.*Prepare aborts"):
        compile_model(model, tmp_path / "out", CompileOptions(run="host"))
