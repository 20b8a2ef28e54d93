"""ONNX in: models built here with onnx.helper (exact cases), the corpus's ONNX files, and bad ONNX input.

The reference is onnxruntime, node by node (reference/ort.py); float outputs within the README's float
tolerance, the QDQ model's dequantized outputs equal to onnxruntime's.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import corpus_path, requires_qemu

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from mlir_fdt.compiler import CompileOptions, compile_model  # noqa: E402
from mlir_fdt.errors import FdtError  # noqa: E402
from mlir_fdt.importers import import_model  # noqa: E402
from mlir_fdt.importers.onnx_dequantize import fold_constant_dequantize  # noqa: E402
from mlir_fdt.importers.onnx_model import read_onnx  # noqa: E402
from mlir_fdt.ir import new_context  # noqa: E402
from mlir_fdt.reference.ort import onnx_input_ranges, run_onnxruntime  # noqa: E402

CLI = [sys.executable, "-m", "mlir_fdt.tools.cli"]
FLOAT_CORPUS = ["mlonmcu_onnx_mnist", "mlonmcu_micro_kws_m_static_fp32"]


def conv_model(path: Path, batch="N", op_type="Relu", opset=13, domain="", fc="Gemm") -> Path:
    """x[batch, 2, 6, 6] -> Conv 3x3 (4 channels, bias) -> op_type -> MaxPool 2x2 -> Flatten -> fc (Gemm with
    bias, or MatMul) to 3."""
    rng = np.random.default_rng(1)
    weights = [numpy_helper.from_array(rng.standard_normal(s).astype(np.float32), n) for n, s in
               (("w", (4, 2, 3, 3)), ("b", (4,)), ("fc", (3, 16) if fc == "Gemm" else (16, 3)), ("fc_b", (3,)))]
    last = (helper.make_node("Gemm", ["f", "fc", "fc_b"], ["y"], name="fc", transB=1) if fc == "Gemm"
            else helper.make_node("MatMul", ["f", "fc"], ["y"], name="fc"))
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node(op_type, ["c"], ["r"], name="act", domain=domain),
             helper.make_node("MaxPool", ["r"], ["p"], name="pool", kernel_shape=[2, 2], strides=[3, 3]),
             helper.make_node("Flatten", ["p"], ["f"], name="flatten"), last]
    if fc != "Gemm":
        weights.pop()
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 2, 6, 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 3])], weights)
    imports = [helper.make_opsetid("", opset)] + ([helper.make_opsetid(domain, 1)] if domain else [])
    onnx.save(helper.make_model(graph, opset_imports=imports), path)
    return path


def _saved(graph, path: Path, opset: int) -> Path:
    """`graph` as a model of the default domain at `opset`, written to `path`."""
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), path)
    return path


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=600)


def assert_one_line_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# -- compiled and checked against onnxruntime --------------------------------------------------------------
def test_small_cnn_with_dynamic_batch_matches_onnxruntime(tmp_path):
    report = compile_model(conv_model(tmp_path / "cnn.onnx"), tmp_path / "out",
                           CompileOptions(run="host", checks=2)).to_json()
    assert report["reference"] == "onnxruntime" and report["match"]
    assert report["max_abs_diff"] <= report["tolerance"] == pytest.approx(1e-4 * max(1.0, 1.0), rel=10)
    assert report["reference_output_varies"] is True
    assert [i["shape"] for i in report["inputs"]] == [[1, 2, 6, 6]]  # the batch N set to 1
    assert [i["name"] for i in report["inputs"]] == ["x"] and report["outputs"][0]["name"] == "y"


@pytest.mark.parametrize("opset", [9, 14])
def test_batch_norm_and_greater_or_equal_of_an_older_opset_match_onnxruntime(tmp_path, opset):
    """Conv -> BatchNormalization -> Where(x >= 0, x, 0.1 x) at an opset below those torch-mlir converts
    BatchNormalization (15) and GreaterOrEqual (16) from: the model is upgraded and compiles. (GreaterOrEqual
    exists from opset 12; at opset 9 the test spells it Not(Less).)"""
    rng = np.random.default_rng(7)
    weights = [numpy_helper.from_array(a.astype(np.float32), n) for n, a in (
        ("w", rng.standard_normal((4, 2, 3, 3))), ("scale", rng.uniform(0.5, 1.5, 4)), ("bias", rng.standard_normal(4)),
        ("mean", rng.standard_normal(4)), ("var", rng.uniform(0.5, 1.5, 4)), ("zero", np.zeros(())),
        ("slope", np.full((), 0.1)))]
    compare = ([helper.make_node("GreaterOrEqual", ["n", "zero"], ["ge"], name="ge")] if opset >= 12 else
               [helper.make_node("Less", ["n", "zero"], ["lt"], name="lt"),
                helper.make_node("Not", ["lt"], ["ge"], name="not")])
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c", "scale", "bias", "mean", "var"], ["n"], name="bn",
                              epsilon=1e-5),
             *compare, helper.make_node("Mul", ["n", "slope"], ["leak"], name="leak"),
             helper.make_node("Where", ["ge", "n", "leak"], ["y"], name="where")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 6, 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 6, 6])], weights)
    path = tmp_path / f"bn{opset}.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), path)
    report = compile_model(path, tmp_path / "out", CompileOptions(run="host", checks=2)).to_json()
    assert report["reference"] == "onnxruntime" and report["match"], report["max_abs_diff"]
    assert report["reference_output_varies"] is True


@pytest.mark.parametrize("stem", FLOAT_CORPUS)
def test_float_corpus_model_matches_onnxruntime_on_the_host(tmp_path, stem):
    report = compile_model(corpus_path(f"{stem}.onnx"), tmp_path, CompileOptions(run="host", checks=2)).to_json()
    assert report["reference"] == "onnxruntime" and report["match"], report["max_abs_diff"]
    assert report["reference_output_varies"] is True


@pytest.mark.slow
@requires_qemu
@pytest.mark.parametrize("stem", [*FLOAT_CORPUS, "mlonmcu_micro_kws_m_static_qdq"])
def test_corpus_model_min_ram_under_qemu(tmp_path, stem):
    """The default objective, under QEMU; the arena at most IREE's default flow's on the same import."""
    from mlir_fdt.codegen.iree_compile import iree_default_transient_bytes
    from mlir_fdt.targets import get_target
    report = compile_model(corpus_path(f"{stem}.onnx"), tmp_path,
                           CompileOptions(run="qemu", checks=3, objective="min-ram")).to_json()
    assert report["match"] and report["qemu_max_abs_diff"] <= report["tolerance"]
    iree = iree_default_transient_bytes(tmp_path / "imported.mlir", get_target("cortex-m4"))
    io = sum(t["bytes"] for t in report["inputs"] + report["outputs"])
    assert report["arena_bytes"] <= iree + io


# -- what the import does to the model -------------------------------------------------------------------
def test_legacy_broadcast_is_upgraded_to_its_meaning(tmp_path):
    """Opset 6 Add(broadcast=1, axis=1) of a [3] bias to [1, 3, 2, 2] adds b[c] to channel c."""
    node = helper.make_node("Add", ["x", "b"], ["y"], name="add", broadcast=1, axis=1)
    b = numpy_helper.from_array(np.array([1.0, 10.0, 100.0], np.float32), "b")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 2, 2]),
                                            helper.make_tensor_value_info("b", TensorProto.FLOAT, [3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 2, 2])], [b])
    path = tmp_path / "legacy.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 6)], ir_version=3), path)
    model = read_onnx(path)
    assert model.original_opset == 6 and [t.name for t in model.inputs] == ["x"]
    x = np.arange(12, dtype=np.float32).reshape(1, 3, 2, 2)
    (y,) = run_onnxruntime(path, [x])
    np.testing.assert_array_equal(y, x + np.array([1.0, 10.0, 100.0], np.float32)[:, None, None])


def test_legacy_prelu_slope_is_one_a_channel(tmp_path):
    """Opset 6 PRelu with a [3] slope on [1, 3, 2, 3]: slope[c] for channel c (the legacy meaning), not for the
    last dimension, which numpy broadcasting would pick silently here (it is 3 too)."""
    slope = np.array([0.5, -2.0, 10.0], np.float32)
    node = helper.make_node("PRelu", ["x", "slope"], ["y"], name="prelu")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 2, 3]),
                                            helper.make_tensor_value_info("slope", TensorProto.FLOAT, [3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 2, 3])],
                              [numpy_helper.from_array(slope, "slope")])
    path = tmp_path / "prelu6.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 6)], ir_version=3), path)
    x = -np.ones((1, 3, 2, 3), np.float32)
    (y,) = run_onnxruntime(path, [x])  # the upgraded model the compiler imports
    np.testing.assert_array_equal(y, -slope[None, :, None, None] * np.ones((1, 3, 2, 3), np.float32))
    report = compile_model(path, tmp_path / "out", CompileOptions(run="host", checks=2)).to_json()
    assert report["match"] and report["reference_output_varies"]


def test_an_old_pytorch_pad_upgrades_and_matches(tmp_path):
    """Opset 2 Pad (pads as an attribute, IR version 3): the converter makes the pads an initializer that the
    graph does not list as an input, which IR version 3 forbids; the model is read as IR version 4."""
    node = helper.make_node("Pad", ["x"], ["y"], name="pad", mode="reflect", pads=[0, 0, 1, 2, 0, 0, 1, 0])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 5])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 6, 7])])
    path = tmp_path / "pad2.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 2)], ir_version=3), path)
    report = compile_model(path, tmp_path / "out", CompileOptions(run="host", checks=2)).to_json()
    assert report["match"] and report["reference_output_varies"]


def test_int64_token_ids_run_and_float64_is_refused_by_name(tmp_path):
    """A PyTorch embedding takes int64 token ids: drawn within the table, checked like any input. A float64
    model is refused naming its input (it failed inside iree-compile)."""
    table = numpy_helper.from_array(np.random.default_rng(2).standard_normal((10, 4)).astype(np.float32), "table")
    node = helper.make_node("Gather", ["table", "ids"], ["y"], name="embed")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6, 4])], [table])
    path = _saved(graph, tmp_path / "embed.onnx", 13)
    report = compile_model(path, tmp_path / "out", CompileOptions(run="host", checks=2)).to_json()
    assert report["match"] and report["reference_output_varies"]
    assert report["index_inputs"] == {"ids": [0, 10]}  # drawn from [0, 10): the table's rows
    node = helper.make_node("Add", ["a", "a"], ["y"], name="double")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("a", TensorProto.DOUBLE, [2, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.DOUBLE, [2, 3])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), tmp_path / "f64.onnx")
    assert_one_line_error(cli("compile", str(tmp_path / "f64.onnx"), "-o", str(tmp_path / "f64")),
                          "f64.onnx: input 'a' is f64", "float32")


def test_constant_dequantize_folds_to_onnxruntime_values(tmp_path):
    """Per-axis int8 weights with zero points: the folded float weights are onnxruntime's DequantizeLinear."""
    rng = np.random.default_rng(3)
    q = rng.integers(-128, 128, (4, 5)).astype(np.int8)
    scale, zero = np.array([0.1, 0.02, 0.003, 1.7], np.float32), np.array([0, -3, 5, 127], np.int8)
    inits = [numpy_helper.from_array(a, n) for a, n in ((q, "q"), (scale, "s"), (zero, "z"))]
    graph = helper.make_graph([helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"], axis=0)], "g", [],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 5])], inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    path = tmp_path / "dq.onnx"
    onnx.save(proto, path)
    (expected,) = run_onnxruntime(path, [])
    assert fold_constant_dequantize(proto) == 1 and not proto.graph.node
    folded = numpy_helper.to_array(next(t for t in proto.graph.initializer if t.name == "y"))
    np.testing.assert_array_equal(folded, expected)


def test_input_ranges_follow_the_first_reader():
    """The QDQ model's input is read by a QuantizeLinear (through a Reshape); MNIST divides by 255."""
    qdq = read_onnx(corpus_path("mlonmcu_micro_kws_m_static_qdq.onnx"))
    (low, high), = onnx_input_ranges(qdq)
    assert low == pytest.approx(0.03910302 * -128) and high == pytest.approx(0.03910302 * 127)
    assert onnx_input_ranges(read_onnx(corpus_path("mlonmcu_onnx_mnist.onnx"))) == [(0.0, 255.0)]


# -- bad input: one line naming the node and its operator, exit 1 ------------------------------------------
def test_truncated_file(tmp_path):
    data = corpus_path("mlonmcu_micro_kws_m_static_fp32.onnx").read_bytes()
    path = tmp_path / "truncated.onnx"
    path.write_bytes(data[: len(data) // 2])
    assert_one_line_error(cli("compile", str(path), "-o", str(tmp_path / "out")),
                          "truncated.onnx: not a readable ONNX model (truncated or not ONNX?)")


@pytest.mark.parametrize("kwargs,fragments", [
    ({"op_type": "Frobnicate"}, ["node 'act' (Frobnicate): ONNX defines no operator 'Frobnicate' at opset 13"]),
    ({"op_type": "FusedGemm", "domain": "com.microsoft"},
     ["node 'act' (com.microsoft.FusedGemm): an operator of domain 'com.microsoft', not of ONNX"]),
    ({"batch": 2, "op_type": "Relu"}, []),  # a static batch of 2 is the model's own: accepted as declared
], ids=["unknown-op", "custom-domain", "static-batch"])
def test_operator_refusals_name_the_node(tmp_path, kwargs, fragments):
    path = conv_model(tmp_path / "m.onnx", **kwargs)
    if not fragments:
        import_model(path, new_context())
        return
    with pytest.raises(FdtError) as e:
        import_model(path, new_context())
    assert len(str(e.value).splitlines()) == 1
    for fragment in fragments:
        assert fragment in str(e.value)


def test_dynamic_dimension_other_than_batch_is_refused_by_name(tmp_path):
    path = conv_model(tmp_path / "dyn.onnx")
    model = onnx.load(path)
    model.graph.input[0].type.tensor_type.shape.dim[2].dim_param = "height"
    onnx.save(model, path)
    assert_one_line_error(cli("compile", str(path), "-o", str(tmp_path / "out")),
                          "input 'x' (to node 'conv' (Conv)) has a dynamic dimension 2 ('height')")


def test_missing_external_weights_name_the_initializer_and_node(tmp_path):
    path = conv_model(tmp_path / "ext.onnx")
    model = onnx.load(path)
    onnx.save(model, path, save_as_external_data=True, all_tensors_to_one_file=True, location="ext.weights",
              size_threshold=0)
    (tmp_path / "ext.weights").unlink()
    assert_one_line_error(cli("compile", str(path), "-o", str(tmp_path / "out")),
                          "node 'conv' (Conv): its weights 'w' are stored outside the model, in 'ext.weights'")


def test_ill_typed_model_names_the_node():
    """mlonmcu_toycar.onnx (tflite2onnx) runs Gemm on int8 tensors, which ONNX does not define (its
    quantization parameters were lost): not ONNX, and onnxruntime refuses it too."""
    with pytest.raises(FdtError, match=r"node 'TFLITE2ONNX_FAF_functional_1/activation/Relu;functional_1/dense/"
                                       r"BiasAdd' \(Gemm\): not valid ONNX: .*unsupported type: tensor\(int8\)"):
        import_model(corpus_path("mlonmcu_toycar.onnx"), new_context())


def _quantized_cnn(tmp_path: Path, activations: str = "QInt8", fmt: str = "QDQ", source: Path | None = None) -> Path:
    """conv_model (or `source`) quantized by onnxruntime's quantize_static (`conv1d_models.quantized_onnx`)."""
    from conv1d_models import quantized_onnx
    source = source or conv_model(tmp_path / "float.onnx", batch=1, fc="MatMul")
    return quantized_onnx(source, tmp_path / f"{fmt}.onnx", activations, fmt)


def test_qdq_model_compiles_to_integer_convolutions(tmp_path):
    path = _quantized_cnn(tmp_path)
    report = compile_model(path, tmp_path / "out", CompileOptions(run="host", checks=3)).to_json()
    assert report["reference"] == "onnxruntime" and report["match"], report["max_abs_diff"]
    assert report["tolerance_note"].startswith("one quantization step")
    imported = (tmp_path / "out" / "imported.mlir").read_text()
    # the convolution (in NHWC) and the MatMul (a 1x1 convolution of a 1x1 map, left NCHW), both on int8 codes
    assert imported.count("linalg.conv_2d_nhwc_fhwc_q") == 1 and imported.count("linalg.conv_2d_nchw_fchw_q") == 1
    assert "linalg.conv_2d_nchw_fchw {" not in imported and "linalg.conv_2d_nhwc_fhwc {" not in imported
    # DQ -> MaxPool -> Q with one scale and zero point: the max of the int8 codes
    pool = next(line for line in imported.splitlines() if "linalg.pooling_nhwc_max" in line)
    assert "xi8>" in pool and "xf32>" not in pool


def test_qdq_average_pool_and_float_bias_run_on_integers(tmp_path):
    """The corpus QDQ model (micro_kws_m: convolutions, MaxPool, two AveragePools, MatMuls each followed by a
    float Add of a bias between Q/DQ pairs): every requantization, pooling and bias in integer arithmetic.
    Cut to its int8 body (first QuantizeLinear's output to the last int8 value before Softmax, onnx's
    extract_model), the compiled object has no floating-point instruction, and it matches onnxruntime."""
    import re

    from onnx.utils import extract_model
    model = onnx.load(corpus_path("mlonmcu_micro_kws_m_static_qdq.onnx"))
    quantized = [n.output[0] for n in model.graph.node if n.op_type == "QuantizeLinear"]
    body = tmp_path / "int8_body.onnx"
    extract_model(str(corpus_path("mlonmcu_micro_kws_m_static_qdq.onnx")), str(body), [quantized[0]],
                  [quantized[-2]])
    report = compile_model(body, tmp_path / "out", CompileOptions(run="host", checks=3)).to_json()
    assert report["match"] and report["reference_output_varies"], report["max_abs_diff"]
    imported = (tmp_path / "out" / "imported.mlir").read_text()
    assert not re.search(r"arith\.(sitofp|mulf|addf|divf)|math\.roundeven|xf32>", imported)
    disassembly = subprocess.run(["arm-none-eabi-objdump", "-d", str(tmp_path / "out" / "fdt_model.o")],
                                 capture_output=True, text=True, check=True).stdout
    main = disassembly.split("<fdt_model_main>:")[1].split("\n\n")[0]
    vfp = [line for line in main.splitlines() if re.search(r"\tv[a-z]+", line)]
    assert not vfp, vfp[:5]


def test_convolutions_and_pools_run_channels_last(tmp_path):
    """NCHW Conv/MaxPool become their NHWC twins (the kernels' layout); the transposes between them fold into
    the element-wise ops and the dense layer's read of the flattened map, leaving one at the model's NCHW input."""
    from mlir_fdt.analysis.linalg_util import indexing_maps
    from mlir_fdt.ir import ir, walk_ops
    module = import_model(conv_model(tmp_path / "cnn.onnx", batch=1), new_context())
    with module.context:
        ops = [op for op in walk_ops(module.operation) if op.name.startswith("linalg.")]
        names = {op.name for op in ops}
        transposes = [op for op in ops if op.name == "linalg.generic" and len(op.operands) == 2
                      and any(m.is_permutation and m != ir.AffineMap.get_identity(m.n_dims)
                              for m in indexing_maps(op))]
    assert {"linalg.conv_2d_nhwc_fhwc", "linalg.pooling_nhwc_max"} <= names
    assert not any("nchw" in n for n in names), names
    assert len(transposes) == 1


def _depthwise_separable(path: Path) -> Path:
    """Conv, depthwise Conv (group = channels), 1x1 Conv, GlobalAveragePool: a MobileNet block as PyTorch exports it."""
    rng = np.random.default_rng(4)
    w = {"w0": [8, 3, 3, 3], "w1": [8, 1, 3, 3], "w2": [16, 8, 1, 1]}
    inits = [numpy_helper.from_array(rng.normal(0, 0.3, shape).astype(np.float32), k) for k, shape in w.items()]
    nodes = [helper.make_node("Conv", ["x", "w0"], ["c0"], pads=[1, 1, 1, 1], strides=[2, 2]),
             helper.make_node("Relu", ["c0"], ["r0"]),
             helper.make_node("Conv", ["r0", "w1"], ["c1"], pads=[1, 1, 1, 1], group=8),
             helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("Conv", ["r1", "w2"], ["c2"]),
             helper.make_node("GlobalAveragePool", ["c2"], ["y"])]
    graph = helper.make_graph(nodes, "dw", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16, 1, 1])], inits)
    return _saved(graph, path, 13)


def test_depthwise_and_1d_convolutions_run_channels_last_too(tmp_path):
    """A depthwise Conv (torch-mlir: `depthwise_conv_2d_nchw_chw`) and 1-D Conv/MaxPool (NCW) were left
    channels-first, between transposed copies of their maps (a PyTorch MobileNet-style net: 262,144 B untiled and
    nothing better under min-ram; now 135,168 B and 77,056 B)."""
    from conv1d_models import onnx_conv1d_model
    from mlir_fdt.ir import walk_ops
    for model in (_depthwise_separable(tmp_path / "dw.onnx"), onnx_conv1d_model(tmp_path / "conv1d.onnx")):
        module = import_model(model, new_context())
        names = {op.name for op in walk_ops(module.operation) if op.name.startswith("linalg.")}
        assert not any("nchw" in n or "ncw" in n for n in names), names
        report = compile_model(model, tmp_path / model.stem, CompileOptions(objective="untiled", run="host",
                                                                            checks=2)).to_json()
        assert report["match"] and report["reference"] == "onnxruntime"


def test_a_quantized_depthwise_convolution_reads_its_padded_input_channels_last(tmp_path):
    """torch-mlir's NHWC quantized depthwise convolution read its input padded in NCHW, then transposed: the pad
    kept the transposes apart, so the requantization before it read its accumulator transposed and the int32
    accumulator was whole (a PyTorch MobileNet-style QDQ export: 163,840 B untiled, now 66,048 B)."""
    from mlir_fdt.analysis.linalg_util import defining_op, permutation_copy_axes
    from mlir_fdt.ir import walk_ops
    model = _quantized_cnn(tmp_path, source=_depthwise_separable(tmp_path / "dw.onnx"))
    module = import_model(model, new_context())
    with module.context:
        padded_then_transposed = [op for op in walk_ops(module.operation) if permutation_copy_axes(op) is not None
                                  and (p := defining_op(op.operands[0])) is not None and p.name == "tensor.pad"]
    assert not padded_then_transposed
    report = compile_model(model, tmp_path / "out", CompileOptions(objective="untiled", run="host", checks=2)).to_json()
    assert report["match"]
    # the convolution and the depthwise layer keep int8 maps (8x8x8: 512 B), no int32 accumulator (2,048 B)
    sizes = {b["label"]: b["bytes"] for b in report["buffers"]}
    assert all(size < 4 * 8 * 8 * 8 for label, size in sizes.items() if label.startswith(("conv_0", "dw_1"))), sizes


def test_a_quantized_conv1d_model_runs_on_integers(tmp_path):
    """QDQ Conv1d (and AvgPool1d): torch-mlir lowers no 1-D ConvInteger (an error naming the node after an internal
    error: the bias was added as NCHW), so each runs as the same 2-D one on an NC1W map; bit-exact with onnxruntime,
    and its rows stream under min-ram (a PyTorch Conv1d net: 16,496 B untiled, 8,272 B)."""
    from conv1d_models import onnx_conv1d_model
    model = _quantized_cnn(tmp_path, source=onnx_conv1d_model(tmp_path / "conv1d.onnx"))
    untiled = compile_model(model, tmp_path / "untiled", CompileOptions(objective="untiled", run="host",
                                                                       checks=2)).to_json()
    report = compile_model(model, tmp_path / "out", CompileOptions(objective="min-ram", run="host", checks=2)).to_json()
    assert untiled["match"] and report["match"]
    assert any(p["method"] == "stream" for p in report["tiling_plan"]["paths"])
    assert report["arena_bytes"] < untiled["arena_bytes"]


def test_qoperator_model_compiles_to_integer_convolutions(tmp_path):
    """QLinearConv / QLinearMatMul (quantize_static's QOperator format): torch-mlir lowers them itself."""
    report = compile_model(_quantized_cnn(tmp_path, fmt="QOperator"), tmp_path / "out",
                           CompileOptions(run="host", checks=3)).to_json()
    assert report["reference"] == "onnxruntime" and report["max_abs_diff"] == 0.0
    assert "linalg.conv_2d_nhwc_fhwc_q" in (tmp_path / "out" / "imported.mlir").read_text()


def test_operator_torch_mlir_does_not_convert_names_the_node(tmp_path):
    """ConvInteger with asymmetric pads is ONNX, but torch-mlir's conversion takes symmetric pads only."""
    w = numpy_helper.from_array(np.ones((4, 2, 3, 3), np.int8), "w")
    zero = numpy_helper.from_array(np.array(0, np.int8), "zero")
    node = helper.make_node("ConvInteger", ["x", "w", "zero", "zero"], ["y"], name="my_conv", pads=[0, 0, 1, 1])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.INT8, [1, 2, 6, 6])],
                              [helper.make_tensor_value_info("y", TensorProto.INT32, [1, 4, 5, 5])], [w, zero])
    path = _saved(graph, tmp_path / "asym.onnx", 13)
    assert_one_line_error(cli("compile", str(path), "-o", str(tmp_path / "out")),
                          "asym.onnx: node 'my_conv' (ConvInteger): torch-mlir's ONNX conversion does not lower")


