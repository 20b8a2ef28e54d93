"""Import: TFLite and MLIR become static-shaped linalg; bad input gets a clear FdtError."""

from __future__ import annotations

import pytest

from conftest import model_path
from mlir_fdt.errors import FdtError
from mlir_fdt.importers import import_model
from mlir_fdt.ir import entry_function, new_context, walk_ops


def test_tflite_import_is_static_linalg_with_batch_1():
    ctx = new_context()
    module = import_model(model_path("kws_int8"), ctx)
    with ctx:
        fn = entry_function(module)
        assert str(fn.type) == "(tensor<1x49x10x1xi8>) -> tensor<1x12xi8>"
        names = {op.name for op in walk_ops(module.operation)}
    assert not any(n.startswith("tosa.") for n in names)
    assert "linalg.conv_2d_nhwc_hwcf_q" in names


def test_mlir_text_round_trip(tmp_path):
    ctx = new_context()
    module = import_model(model_path("ad_int8"), ctx)
    path = tmp_path / "ad.mlir"
    path.write_text(str(module))
    again = import_model(path, new_context())
    with again.context:
        assert str(entry_function(again).type) == "(tensor<1x640xi8>) -> tensor<1x640xi8>"


def test_tosa_mlir_input_is_lowered(tmp_path):
    path = tmp_path / "add.mlir"
    path.write_text("func.func @main(%a: tensor<?x4xf32>, %b: tensor<?x4xf32>) -> tensor<?x4xf32> {\n"
                    "  %0 = tosa.add %a, %b : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>\n"
                    "  return %0 : tensor<?x4xf32>\n}\n")
    module = import_model(path, new_context())
    with module.context:
        assert str(entry_function(module).type) == "(tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>"


@pytest.mark.parametrize("name,content,message", [
    ("garbage.tflite", b"this is not a model at all", "not a TFLite flatbuffer"),
    ("empty.tflite", b"", "not a TFLite flatbuffer"),
    ("broken.mlir", b"func.func @main( {", "does not parse as MLIR"),
    ("model.onnx2", b"", "unsupported model format '.onnx2'"),
])
def test_bad_input_is_a_clear_error(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FdtError, match=message):
        import_model(path, new_context())


def test_truncated_tflite_is_a_clear_error(tmp_path):
    data = model_path("kws_int8").read_bytes()
    path = tmp_path / "truncated.tflite"
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(FdtError, match="truncated.tflite"):
        import_model(path, new_context())


def test_missing_file():
    with pytest.raises(FdtError, match="no such file"):
        import_model("/nonexistent/model.tflite", new_context())
