"""SVDF (`importers/tflite_svdf.py`): TFLite Micro's integer kernel with its activation state kept from one inference to
the next, as an application invoking a streaming keyword model in a loop sees it. Every check runs its inputs as one
sequence: TFLite Micro's interpreter, the host build loaded once, and one QEMU boot."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import corpus_path, requires_qemu
from tflite_builder import In, operator_model, options, svdf
from mlir_fdt.compiler import CompileOptions, compile_model
from mlir_fdt.errors import FdtError
from mlir_fdt.reference.host import run_arena_program_sequence
from mlir_fdt.reference.tflm import run_tflite_micro, run_tflite_micro_sequence


def _sequence(report: dict, out, inputs: list[np.ndarray]) -> list[np.ndarray]:
    x, y = report["inputs"][0], report["outputs"][0]
    runs = run_arena_program_sequence(out / "fdt_model.host.vmfb", report["arena_bytes"],
                                      [[(x["offset"], v.tobytes())] for v in inputs], [(y["offset"], y["bytes"])])
    return [np.frombuffer(raw, np.int8).reshape(y["shape"]) for (raw,) in runs]


@pytest.mark.parametrize("variant", [dict(), dict(state_dtype="int8", rank=2, memory=3, batch=2),
                                     dict(memory=1, rank=4, filters=12)])
def test_a_sequence_of_inferences_equals_tflite_micro(tmp_path, variant):
    """Twelve inferences in a row: each sees the state the ones before it left (int16 and int8 states, ranks 1-4,
    batches, a memory of one)."""
    model = svdf(tmp_path / "svdf.tflite", **variant)
    out = tmp_path / "out"
    report = compile_model(model, out, CompileOptions(run="host", checks=3)).to_json()
    assert report["match"] and report["reference"] == "tflite-micro"
    remembers = variant.get("memory", 4) > 1  # a memory of one keeps nothing: its state is computed and read once
    assert (report["object_ram_bytes"] > 0) == remembers  # the state: in the library, outside the arena
    assert report["reset_export"] == 1  # (a memory of one: a reset with nothing to do; LLVM drops the global)
    shape = report["inputs"][0]["shape"]
    rng = np.random.default_rng(5)
    inputs = [rng.integers(-128, 128, shape).astype(np.int8) for _ in range(12)]
    expected = [outs[0] for outs in run_tflite_micro_sequence(model, [[v] for v in inputs], 1)]
    got = _sequence(report, out, inputs)
    for k, (e, g) in enumerate(zip(expected, got)):
        np.testing.assert_array_equal(g, e, err_msg=f"inference {k}")
    varied = np.unique(np.concatenate([e.ravel() for e in expected]))
    assert len(varied) > 20, varied  # the outputs are not saturated: the check can fail
    # the state matters: a fresh interpreter gives another output for the last input
    assert np.array_equal(run_tflite_micro(model, [inputs[-1]], 1)[0], expected[-1]) != remembers


@pytest.mark.parametrize("variant", [dict(activation="NONE"), dict(activation="RELU6", rank=2),
                                     dict(activation="TANH", batch=2)])
def test_a_float_sequence_equals_tflite_micro(tmp_path, variant):
    """float32 SVDFs (TFLite Micro's float kernel: its fused activation applied): twelve
    inferences in a row within the float tolerance."""
    model = svdf(tmp_path / "svdf.tflite", state_dtype="float32", **variant)
    out = tmp_path / "out"
    report = compile_model(model, out, CompileOptions(run="host", checks=3)).to_json()
    assert report["match"] and report["reference"] == "tflite-micro" and report["object_ram_bytes"] > 0
    x, y = report["inputs"][0], report["outputs"][0]
    rng = np.random.default_rng(6)
    inputs = [rng.uniform(-2, 2, x["shape"]).astype(np.float32) for _ in range(12)]
    expected = [outs[0] for outs in run_tflite_micro_sequence(model, [[v] for v in inputs], 1)]
    runs = run_arena_program_sequence(out / "fdt_model.host.vmfb", report["arena_bytes"],
                                      [[(x["offset"], v.tobytes())] for v in inputs], [(y["offset"], y["bytes"])])
    for k, ((raw,), e) in enumerate(zip(runs, expected)):
        np.testing.assert_allclose(np.frombuffer(raw, np.float32).reshape(e.shape), e, atol=1e-5, rtol=1e-5,
                                   err_msg=f"inference {k}")


def test_reset_starts_a_new_stream(tmp_path):
    """The library's second export (`reset`, ordinal 1) sets the state back to its zero point: after it, an input
    gives what a fresh TFLite Micro interpreter gives, as after TFLite Micro's Reset."""
    import iree.runtime as rt
    model = svdf(tmp_path / "svdf.tflite")
    out = tmp_path / "out"
    report = compile_model(model, out, CompileOptions(run="host")).to_json()
    assert report["reset_export"] == 1
    x, y = report["inputs"][0], report["outputs"][0]
    config = rt.Config("local-sync")
    context = rt.SystemContext(config=config)
    context.add_vm_module(rt.VmModule.mmap(config.vm_instance, str(out / "fdt_model.host.vmfb")))
    program = context.modules.module
    rng = np.random.default_rng(9)
    inputs = [rng.integers(-128, 128, x["shape"]).astype(np.int8) for _ in range(4)]

    def run(v: np.ndarray) -> np.ndarray:
        arena = np.zeros(report["arena_bytes"], np.int8)
        arena[x["offset"]:x["offset"] + x["bytes"]] = v.view(np.int8).ravel()
        return np.array(program.run(arena).to_host()[y["offset"]:y["offset"] + y["bytes"]], copy=True)
    first = run(inputs[0])
    for v in inputs[1:]:
        run(v)
    assert not np.array_equal(run(inputs[0]), first)  # the state changed what the same input gives
    program.reset(np.zeros(report["arena_bytes"], np.int8))
    assert np.array_equal(run(inputs[0]), first)
    (fresh,) = run_tflite_micro(model, [inputs[0]], 1)
    assert np.array_equal(first.reshape(fresh.shape), fresh)


def test_without_the_state_update_the_check_fails(tmp_path, monkeypatch):
    """The sequence check sees a program that forgets its state (the write-back left out)."""
    from mlir_fdt.importers import tflite_svdf
    original = tflite_svdf.svdf_function

    def forgetful(*args, **kwargs):
        text = original(*args, **kwargs)
        return "\n".join(line for line in text.splitlines() if "materialize_in_destination" not in line)
    monkeypatch.setattr(tflite_svdf, "svdf_function", forgetful)
    model = svdf(tmp_path / "svdf.tflite")
    report = compile_model(model, tmp_path / "out", CompileOptions(run="host", checks=3)).to_json()
    assert not report["match"] and report["max_abs_diff"] > 0


def test_an_svdf_without_bias_is_refused_by_name(tmp_path):
    model = svdf(tmp_path / "svdf.tflite", bias=False)
    with pytest.raises(FdtError, match="operator 0 SVDF.*without a bias, which TFLite Micro cannot run"):
        compile_model(model, tmp_path / "out", CompileOptions())


def test_intermediates_of_a_stateful_model_are_compared(tmp_path):
    """--check-intermediates runs each input as a first inference on both sides (a fresh interpreter, a fresh
    load of the host variant): the state's starting value, compared tensor by tensor."""
    model = corpus_path("tflm_keyword_scrambled.tflite")
    report = compile_model(model, tmp_path / "out", CompileOptions(run="host", check_intermediates=True)).to_json()
    assert report["match"] and report["intermediates"]["compared"] > 0 and not report["intermediates"]["mismatches"]


@requires_qemu
@pytest.mark.qemu
def test_keyword_scrambled_runs_in_sequence_under_qemu(tmp_path):
    """TFLite Micro's keyword benchmark model (seven SVDFs, an int8-to-int16 SOFTMAX, a QUANTIZE to int32): three
    inferences in one boot, bit-exact; its states (10,240 B) outside the arena."""
    path = corpus_path("tflm_keyword_scrambled.tflite")
    report = compile_model(path, tmp_path / "out", CompileOptions(run="qemu", checks=3)).to_json()
    assert report["match"] and report["qemu_max_abs_diff"] == 0
    assert report["object_ram_bytes"] == 10_240


def test_the_cmake_header_declares_the_state_and_its_reset(tmp_path):
    """NAME_config.h (cmake/MlirFdtHeaders.cmake): the state's bytes outside the arena and the reset export, for a
    stateful model only."""
    import shutil
    import subprocess
    from pathlib import Path
    cmake = shutil.which("cmake")
    if cmake is None:
        pytest.skip("cmake is not installed")
    script = Path(__file__).resolve().parents[1] / "cmake" / "MlirFdtHeaders.cmake"
    headers = {}
    stateless = operator_model(tmp_path / "softmax.tflite", "SOFTMAX", [In([1, 8], "int8", 0.1, 0)],
                               [In([1, 8], "int8", 1 / 256, -128)], options("Softmax", beta=1.0))
    for name, model in (("stateful", svdf(tmp_path / "svdf.tflite")), ("stateless", stateless)):
        out = tmp_path / name
        compile_model(model, out, CompileOptions())
        subprocess.run([cmake, f"-DOUT_DIR={out}", f"-DNAME={name}", "-P", str(script)], check=True)
        headers[name] = (out / f"{name}_config.h").read_text()
    assert "#define STATEFUL_STATE_BYTES 64u" in headers["stateful"]
    assert "#define STATEFUL_RESET_EXPORT 1u" in headers["stateful"]
    assert "STATE_BYTES" not in headers["stateless"] and "RESET_EXPORT" not in headers["stateless"]
