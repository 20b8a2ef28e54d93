"""REDUCE_MAX and REDUCE_MIN (float and int8; one, several, negative and all axes; keep_dims or not)
equal TFLite Micro, and older TFLite files whose scalars are marked only by an empty shape import
(`importers/tflite_scalars`). Models: scripts/make_test_models.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mlir_fdt.compiler import CompileOptions, compile_model
from mlir_fdt.importers.tflite_flatbuffer import read_tflite
from mlir_fdt.importers.tflite_scalars import rank_shapeless_scalars
from mlir_fdt.reference.tflm import run_tflite_micro

DATA = Path(__file__).resolve().parent / "data" / "models"
REDUCTIONS = ["reduce_max_float_axis1", "reduce_min_float_axes12_keep", "reduce_max_float_all",
              "reduce_max_int8_axes_neg1_1", "reduce_min_int8_axis2_keep", "reduce_min_int8_all"]
UNRANKED = DATA / "unranked_scalar_reduce_int8.tflite"


@pytest.mark.parametrize("name", REDUCTIONS + ["unranked_scalar_reduce_int8"])
def test_reduction_equals_tflite_micro(tmp_path, name):
    report = compile_model(DATA / f"{name}.tflite", tmp_path, CompileOptions(run="host", checks=2)).to_json()
    assert report["match"] and report["reference"] == "tflite-micro"
    assert report["reference_output_varies"] is True
    if "int8" in name:
        assert report["max_abs_diff"] == 0


def _rank(path: Path) -> dict[str, bool]:
    """has_rank of each tensor of the main subgraph, as TFLite Micro's own schema module reads it."""
    schema = pytest.importorskip("tflite_micro.tensorflow.lite.micro.python.schema_py_generated")
    model = schema.ModelT.InitFromPackedBuf(path.read_bytes(), 0)
    return {t.name.decode(): bool(t.hasRank) for t in model.subgraphs[0].tensors}


def test_empty_shapes_become_ranked_scalars_and_nothing_else_changes(tmp_path):
    data, marked = rank_shapeless_scalars(UNRANKED.read_bytes())
    fixed = tmp_path / UNRANKED.name
    fixed.write_bytes(data)
    before, after = read_tflite(UNRANKED), read_tflite(fixed)
    scalars = {t.name for t in before.tensors if t.shape == []}
    assert marked == len(scalars) > 0
    assert not any(_rank(UNRANKED).values())
    assert {n for n, ranked in _rank(fixed).items() if ranked} == scalars
    assert after.tensors == before.tensors and after.operators == before.operators
    x = np.random.default_rng(0).integers(-128, 128, before.inputs[0].shape, dtype=np.int8)
    np.testing.assert_array_equal(run_tflite_micro(fixed, [x], 1)[0], run_tflite_micro(UNRANKED, [x], 1)[0])


def test_a_file_without_empty_shapes_is_left_as_it_is():
    data = (DATA / "reduce_max_float_axis1.tflite").read_bytes()
    assert rank_shapeless_scalars(data) == (data, 0)

