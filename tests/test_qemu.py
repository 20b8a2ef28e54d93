"""Firmware under QEMU (mps2-an386, Cortex-M4): every int8 model bit-exact with TFLite Micro on
several seeded inputs, the measured figures in the report, and the arena canary firing."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import INT8_MODELS, model_path, requires_qemu
from mlir_fdt.firmware.build import build_firmware, run_qemu
from mlir_fdt.reference.tflm import run_tflite_micro

pytestmark = [pytest.mark.qemu, requires_qemu]


@pytest.mark.parametrize("name", INT8_MODELS)
def test_int8_bit_exact_under_qemu(compiled, name):
    report, out = compiled(name, run="qemu")
    assert report["qemu_max_abs_diff"] == 0 and report["max_abs_diff"] == 0
    # QEMU agreed: the host build is neither compiled nor run
    assert report["host_max_abs_diff"] is None and not (out / "fdt_model.host.vmfb").exists()
    assert report["stack_bytes"] > 0 and report["qemu_instructions"] > report["macs"]
    # the cost model's instruction estimate, calibrated on these runs (benchmarks/calibrate_estimate.py):
    # within 15 % (AD's dense layers -11 %, the convolution models within 10 %)
    assert abs(report["estimated_instructions"] / report["qemu_instructions"] - 1) < 0.15
    elf = out / "firmware" / "build" / "fdt_runner.elf"
    spec_in = report["inputs"][0]
    for seed in (11, 12):
        x = np.random.default_rng(seed).integers(-128, 128, size=spec_in["shape"], dtype=np.int8)
        result, (raw,) = run_qemu(elf, [x.tobytes()], out / "firmware")
        assert result["status"] == "ok"
        (expected,) = run_tflite_micro(model_path(name), [x], 1)
        np.testing.assert_array_equal(np.frombuffer(raw, np.int8), expected.reshape(-1))


def test_a_wrong_output_under_qemu_runs_the_host_build_to_tell_where_the_fault_is(tmp_path, monkeypatch):
    """QEMU's output differs (one byte changed after the run): the host build runs, agrees with TFLite
    Micro, and the failure says the fault is in the target's code."""
    import mlir_fdt.firmware.run as firmware_run
    from mlir_fdt.compiler import CompileOptions, compile_model
    run_on_qemu = firmware_run.run_library_on_qemu

    def one_byte_off(*args, **kw):
        result, outputs = run_on_qemu(*args, **kw)
        return result, [bytes([(outputs[0][0] + 1) % 256]) + outputs[0][1:], *outputs[1:]]
    monkeypatch.setattr(firmware_run, "run_library_on_qemu", one_byte_off)
    report = compile_model(model_path("ad_int8"), tmp_path / "out", CompileOptions(run="qemu"))
    assert report.check.qemu_max_abs_diff > 0 and report.check.host_max_abs_diff == 0
    (failure,) = report.failures()
    assert failure.endswith("the fault is in the code generated for the target"), failure


def test_undersized_arena_is_caught_by_the_canary(compiled, tmp_path):
    report, out = compiled("ad_int8", run="qemu")
    spec_in, spec_out = report["inputs"][0], report["outputs"][0]
    common = dict(model_object=out / report["library"], library_query=report["library_query"],
                  arena_bytes=report["arena_bytes"], inputs=[(spec_in["offset"], spec_in["bytes"])],
                  outputs=[(spec_out["offset"], spec_out["bytes"])])
    x = [bytes(spec_in["bytes"])]
    short = build_firmware(**common, work_dir=tmp_path / "short", undersize=64)
    result, _ = run_qemu(short, x, tmp_path / "short")
    assert result["status"] == "fail" and "overrun" in result["reason"]
    planned = build_firmware(**common, work_dir=tmp_path / "planned")
    result, _ = run_qemu(planned, x, tmp_path / "planned")
    assert result["status"] == "ok" and result["arena_bytes"] == report["arena_bytes"]


