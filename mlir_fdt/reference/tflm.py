"""TFLite Micro's Python interpreter as the test oracle (bit-exact bar for int8 models)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import FdtError


def run_tflite_micro(model: Path, inputs: list[np.ndarray], n_outputs: int) -> list[np.ndarray]:
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise FdtError("the reference needs TFLite Micro: `pip install tflite-micro` (or run scripts/setup.sh)") from e
    try:
        interp = runtime.Interpreter.from_file(str(model))
    except Exception as e:  # the binding raises plain RuntimeError
        raise FdtError(f"{model}: TFLite Micro cannot load the model: {e}") from None
    for i, x in enumerate(inputs):
        interp.set_input(x, i)
    interp.invoke()
    return [np.array(interp.get_output(i)) for i in range(n_outputs)]

