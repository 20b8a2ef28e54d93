"""TFLite Micro's Python interpreter as the test oracle (bit-exact bar for int8/int16 models).

The interpreter's default arena (ten times the model's size) is too small for many real models
(a 6.5 KB model may need 94 KB): the arena grows until allocation succeeds. TFLite Micro explains
its failures on the C stderr only ("Hybrid models are not supported on TFLite Micro."); those lines
are captured and become the error's reason.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from ..errors import FdtError

FIRST_ARENA_BYTES = 256 * 1024
LAST_ARENA_BYTES = 256 * 1024 * 1024


@contextlib.contextmanager
def _captured_c_stderr(lines: list[str]):
    """Collect what C code writes to file descriptor 2 inside the block."""
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        saved = os.dup(2)
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            lines.extend(line.strip() for line in tmp.read().decode(errors="replace").splitlines() if line.strip())


def _runtime():
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise FdtError("the reference needs TFLite Micro: `pip install tflite-micro` (or run scripts/setup.sh)") from e
    return runtime


def _why(messages: list[str], error: Exception) -> str:
    useful = [m for m in messages if not m.startswith("Node ")] or messages
    return "; ".join(useful[:2]) or str(error)


def tflite_micro_interpreter(model: Path, preserve_all_tensors: bool = False):
    """An interpreter whose arena fits the model: doubled from 256 KiB until TFLite Micro can
    allocate every tensor. FdtError with TFLite Micro's own reason when it cannot run the model. Operators its
    kernels compute otherwise than TFLite defines them are rewritten first (`tflm_kernel_faults`)."""
    from .tflm_kernel_faults import reference_model
    runtime = _runtime()
    source = model
    model = reference_model(model)
    config = (runtime.InterpreterConfig.kPreserveAllTensors if preserve_all_tensors
              else runtime.InterpreterConfig.kAllocationRecording)
    arena = FIRST_ARENA_BYTES
    while True:
        messages: list[str] = []
        try:
            with _captured_c_stderr(messages):
                return runtime.Interpreter.from_file(str(model), arena_size=arena, intrepreter_config=config)
        except Exception as e:  # the binding raises plain RuntimeError
            too_small = any("Failed to resize buffer" in m or "Failed to allocate" in m for m in messages)
            if too_small and arena < LAST_ARENA_BYTES:
                arena *= 2
                continue
            raise FdtError(f"{source}: TFLite Micro cannot run the model: {_why(messages, e)}") from None


def _invoke(model: Path, inputs: list[np.ndarray], print_allocations: bool = False,
            preserve_all_tensors: bool = False, interp=None):
    """(interpreter after one invoke on `inputs`, TFLite Micro's C stderr lines); FdtError with its
    reason when it cannot run the model. `interp`: one that ran inferences before (a stateful model's
    sequence), else a new one."""
    interp = interp if interp is not None else tflite_micro_interpreter(model, preserve_all_tensors)
    messages: list[str] = []
    try:
        with _captured_c_stderr(messages):
            for i, x in enumerate(inputs):
                interp.set_input(x, i)
            interp.invoke()
            if print_allocations:
                interp.print_allocations()
    except Exception as e:
        raise FdtError(f"{model}: TFLite Micro cannot run the model: {_why(messages, e)}") from None
    return interp, messages


def run_tflite_micro(model: Path, inputs: list[np.ndarray], n_outputs: int) -> list[np.ndarray]:
    interp, _ = _invoke(model, inputs)
    return [np.array(interp.get_output(i)) for i in range(n_outputs)]


def run_tflite_micro_sequence(model: Path, input_sets: list[list[np.ndarray]],
                              n_outputs: int) -> list[list[np.ndarray]]:
    """The outputs of consecutive inferences of one interpreter on `input_sets`: a stateful model (SVDF) sees the
    variable tensors the inferences before it left, as an application invoking it in a loop."""
    interp = tflite_micro_interpreter(model)
    found = []
    for inputs in input_sets:
        _invoke(model, inputs, interp=interp)
        found.append([np.array(interp.get_output(i), copy=True) for i in range(n_outputs)])
    return found


def tflite_micro_arena_head(model: Path, inputs: list[np.ndarray]) -> int | None:
    """TFLite Micro's planned activation arena for `model` ("Arena allocation head": every tensor,
    input and output included; the like-for-like figure for mlir-fdt's arena), after one invoke;
    None when TFLite Micro cannot run the model."""
    try:
        _, messages = _invoke(model, inputs, print_allocations=True)
    except FdtError:
        return None
    for m in messages:
        match = re.search(r"Arena allocation head (\d+) bytes", m)
        if match:
            return int(match[1])
    return None


def run_tflite_micro_tensors(model: Path, inputs: list[np.ndarray], indices: list[int]) -> dict[int, np.ndarray]:
    """Tensors `indices` of the main subgraph after one invoke with every tensor preserved (TFLite
    Micro otherwise reuses an intermediate's bytes once it is consumed)."""
    interp, _ = _invoke(model, inputs, preserve_all_tensors=True)
    found = {}
    for index in indices:
        t = interp.GetTensor(index, 0)
        found[index] = np.array(t["tensor_data"], copy=True).reshape(t["shape"])
    return found