def test_in_place_tiles_are_bit_exact_under_qemu(tmp_path):
    """KWS with every depthwise layer in one-channel partitions and every 1x1 layer in rows, each
    written over its dying input: the firmware allocates the smaller arena and still matches."""
    import json

    from mlir_fdt.compiler import CompileOptions, compile_model
    paths = [*({"layers": [f"dw_{i}"], "method": "fdt", "partitions": 64} for i in (1, 3, 5, 7)),
             *({"layers": [f"pw_{i}"], "method": "ffmt", "tiles": [25, 1]} for i in (2, 4, 6, 8))]
    (tmp_path / "plan.json").write_text(json.dumps({"paths": paths}))
    report = compile_model(model_path("kws_int8"), tmp_path / "out",
                           CompileOptions(plan=str(tmp_path / "plan.json"), run="qemu", seed=5)).to_json()
    assert report["qemu_max_abs_diff"] == 0 and report["max_abs_diff"] == 0
    assert report["arena_bytes"] < 8600 and report["mac_overhead"] == 0


# Two inputs of different sizes, two outputs: exact f32 arithmetic (add, sub, maximum, max), so the
# firmware must match numpy to the bit, each buffer read from and written to its own file.
TWO_IN_TWO_OUT = """
func.func @main(%a: tensor<1x4x4x8xf32>, %b: tensor<1x1x1x8xf32>) -> (tensor<1x4x4x8xf32>, tensor<1x4x4x1xf32>) {
  %0 = tosa.add %a, %b : (tensor<1x4x4x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x4x4x8xf32>
  %1 = tosa.maximum %0, %a : (tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32>
  %2 = tosa.sub %a, %b : (tensor<1x4x4x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x4x4x8xf32>
  %3 = tosa.reduce_max %1 axis(3) : (tensor<1x4x4x8xf32>) -> tensor<1x4x4x1xf32>
  return %2, %3 : tensor<1x4x4x8xf32>, tensor<1x4x4x1xf32>
}
"""


def _two_in_two_out(a: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
    return [a - b, np.maximum(a + b, a).max(axis=3, keepdims=True)]


def test_multiple_inputs_and_outputs_bit_exact_under_qemu(tmp_path):
    """The runner reads input<i>.bin and writes output<j>.bin for every input and output, in the
    order the model declares them."""
    from mlir_fdt.compiler import CompileOptions, compile_model
    (tmp_path / "two.mlir").write_text(TWO_IN_TWO_OUT)
    out = tmp_path / "out"
    report = compile_model(tmp_path / "two.mlir", out, CompileOptions(run="qemu", seed=3)).to_json()
    assert [s["bytes"] for s in report["inputs"]] == [512, 32]
    assert [s["bytes"] for s in report["outputs"]] == [512, 64]
    assert report["match"] and report["qemu_max_abs_diff"] == 0 and report["max_abs_diff"] == 0
    firmware = out / "firmware"
    a, b = (np.frombuffer((out / f"test_input{i}.bin").read_bytes(), np.float32).reshape(s["shape"])
            for i, s in enumerate(report["inputs"]))
    for j, expected in enumerate(_two_in_two_out(a, b)):
        np.testing.assert_array_equal(np.fromfile(firmware / f"output{j}.bin", np.float32), expected.reshape(-1))

    # Other inputs on the same firmware; a missing input file is a firmware failure naming it.
    elf = firmware / "build" / "fdt_runner.elf"
    rng = np.random.default_rng(4)
    a, b = (rng.standard_normal(s["shape"]).astype(np.float32) for s in report["inputs"])
    result, outputs = run_qemu(elf, [a.tobytes(), b.tobytes()], firmware)
    assert result["status"] == "ok" and len(outputs) == 2
    for raw, expected in zip(outputs, _two_in_two_out(a, b)):
        np.testing.assert_array_equal(np.frombuffer(raw, np.float32), expected.reshape(-1))
    result, outputs = run_qemu(elf, [a.tobytes()], firmware)
    assert result["status"] == "fail" and result["reason"] == "cannot open input1.bin" and outputs == []
