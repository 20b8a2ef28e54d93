"""What else a TFLite file may carry. Tensors without names, or with repeated ones (TFLite Micro's
`keyword_scrambled`, obfuscated exports): mlir-fdt names them uniquely (`importers/tflite_tensor_names.py`) for
itself and for the converter, so the fixes found by name (QUANTIZE rounding, resizes, LSTM variants,
intermediates) still find their operators. A batch left dynamic in the shape signatures (Keras models converted
without a fixed batch): the converter reads the shapes TFLite Micro runs (`importers/tflite_static_shapes.py`).
uint8 model inputs and outputs around an int8 or float model (`importers/tflite_uint8_io.py`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import model_path, requires_qemu
from tflite_builder import split_v, strided_slice, with_uint8_io
from mlir_fdt.compiler import CompileOptions, compile_model
from mlir_fdt.errors import FdtError
from mlir_fdt.importers.tflite_flatbuffer import read_tflite
from mlir_fdt.importers.tflite_static_shapes import drop_dynamic_signatures
from mlir_fdt.importers.tflite_tensor_names import name_tensors_uniquely, unique_tensor_names
from mlir_fdt.importers.tflite_tensor_tables import rewrite_tensors

DATA = Path(__file__).resolve().parent / "data" / "models"


def _renamed(model: Path, tmp_path: Path, name) -> Path:
    """A copy of `model` whose tensor `i` is named `name(i)`."""
    data, _ = rewrite_tensors(model.read_bytes(), lambda g, i, t, tables: {"name": name(i)})
    path = tmp_path / model.name
    path.write_bytes(data)
    return path


def _with_dynamic_batch(model: Path, tmp_path: Path) -> Path:
    """A copy of `model` whose computed tensors and inputs have the signature `[-1, ...]`, as TensorFlow writes a
    Keras model without a fixed batch."""
    fb = read_tflite(model)
    computed = {n for op in fb.operators for n in op.outputs} | {t.name for t in fb.inputs}
    dynamic = [i for i, t in enumerate(fb.tensors) if t.name in computed and t.shape]
    data, n = rewrite_tensors(model.read_bytes(), lambda g, i, t, tables: {
        "shape_signature": [-1, *fb.tensors[i].shape[1:]]} if g == 0 and i in dynamic else None)
    assert n == len(dynamic) > 0
    path = tmp_path / model.name
    path.write_bytes(data)
    return path


def test_unique_names_keep_the_first_use_and_number_the_rest():
    assert unique_tensor_names(["a", "", "a", "b", "", "tensor_1"]) == \
        ["a", "tensor_1_", "a#2", "b", "tensor_4", "tensor_1"]
    assert unique_tensor_names(["x", "y"]) == ["x", "y"]


def test_the_reader_and_the_converters_copy_agree_on_the_names(tmp_path):
    stripped = _renamed(DATA / "float_io_int8_conv.tflite", tmp_path, lambda i: "")
    model = read_tflite(stripped)
    assert [t.name for t in model.tensors] == [f"tensor_{i}" for i in range(len(model.tensors))]
    data, renamed = name_tensors_uniquely(stripped.read_bytes())
    assert renamed == len(model.tensors)
    named = tmp_path / "named.tflite"
    named.write_bytes(data)
    again = read_tflite(named)
    assert again.tensors == model.tensors and again.operators == model.operators
    assert name_tensors_uniquely(data) == (data, 0)


@pytest.mark.parametrize("name,names", [
    ("float_io_int8_conv", lambda i: ""),            # QUANTIZE rounding, found by its output's name
    ("resize_nearest_floor_int8", lambda i: ""),     # the resize fix, found by debug location
    ("float_lstm", lambda i: "same"),                # the LSTM's optional inputs, told apart by name
])
def test_models_without_distinct_tensor_names_compile_and_match_tflite_micro(tmp_path, name, names):
    """Each of these failed before: an internal error (QUANTIZE), a refusal of a supported resize, an LSTM
    refused as CIFG (every input looked up as the first tensor)."""
    model = _renamed(DATA / f"{name}.tflite", tmp_path, names)
    _assert_compiles_and_matches(model, tmp_path)


def _assert_compiles_and_matches(model: Path, tmp_path: Path) -> None:
    report = compile_model(model, tmp_path / "out", CompileOptions(objective="untiled", run="host",
                                                                     check_intermediates=True)).to_json()
    assert report["match"] and report["reference"] == "tflite-micro"
    assert report["intermediates"]["compared"] > 0 and report["intermediates"]["mismatches"] == []


@pytest.mark.parametrize("name", ["float_io_int8_conv", "float_lstm"])
def test_models_with_a_dynamic_batch_compile_and_match_tflite_micro(tmp_path, name):
    """Each failed before: IREE's lowering rejected the QUANTIZE's rewrite ('tensor.empty' op incorrect number
    of dynamic sizes), the LSTM's lowering had a static type where the converter's was dynamic."""
    model = _with_dynamic_batch(DATA / f"{name}.tflite", tmp_path)
    assert drop_dynamic_signatures(model.read_bytes())[1] > 0
    _assert_compiles_and_matches(model, tmp_path)


@pytest.mark.parametrize("name", ["multi_io_int8", "ad_fp32"])
def test_uint8_inputs_and_outputs_around_the_model_compile_and_match_tflite_micro(tmp_path, name):
    """A uint8 input converted by a QUANTIZE (int8 model) or a DEQUANTIZE (float model), and a uint8 output
    written by a QUANTIZE: TFLite Micro runs them; they were refused as legacy uint8 quantization."""
    source = DATA / f"{name}.tflite" if (DATA / f"{name}.tflite").exists() else model_path(name)
    model = with_uint8_io(source, tmp_path / f"{name}_uint8.tflite")
    report = compile_model(model, tmp_path / "out", CompileOptions(objective="untiled", run="host", checks=2)).to_json()
    assert report["match"] and report["reference"] == "tflite-micro"
    assert report["inputs"][0]["dtype"] == "ui8"
    assert report["reference_output_varies"] is True


@requires_qemu
@pytest.mark.parametrize("streamed", [False, True])
def test_uint8_io_is_bit_exact_under_qemu(tmp_path, streamed):
    """The application's uint8 bytes go in (whole, or row by row through the input callback) and come out as they
    are (the top-bit flips are fused into the first and last layers): untiled, the arena is the int8 model's."""
    model = with_uint8_io(model_path("kws_int8"), tmp_path / "kws_uint8.tflite")
    options = CompileOptions(objective="min-ram", stream_input=True, run="qemu") if streamed else \
        CompileOptions(objective="untiled", run="qemu")
    report = compile_model(model, tmp_path / "out", options).to_json()
    assert report["match"] and report["reference"] == "tflite-micro"
    assert [report["inputs"][0]["dtype"], report["outputs"][0]["dtype"]] == ["ui8", "ui8"]
    if not streamed:
        assert report["arena_bytes"] == 11840  # kws_int8 untiled (README)