def test_qdq_model_with_uint8_activations_compiles_and_matches(tmp_path, caplog):
    """quantize_static's default uint8 activations: torch-mlir's own handling (float between Q/DQ), with a
    warning that says so and how to get an integer program."""
    with caplog.at_level("WARNING"):
        report = compile_model(_quantized_cnn(tmp_path, "QUInt8"), tmp_path / "out",
                               CompileOptions(run="host", checks=2)).to_json()
    assert report["reference"] == "onnxruntime" and report["match"], report["max_abs_diff"]
    assert "runs in float32 between its Q/DQ pairs" in caplog.text


def test_uint8_model_inputs_and_outputs_compile_bit_exact(tmp_path):
    """A QLinearConv from a uint8 input to a uint8 output: the program's inputs and outputs are the uint8 bytes
    (reported `ui8`, drawn over 0..255) and match onnxruntime bit for bit (they were refused)."""
    rng = np.random.default_rng(0)
    init = [numpy_helper.from_array(np.array(v, t), n) for n, v, t in (
        ("sx", 0.02, np.float32), ("zx", 100, np.uint8), ("sw", 0.01, np.float32), ("zw", 128, np.uint8),
        ("sy", 0.05, np.float32), ("zy", 128, np.uint8))]
    init.append(numpy_helper.from_array(rng.integers(0, 256, (8, 3, 3, 3)).astype(np.uint8), "w"))
    node = helper.make_node("QLinearConv", ["x", "sx", "zx", "w", "sw", "zw", "sy", "zy"], ["y"], pads=[1, 1, 1, 1])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.UINT8, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.UINT8, [1, 8, 8, 8])], init)
    path = _saved(graph, tmp_path / "u8.onnx", 17)
    report = compile_model(path, tmp_path / "out", CompileOptions(objective="untiled", run="host", checks=2)).to_json()
    assert report["reference"] == "onnxruntime" and report["match"] and report["max_abs_diff"] == 0
    assert [report["inputs"][0]["dtype"], report["outputs"][0]["dtype"]] == ["ui8", "ui8"]
    assert report["reference_output_varies"] is True


