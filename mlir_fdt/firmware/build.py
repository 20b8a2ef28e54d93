"""Build the runner firmware for one model object and run it under QEMU.

Command lines are pure builders (so they can be logged, saved and tested); `build_firmware`
and `run_qemu` run them through `mlir_fdt.external.invoke`.

The firmware prints exactly one result line (see runner/main.c):
    FDT_RESULT status=ok arena_bytes=N stack_bytes=N ticks=N instructions=N local_memory_bytes=N loader_ram_bytes=N
or, on failure, `FDT_FAIL <reason>` and a non-zero exit status.
"""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

from ..errors import FdtError, ToolError
from ..external import find_tool, invoke
from ..codegen.library import LIBRARY_QUERY_SUFFIX
from ..memory.stream_input import row_callback_name
from ..targets import Target, get_target
from .model_format import model_cache_variables

# Every tool building and running the firmware needs (`--run qemu` checks them before compiling).
FIRMWARE_TOOLS = ("arm-none-eabi-gcc", "cmake", "ninja", "qemu-system-arm")

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
RUNNER_DIR = Path(__file__).resolve().parent / "runner"
TOOLCHAIN_FILE = REPO_ROOT / "cmake" / "arm-none-eabi.cmake"
CONFIG_HEADER = "fdt_model_config.h"
ELF_NAME = "fdt_runner.elf"
MAP_NAME = "fdt_runner.map"

DEFAULT_TARGET = "cortex-m4"

RESULT_KEYS = ("status", "arena_bytes", "stack_bytes", "ticks", "instructions", "local_memory_bytes",
               "loader_ram_bytes")

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RESULT_LINE = re.compile(r"^FDT_RESULT (.*)$", re.MULTILINE)
_FAIL_LINE = re.compile(r"^FDT_FAIL (.*)$", re.MULTILINE)
_INFO_LINE = re.compile(r"^FDT_INFO (.*)$", re.MULTILINE)
_PROFILE_LINE = re.compile(r"^FDT_PROFILE nest=(\d+) ticks=(\d+)$", re.MULTILINE)


def _io_ranges(what: str, ranges, streamed: set[int] = frozenset()) -> list[tuple[int, int]]:
    """`ranges` as a list of (offset, bytes) pairs of non-negative ints (offset None at the indices in
    `streamed`: not in the arena), or FdtError naming `what`."""
    try:
        pairs = [tuple(pair) for pair in ranges]
    except TypeError:
        raise FdtError(f"{what}s must be a list of (offset, bytes) pairs, got {ranges!r}") from None
    for i, pair in enumerate(pairs):
        if len(pair) != 2:
            raise FdtError(f"{what} {i} must be an (offset, bytes) pair, got {pair!r}")
        if (pair[0] is None) != (i in streamed):
            raise FdtError(f"{what} {i}: a streamed input has no offset in the arena, any other has one")
        for name, value in zip(("offset", "bytes"), pair):
            if value is None and name == "offset" and i in streamed:
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise FdtError(f"{what} {i} {name} must be a non-negative integer, got {value!r}")
    return pairs


