"""Every `--target`: the table is consistent, soft-float targets get no FPU instructions, each
board's SysTick calibration still holds, and the int8 models run bit-exact under QEMU on every
board (the figures README.md quotes per target)."""

from __future__ import annotations

import dataclasses
import re
from fractions import Fraction
from pathlib import Path

import pytest

from conftest import model_path, requires_qemu
from mlir_fdt.compiler import CompileOptions, compile_model
from mlir_fdt.codegen.iree_compile import static_library_command
from mlir_fdt.errors import FdtError
from mlir_fdt.external import find_tool, invoke
from mlir_fdt.firmware import build
from mlir_fdt.firmware.build import RUNNER_DIR, build_firmware, qemu_command, target_cache_variables
from mlir_fdt.firmware.run import ModelInterface, run_library_on_qemu
from mlir_fdt.targets import TARGETS, get_target

TARGET_NAMES = sorted(TARGETS)
SOFT_FLOAT = [name for name in TARGET_NAMES if TARGETS[name].float_abi == "soft"]
# FPU and Helium mnemonics (VFP loads/stores/moves/arithmetic, FPSCR access, MVE loads).
FPU_INSTRUCTION = re.compile(r"\tv(ldr|str|ldm|stm|mov|add|sub|mul|div|fma|fms|cvt|cmp|mrs|msr|push|pop|abs|neg|sqrt|"
                             r"ld[24]|st[24]|dup|mla|ctp|pst)\S*\s")


def _compiled_for(compiled, name: str, target: str):
    """Share the cortex-m4 compilation with tests/test_qemu.py (same cache key)."""
    return compiled(name, run="qemu") if target == "cortex-m4" else compiled(name, run="qemu", target=target)


def test_every_board_has_its_linker_script():
    for target in TARGETS.values():
        assert target.board is not None, target.name
        script = RUNNER_DIR / target.board.linker_script
        text = script.read_text()
        assert "MEMORY" in text and "INCLUDE fdt_sections.ld" in text, script


@pytest.mark.parametrize("name", TARGET_NAMES)
def test_float_abi_agrees_everywhere(name):
    target = get_target(name)
    if target.float_abi == "soft":
        assert target.gcc_fpu is None and target.abi == "aapcs" and not target.triple.endswith("hf")
    else:
        assert target.float_abi == "hard" and target.gcc_fpu and target.abi == "aapcs-vfp"
        assert target.triple.endswith("eabihf")
    assert target.board.instructions_per_tick > 0


def test_build_commands_carry_the_target():
    m0plus = get_target("cortex-m0plus")
    command = static_library_command(Path("x.mlir"), Path("x.o"), m0plus)
    assert "--iree-llvmcpu-target-triple=thumbv6m-none-eabi" in command
    assert "--iree-llvmcpu-target-float-abi=soft" in command and "--iree-llvmcpu-target-abi=aapcs" in command
    variables = target_cache_variables(m0plus)
    assert "-DFDT_FPU=none" in variables and "-DFDT_FLOAT_ABI=soft" in variables
    assert "-DFDT_INSTRUCTIONS_PER_TICK_NUM=125" in variables and "-DFDT_INSTRUCTIONS_PER_TICK_DEN=2" in variables
    assert f"-DFDT_LINKER_SCRIPT={RUNNER_DIR / 'microbit.ld'}" in variables


def test_qemu_command_uses_the_board(monkeypatch):
    monkeypatch.setattr(build, "find_tool", lambda name: name)
    command = qemu_command("fw.elf", get_target("cortex-m0plus"))
    assert command[:5] == ["qemu-system-arm", "-M", "microbit", "-cpu", "cortex-m0"]
    assert "nrf51-soc.sram-size=4194304" in command and command[command.index("-icount") + 1] == "shift=0"
    assert qemu_command("fw.elf", get_target("cortex-m55"))[2] == "mps3-an547"


def test_model_config_lists_every_input_and_output(tmp_path):
    """fdt_model_config.h: counts and X-macro lists in the model's order; every range checked
    against the arena before the C compiler's static asserts would."""
    header = build.write_model_config(tmp_path, "q", 100, [(0, 10), (16, 4), (20, 0)], [(32, 8)]).read_text()
    assert "#define FDT_NUM_INPUTS 3\n" in header and "#define FDT_NUM_OUTPUTS 1\n" in header
    assert "X(0, 0u, 10u) \\\n  X(1, 16u, 4u) \\\n  X(2, 20u, 0u)\n" in header
    assert "#define FDT_OUTPUTS(X) \\\n  X(0, 32u, 8u)\n" in header
    empty = build.write_model_config(tmp_path, "q", 100, [], []).read_text()
    assert "#define FDT_INPUTS(X)\n" in empty and "#define FDT_NUM_OUTPUTS 0\n" in empty
    for inputs, outputs, message in [([(0, 8), (95, 8)], [], r"input 1 \[95, 103\) lies outside the 100-byte arena"),
                                     ([], [(100, 1)], r"output 0 \[100, 101\) lies outside"),
                                     ([(-1, 4)], [], "input 0 offset must be a non-negative integer"),
                                     ([(0,)], [], r"input 0 must be an \(offset, bytes\) pair")]:
        with pytest.raises(FdtError, match=message):
            build.write_model_config(tmp_path, "q", 100, inputs, outputs)


def test_a_target_without_a_board_cannot_run_under_qemu(tmp_path):
    boardless = dataclasses.replace(get_target("cortex-m3"), board=None)
    with pytest.raises(FdtError, match="target cortex-m3 has no QEMU board to run on"):
        run_library_on_qemu(tmp_path / "x.o", "fdt_model_library_query", ModelInterface(16, [], []), [], tmp_path,
                            boardless)
    with pytest.raises(FdtError, match="no QEMU board"):
        qemu_command("fw.elf", boardless)