def test_a_reference_that_fails_is_a_clear_error(tmp_path):
    """onnxruntime fails running the ONNX backend tests' SplitToSequence model on the seeded input: one error
    line naming the model and saying the reference failed (was an internal error)."""
    model = Path(onnx.__file__).parent / "backend" / "test" / "data" / "simple" / "test_sequence_model8" / "model.onnx"
    assert_one_line_error(cli("compile", str(model), "--objective", "untiled", "--run", "host", "-o", str(tmp_path)),
                          "test_sequence_model8/model.onnx: onnxruntime (the reference) fails running the model")


@pytest.mark.slow
def test_the_onnx_backend_tests_pytorch_exports_pass_or_are_refused_by_name(tmp_path):
    """benchmarks/onnx_backend.py: 140 PyTorch exports (opsets 2-9) from the `onnx` package's backend test data;
    none gives a wrong output or an internal error, and every one that passes also equals the test's own
    expected output (an oracle that does not share the version converter)."""
    import importlib.util
    import json
    spec = importlib.util.spec_from_file_location("onnx_backend", Path(__file__).parents[1] / "benchmarks" /
                                                  "onnx_backend.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--json", str(tmp_path / "result.json")]) == 0
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["summary"]["wrong output"] == 0 and result["summary"]["internal error"] == 0, result["summary"]
    assert result["expected_outputs_ok"] == result["summary"]["pass"] >= 110