def write_model_config(directory: str | Path, library_query: str, arena_bytes: int,
                       inputs: list[tuple[int | None, int]], outputs: list[tuple[int, int]],
                       profile: tuple[int, int] | None = None,
                       streamed: list[tuple[int, int, int, int]] = ()) -> Path:
    """Write `fdt_model_config.h`, the only model-specific source the runner compiles.

    `inputs` and `outputs` are (offset, bytes) in the arena, in the order the model declares
    them; the runner reads input<i>.bin into inputs[i] and writes outputs[j] to output<j>.bin.
    The header holds their counts (FDT_NUM_INPUTS, FDT_NUM_OUTPUTS) and X-macro lists
    (FDT_INPUTS(X), FDT_OUTPUTS(X) expand X(index, offset, bytes) for each).
    Checked here so a bad plan fails with a clear message rather than a C static assert.
    `profile` (a `--profile` build): (byte offset, words) of the table of SysTick readings the
    instrumented dispatch leaves in the arena (FDT_PROFILE_OFFSET, FDT_PROFILE_COUNT).
    `streamed`: (index, bytes a row, rows, segments) of each input the program asks for a row at a time
    (memory/stream_input.py: a row is `segments` contiguous runs of the input, one a channel plane for NCHW);
    those inputs' offsets are None, and FDT_STREAMED_INPUTS(X) expands X(index, row_bytes, rows, segments)
    for each (the runner reads input<index>.bin a row at a time).
    The file is left untouched when its content would not change, so ninja does not rebuild.
    """
    if not _IDENTIFIER.fullmatch(library_query):
        raise FdtError(f"library query symbol {library_query!r} is not a C identifier")
    if not isinstance(arena_bytes, int) or isinstance(arena_bytes, bool) or arena_bytes <= 0:
        raise FdtError(f"arena_bytes must be a positive integer, got {arena_bytes!r}")
    rows = {index: (row_bytes, count, segments) for index, row_bytes, count, segments in streamed}
    lists = {"input": _io_ranges("input", inputs, set(rows)), "output": _io_ranges("output", outputs)}
    for index, (row_bytes, count, segments) in rows.items():
        if row_bytes <= 0 or count <= 0 or index >= len(inputs) or row_bytes * count != inputs[index][1] \
                or segments <= 0 or row_bytes % segments:
            raise FdtError(f"streamed input {index}: {count} rows of {row_bytes} bytes do not make its "
                           f"{inputs[index][1] if index < len(inputs) else '?'} bytes")
    for what, pairs in lists.items():
        for i, (offset, size) in enumerate(pairs):
            if offset is not None and offset + size > arena_bytes:
                raise FdtError(f"{what} {i} [{offset}, {offset + size}) lies outside the {arena_bytes}-byte arena")
    text = ("/* Generated by mlir_fdt.firmware.build: the model the runner links with. */\n"
            "#ifndef FDT_MODEL_CONFIG_H\n#define FDT_MODEL_CONFIG_H\n"
            f"#define FDT_LIBRARY_QUERY {library_query}\n"
            f"#define FDT_ARENA_BYTES {arena_bytes}u\n")
    if profile is not None:
        offset, words = profile
        if offset % 4 or offset + 4 * words > arena_bytes:
            raise FdtError(f"profile table [{offset}, {offset + 4 * words}) is not word-aligned inside the arena")
        text += f"#define FDT_PROFILE_OFFSET {offset}u\n#define FDT_PROFILE_COUNT {words}u\n"
    for what, pairs in lists.items():
        kind = what.upper()
        placed = [(i, offset, size) for i, (offset, size) in enumerate(pairs) if offset is not None]
        text += (f"/* {what}s in the arena, in the model's order: X(index, offset, bytes); file {what}<index>.bin */\n"
                 f"#define FDT_NUM_{kind}S {len(placed)}\n"
                 f"#define FDT_{kind}S(X)"
                 + "".join(f" \\\n  X({i}, {offset}u, {size}u)" for i, offset, size in placed)
                 + "\n")
    text += ("/* inputs the program asks for a row at a time (<library>_read_input_row): X(index, row_bytes, rows,\n"
             " * segments): a row is `segments` contiguous runs of input<index>.bin (NCHW: one a channel plane) */\n"
             f"#define FDT_NUM_STREAMED_INPUTS {len(rows)}\n#define FDT_STREAMED_INPUTS(X)"
             + "".join(f" \\\n  X({i}, {b}u, {n}u, {g}u)" for i, (b, n, g) in sorted(rows.items())) + "\n")
    if rows:  # the runner defines the program's row callback under the library's name
        library = library_query.removesuffix(LIBRARY_QUERY_SUFFIX)
        text += f"#define FDT_READ_INPUT_ROW {row_callback_name(library)}\n"
    text += "#endif\n"
    path = Path(directory) / CONFIG_HEADER
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def target_cache_variables(target: Target) -> list[str]:
    """`-D` options that configure the toolchain file and the runner for `target`'s core and board.

    Shared by the runner build and by `cmake/MlirFdt.cmake` users (`mlir-fdt` prints them).
    """
    variables = [f"-DFDT_TARGET_NAME={target.name}", f"-DFDT_CPU={target.gcc_cpu}",
                 f"-DFDT_FPU={target.gcc_fpu or 'none'}", f"-DFDT_FLOAT_ABI={target.float_abi}"]
    if target.board is not None:
        ticks = target.board.instructions_per_tick
        variables += [f"-DFDT_LINKER_SCRIPT={RUNNER_DIR / target.board.linker_script}",
                      f"-DFDT_INSTRUCTIONS_PER_TICK_NUM={ticks.numerator}",
                      f"-DFDT_INSTRUCTIONS_PER_TICK_DEN={ticks.denominator}"]
    return variables


