"""Work in child processes — the one protocol the compiler uses for it (the search's plan scoring,
applying a user's tiling plan with the transform interpreter, the fuzzer's cases). The transform
interpreter and the bindings can crash (a signal, not an exception) on some inputs; in a child that
loses one call, says so, and keeps the input.

A call names a function as `"package.module:function"`, passes JSON arguments and gets its JSON
result back. An `FdtError` raised in the child is raised again in the parent with its message; any
other exception as an `InternalError` with its first diagnostic; a child that dies or overruns its
timeout as `ChildDied` (an `InternalError`) naming the signal and the child's last stderr lines.
With `MLIR_FDT_SAVE_TEMPS=DIR` the call that killed a child is kept as a reproducer:
`DIR/crash-N/call.json` with copies of the files its arguments name, replayed in one process by
`python -m mlir_fdt.child DIR/crash-N/call.json`.

`Workers(n)`: n long-lived children serving calls in turn (no interpreter start-up per call, and a
function may cache what it parsed for the next call); one that dies is replaced. `call_in_child` uses
the process's own `Workers` (`shared_workers`), started on first use: a crash still loses only its call.
"""

from __future__ import annotations

import atexit
import importlib
import itertools
import json
import os
import queue
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
from pathlib import Path

from .diagnostics import first_diagnostic
from .errors import FdtError, InternalError


class ChildDied(InternalError):
    """The child process died (a signal, an exit) or overran its timeout during a call."""


def _resolve(target: str):
    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function)


def _answer(request: dict) -> dict:
    """Run one call here; its result, or what it raised, as JSON."""
    try:
        return {"result": _resolve(request["target"])(*request["args"])}
    except FdtError as e:
        return {"error": str(e), "internal": isinstance(e, InternalError)}
    except Exception as e:  # a bug: its first real diagnostic, and the traceback for --debug
        return {"error": f"{type(e).__name__}: {first_diagnostic(e)}", "internal": True,
                "traceback": traceback.format_exc()}


def _serve(results_fd: int) -> int:
    """The child's loop: one JSON call a line on stdin, one JSON answer a line on `results_fd` (stdout
    and stderr stay free for diagnostics)."""
    with os.fdopen(results_fd, "w") as out:
        for line in sys.stdin:
            out.write(json.dumps(_answer(json.loads(line))) + "\n")
            out.flush()
    return 0


def _raise(answer: dict, target: str):
    if "result" in answer:
        return answer["result"]
    if answer.get("internal"):
        error = InternalError(answer["error"])
        error.child_traceback = answer.get("traceback")
        raise error
    raise FdtError(answer["error"])


_crash_numbers = itertools.count()


def _keep_reproducer(request: dict, why: str) -> Path | None:
    save = os.environ.get("MLIR_FDT_SAVE_TEMPS")
    if not save:
        return None
    while True:
        where = Path(save) / f"crash-{os.getpid()}-{next(_crash_numbers)}"
        if not where.exists():
            break
    where.mkdir(parents=True)
    args = []
    for arg in request["args"]:  # files the call reads are copied beside it (the originals are temporary)
        if isinstance(arg, str) and Path(arg).is_file():
            shutil.copy(arg, where / Path(arg).name)
            arg = Path(arg).name
        args.append(arg)
    (where / "call.json").write_text(json.dumps({**request, "args": args}, indent=1) + "\n")
    (where / "README.md").write_text(f"A child process died: {why}\n\nReplay in one process, from this "
                                     "directory:\n\n    python -m mlir_fdt.child call.json\n")
    return where


class _Child:
    """One child process serving calls."""

    def __init__(self):
        self.stderr = tempfile.TemporaryFile()
        read_end, write_end = os.pipe()
        self.proc = subprocess.Popen([sys.executable, "-m", "mlir_fdt.child", "--serve", str(write_end)],
                                     stdin=subprocess.PIPE, stdout=self.stderr, stderr=self.stderr,
                                     pass_fds=(write_end,), text=True)
        os.close(write_end)
        self.results = os.fdopen(read_end, "r")

    def call(self, target: str, args: list, timeout: float | None):
        request = {"target": target, "args": args}
        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
            ready, _, _ = select.select([self.results], [], [], timeout)
            line = self.results.readline() if ready else ""
        except BrokenPipeError:
            line, ready = "", True
        if line:
            return _raise(json.loads(line), target)
        if not ready:
            self.proc.kill()
        returncode = self.proc.wait()
        why = (f"timed out after {timeout:.0f} s" if not ready else
               f"killed by {signal.Signals(-returncode).name}" if returncode < 0 else f"exit status {returncode}")
        tail = self._stderr_tail()
        kept = _keep_reproducer(request, why)
        raise ChildDied(f"the child process running {target.rsplit(':', 1)[-1]} died ({why})"
                        + (f": {tail}" if tail else "") + (f"; reproducer kept in {kept}" if kept else ""))

    def _stderr_tail(self) -> str:
        self.stderr.seek(0)
        lines = [line.strip() for line in self.stderr.read().decode(errors="replace").splitlines() if line.strip()]
        return lines[-1] if lines else ""

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        if self.alive:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.results.close()
        self.stderr.close()


class Workers:
    """`count` long-lived children; `call` is safe from several threads (each call takes an idle child)."""

    def __init__(self, count: int):
        self.count = max(1, count)
        self.idle: queue.Queue[_Child] = queue.Queue()
        self.lock = threading.Lock()
        self.started: list[_Child] = []

    def call(self, target: str, *args, timeout: float | None = None):
        with self.lock:
            if self.idle.empty() and len(self.started) < self.count:
                self.started.append(_Child())
                self.idle.put(self.started[-1])
        child = self.idle.get()
        try:
            return child.call(target, list(args), timeout)
        finally:
            if not child.alive:  # replace a child that died
                with self.lock:
                    self.started.remove(child)
                    child.close()
                    child = _Child()
                    self.started.append(child)
            self.idle.put(child)

    def close(self) -> None:
        with self.lock:
            for child in self.started:
                child.close()
            self.started.clear()

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_shared: Workers | None = None
_shared_lock = threading.Lock()


def shared_workers() -> Workers:
    """The process's children for calls outside a search (a user's tiling plan, the fuzzer's cases): one
    more is started whenever every one is busy, up to one a core (threads calling at once each get one)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Workers(os.cpu_count() or 1)
            atexit.register(_shared.close)
        return _shared


def call_in_child(target: str, *args, timeout: float | None = None):
    """Run `target(*args)` in a child process (one of `shared_workers`) and return its result (see the
    module's doc)."""
    return shared_workers().call(target, *args, timeout=timeout)


def _replay(call_file: Path) -> int:
    request = json.loads(call_file.read_text())
    os.chdir(call_file.parent)
    print(json.dumps(_answer(request), indent=1))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        sys.exit(_serve(int(sys.argv[2])))
    sys.exit(_replay(Path(sys.argv[1])))
