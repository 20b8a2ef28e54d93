"""GRU layers as Keras writes them: unrolled, they are plain FULLY_CONNECTED / element-wise operators
(bit-exact in int8, within the float tolerance); as Keras 3's WHILE loop, refused naming the operator
with what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlir_fdt.compiler import CompileOptions, compile_model
from mlir_fdt.errors import FdtError

DATA = Path(__file__).resolve().parent / "data" / "models"


@pytest.mark.parametrize("name", ["gru_float_unrolled", "gru_int8_unrolled"])
def test_unrolled_gru_matches_tflite_micro(tmp_path, name):
    report = compile_model(DATA / f"{name}.tflite", tmp_path, CompileOptions(run="host", checks=3)).to_json()
    assert report["reference"] == "tflite-micro" and report["match"]
    assert report["reference_output_varies"] is True
    if "int8" in name:
        assert report["max_abs_diff"] == 0


def test_gru_as_a_while_loop_is_refused_naming_the_operator(tmp_path):
    with pytest.raises(FdtError) as e:
        compile_model(DATA / "gru_float.tflite", tmp_path, CompileOptions()).to_json()
    assert "WHILE" in str(e.value) and "unroll=True" in str(e.value) and "operator 1" in str(e.value)
