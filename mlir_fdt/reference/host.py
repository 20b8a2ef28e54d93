"""Run a compiled arena program on the host with `iree.runtime`, and IREE's default compilation
of the imported linalg program as a reference for models that TFLite Micro cannot run."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import FdtError


def _load(vmfb: Path):
    import iree.runtime as rt
    config = rt.Config("local-sync")
    ctx = rt.SystemContext(config=config)
    ctx.add_vm_module(rt.VmModule.mmap(config.vm_instance, str(vmfb)))
    return ctx


def run_arena_program(vmfb: Path, arena_bytes: int, inputs: list[tuple[int, bytes]],
                      outputs: list[tuple[int, int]]) -> list[bytes]:
    """Write `inputs` (offset, bytes) into a zeroed arena, run `run`, return the `outputs` (offset, size)."""
    arena = np.zeros(arena_bytes, np.int8)
    for off, data in inputs:
        arena[off:off + len(data)] = np.frombuffer(data, np.int8)
    result = _load(vmfb).modules.module.run(arena).to_host()
    return [result[off:off + size].tobytes() for off, size in outputs]


def run_arena_program_sequence(vmfb: Path, arena_bytes: int, input_sets: list[list[tuple[int, bytes]]],
                               outputs: list[tuple[int, int]]) -> list[list[bytes]]:
    """`run_arena_program` on each input set in order, the program loaded once: a layer's persistent state (an
    SVDF's, in the program's globals) carries from one run to the next."""
    module = _load(vmfb).modules.module
    found = []
    for inputs in input_sets:
        arena = np.zeros(arena_bytes, np.int8)
        for off, data in inputs:
            arena[off:off + len(data)] = np.frombuffer(data, np.int8)
        result = module.run(arena).to_host()
        found.append([result[off:off + size].tobytes() for off, size in outputs])
    return found


def run_default_iree_sequence(vmfb: Path, input_sets: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
    """`run_default_iree` on each input set in order, the program loaded once (its state carries over)."""
    ctx = _load(vmfb)
    return [run_default_iree(vmfb, inputs, ctx) for inputs in input_sets]


def run_default_iree(vmfb: Path, inputs: list[np.ndarray], ctx=None) -> list[np.ndarray]:
    """Run IREE's own compilation of the untransformed program (function `main`); in `ctx` when given (a
    context that loaded `vmfb`)."""
    ctx = ctx if ctx is not None else _load(vmfb)
    fn = None
    for name in ("main", "forward", "run"):
        if hasattr(ctx.modules.module, name):
            fn = getattr(ctx.modules.module, name)
            break
    if fn is None:
        raise FdtError("the reference module has no `main` function")
    out = fn(*inputs)
    # copies: `to_host` may map memory of the runtime context, which is freed when `ctx` goes
    # (a later run then overwrote the "reference" the caller was still comparing against)
    if isinstance(out, (list, tuple)):
        return [np.array(o.to_host(), copy=True) for o in out]
    return [np.array(out.to_host(), copy=True)]