def configure_command(build_dir: str | Path, model_object: str | Path, config_dir: str | Path,
                      undersize: int = 0, *, max_local_memory: int = 0, stack_size: int = 65536,
                      calibrate: bool = False, linker_script: str | Path | None = None,
                      target: Target | None = None, model_format: str = "static") -> list[str]:
    """CMake configure line for the runner (the top-level CMakeLists.txt of the repository).

    `undersize` declares the arena that many bytes too small (test hook for the canary);
    `max_local_memory` is the workgroup-local scratch the runner provides (bytes);
    `calibrate` adds the SysTick calibration loop to the firmware's output;
    `target` (default cortex-m4) sets -mcpu/-mfpu/-mfloat-abi, the board's linker script and
    its instructions per SysTick tick; `linker_script` overrides the board's script;
    `model_format` says whether `model_object` is a static library object or an embedded ELF.
    """
    target = target or get_target(DEFAULT_TARGET)
    command = [find_tool("cmake"), "-G", "Ninja", "-S", str(REPO_ROOT), "-B", str(build_dir),
               f"-DCMAKE_MAKE_PROGRAM={find_tool('ninja')}",
               f"-DCMAKE_TOOLCHAIN_FILE={TOOLCHAIN_FILE}",
               *target_cache_variables(target),
               *model_cache_variables(model_object, model_format),
               f"-DFDT_MODEL_CONFIG_DIR={Path(config_dir).resolve()}",
               f"-DFDT_ARENA_UNDERSIZE={int(undersize)}",
               f"-DFDT_MAX_LOCAL_MEMORY={int(max_local_memory)}",
               f"-DFDT_STACK_SIZE={int(stack_size)}",
               f"-DFDT_CALIBRATE={'ON' if calibrate else 'OFF'}"]
    if linker_script is not None:
        command.append(f"-DFDT_LINKER_SCRIPT={Path(linker_script).resolve()}")
    return command


def build_command(build_dir: str | Path) -> list[str]:
    """CMake build line; produces `<build_dir>/fdt_runner.elf` and `fdt_runner.map`."""
    return [find_tool("cmake"), "--build", str(build_dir)]


def qemu_command(elf: str | Path, target: Target | None = None) -> list[str]:
    """QEMU line for `target`'s board (default cortex-m4 on mps2-an386): semihosting for
    files/stdout/exit status, `-icount shift=0` so SysTick counts instructions (no
    serial/monitor: the firmware talks only through semihosting)."""
    target = target or get_target(DEFAULT_TARGET)
    if target.board is None:
        raise FdtError(f"target {target.name} has no QEMU board to run on")
    board = target.board
    return [find_tool("qemu-system-arm"), "-M", board.machine, "-cpu", board.cpu, *board.extra_args,
            "-nographic", "-monitor", "none", "-serial", "none",
            "-semihosting-config", "enable=on,target=native",
            "-icount", "shift=0", "-kernel", str(Path(elf).resolve())]


def _fields(text: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in text.split() if "=" in item)