def test_uint8_inside_the_model_is_refused_naming_the_operator(tmp_path):
    model = model_path("kws_int8")
    data, _ = rewrite_tensors(model.read_bytes(), lambda g, i, t, tables: {"type": 3} if i == 0 else None)
    bad = tmp_path / "uint8_weights.tflite"
    bad.write_bytes(data)
    fb = read_tflite(bad)
    user = next(op for op in fb.operators if fb.tensors[0].name in op.inputs)
    with pytest.raises(FdtError, match=rf"operator {user.index} {user.name} .*uint8 tensors inside the model"):
        compile_model(bad, tmp_path / "out", CompileOptions(objective="untiled"))


@pytest.mark.parametrize("sizes", [[3, -1, 2], [-1, 3, 2], [3, 3, 2]])
def test_split_v_with_a_size_of_minus_one_matches_tflite_micro(tmp_path, sizes):
    """The converter sliced `[3, -1, 2]` as 3, 5 and 2 channels at offsets 0, 3 and 2 (an internal error when the
    check reshaped the outputs) and `[-1, 3, 2]` at offset -1 (IREE's error): `importers/tflite_split_sizes.py`."""
    model = split_v(tmp_path / "split_v.tflite", sizes, [3, 3, 2])
    report = compile_model(model, tmp_path / "out", CompileOptions(objective="untiled", run="host")).to_json()
    assert report["match"] and report["reference"] == "tflite-micro"
    assert [o["shape"] for o in report["outputs"]] == [[1, 6, 5, 3], [1, 6, 5, 3], [1, 6, 5, 2]]


def test_an_output_whose_import_has_another_size_is_named(tmp_path, monkeypatch):
    """Without the SPLIT_V fix, the converter's second output has 5 channels where the model declares 3: an
    error naming the output and its operator, not an internal error."""
    from mlir_fdt.importers import tflite as tflite_importer
    monkeypatch.setattr(tflite_importer, "_SOURCE_REWRITES", tuple(
        r for r in tflite_importer._SOURCE_REWRITES if r is not tflite_importer.resolve_split_sizes))
    model = split_v(tmp_path / "split_v.tflite", [3, -1, 2], [3, 3, 2])
    with pytest.raises(FdtError, match=r"output 'y1' is 1x6x5x3 in the model but 1x6x5x5 in its import "
                                       r"\(computed by operator 0 SPLIT_V\)"):
        compile_model(model, tmp_path / "out", CompileOptions(objective="untiled"))


@pytest.mark.parametrize("begin,end,strides,out_shape,masks", [
    ([0, 0, 0, 0], [1, 100, 100, 100], [1, 4, 4, 3], [1, 2, 2, 3], (0, 0, 0)),   # ends past the axes: clamped
    ([0, -3, -4, 0], [1, -1, 5, 8], [1, 1, 2, 1], [1, 2, 2, 8], (0, 0, 0)),       # counted from the end
    ([0, 1, 9, 2], [0, 0, 0, 6], [1, 1, 1, 2], [1, 5, 5, 2], (0b0101, 0b0111, 0)),  # masks
    ([0, 2, 0, 0], [1, 3, 5, 8], [1, 1, 1, 1], [1, 5, 8], (0, 0, 0b0010)),        # a shrunk axis
])
def test_strided_slice_bounds_are_read_as_tflite_reads_them(tmp_path, begin, end, strides, out_shape, masks):
    """An end past its axis made the converter's `tosa.slice` invalid ('does not parse', naming no operator):
    `importers/tflite_strided_slices.py` clamps the bounds in the converter's copy."""
    model = strided_slice(tmp_path / "ss.tflite", begin, end, strides, out_shape, *masks)
    report = compile_model(model, tmp_path / "out", CompileOptions(objective="untiled", run="host")).to_json()
    assert report["match"] and report["reference"] == "tflite-micro"


def test_a_negative_stride_is_refused_naming_the_operator(tmp_path):
    model = strided_slice(tmp_path / "ss.tflite", [0, 5, 0, 0], [1, -7, 5, 8], [1, -1, 1, 1], [1, 6, 5, 8])
    with pytest.raises(FdtError, match="operator 0 STRIDED_SLICE .*a negative stride"):
        compile_model(model, tmp_path / "out", CompileOptions(objective="untiled"))