@pytest.mark.parametrize("pads", [[0, 0, 0, 0], [1, 1, 1, 1]])
def test_average_pool_in_ceil_mode_counting_padding_matches(tmp_path, pads):
    """PyTorch's AvgPool2d(3, 2, ceil_mode=True): the last window, past the padded 8x8 map, averages only what it
    covers; torch-mlir's division was 0.27 off onnxruntime (`importers/onnx_average_pool.py`)."""
    node = helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1,
                            count_include_pad=1, pads=pads)
    side = 5 if pads[0] else 4
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, side, side])])
    path = _saved(graph, tmp_path / "pool.onnx", 19)
    report = compile_model(path, tmp_path / "out", CompileOptions(objective="untiled", run="host", checks=2)).to_json()
    assert report["reference"] == "onnxruntime" and report["match"] and report["max_abs_diff"] < 1e-6


@pytest.mark.parametrize("rank", [2, 3])
def test_qlinear_matmul_keeps_its_zero_points_batched_too(tmp_path, rank):
    """torch-mlir dropped a batched QLinearMatMul's zero points (7 steps off onnxruntime); it is imported as a QDQ
    layer now (`importers/onnx_qlinear_matmul.py`); the 2-D one stays torch-mlir's. Both bit-exact."""
    a_shape, b_shape, y_shape = ([2, 4], [4, 3], [2, 3]) if rank == 2 else ([2, 2, 4], [2, 4, 3], [2, 2, 3])
    init = [numpy_helper.from_array(np.array(v, t), n) for n, v, t in (
        ("sa", 0.05, np.float32), ("za", 5, np.int8), ("sb", 0.02, np.float32), ("zb", -3, np.int8),
        ("sy", 0.1, np.float32), ("zy", 2, np.int8))]
    init.append(numpy_helper.from_array(np.random.default_rng(0).integers(-100, 100, b_shape).astype(np.int8), "b"))
    node = helper.make_node("QLinearMatMul", ["a", "sa", "za", "b", "sb", "zb", "sy", "zy"], ["y"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("a", TensorProto.INT8, a_shape)],
                              [helper.make_tensor_value_info("y", TensorProto.INT8, y_shape)], init)
    path = _saved(graph, tmp_path / "qmm.onnx", 19)
    report = compile_model(path, tmp_path / "out", CompileOptions(objective="untiled", run="host", checks=3)).to_json()
    assert report["reference"] == "onnxruntime" and report["match"] and report["max_abs_diff"] == 0