def parse_result(stdout: str) -> dict:
    """Parse the firmware's output (stdout and stderr together: faults print to stderr).

    Returns the RESULT_KEYS with integer values and status "ok"; for an `FDT_FAIL` line,
    status "fail" with "reason" and the numeric keys None. Extra `FDT_INFO` fields (the
    dispatch's own stack, the caller's frames) are added when present.
    Raises ValueError, quoting the text, when there is neither line (a crash or truncation).
    """
    fail = _FAIL_LINE.search(stdout)
    if fail:
        result: dict = {key: None for key in RESULT_KEYS}
        result.update(status="fail", reason=fail.group(1).strip())
        return result
    matches = _RESULT_LINE.findall(stdout)
    if len(matches) != 1:
        raise ValueError(f"expected one FDT_RESULT line in the firmware output, found {len(matches)}:\n{stdout}")
    fields = _fields(matches[0])
    missing = [key for key in RESULT_KEYS if key not in fields]
    if missing:
        raise ValueError(f"FDT_RESULT line lacks {', '.join(missing)}:\n{stdout}")
    result = {"status": fields["status"]}
    for key in RESULT_KEYS[1:]:
        result[key] = int(fields[key])
    for info in _INFO_LINE.findall(stdout):
        result.update({key: int(value) for key, value in _fields(info).items() if value.isdigit()})
    profile = _PROFILE_LINE.findall(stdout)
    if profile:  # a --profile build: ticks of each loop nest, in order
        result["profile_ticks"] = [int(ticks) for _, ticks in sorted(profile, key=lambda p: int(p[0]))]
    return result


def _configured_target(build_dir: Path) -> str | None:
    """FDT_TARGET_NAME in an existing CMake cache of `build_dir`, None when there is none."""
    cache = build_dir / "CMakeCache.txt"
    if not cache.is_file():
        return None
    match = re.search(r"^FDT_TARGET_NAME:STRING=(.*)$", cache.read_text(errors="replace"), re.MULTILINE)
    return match.group(1) if match else ""


def board_overflow(error: ToolError, target: Target) -> FdtError | None:
    """The linker's "region `X' overflowed by N bytes" as one error naming the board, else None."""
    overflow = re.search(r"region `(\w+)' overflowed by (\d+) bytes", str(error))
    if overflow is None:
        return None
    return FdtError(f"the firmware does not fit the {target.board.machine} board's {overflow[1]} (QEMU, "
                    f"{target.name}): {int(overflow[2]):,} bytes over; the model's weights and code are too "
                    "large for it (the library itself is built; run without --run qemu, or on a target whose "
                    "board has more memory)")


def build_firmware(model_object: str | Path, library_query: str, arena_bytes: int,
                   inputs: list[tuple[int, int]], outputs: list[tuple[int, int]], work_dir: str | Path,
                   undersize: int = 0, *, max_local_memory: int = 0, calibrate: bool = False,
                   target: Target | None = None, model_format: str = "static",
                   profile: tuple[int, int] | None = None, streamed: list[tuple[int, int, int, int]] = ()) -> Path:
    """Configure and build the runner for one model and `target` (default cortex-m4) in
    `work_dir` (config/ and build/ inside). `inputs` and `outputs` are the model's (offset, bytes)
    in the arena, in its order; `streamed` the inputs delivered a row at a time (see `write_model_config`).

    Rebuilding in the same `work_dir` is incremental. A build directory configured for another
    target is removed first: the toolchain's flags are cached at the first configure. Returns
    the ELF path.
    """
    target = target or get_target(DEFAULT_TARGET)
    work_dir = Path(work_dir)
    model_object = Path(model_object)
    if not model_object.is_file():
        raise FdtError(f"model object {model_object} does not exist")
    config_dir, build_dir = work_dir / "config", work_dir / "build"
    write_model_config(config_dir, library_query, arena_bytes, inputs, outputs, profile, streamed)
    find_tool("arm-none-eabi-gcc")  # missing compiler: an install hint rather than a CMake error
    configured = _configured_target(build_dir)
    if configured is not None and configured != target.name:
        log.info("%s was configured for %s; reconfiguring from scratch for %s", build_dir,
                 configured or "another target", target.name)
        shutil.rmtree(build_dir)
    log.info("building firmware for %s (%s) in %s", model_object, target.name, build_dir)
    invoke(configure_command(build_dir, model_object, config_dir, undersize,
                             max_local_memory=max_local_memory, calibrate=calibrate, target=target,
                             model_format=model_format),
           tool="cmake", hint="configuring the runner firmware failed; see the CMake output above", timeout=300)
    try:
        invoke(build_command(build_dir), tool="cmake",
               hint="building the runner firmware failed (undefined symbol? the model object must target "
                    f"{target.triple}/{target.cpu}, {target.float_abi} float)", timeout=600)
    except ToolError as e:
        raise board_overflow(e, target) or e from None
    elf = build_dir / ELF_NAME
    if not elf.is_file():
        raise FdtError(f"the firmware build reported success but {elf} is missing")
    return elf


