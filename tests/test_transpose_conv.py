"""int16x8 TRANSPOSE_CONV (`importers/transpose_conv_i48`): the phase decomposition equals a transposed
convolution, the corpus' and the test models' outputs equal TFLite Micro bit for bit, and an op IREE
rejects is refused naming the TFLite operator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS

from mlir_fdt.compiler import CompileOptions, compile_model
from mlir_fdt.errors import FdtError
from mlir_fdt.importers import import_model
from mlir_fdt.importers import tosa as tosa_importer
from mlir_fdt.importers.tflite_flatbuffer import read_tflite
from mlir_fdt.importers.transpose_conv_i48 import dense_attr, parse_dense, phase_weights
from mlir_fdt.ir import ir, new_context
from mlir_fdt.reference.inputs import random_inputs, tflite_shape_inputs

DATA = Path(__file__).resolve().parent / "data" / "models"
CORPUS_MODEL = CORPUS / "seanet_transpose_conv0.tflite"
MODELS = [DATA / "transpose_conv_int16_k3_s2_same.tflite", DATA / "transpose_conv_int16_k3x4_s1x2_valid.tflite"]


def _transpose_conv(x: np.ndarray, w: np.ndarray, sy: int, sx: int) -> np.ndarray:
    """TOSA's definition, uncropped: every input pixel scatters its kernel-sized contribution."""
    ih, iw, _ = x.shape
    oc, kh, kw, _ = w.shape
    out = np.zeros(((ih - 1) * sy + kh, (iw - 1) * sx + kw, oc), np.int64)
    for iy in range(ih):
        for ix in range(iw):
            out[iy * sy:iy * sy + kh, ix * sx:ix * sx + kw] += np.einsum("okwc,c->kwo", w, x[iy, ix])
    return out


def _by_phases(x: np.ndarray, w: np.ndarray, sy: int, sx: int) -> np.ndarray:
    """The decomposition: a stride-1 correlation with `phase_weights` on the padded input, then the
    phase channels interleaved into rows and columns."""
    oc = w.shape[0]
    pw = phase_weights(w, 0, sy, sx)
    _, jy, jx, _ = pw.shape
    padded = np.pad(x, ((jy - 1, jy - 1), (jx - 1, jx - 1), (0, 0)))
    q, p = padded.shape[0] - jy + 1, padded.shape[1] - jx + 1
    conv = np.array([[np.einsum("okwc,kwc->o", pw, padded[i:i + jy, j:j + jx]) for j in range(p)]
                     for i in range(q)])
    return conv.reshape(q, p, sy, sx, oc).transpose(0, 2, 1, 3, 4).reshape(q * sy, p * sx, oc)


@pytest.mark.parametrize("kh,kw,sy,sx", [(3, 4, 1, 2), (3, 3, 2, 2), (2, 5, 3, 2), (1, 1, 2, 2), (4, 2, 1, 1)])
def test_phase_decomposition_is_a_transposed_convolution(kh, kw, sy, sx):
    rng = np.random.default_rng(kh * 100 + kw * 10 + sy)
    x = rng.integers(-300, 300, (3, 4, 2))
    w = rng.integers(-128, 128, (5, kh, kw, 2))
    want = _transpose_conv(x, w, sy, sx)
    got = _by_phases(x, w, sy, sx)
    # rows/columns past the transposed convolution's extent hold only padded taps: zero
    np.testing.assert_array_equal(got[:want.shape[0], :want.shape[1]], want)
    assert not got[want.shape[0]:].any() and not got[:, want.shape[1]:].any()


@pytest.mark.parametrize("shape", [(3,), (40, 50)])
def test_i48_constants_are_read_back_in_both_printed_forms(shape):
    """The bindings give no i48 values: they are read from the printed attribute, a list when small
    and little-endian hex bytes when large."""
    values = np.random.default_rng(0).integers(-2**47, 2**47, shape)
    with new_context(), ir.Location.unknown():
        attr = dense_attr(values, ir.IntegerType.get_signless(48))
        assert str(attr).startswith('dense<"0x' if values.size > 100 else "dense<[")
        np.testing.assert_array_equal(parse_dense(str(attr), 48).reshape(shape), values)


@pytest.mark.parametrize("model", MODELS + [CORPUS_MODEL], ids=lambda p: p.stem)
def test_int16_transpose_conv_bit_exact_on_host(tmp_path, model):
    if not model.exists():
        pytest.skip(f"{model} is absent")
    report = compile_model(model, tmp_path, CompileOptions(run="host", checks=3)).to_json()
    assert report["reference"] == "tflite-micro" and report["reference_output_varies"] is True
    assert report["match"] and report["max_abs_diff"] == 0
    shape_inputs = {t["name"]: report["outputs"][0]["shape"] for t in report["inputs"] if t["dtype"] == "i32"}
    assert report.get("shape_inputs", {}) == shape_inputs  # the corpus model takes its output_shape as an input


def test_output_shape_input_is_given_the_output_shape():
    """seanet_transpose_conv0 takes TRANSPOSE_CONV's output_shape as a model input: every check feeds
    the declared output shape, not random int32."""
    if not CORPUS_MODEL.exists():
        pytest.skip(f"{CORPUS_MODEL} is absent")
    fb = read_tflite(CORPUS_MODEL)
    fixed = tflite_shape_inputs(fb)
    assert list(fixed) == [0] and fixed[0].tolist() == fb.outputs[0].shape
    for seed in (0, 1):
        shape_input, activations = random_inputs([(t.shape, {"int32": "i32", "int16": "i16"}[t.dtype])
                                                  for t in fb.inputs], seed, fixed=fixed)
        assert shape_input.dtype == np.int32 and shape_input.tolist() == fb.outputs[0].shape
        assert activations.dtype == np.int16 and activations.shape == tuple(fb.inputs[1].shape)


def test_rejected_transpose_conv_is_refused_naming_the_tflite_operator(monkeypatch):
    """Without the decomposition IREE rejects the i48 reshape: the refusal names TRANSPOSE_CONV, not a
    TOSA op alone."""
    monkeypatch.setattr(tosa_importer, "decompose_i48_transpose_convs", lambda module: 0)
    with pytest.raises(FdtError) as e:
        import_model(MODELS[0], new_context())
    lines = str(e.value).splitlines()
    assert "1 operator mlir-fdt cannot compile (TRANSPOSE_CONV)" in lines[0]
    assert lines[1].strip().startswith("operator 0 TRANSPOSE_CONV ") and "'tosa.reshape'" in lines[1]
