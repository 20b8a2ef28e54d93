"""int16 LOGISTIC and TANH as TFLite Micro computes them (`importers/tflite_int16_activations.py`): the converter's
513-entry `tosa.table` differed by up to 5 steps; now every int16 input gives TFLite Micro's output."""

from __future__ import annotations

import numpy as np
import pytest

from tflite_builder import unary
from mlir_fdt.compiler import CompileOptions, compile_model
from mlir_fdt.reference.host import run_arena_program
from mlir_fdt.reference.tflm import run_tflite_micro

EVERY_INT16 = np.arange(-32768, 32768, dtype=np.int16).reshape(1, 256, 256)


@pytest.mark.parametrize("kind", ["LOGISTIC", "TANH"])
@pytest.mark.parametrize("input_scale", [2.0 ** -12, 2.0 ** -11, 0.0007, 0.01])
def test_every_int16_input_equals_tflite_micro(tmp_path, kind, input_scale):
    """Power-of-two input scales (TFLite Micro's shift 0, and 1, which only its TANH takes as a power of two)
    and general ones (its multiplier and shift loop)."""
    model = unary(tmp_path / "m.tflite", kind, "int16", output_quantization=(2.0 ** -15, 0),
                  input_quantization=(input_scale, 0), shape=EVERY_INT16.shape)
    out = tmp_path / "out"
    report = compile_model(model, out, CompileOptions(objective="untiled", run="host")).to_json()
    assert report["match"]
    x, y = report["inputs"][0], report["outputs"][0]
    (raw,) = run_arena_program(out / "fdt_model.host.vmfb", report["arena_bytes"],
                               [(x["offset"], EVERY_INT16.tobytes())], [(y["offset"], y["bytes"])])
    (expected,) = run_tflite_micro(model, [EVERY_INT16], 1)
    np.testing.assert_array_equal(np.frombuffer(raw, np.int16).reshape(EVERY_INT16.shape), expected)
