"""int16x8 (TFLite 16x8 quantization): the i48 bias keeps its sign through IREE's TOSA pipeline,
and the corpus' int16 convolutions equal TFLite Micro bit for bit over the whole int16 range."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import REPO
from mlir_fdt.compiler import CompileOptions, compile_model
from mlir_fdt.importers import import_model
from mlir_fdt.importers.i48 import TAG
from mlir_fdt.ir import ir, new_context, walk_ops
from mlir_fdt.reference.host import run_arena_program
from mlir_fdt.reference.tflm import run_tflite_micro

CORPUS = REPO.parent / "shared" / "corpus"
SEEDS = [1, 2, 3, 4]

# A 1x1 int16x8 convolution with an i48 bias and the converter's rescale to int16.
CONV_16X8 = """
func.func @main(%x: tensor<1x2x2x1xi16>) -> tensor<1x2x2x2xi16> {
  %w = "tosa.const"() <{values = dense<[[[[3]]], [[[-2]]]]> : tensor<2x1x1x1xi8>}> : () -> tensor<2x1x1x1xi8>
  %b = "tosa.const"() <{values = BIAS : tensor<2xi48>}> : () -> tensor<2xi48>
  %mul = "tosa.const"() <{values = dense<16384> : tensor<2xi16>}> : () -> tensor<2xi16>
  %shift = "tosa.const"() <{values = dense<15> : tensor<2xi8>}> : () -> tensor<2xi8>
  %zp48 = "tosa.const"() <{values = dense<0> : tensor<1xi48>}> : () -> tensor<1xi48>
  %zp16 = "tosa.const"() <{values = dense<0> : tensor<1xi16>}> : () -> tensor<1xi16>
  %zp8 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %acc = tosa.conv2d %x, %w, %b, %zp16, %zp8 pad([0, 0, 0, 0]) stride([1, 1]) dilation([1, 1]) acc_type(i48)
    : (tensor<1x2x2x1xi16>, tensor<2x1x1x1xi8>, tensor<2xi48>, tensor<1xi16>, tensor<1xi8>) -> tensor<1x2x2x2xi48>
  %y = tosa.rescale %acc, %mul, %shift, %zp48, %zp16 scale32(false) rounding_mode<SINGLE_ROUND> per_channel(true)
      input_unsigned(false) output_unsigned(false)
    : (tensor<1x2x2x2xi48>, tensor<2xi16>, tensor<2xi8>, tensor<1xi48>, tensor<1xi16>) -> tensor<1x2x2x2xi16>
  return %y : tensor<1x2x2x2xi16>
}
"""


def _i64_constants(module: ir.Module) -> list[list[int]]:
    out = []
    with module.context:
        for op in walk_ops(module.operation):
            if op.name != "arith.constant":
                continue
            assert TAG not in op.attributes
            t = op.results[0].type
            if isinstance(t, ir.ShapedType) and str(ir.ShapedType(t).element_type) == "i64":
                out.append(np.array(ir.DenseIntElementsAttr(op.attributes["value"])).ravel().tolist())
    return out


@pytest.mark.parametrize("bias, expected", [("dense<[-34, 7]>", [-34, 7]), ("dense<-5>", [-5, -5])])
def test_negative_i48_bias_stays_negative(tmp_path, bias, expected):
    """IREE's i48 -> i64 pass zero-extends constants: -34 would become 2^48 - 34."""
    path = tmp_path / "conv16x8.mlir"
    path.write_text(CONV_16X8.replace("BIAS", bias))
    module = import_model(path, new_context())
    assert expected in _i64_constants(module)


def _corpus_model(name: str) -> Path:
    path = CORPUS / f"{name}.tflite"
    if not path.exists():
        pytest.skip(f"corpus model {path} is absent (expected ../shared/corpus beside the repository)")
    return path


@pytest.mark.parametrize("name", ["seanet_conv0", "seanet_conv10"])
def test_int16_conv_bit_exact_on_host(tmp_path, name):
    model = _corpus_model(name)
    report = compile_model(model, tmp_path, CompileOptions(run="host", seed=0)).to_json()
    assert report["max_abs_diff"] == 0
    spec_in, spec_out = report["inputs"][0], report["outputs"][0]
    assert spec_in["dtype"] == spec_out["dtype"] == "i16"
    for seed in SEEDS:
        x = np.random.default_rng(seed).integers(-32768, 32768, size=spec_in["shape"], dtype=np.int16)
        (expected,) = run_tflite_micro(model, [x], 1)
        (raw,) = run_arena_program(tmp_path / "fdt_model.host.vmfb", report["arena_bytes"],
                                   [(spec_in["offset"], x.tobytes())], [(spec_out["offset"], spec_out["bytes"])])
        got = np.frombuffer(raw, np.int16).reshape(spec_out["shape"])
        np.testing.assert_array_equal(got, expected.reshape(got.shape), err_msg=f"{name} seed {seed}")


def test_int16x8_model_of_several_ops_matches_tflite_micro(tmp_path):
    """CONV_2D, ADD, MUL and MEAN with int16 activations (tests/data/models/int16x8_ops.tflite)."""
    report = compile_model(REPO / "tests" / "data" / "models" / "int16x8_ops.tflite", tmp_path,
                           CompileOptions(run="host", checks=3)).to_json()
    assert report["reference"] == "tflite-micro" and report["match"] and report["max_abs_diff"] == 0
    assert report["reference_output_varies"] is True


def test_int16x8_pointwise_depthwise_compiles_and_matches_tflite_micro(tmp_path):
    """1x1 DEPTHWISE_CONV_2D layers (stride 1; stride 2 with multiplier 2), which IREE's decomposition
    turned into an illegal i16 -> i48 cast (refused before `importers/depthwise_i48`)."""
    report = compile_model(REPO / "tests" / "data" / "models" / "pointwise_depthwise_int16.tflite", tmp_path,
                           CompileOptions(run="host", checks=3)).to_json()
    assert report["reference"] == "tflite-micro" and report["match"] and report["max_abs_diff"] == 0
    assert report["reference_output_varies"] is True
