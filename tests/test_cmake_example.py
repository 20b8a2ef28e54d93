"""cmake/MlirFdt.cmake and examples/firmware: a firmware project that compiles its model with
mlir-fdt at build time configures, builds and passes its CTest under QEMU from a clean build
directory; misuse of mlir_fdt_add_model is a configure error naming the problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import REPO, requires_qemu
from mlir_fdt.errors import ToolError
from mlir_fdt.external import find_tool, invoke

pytestmark = requires_qemu

TOOLCHAIN = REPO / "cmake" / "arm-none-eabi.cmake"
EXAMPLE = REPO / "examples" / "firmware"
KWS = REPO / "examples" / "models" / "kws_int8.tflite"


def configure(source: Path, build: Path, *definitions: str) -> None:
    invoke([find_tool("cmake"), "-S", str(source), "-B", str(build), "-G", "Ninja",
            f"-DCMAKE_MAKE_PROGRAM={find_tool('ninja')}", f"-DCMAKE_TOOLCHAIN_FILE={TOOLCHAIN}",
            f"-DMLIR_FDT_EXECUTABLE={find_tool('mlir-fdt')}", *definitions], timeout=300)


@pytest.mark.qemu
@pytest.mark.parametrize("target", ["cortex-m4", pytest.param("cortex-m0plus", marks=pytest.mark.slow)])
def test_example_builds_and_passes_its_ctest(tmp_path, target):
    build = tmp_path / "build"
    configure(EXAMPLE, build, f"-DMLIR_FDT_TARGET={target}")
    invoke([find_tool("cmake"), "--build", str(build)], timeout=600)
    config = (build / "mlir_fdt" / "kws" / "kws_config.h").read_text()
    report = json.loads((build / "mlir_fdt" / "kws" / "report.json").read_text())
    # the default objective (min-ram) tiles KWS in place: below its untiled 16000 B, no extra MACs
    arena = report["arena_bytes"]
    assert arena < 16000 and report["mac_overhead"] == 0
    assert f"#define KWS_ARENA_BYTES {arena}u" in config and "kws_library_query(" in config
    proc = invoke([find_tool("ctest"), "--test-dir", str(build), "--output-on-failure", "-V"], timeout=300)
    assert f"FDT_EXAMPLE ok arena_bytes={arena}" in proc.stdout.decode()


@pytest.mark.qemu
def test_example_with_a_streamed_input(tmp_path):
    """-DEXAMPLE_STREAM_INPUT=ON: the arena holds no input; main.c hands the library its 49 rows (10 bytes each)
    one at a time from the test vector, and the output is the reference's."""
    build = tmp_path / "build"
    configure(EXAMPLE, build, "-DEXAMPLE_STREAM_INPUT=ON")
    invoke([find_tool("cmake"), "--build", str(build)], timeout=600)
    config = (build / "mlir_fdt" / "kws" / "kws_config.h").read_text()
    report = json.loads((build / "mlir_fdt" / "kws" / "report.json").read_text())
    assert report["inputs"][0]["offset"] is None and report["inputs"][0]["streamed_row_bytes"] == 10
    assert "#define KWS_INPUT0_ROWS 49u" in config and "KWS_INPUT0_OFFSET" not in config
    assert "#define KWS_INPUT0_ROW_SEGMENTS 1u" in config
    assert "void kws_read_input_row(int32_t input, int32_t row, int32_t bytes, void *dst);" in config
    proc = invoke([find_tool("ctest"), "--test-dir", str(build), "--output-on-failure", "-V"], timeout=300)
    out = proc.stdout.decode()
    assert "FDT_EXAMPLE streamed_rows=49" in out and f"FDT_EXAMPLE ok arena_bytes={report['arena_bytes']}" in out


def _project(tmp_path: Path, arguments: str) -> Path:
    source = tmp_path / "src"
    source.mkdir()
    (source / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.20)\n"
        f"include({(REPO / 'cmake' / 'MlirFdt.cmake').as_posix()})\n"
        "project(t C)\n"
        f"mlir_fdt_add_model({arguments})\n")
    return source


def test_iree_flags_and_flags_reach_the_compile_command(tmp_path):
    source = _project(tmp_path, f"NAME net SRC {KWS.as_posix()} TARGET cortex-m4 FLAGS --planner greedy "
                                "IREE_FLAGS --iree-llvmcpu-loop-unrolling=false")
    configure(source, tmp_path / "build")
    ninja = (tmp_path / "build" / "build.ninja").read_text()
    assert "--library-name net" in ninja and "--planner greedy" in ninja
    assert "--iree-flag=--iree-llvmcpu-loop-unrolling=false" in ninja


@pytest.mark.parametrize("arguments,message", [
    (f"NAME kws SRC {KWS.as_posix()} TARGET cortex-m33", "TARGET cortex-m33 needs -mcpu=cortex-m33"),
    (f"NAME 1kws SRC {KWS.as_posix()} TARGET cortex-m4", "NAME '1kws' must be a C identifier"),
    ("NAME kws SRC /nonexistent.tflite TARGET cortex-m4", "model file /nonexistent.tflite does not exist"),
    (f"NAME kws SRC {KWS.as_posix()} TARGET cortex-z9", "mlir-fdt does not know target 'cortex-z9'"),
    (f"NAME kws SRC {KWS.as_posix()} TARGET cortex-m4 FLAGS --format embedded-elf", "FLAGS may not contain"),
])
def test_misuse_is_a_configure_error(tmp_path, arguments, message):
    source = _project(tmp_path, arguments)
    with pytest.raises(ToolError) as error:
        configure(source, tmp_path / "build")
    assert message in " ".join(error.value.stderr.split())
