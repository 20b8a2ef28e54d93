"""Float corpus models that once differed from TFLite Micro: a CAST to a GATHER index (TFLite
truncates, tosa.cast rounds; random floats made invalid indices) and a depthwise layer over a
rank-reducing slice (a shifted alias overwrote input rows not yet read)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import corpus_path
from mlir_fdt.analysis.input_ranges import index_input_ranges
from mlir_fdt.compiler import FLOAT_TOLERANCE, CompileOptions, compile_model, max_abs_diff
from mlir_fdt.importers import import_model
from mlir_fdt.importers.tflite_flatbuffer import read_tflite, truncating_cast_outputs
from mlir_fdt.ir import entry_function, ir, new_context, walk_ops
from mlir_fdt.reference.host import run_arena_program
from mlir_fdt.reference.inputs import random_inputs

TEXT = "mlonmcu_text_class.tflite"
MNIST = "mlonmcu_MNIST_best_model.tflite"

# y[i] = table[int(x[i])]: the index chain of a lowered CAST -> GATHER, and one through an add
LOOKUP = """
#map = affine_map<(d0) -> (d0)>
func.func @main(%x: tensor<4xf32>, %y: tensor<4xi32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %table = arith.constant dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]> : tensor<7xf32>
  %c1 = arith.constant 1 : i32
  %e = tensor.empty() : tensor<4xi32>
  %ids = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]}
      ins(%x : tensor<4xf32>) outs(%e : tensor<4xi32>) {
  ^bb0(%in: f32, %out: i32):
    %t = math.trunc %in : f32
    %i = arith.fptosi %t : f32 to i32
    linalg.yield %i : i32
  } -> tensor<4xi32>
  %f = tensor.empty() : tensor<4xf32>
  %g = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]}
      ins(%ids : tensor<4xi32>) outs(%f : tensor<4xf32>) {
  ^bb0(%in: i32, %out: f32):
    %k = arith.index_cast %in : i32 to index
    %v = tensor.extract %table[%k] : tensor<7xf32>
    linalg.yield %v : f32
  } -> tensor<4xf32>
  %h = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]}
      ins(%y : tensor<4xi32>) outs(%f : tensor<4xf32>) {
  ^bb0(%in: i32, %out: f32):
    %s = arith.addi %in, %c1 : i32
    %k = arith.index_cast %s : i32 to index
    %v = tensor.extract %table[%k] : tensor<7xf32>
    linalg.yield %v : f32
  } -> tensor<4xf32>
  return %g, %h : tensor<4xf32>, tensor<4xf32>
}
"""


def test_an_input_reaching_a_lookup_through_casts_is_an_index():
    ctx = new_context()
    module = ir.Module.parse(LOOKUP, ctx)
    with ctx:
        ranges = index_input_ranges(entry_function(module))
    assert ranges == {0: (0, 7)}  # the second input is offset before indexing: no range claimed
    x, _ = random_inputs([([4], "f32"), ([4], "i32")], 3, index_ranges=ranges)
    assert x.dtype == np.float32 and np.all((x >= 0) & (x < 7)) and np.all(x == np.round(x))


def test_a_tflite_cast_to_integer_truncates():
    path = corpus_path(TEXT)
    assert truncating_cast_outputs(read_tflite(path)) == {"embedding/Cast"}
    ctx = new_context()
    module = import_model(path, ctx)
    with ctx:
        names = [op.name for op in walk_ops(module.operation)]
        assert "math.trunc" in names and "math.roundeven" not in names
        assert index_input_ranges(entry_function(module)) == {0: (0, 10000)}


def _host_output(report: dict, out, x: np.ndarray) -> np.ndarray:
    spec_in, spec_out = report["inputs"][0], report["outputs"][0]
    (raw,) = run_arena_program(out / "fdt_model.host.vmfb", report["arena_bytes"],
                               [(spec_in["offset"], x.tobytes())], [(spec_out["offset"], spec_out["bytes"])])
    return np.frombuffer(raw, np.float32).reshape(spec_out["shape"])


def _assert_close(got: np.ndarray, expected: np.ndarray, what: str) -> None:
    scale = max(1.0, float(np.max(np.abs(expected))))
    assert max_abs_diff(got, expected) <= FLOAT_TOLERANCE * scale, what


@pytest.fixture(scope="module")
def compiled_corpus(tmp_path_factory):
    cache = {}

    def get(name: str):
        if name not in cache:
            out = tmp_path_factory.mktemp(name.split(".")[0])
            cache[name] = compile_model(corpus_path(name), out, CompileOptions(run="host", seed=0)).to_json(), out
        return cache[name]
    return get


@pytest.mark.parametrize("name", [TEXT, MNIST])
def test_float_corpus_model_matches_tflite_micro(compiled_corpus, name):
    from mlir_fdt.reference.tflm import run_tflite_micro
    report, out = compiled_corpus(name)
    assert report["reference"] == "tflite-micro" and report["match"], report["max_abs_diff"]
    spec = report["inputs"][0]
    ranges = {0: tuple(next(iter(report["index_inputs"].values())))} if "index_inputs" in report else None
    for seed in (1, 2, 3):
        (x,) = random_inputs([(spec["shape"], "f32")], seed, index_ranges=ranges)
        (expected,) = run_tflite_micro(corpus_path(name), [x], 1)
        _assert_close(_host_output(report, out, x), expected, f"{name} seed {seed}")


def test_token_ids_with_fractions_truncate_like_tflite(compiled_corpus):
    """Valid non-integral ids (and ones in (-1, 0)) select the entry TFLite's truncation selects."""
    from mlir_fdt.reference.tflm import run_tflite_micro
    report, out = compiled_corpus(TEXT)
    x = np.random.default_rng(7).uniform(-0.999, 9999.999, size=(1, 256)).astype(np.float32)
    x[0, :6] = [2.5, 3.5, -0.5, -0.9, 9999.5, 7.49]  # round-half-even and truncation differ on each
    (expected,) = run_tflite_micro(corpus_path(TEXT), [x], 1)
    _assert_close(_host_output(report, out, x), expected, "fractional token ids")