# kws_int8 on every board is the default run's lit_tests/qemu/target-*.test (the CLI, bit-exact under
# QEMU); here with `-m slow`. ic_resnet8_int8 (~5 s a target) is `slow` except on cortex-m4, which
# tests/test_qemu.py compiles anyway.
BOARD_CASES = [pytest.param("kws_int8", t, marks=pytest.mark.slow) for t in TARGET_NAMES] + [
    pytest.param("ic_resnet8_int8", t, marks=() if t == "cortex-m4" else pytest.mark.slow) for t in TARGET_NAMES]


@pytest.mark.qemu
@requires_qemu
@pytest.mark.parametrize("name,target", BOARD_CASES)
def test_int8_bit_exact_on_every_board(compiled, name, target):
    report, _ = _compiled_for(compiled, name, target)
    assert report["target"] == target
    assert report["qemu_max_abs_diff"] == 0 and report["max_abs_diff"] == 0
    # instructions counted: at least one a MAC, or a sixteenth of one where a Helium instruction does 16 int8
    # MACs (ResNet-8 untiled on the M55: 9.85 M instructions for 12.5 M MACs)
    lanes = 16 if get_target(target).kernels == "helium" else 1
    assert report["stack_bytes"] > 0 and report["qemu_instructions"] > report["macs"] / lanes


@pytest.mark.qemu
@requires_qemu
@pytest.mark.parametrize("target", SOFT_FLOAT)
def test_soft_float_targets_have_no_fpu_instructions(compiled, target):
    report, out = _compiled_for(compiled, "kws_int8", target)
    objdump = find_tool("arm-none-eabi-objdump")
    for binary in (out / report["library"], out / "firmware" / "build" / "fdt_runner.elf"):
        listing = invoke([objdump, "-d", str(binary)]).stdout.decode()
        assert "\tldr" in listing  # a real disassembly
        assert not FPU_INSTRUCTION.search(listing), FPU_INSTRUCTION.search(listing).group(0)


@pytest.mark.qemu
@requires_qemu
@pytest.mark.parametrize("target", TARGET_NAMES)
def test_systick_calibration_of_every_board(compiled, target, tmp_path):
    """The stored instructions per tick still turn the calibration loop's ticks into exactly
    the 4,000,000 instructions it executes (runner/main.c, FDT_CALIBRATE)."""
    report, out = _compiled_for(compiled, "kws_int8", target)
    spec_in, spec_out = report["inputs"][0], report["outputs"][0]
    elf = build_firmware(out / report["library"], report["library_query"], report["arena_bytes"],
                         [(spec_in["offset"], spec_in["bytes"])], [(spec_out["offset"], spec_out["bytes"])],
                         tmp_path, calibrate=True, target=get_target(target))
    (tmp_path / "input0.bin").write_bytes(bytes(spec_in["bytes"]))
    proc = invoke(qemu_command(elf, get_target(target)), cwd=tmp_path, timeout=120)
    match = re.search(r"FDT_CALIBRATION instructions=4000000 ticks=(\d+)", proc.stdout.decode())
    assert match, proc.stdout.decode()
    assert int(match.group(1)) * get_target(target).board.instructions_per_tick == Fraction(4_000_000)


def test_targets_command_prints_the_table_as_json(capsys):
    import json

    from mlir_fdt.tools.cli import main
    assert main(["targets", "--json"]) == 0
    facts = {t["name"]: t for t in json.loads(capsys.readouterr().out)}
    assert list(facts) == list(TARGETS)
    m55 = facts["cortex-m55"]
    assert m55["iree"]["features"] == TARGETS["cortex-m55"].features and m55["gcc"]["fpu"] == "auto"
    assert m55["board"]["qemu_args"] == ["-M", "mps3-an547", "-cpu", "cortex-m55"]
    assert Path(m55["board"]["linker_script"]).is_file()
    assert facts["cortex-m3"]["gcc"] == {"cpu": "cortex-m3", "fpu": "none", "float_abi": "soft"}
    assert main(["targets", "cortex-z9"]) == 1
    assert "unknown target 'cortex-z9'" in capsys.readouterr().err


def test_a_model_too_large_for_the_board_says_so():
    """The linker's region overflow becomes one error naming the board, the region and the bytes over."""
    from mlir_fdt.errors import ToolError
    from mlir_fdt.firmware.build import board_overflow
    linker = ToolError("cmake", 1, ["cmake", "--build", "b"], "ld: fdt_runner.elf section `.rodata' will not fit "
                       "in region `FLASH'\nld: region `FLASH' overflowed by 556552 bytes\n", "building failed")
    error = board_overflow(linker, get_target("cortex-m4"))
    assert str(error).startswith("the firmware does not fit the mps2-an386 board's FLASH (QEMU, cortex-m4): "
                                 "556,552 bytes over")
    assert board_overflow(ToolError("cmake", 1, ["cmake"], "undefined reference to `x'", ""),
                          get_target("cortex-m4")) is None


@pytest.mark.qemu
@requires_qemu
def test_weights_beyond_the_m55_itcm_run_from_its_qspi_flash(tmp_path):
    """ad_fp32's float weights (1 MB) exceed the AN547's 512 KiB ITCM: the board's linker script puts the
    constants in its 8 MiB QSPI flash, and the model runs."""
    report = compile_model(model_path("ad_fp32"), tmp_path, CompileOptions(target="cortex-m55", run="qemu"))
    assert report.to_json()["match"] and report.to_json()["flash_weight_bytes"] > 512 * 1024