_IO_FILE = re.compile(r"(input|output)\d+\.bin(\.\d+)?")


def run_qemu(elf: str | Path, inputs: list[bytes], work_dir: str | Path, timeout: float = 120,
             target: Target | None = None, earlier: list[list[bytes]] = ()) -> tuple[dict, list[bytes]]:
    """Run the firmware once on `target`'s board (default cortex-m4) with `inputs[i]` as
    input<i>.bin; return (parse_result(...), [output<j>.bin for every output j]).
    `earlier`: the inputs of inferences the firmware runs first, in order, in the same boot (a stateful
    model's sequence: input<i>.bin.<k>); their outputs (output<j>.bin.<k>) are in the result's
    "earlier_outputs", the measured inference is the last.

    The firmware reads and writes its files through semihosting relative to QEMU's working
    directory, so `work_dir` is where input<i>.bin/output<j>.bin live (those of an earlier run
    are removed first). A firmware failure (FDT_FAIL, non-zero exit) is returned as status
    "fail" with no outputs; only a QEMU that fails without an FDT_FAIL line, or hangs past
    `timeout` seconds, raises ToolError.
    """
    if isinstance(inputs, (bytes, bytearray, memoryview)):
        raise FdtError("run_qemu takes a list of input buffers (one bytes object per model input)")
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    for stale in work_dir.iterdir():
        if _IO_FILE.fullmatch(stale.name) and stale.is_file():
            stale.unlink()
    for i, data in enumerate(inputs):
        (work_dir / f"input{i}.bin").write_bytes(bytes(data))
    for k, earlier_inputs in enumerate(earlier):
        for i, data in enumerate(earlier_inputs):
            (work_dir / f"input{i}.bin.{k}").write_bytes(bytes(data))
    command = qemu_command(elf, target)
    try:
        proc = invoke(command, tool="qemu-system-arm", timeout=timeout, cwd=work_dir,
                      hint="the firmware did not finish; an endless loop in the model, or raise the timeout")
    except ToolError as error:
        if error.returncode != -1 and _FAIL_LINE.search(error.stderr):
            result = parse_result(error.stderr)
            log.warning("firmware failed: %s", result["reason"])
            return result, []
        raise
    text = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
    result = parse_result(text)
    if result["status"] != "ok":
        return result, []
    count = result.pop("output_files", None)
    if count is None:
        raise FdtError("the firmware's FDT_INFO line does not say how many output files it wrote")
    if result.pop("earlier_inferences", 0) != len(earlier):
        raise FdtError(f"the firmware ran {len(earlier)} inferences before the measured one, it says otherwise")

    def written(suffix: str) -> list[bytes]:
        found = []
        for j in range(count):
            path = work_dir / f"output{j}.bin{suffix}"
            if not path.is_file():
                raise FdtError(f"the firmware reported success but wrote no {path}")
            found.append(path.read_bytes())
        return found
    outputs = written("")
    if earlier:
        result["earlier_outputs"] = [written(f".{k}") for k in range(len(earlier))]
    log.info("firmware: %s", " ".join(f"{k}={result[k]}" for k in RESULT_KEYS))
    return result, outputs
