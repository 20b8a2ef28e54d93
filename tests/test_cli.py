"""The `mlir-fdt` command: exit codes and one-line messages, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import model_path

CLI = [sys.executable, "-m", "mlir_fdt.tools.cli"]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("args,message", [
    (["compile", "/nonexistent.tflite", "-o", "OUT"], "error: /nonexistent.tflite: no such file"),
    (["compile", "MODEL", "--target", "cortex-z9", "-o", "OUT"],
     "error: unknown target 'cortex-z9'; known targets: cortex-m0plus, cortex-m3, cortex-m33, cortex-m4"),
])
def test_errors_are_one_line(tmp_path, args, message):
    args = [a.replace("OUT", str(tmp_path / "out")).replace("MODEL", str(model_path("ad_int8"))) for a in args]
    proc = run(*args)
    assert proc.returncode == 1
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_garbage_model_file(tmp_path):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"\x00" * 100)
    proc = run("compile", str(bad), "-o", str(tmp_path / "out"))
    assert proc.returncode == 1
    assert "not a TFLite flatbuffer" in proc.stderr and "Traceback" not in proc.stderr


def test_compile_writes_report(tmp_path):
    out = tmp_path / "ad"
    proc = run("compile", str(model_path("ad_int8")), "--target", "cortex-m4", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["arena_bytes"] == 768 and report["lower_bound_bytes"] == 768
    assert "arena_bytes" in proc.stdout