def test_a_uint8_input_read_as_signed_is_refused_naming_the_node(tmp_path):
    """MaxPool on a uint8 input: torch-mlir compares the bytes as int8 (a wrong output); refused naming it."""
    node = helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], strides=[2, 2])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.UINT8, [1, 1, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.UINT8, [1, 1, 2, 2])])
    path = _saved(graph, tmp_path / "u8pool.onnx", 17)
    with pytest.raises(FdtError, match=r"input 'x' is uint8 and node #0 \(MaxPool\) reads it"):
        import_model(path, new_context())


def test_a_constant_output_is_an_output_of_the_arena(tmp_path):
    """Shape of a static input: the program returned the constant's global, in no arena buffer (an internal
    error in the check); `fdt-materialize-constant-outputs` copies it into an output buffer."""
    graph = helper.make_graph([helper.make_node("Shape", ["x"], ["s"]), helper.make_node("Relu", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 5])],
                              [helper.make_tensor_value_info("s", TensorProto.INT64, [4]),
                               helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 4, 5])])
    path = _saved(graph, tmp_path / "shape.onnx", 17)
    report = compile_model(path, tmp_path / "out", CompileOptions(objective="untiled", run="host")).to_json()
    assert report["match"] and report["outputs"][0]["bytes"] == 32


