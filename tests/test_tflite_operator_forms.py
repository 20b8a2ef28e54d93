"""Operator forms found by the single-operator battery (`benchmarks/tflite_operators.py`) that were checked against a
wrong reference or failed without naming anything: padded int8 SPACE_TO_BATCH_ND (TFLite Micro's kernel pads with
an unset value: `reference/tflm_kernel_faults.py`), boolean model inputs and outputs (`codegen/widen_bool_buffers.py`),
an int8 DIV the converter rejects."""

from __future__ import annotations

import numpy as np
import pytest

from tflite_builder import Const, In, operator_model, options
from mlir_fdt.compiler import CompileOptions, compile_model
from mlir_fdt.errors import FdtError
from mlir_fdt.reference.tflm import run_tflite_micro

SHAPE = [1, 6, 5, 8]


def _check(model, tmp_path) -> dict:
    report = compile_model(model, tmp_path / "out", CompileOptions(objective="untiled", run="host", checks=2)).to_json()
    assert report["reference"] == "tflite-micro" and report["reference_output_varies"] is True
    return report


def _space_to_batch(path, zero_point: int, dtype: str = "int8"):
    scale = None if dtype == "float32" else 0.05
    x, y = In([1, 6, 6, 8], dtype, scale, zero_point), In([4, 5, 5, 8], dtype, scale, zero_point)
    return operator_model(path, "SPACE_TO_BATCH_ND", [x, Const([2, 2]), Const([[2, 2], [2, 2]])], [y])


@pytest.mark.parametrize("dtype,pad", [("int8", 3), ("float32", 0.0)])
def test_the_reference_pads_space_to_batch_with_the_zero_point_every_time(tmp_path, dtype, pad):
    """TFLite Micro's kernel padded with what its buffer held before (int8: 0, 32, 80 in one process)."""
    model = _space_to_batch(tmp_path / "s2b.tflite", 3 if dtype == "int8" else 0, dtype)
    others = [_space_to_batch(tmp_path / "other.tflite", -20),
              _space_to_batch(tmp_path / "other_f.tflite", 0, "float32")]
    for _ in range(3):  # other models run in between leave other bytes behind
        for other in others:
            run_tflite_micro(other, [np.full([1, 6, 6, 8], 90, np.int8 if other.stem == "other" else np.float32)], 1)
        out = run_tflite_micro(model, [np.full([1, 6, 6, 8], 50, dtype)], 1)[0]
        assert sorted(np.unique(out)) == [pad, 50]


@pytest.mark.parametrize("zero_point,dtype", [(3, "int8"), (-128, "int8"), (0, "float32")])
def test_padded_space_to_batch_matches(tmp_path, zero_point, dtype):
    assert _check(_space_to_batch(tmp_path / "s2b.tflite", zero_point, dtype), tmp_path)["match"]


@pytest.mark.parametrize("kind,inputs,output", [
    ("LESS", [In(SHAPE, "float32"), In(SHAPE, "float32")], In(SHAPE, "bool")),  # a bool output
    ("SELECT_V2", [In(SHAPE, "bool"), In(SHAPE, "float32"), In(SHAPE, "float32")], In(SHAPE, "float32")),  # input
])
def test_boolean_inputs_and_outputs_are_a_byte_an_element(tmp_path, kind, inputs, output):
    """iree-compile failed on the arena's i1 view, naming nothing."""
    model = operator_model(tmp_path / "bool.tflite", kind, inputs, [output])
    assert _check(model, tmp_path)["match"]


def test_an_int8_div_the_converter_rejects_is_named(tmp_path):
    x = In(SHAPE, "int8", 0.05, 3)
    model = operator_model(tmp_path / "div.tflite", "DIV", [x, x], [In(SHAPE, "int8", 0.04, -5)], options("Div"))
    with pytest.raises(FdtError, match="operator 0 DIV .*the TFLite to TOSA converter rejects it"):
        compile_model(model, tmp_path / "out", CompileOptions(objective="untiled"))


def test_a_model_without_inputs_is_refused_clearly(tmp_path):
    """A FILL of constants: the converter failed with no message."""
    model = operator_model(tmp_path / "fill.tflite", "FILL", [Const([1, 3, 4]), Const(2.5, "float32")],
                           [In([1, 3, 4], "float32")])
    with pytest.raises(FdtError, match="the model has no inputs"):
        compile_model(model, tmp_path / "out", CompileOptions(objective="untiled"))
