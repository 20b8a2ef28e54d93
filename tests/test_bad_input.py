"""Bad input to `mlir-fdt`: every case is one `error: ...` line on stderr and exit status 1, never a
traceback. (test_cli.py has the missing model, the unknown target and a garbage .tflite;
test_importer.py the same errors in-process.)"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MODELS

CLI = [sys.executable, "-m", "mlir_fdt.tools.cli"]

CONV = """func.func @main(%arg0: tensor<1x8x8x3xf32>) -> tensor<1x4x4x8xf32> {
  %w = tosa.const values(dense<0.5> : tensor<8x3x3x3xf32>) : () -> tensor<8x3x3x3xf32>
  %b = tosa.const values(dense<0.1> : tensor<8xf32>) : () -> tensor<8xf32>
  %z = tosa.const values(dense<0.0> : tensor<1xf32>) : () -> tensor<1xf32>
  %0 = tosa.conv2d %arg0, %w, %b, %z, %z pad([PADS]) stride([2, 2]) dilation([1, 1]) acc_type(f32)
       : (tensor<1x8x8x3xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>, tensor<1xf32>, tensor<1xf32>)
       -> tensor<1x4x4x8xf32>
  return %0 : tensor<1x4x4x8xf32>
}
"""
GOOD_CONV = CONV.replace("PADS", "0, 1, 0, 1")
# TOSA requires (8 - 1 + pads - 2) to divide by the stride: with pads 1+1 it does not
INVALID_CONV = CONV.replace("PADS", "1, 1, 1, 1")
BROKEN = """func.func @main(%a: tensor<4xf32>) -> tensor<4xf32> {
  %0 = tosa.add %a, %a : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32
}
"""
TOSA_CUSTOM = """func.func @main(%a: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %0 = tosa.custom %a operator_name("frobnicate") domain_name("acme") implementation_attrs("")
       : (tensor<1x8xf32>) -> tensor<1x8xf32>
  return %0 : tensor<1x8xf32>
}
"""
TOSA_FFT = """func.func @main(%re: tensor<1x8x8xf32>, %im: tensor<1x8x8xf32>) -> tensor<1x8x8xf32> {
  %0, %1 = tosa.fft2d %re, %im inverse(false)
       : (tensor<1x8x8xf32>, tensor<1x8x8xf32>) -> (tensor<1x8x8xf32>, tensor<1x8x8xf32>)
  return %0 : tensor<1x8x8xf32>
}
"""
LINALG_SOFTMAX = """func.func @main(%a: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %e = tensor.empty() : tensor<1x8xf32>
  %0 = linalg.softmax dimension(1) ins(%a : tensor<1x8xf32>) outs(%e : tensor<1x8xf32>) -> tensor<1x8xf32>
  return %0 : tensor<1x8xf32>
}
"""


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=600, env=env)


def assert_one_line_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in proc.stderr


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def compile_args(model: Path, tmp_path: Path, *extra: str) -> list[str]:
    return ["compile", str(model), "-o", str(tmp_path / "out"), "--objective", "untiled", *extra]


# -- model files ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,content,fragments", [
    ("truncated.tflite", None, ["truncated.tflite: ", "truncated or"]),
    ("text.tflite", GOOD_CONV, ["text.tflite: not a TFLite flatbuffer"]),
    ("garbage.mlirbc", bytes(range(7, 250)), ["garbage.mlirbc:1:", "(does not parse as MLIR)"]),
    ("model.onnx", b"\x08\x07", ["model.onnx: not a readable ONNX model (truncated or not ONNX?)"]),
    ("model.pb", b"\x08\x07", ["model.pb: unsupported model format '.pb'; supported: .tflite"]),
    ("empty.mlir", "", ["empty.mlir: expected exactly one public function in the module, found 0"]),
])
def test_bad_model_file(tmp_path, name, content, fragments):
    if content is None:  # the first third of a real model
        kws = MODELS / "kws_int8.tflite"
        if not kws.exists():
            pytest.skip(f"{kws} is absent")
        content = kws.read_bytes()[: kws.stat().st_size // 3]
    proc = run(*compile_args(write(tmp_path / name, content), tmp_path))
    assert_one_line_error(proc, *fragments)


def test_directory_as_model(tmp_path):
    (tmp_path / "model.tflite").mkdir()
    assert_one_line_error(run(*compile_args(tmp_path / "model.tflite", tmp_path)), "is a directory")


def test_output_is_a_file(tmp_path):
    model = write(tmp_path / "conv.mlir", GOOD_CONV)
    out = write(tmp_path / "out.txt", "")
    proc = run("compile", str(model), "-o", str(out), "--objective", "untiled")
    assert_one_line_error(proc, f"{out}: exists and is not a directory")


# -- broken and unsupported MLIR: the message names the place in the file ---------------------------------
@pytest.mark.parametrize("content,fragments", [
    (BROKEN, [":3:27: expected '>' in tensor type (does not parse as MLIR)"]),
    (INVALID_CONV, [":5:8: 'tosa.conv2d' op expected input_height - 1 + pad_top + pad_bottom"]),
    (TOSA_CUSTOM, [":2:8: failed to legalize operation 'tosa.custom' (IREE's TOSA to linalg lowering rejects it)"]),
    (TOSA_FFT, [":2:12: unsupported op 'index.mul' in the imported linalg program"]),
    (LINALG_SOFTMAX, [":3:8: unsupported op 'linalg.softmax' in the imported linalg program"]),
], ids=["syntax", "verifier", "tosa-custom", "tosa-fft2d", "linalg-softmax"])
def test_bad_mlir_names_the_location(tmp_path, content, fragments):
    model = write(tmp_path / "model.mlir", content)
    assert_one_line_error(run(*compile_args(model, tmp_path)), f"error: {model}:", *fragments)


# -- missing toolchain ------------------------------------------------------------------------------------
def test_run_qemu_without_toolchain_says_how_to_install(tmp_path):
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    env = {**os.environ, "PATH": str(empty_bin)}
    model = write(tmp_path / "conv.mlir", GOOD_CONV)
    proc = run(*compile_args(model, tmp_path, "--run", "qemu"), env=env)
    assert_one_line_error(proc, "--run qemu", "arm-none-eabi-gcc", "qemu-system-arm", "not found on PATH",
                          "sudo apt-get install gcc-arm-none-eabi", "sudo apt-get install qemu-system-arm")
    assert not (tmp_path / "out" / "fdt_model.o").exists()  # it failed before compiling


# -- numeric options: refused before anything is compiled ------------------------------------------------
@pytest.mark.parametrize("args,fragment", [
    (["--alignment", "3"], "--alignment must be a power of two (1, 2, 4, ..., 16 by default), got 3"),
    (["--alignment", "0"], "--alignment must be a power of two"),
    (["--checks", "0"], "--checks must be at least 1, got 0"),
    (["--search-time", "0"], "--search-time must be positive, got 0"),
    (["--max-overhead", "-0.1"], "--max-overhead must be 0 or more (0.25 allows +25 % MACs), got -0.1"),
], ids=["alignment-3", "alignment-0", "checks-0", "search-time-0", "negative-overhead"])
def test_bad_numeric_option(tmp_path, args, fragment):
    model = write(tmp_path / "conv.mlir", GOOD_CONV)
    assert_one_line_error(run(*compile_args(model, tmp_path, *args)), fragment)
    assert not (tmp_path / "out").exists()  # refused before the output folder is made


@pytest.mark.parametrize("kwargs,fragment", [
    ({"output_format": "hex"}, "unknown --format 'hex'; available: static, embedded-elf"),
    ({"run": "fpga"}, "unknown --run 'fpga'; available: host, qemu"),
    ({"planner": "magic"}, "unknown --planner 'magic'"),
    ({"objective": "ram-budget"}, "objective ram-budget needs a budget (--ram-budget 64KiB)"),
    ({"target": "cortex-m99"}, "cortex-m99"),
    ({"check_intermediates": True}, "--check-intermediates runs the program: it needs --run host or --run qemu"),
    ({"alignment": 12}, "--alignment must be a power of two"),
], ids=["format", "run", "planner", "budget", "target", "intermediates", "alignment"])
def test_options_are_checked_when_created(kwargs, fragment):
    """From Python too, a bad option fails when the options are made, before any import or search."""
    from mlir_fdt.compiler import CompileOptions
    from mlir_fdt.errors import FdtError
    with pytest.raises(FdtError, match=re.escape(fragment)):
        CompileOptions(**kwargs)


# -- tiling plans ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("plan,fragments", [
    (None, ["missing.json: no such plan file"]),
    ("{not json", ["plan.json: not valid JSON"]),
    ("[1, 2]", ["plan.json: expected a JSON object with a 'paths' list"]),
    ({"paths": [{"layers": ["conv_9"], "method": "ffmt", "tiles": [2, 2]}]},
     ["plan: unknown layer(s) conv_9; this model's layers: conv_0"]),
    ({"paths": [{"layers": ["conv_0"], "method": "zigzag", "tiles": [2, 2]}]},
     ["plan: unknown method 'zigzag' (use one of: ffmt, fdt, stream)"]),
    ({"paths": [{"layers": ["conv_0"], "method": "ffmt", "tiles": [0, 2]}]},
     ["plan: ffmt tiles must be [rows, cols] >= 1, got [0, 2]"]),
    ({"paths": [{"method": "ffmt"}]}, ["plan.json: path 0 is malformed"]),
], ids=["missing", "invalid-json", "not-an-object", "unknown-layer", "unknown-method", "zero-tiles", "no-layers"])
def test_bad_plan(tmp_path, plan, fragments):
    model = write(tmp_path / "conv.mlir", GOOD_CONV)
    plan_file = tmp_path / ("missing.json" if plan is None else "plan.json")
    if plan is not None:
        write(plan_file, plan if isinstance(plan, str) else json.dumps(plan))
    assert_one_line_error(run(*compile_args(model, tmp_path, "--plan", str(plan_file))), *fragments)


# -- RAM budget ----------------------------------------------------------------------------------------------
def test_infeasible_ram_budget(tmp_path):
    model = write(tmp_path / "conv.mlir", GOOD_CONV)
    proc = run("compile", str(model), "-o", str(tmp_path / "out"), "--ram-budget", "64", "--search-time", "30")
    assert_one_line_error(proc, "no plan found fits the RAM budget of 64 bytes", "the smallest arena found is")


def test_unreadable_ram_budget(tmp_path):
    model = write(tmp_path / "conv.mlir", GOOD_CONV)
    proc = run("compile", str(model), "-o", str(tmp_path / "out"), "--ram-budget", "lots")
    assert_one_line_error(proc, "cannot read the RAM budget 'lots'")


def test_debug_shows_the_traceback(tmp_path):
    model = write(tmp_path / "model.mlir", BROKEN)
    proc = run("--debug", *compile_args(model, tmp_path))
    assert proc.returncode == 1 and "Traceback" in proc.stderr and "error: " in proc.stderr


# -- mlir-fdt fuzz -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args,fragment", [
    (["--cases", "0"], "--cases, --jobs and --max-layers must be at least 1"),
    (["--known-failures", "/nonexistent"], "/nonexistent/open_bugs.json: no such file"),
])
def test_bad_fuzz_options(args, fragment):
    assert_one_line_error(run("fuzz", *args), fragment)
