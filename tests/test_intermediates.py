"""`--check-intermediates`: every intermediate tensor the untiled program keeps whole against TFLite
Micro's, and a wrong layer named by its operator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import INT8_MODELS, model_path

from mlir_fdt.compiler import CompileOptions, compile_model
from mlir_fdt.errors import FdtError
from mlir_fdt.importers.tflite_flatbuffer import TfliteModel, TfliteOperator, TfliteTensor, read_tflite
from mlir_fdt.ir import entry_function, ir, new_context
from mlir_fdt.reference.tensor_values import SKIPPED_FOLDED, SKIPPED_FUSED, find_tensor_values, location_names
from mlir_fdt.tools.cli import main

DATA = Path(__file__).parent / "data" / "models"
CONV_MODEL = DATA / "float_io_int8_conv.tflite"   # QUANTIZE, CONV_2D, DEPTHWISE_CONV_2D, DEQUANTIZE


def _options(**kw) -> CompileOptions:
    return CompileOptions(objective="untiled", run="host", checks=2, check_intermediates=True, **kw)


# --- which value holds which tensor (hand-written program, hand-made flatbuffer view) ---

PROGRAM = """
func.func @main(%x: tensor<1x4xi8>) -> tensor<4xi8> {
  %v = tensor.collapse_shape %x [[0, 1]] : tensor<1x4xi8> into tensor<4xi8> loc("a")
  %e = tensor.empty() : tensor<4xi32> loc("a")
  %acc = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
      iterator_types = ["parallel"]} ins(%v : tensor<4xi8>) outs(%e : tensor<4xi32>) {
    ^bb0(%i: i8, %o: i32):
      %w = arith.extsi %i : i8 to i32
      linalg.yield %w : i32
  } -> tensor<4xi32> loc("a")
  %e8 = tensor.empty() : tensor<4xi8> loc("a")
  %a = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
      iterator_types = ["parallel"]} ins(%acc : tensor<4xi32>) outs(%e8 : tensor<4xi8>) {
    ^bb0(%i: i32, %o: i8):
      %n = arith.trunci %i : i32 to i8
      linalg.yield %n : i8
  } -> tensor<4xi8> loc("a")
  %b = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
      iterator_types = ["parallel"]} ins(%a : tensor<4xi8>) outs(%e8 : tensor<4xi8>) {
    ^bb0(%i: i8, %o: i8):
      %n = arith.addi %i, %i : i8
      linalg.yield %n : i8
  } -> tensor<4xi8> loc(fused["b", "c"])
  %d = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
      iterator_types = ["parallel"]} ins(%b : tensor<4xi8>) outs(%e8 : tensor<4xi8>) {
    ^bb0(%i: i8, %o: i8):
      %n = arith.subi %i, %i : i8
      linalg.yield %n : i8
  } -> tensor<4xi8> loc("out")
  %s0 = tensor.extract_slice %d[0] [2] [1] : tensor<4xi8> to tensor<2xi8> loc(fused["s", "s:1"])
  %s1 = tensor.extract_slice %d[2] [2] [1] : tensor<4xi8> to tensor<2xi8> loc(fused["s", "s:1"])
  return %d : tensor<4xi8>
}
"""


def _model() -> TfliteModel:
    """x -> A -> a -> B -> b -> C -> c -> D -> out, R: a -> r (a RESHAPE nothing keeps), S: out -> s, s:1."""
    def t(name, n=4):
        return TfliteTensor(name, [1, n], "int8", [0.1], [0])
    tensors = [t("x"), t("a"), t("b"), t("c"), t("out"), t("r"), t("s", 2), t("s:1", 2)]
    ops = [TfliteOperator(0, "FULLY_CONNECTED", ["x"], ["a"]), TfliteOperator(1, "ADD", ["a"], ["b"]),
           TfliteOperator(2, "RELU", ["b"], ["c"]), TfliteOperator(3, "SUB", ["c"], ["out"]),
           TfliteOperator(4, "RESHAPE", ["a"], ["r"]), TfliteOperator(5, "SPLIT", ["out"], ["s", "s:1"])]
    return TfliteModel(Path("hand-made.tflite"), ops, [tensors[0]], [tensors[4]], tensors)


def test_location_names_look_inside_fused_locations():
    with new_context():
        loc = ir.Location.fused([ir.Location.name("b"), ir.Location.name("c", ir.Location.file("f", 1, 1))])
        assert location_names(loc) == ["b", "c"]
        assert location_names(ir.Location.unknown()) == []


def test_each_tensor_is_the_last_value_of_its_type_at_its_name():
    with new_context() as ctx:
        module = ir.Module.parse(PROGRAM, ctx)
        found = find_tensor_values(entry_function(module), _model())
        by_name = {tv.tensor.name: tv for tv in found.found}
        # "a": not the reshape of the input, not the i32 step: the i8 result of the last generic at "a"
        assert by_name["a"].value.owner.operation.name == "linalg.generic"
        assert str(by_name["a"].value.type) == "tensor<4xi8>"
        assert by_name["a"].operator.index == 0 and by_name["a"].tensor_index == 1
        # the generic fused from "b" and "c" holds "c", the later operator's tensor; "b" has no value
        assert by_name["c"].operator.name == "RELU"
        skipped = {s["tensor"]: s["reason"] for s in found.skipped}
        assert skipped == {"b": SKIPPED_FUSED, "r": SKIPPED_FOLDED}
        assert "out" not in by_name and "out" not in skipped  # a model output, compared as an output
        # both slices are located at both SPLIT outputs: they are its outputs in order
        offsets = {n: list(by_name[n].value.owner.operation.attributes["static_offsets"]) for n in ("s", "s:1")}
        assert offsets == {"s": [0], "s:1": [2]}


# --- the check on a committed model ---

def test_every_intermediate_of_a_committed_model_matches(tmp_path):
    report = compile_model(CONV_MODEL, tmp_path, _options()).to_json()
    checked = report["intermediates"]
    fb = read_tflite(CONV_MODEL)
    produced = [name for op in fb.operators for name in op.outputs if name not in {t.name for t in fb.outputs}]
    assert checked["compared"] > 0
    assert checked["compared"] + checked["skipped"] == len(produced)
    assert checked["match"] and checked["mismatches"] == []
    assert {t["tensor"] for t in checked["tensors"]} <= set(produced)
    assert all(t["max_abs_diff"] == 0 and t["tolerance"] == 0 for t in checked["tensors"])  # int8: bit for bit
    assert report["match"]


def test_the_shipped_program_is_the_same_with_the_check(tmp_path):
    with_check = compile_model(CONV_MODEL, tmp_path / "with", _options()).to_json()
    without = compile_model(CONV_MODEL, tmp_path / "without", CompileOptions(objective="untiled", run="host")).to_json()
    assert (tmp_path / "with" / "fdt_model.mlir").read_text() == (tmp_path / "without" / "fdt_model.mlir").read_text()
    assert with_check["arena_bytes"] == without["arena_bytes"]
    assert "intermediates" not in without


def _corrupt_one_element(module: ir.Module, tensor_name: str) -> None:
    """A deliberately wrong lowering: element 0 of the value holding `tensor_name` gets its lowest bit
    flipped (an extract, xori, insert at the same location, so it becomes the tensor's value)."""
    from mlir_fdt.reference.tensor_values import find_tensor_values as find
    fb = read_tflite(CONV_MODEL)
    with module.context:
        (tv,) = [tv for tv in find(entry_function(module), fb).found if tv.tensor.name == tensor_name]
        value, op = tv.value, tv.value.owner.operation
        rank = len(ir.RankedTensorType(value.type).shape)
        element = ir.RankedTensorType(value.type).element_type
        with ir.InsertionPoint.after(op), op.location:
            zero = ir.Operation.create("arith.constant", results=[ir.IndexType.get()],
                                       attributes={"value": ir.IntegerAttr.get(ir.IndexType.get(), 0)})
            one = ir.Operation.create("arith.constant", results=[element],
                                      attributes={"value": ir.IntegerAttr.get(element, 1)})
            old = ir.Operation.create("tensor.extract", results=[element], operands=[value] + [zero.result] * rank)
            flipped = ir.Operation.create("arith.xori", results=[element], operands=[old.result, one.result])
            new = ir.Operation.create("tensor.insert", results=[value.type],
                                      operands=[flipped.result, value] + [zero.result] * rank)
        value.replace_all_uses_except(new.result, [old, new])


def test_a_wrong_layer_is_named(tmp_path, monkeypatch, capsys):
    fb = read_tflite(CONV_MODEL)
    conv = next(op for op in fb.operators if op.name == "CONV_2D")
    from mlir_fdt import compiler
    prepare = compiler.prepare_tensor_program

    def wrong_conv(module):
        prepare(module)
        _corrupt_one_element(module, conv.outputs[0])

    monkeypatch.setattr(compiler, "prepare_tensor_program", wrong_conv)
    code = main(["compile", str(CONV_MODEL), "-o", str(tmp_path), "--objective", "untiled", "--run", "host",
                 "--checks", "1", "--check-intermediates"])
    assert code == 3
    report = json.loads((tmp_path / "report.json").read_text())
    first = report["intermediates"]["mismatches"][0]
    assert (first["operator_index"], first["operator"], first["tensor"]) == (conv.index, "CONV_2D", conv.outputs[0])
    assert first["max_abs_diff"] == 1
    quantize = next(t for t in report["intermediates"]["tensors"] if t["operator"] == "QUANTIZE")
    assert quantize["max_abs_diff"] == 0  # the layer before is right
    assert f"of operator {conv.index} (CONV_2D)" in capsys.readouterr().err


def test_needs_a_tflite_model_and_a_run(tmp_path):
    with pytest.raises(FdtError, match="needs --run"):
        compile_model(CONV_MODEL, tmp_path, CompileOptions(objective="untiled", check_intermediates=True)).to_json()
    mlir = tmp_path / "m.mlir"
    mlir.write_text("func.func @main(%x: tensor<4xi8>) -> tensor<4xi8> { return %x : tensor<4xi8> }\n")
    with pytest.raises(FdtError, match="needs a .tflite model"):
        compile_model(mlir, tmp_path / "out", _options()).to_json()


@pytest.mark.slow
@pytest.mark.parametrize("name", INT8_MODELS)
def test_every_intermediate_of_the_reference_models_matches(tmp_path, name):
    report = compile_model(model_path(name), tmp_path, _options()).to_json()
    assert report["intermediates"]["compared"] > 0
    assert report["intermediates"]["mismatches"] == []
