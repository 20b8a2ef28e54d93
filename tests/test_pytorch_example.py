"""examples/pytorch/small_cnn.py, the PyTorch user's flow: train, torch.onnx.export, onnxruntime's int8 QDQ
quantize_static, mlir-fdt for cortex-m4 under QEMU. Both models match onnxruntime, the QDQ one runs on int8
(a far smaller arena), and the firmware classifies held-out images as the model does.

torch is a test-only dependency (scripts/test.sh installs the CPU wheel, torch==2.13.0): without it this file
skips, except under CI or MLIR_FDT_REQUIRE_TORCH=1, where it fails.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os

import numpy as np
import pytest
from conftest import REPO, requires_qemu

if importlib.util.find_spec("torch") is None:
    if os.environ.get("CI") or os.environ.get("MLIR_FDT_REQUIRE_TORCH"):
        pytest.fail("torch is not installed: `.venv/bin/python -m pip install torch==2.13.0` (the CPU wheel; "
                    "scripts/test.sh installs it)", pytrace=False)
    pytest.skip("torch is not installed (.venv/bin/python -m pip install torch==2.13.0)", allow_module_level=True)
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

pytestmark = [pytest.mark.qemu, requires_qemu]


def load_example():
    spec = importlib.util.spec_from_file_location("small_cnn", REPO / "examples" / "pytorch" / "small_cnn.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example():
    return load_example()


@pytest.fixture(scope="module")
def flow(example, tmp_path_factory):
    """The example's command line, `--out DIR --run qemu`: (DIR, what it printed, {name: report.json})."""
    out = tmp_path_factory.mktemp("pytorch")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        example.main(["--out", str(out), "--run", "qemu"])
    reports = {name: json.loads((out / name / "report.json").read_text()) for name in ("float", "qdq")}
    return out, printed.getvalue(), reports


def test_training_learns_the_synthetic_classes(flow):
    _, printed, _ = flow
    accuracy = float(printed.split("held-out accuracy ")[1].split("%")[0])
    assert accuracy > 90, printed


def test_float_model_matches_onnxruntime_under_qemu(flow):
    _, _, reports = flow
    report = reports["float"]
    assert report["reference"] == "onnxruntime" and report["match"], report["max_abs_diff"]
    assert report["qemu_max_abs_diff"] <= report["tolerance"] and report["reference_output_varies"]
    assert report["inputs"][0]["shape"] == [1, 1, 28, 28] and report["outputs"][0]["shape"] == [1, 10]
    assert report["qemu_instructions"] > report["macs"] > 0


def test_qdq_model_runs_int8_and_matches_onnxruntime_under_qemu(flow):
    out, _, reports = flow
    report = reports["qdq"]
    model = onnx.load(out / "small_cnn_qdq.onnx")
    ops = [node.op_type for node in model.graph.node]
    assert ops.count("QuantizeLinear") >= 3 and {"Conv", "Gemm"} <= set(ops)
    assert report["reference"] == "onnxruntime" and report["match"], report["max_abs_diff"]
    assert report["qemu_max_abs_diff"] <= report["tolerance"] and report["reference_output_varies"]
    assert "one quantization step" in report["tolerance_note"]
    # int8 activations between the layers, not the float graph around fake quantization: a quarter of the
    # float model's arena, give or take the float input and output
    assert report["arena_bytes"] < reports["float"]["arena_bytes"] / 2
    assert report["qemu_instructions"] > report["macs"] > 0


def test_firmware_classifies_held_out_images_as_the_model_does(example, flow):
    out, _, _ = flow
    images, labels = example.synthetic_data(8, seed=5)
    session = ort.InferenceSession(str(out / "small_cnn.onnx"), providers=["CPUExecutionProvider"])
    expected = [int(np.argmax(session.run(None, {"input": image[None].numpy()})[0])) for image in images]
    assert np.mean(np.array(expected) == labels.numpy()) >= 0.75
    for name in ("float", "qdq"):
        assert example.classify_under_qemu(out / name, images) == expected, name