def test_a_graph_input_giving_a_shape_is_refused_naming_it(tmp_path):
    """Slice's `starts` as a graph input: the output's shape would depend on run-time values (the check stopped
    with an internal error on onnxruntime's empty output)."""
    node = helper.make_node("Slice", ["x", "starts", "ends"], ["y"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [20, 10, 5]),
                                            helper.make_tensor_value_info("starts", TensorProto.INT64, [3]),
                                            helper.make_tensor_value_info("ends", TensorProto.INT64, [3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [20, 10, 1])])
    path = _saved(graph, tmp_path / "slice.onnx", 17)
    with pytest.raises(FdtError, match=r"input 'starts' is operand 1 of node #0 \(Slice\), which gives its output's"):
        import_model(path, new_context())


def test_space_to_depth_in_crd_mode_is_refused_naming_the_node(tmp_path):
    """torch-mlir ignores SpaceToDepth's `mode` (1.96 off onnxruntime in CRD mode): refused, not miscomputed."""
    node = helper.make_node("SpaceToDepth", ["x"], ["y"], blocksize=2, mode="CRD", name="s2d")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 2, 2])])
    path = _saved(graph, tmp_path / "s2d.onnx", 28)
    with pytest.raises(FdtError, match=r"node 's2d' \(SpaceToDepth\): SpaceToDepth in CRD mode"):
        import_model(path, new_context())
