"""Real models users bring (../shared/corpus): each compiles and matches its reference, or is refused
naming the operator — never a wrong output, never an internal error. A fast subset here; the whole
corpus under QEMU is the `slow` suite (and benchmarks/corpus.py prints the table)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tflite_builder import reduction, unary

from mlir_fdt.errors import FdtError
from mlir_fdt.importers.tflite_flatbuffer import read_tflite
from mlir_fdt.ir import new_context

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
_spec = importlib.util.spec_from_file_location("corpus_benchmark", REPO / "benchmarks" / "corpus.py")
corpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(corpus)

# one of each kind of trouble seen on real models: multi-I/O order, Keras result attributes,
# int16x8 bias, float I/O, a custom op and a recurrent layer (refused by name), an old file's scalar output
FAST_SUBSET = ["mlonmcu_model_with_multiple_outputs", "tflm_hello_world_float", "seanet_conv10", "mlonmcu_lstm2",
               "mlonmcu_model_with_detection_postprocess", "mlonmcu_model_with_reduce_max"]


def corpus_file(stem: str) -> Path:
    path = CORPUS / f"{stem}.tflite"
    if not path.exists():
        pytest.skip(f"corpus model {path} is absent (expected ../shared/corpus beside the repository)")
    return path


def _check(rows: list[dict]) -> None:
    bad = [f"{r['model']}: {r['status']} ({r['why']})" for r in rows
           if r["status"] in ("wrong output", "internal error") or (r["expect"] and r["status"] not in r["expect"])]
    assert not bad, "\n".join(bad)
    above = [f"{r['model']}: arena {r['arena_bytes']} > TFLite Micro {r['tflm_head']}" for r in rows
             if r["status"] == "pass" and r["tflm_head"] and r["arena_bytes"] > r["tflm_head"]]
    assert not above, "\n".join(above)
    above_iree = [f"{r['model']}: arena {r['arena_bytes']} > IREE default + I/O {r['iree_default_plus_io_bytes']}"
                  for r in rows if r["status"] == "pass" and r.get("iree_default_plus_io_bytes")
                  and r["arena_bytes"] > r["iree_default_plus_io_bytes"]]
    assert not above_iree, "\n".join(above_iree)


def test_fast_subset_passes_or_is_refused_by_name():
    models = [corpus_file(stem) for stem in FAST_SUBSET]
    rows = corpus.run_corpus(models, ["untiled"], "host", checks=2, jobs=2, timeout=600)
    _check(rows)
    refused = {r["model"]: r["why"] for r in rows if r["status"] == "refused"}
    assert "operator 0 CUSTOM:TFLite_Detection_PostProcess" in refused[
        "mlonmcu_model_with_detection_postprocess.tflite"]
    passed = {r["model"]: r for r in rows if r["status"] == "pass"}
    assert passed["mlonmcu_lstm2.tflite"]["reference"] == "tflite-micro"
    assert passed["seanet_conv10.tflite"]["reference_output_varies"] is True
    # every .tflite is checked layer by layer too: the LSTM cell's intermediates (SPLIT's four outputs among
    # them) equal TFLite Micro's
    lstm = passed["mlonmcu_lstm2.tflite"]
    assert lstm["intermediates_compared"] > 0 and lstm["intermediates_mismatches"] == 0


@pytest.mark.slow
@pytest.mark.qemu
def test_whole_corpus_under_qemu():
    if not CORPUS.is_dir():
        pytest.skip(f"{CORPUS} is absent")
    rows = corpus.run_corpus(corpus.corpus_models(), ["untiled"], "qemu", checks=3, jobs=2, timeout=1200)
    _check(rows)


def test_flatbuffer_reader_names_operators_and_io():
    fb = read_tflite(corpus_file("mlonmcu_lstm2"))
    assert [t.name for t in fb.inputs] == ["data", "state_h", "state_c"]
    assert [t.shape for t in fb.inputs] == [[1, 1, 1], [1, 6], [1, 6]]
    assert fb.op_counts()["MUL"] == 6 and fb.op_counts()["UNPACK"] == 1
    q = read_tflite(corpus_file("seanet_conv10"))
    assert q.inputs[0].dtype == "int16" and q.inputs[0].quantized and q.inputs[0].zero_point == [0]


def test_unsupported_operators_are_refused_one_line_each():
    from mlir_fdt.importers import import_model
    with pytest.raises(FdtError) as e:
        import_model(corpus_file("tflm_audio_preprocessor_int8"), new_context())
    lines = str(e.value).splitlines()
    assert "9 operators mlir-fdt cannot compile (CUSTOM:SignalEnergy" in lines[0]
    assert len(lines) == 10 and all(line.strip().startswith("operator ") and " CUSTOM:Signal" in line
                                    and "a custom operator" in line for line in lines[1:])


def test_unconverted_operator_is_named_from_the_converter_output(monkeypatch):
    """Without `importers/tflite_scalars` the converter leaves this old file's REDUCE_MAX (an empty-shaped
    scalar output) as `tfl.reduce_max`: the refusal names the TFLite operator."""
    from mlir_fdt.importers import import_model
    from mlir_fdt.importers import tflite as tflite_importer
    monkeypatch.setattr(tflite_importer, "_SOURCE_REWRITES", tuple(
        r for r in tflite_importer._SOURCE_REWRITES if r is not tflite_importer.rank_shapeless_scalars))
    with pytest.raises(FdtError, match="operator 0 REDUCE_MAX .*leaves it unconverted"):
        import_model(corpus_file("mlonmcu_model_with_reduce_max"), new_context())


@pytest.mark.parametrize("kind,tosa", [("ABS", "abs"), ("ELU", "exp")])
def test_an_operator_the_converter_rejects_in_its_own_tosa_is_named(tmp_path, kind, tosa):
    """int8 ABS rescaling its output, int8 ELU: the converter fails on its own `tosa.abs`/`tosa.exp` without naming
    the `tfl` op (the error named no operator before)."""
    from mlir_fdt.importers import import_model
    model = unary(tmp_path / "m.tflite", kind, "int8", output_quantization=(0.04, -5))
    with pytest.raises(FdtError, match=f"operator 0 {kind} .*the TFLite to TOSA converter rejects it .*'tosa.{tosa}'"):
        import_model(model, new_context())


@pytest.mark.parametrize("build,message", [
    (lambda p: reduction(p, "SUM", "int8", [3]), "operator 0 SUM .*an int8 SUM"),
    (lambda p: unary(p, "RELU6", "int8", (0.04, -5)), "operator 0 RELU6 .*quantized otherwise than its input"),
])
def test_variants_the_converter_computes_otherwise_than_tflite_micro_are_refused(tmp_path, build, message):
    """int8 SUM (1 step off TFLite Micro's float32 arithmetic), RELU6 requantizing (18 steps off): wrong programs
    before, refused by name now (int16 SOFTMAX, 18,362 steps off, was too: now computed as TFLite Micro does,
    tests/test_tflite_integer_kernels.py)."""
    from mlir_fdt.importers import import_model
    with pytest.raises(FdtError, match=message):
        import_model(build(tmp_path / "m.tflite"), new_context())


@pytest.mark.parametrize("code,stderr,status", [
    (0, "", "pass"),
    (3, "error: output differs from tflite-micro", "wrong output"),
    (1, "error: m.tflite: 1 operator mlir-fdt cannot compile", "refused"),
    (2, "internal error: KeyError: 'x'", "internal error"),
    (1, "Traceback (most recent call last):\n  ...\nValueError: boom", "internal error"),
    (-11, "", "internal error"),
])
def test_benchmark_classifies_exit_statuses(code, stderr, status):
    assert corpus.classify(code, stderr)[0] == status


def test_expectations_come_from_the_corpus_readme():
    expect = corpus.expectations(CORPUS / "README.md")
    if not expect:
        pytest.skip("corpus README absent")
    assert expect["seanet_conv0.tflite"] == {"pass"}
    assert expect["mlonmcu_model_with_detection_postprocess.tflite"] == {"refused"}
    assert expect["tflm_keyword_scrambled.tflite"] == {"pass", "refused"}
