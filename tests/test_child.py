"""`mlir_fdt.child`, the one child-process protocol (search scoring, plan application, fuzz cases):
results and errors come back as they were raised, a child that dies or hangs is reported and
replaced, and the call that killed it is kept as a reproducer under MLIR_FDT_SAVE_TEMPS."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mlir_fdt.child import ChildDied, Workers, call_in_child
from mlir_fdt.errors import FdtError, InternalError

CRASHING_MODULE = '''
import os

def read_then_abort(path):
    open(path).read()
    os.abort()
'''


def test_result_comes_back():
    assert call_in_child("os.path:join", "a", "b") == os.path.join("a", "b")


def test_a_user_error_stays_a_user_error():
    with pytest.raises(FdtError, match="nope") as raised:
        call_in_child("mlir_fdt.targets:get_target", "nope")
    assert not isinstance(raised.value, InternalError)


def test_a_bug_is_an_internal_error_with_its_traceback():
    with pytest.raises(InternalError, match="JSONDecodeError") as raised:
        call_in_child("json:loads", "{")
    assert "Traceback" in raised.value.child_traceback


def test_calls_share_long_lived_children():
    """Calls go to the process's children (one a core at most), not to a new process each."""
    pids = {call_in_child("os:getpid") for _ in range(3 * (os.cpu_count() or 1))}
    assert len(pids) <= (os.cpu_count() or 1) and os.getpid() not in pids


def test_a_hang_is_cut_at_the_timeout():
    with pytest.raises(ChildDied, match="timed out after 1 s"):
        call_in_child("time:sleep", 60, timeout=1)


def test_a_crash_keeps_a_reproducer(tmp_path, monkeypatch):
    (tmp_path / "crashing.py").write_text(CRASHING_MODULE)
    monkeypatch.setenv("PYTHONPATH", f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    monkeypatch.setenv("MLIR_FDT_SAVE_TEMPS", str(tmp_path / "temps"))
    data = tmp_path / "input.mlirbc"
    data.write_text("the input the crash needs")
    with Workers(1) as workers, pytest.raises(ChildDied, match="killed by SIGABRT") as raised:
        # its own children: the shared ones may have started before PYTHONPATH named the crashing module
        workers.call("crashing:read_then_abort", str(data))
    (kept,) = (tmp_path / "temps").glob("crash-*")
    assert str(kept) in str(raised.value)
    call = json.loads((kept / "call.json").read_text())
    assert call == {"target": "crashing:read_then_abort", "args": ["input.mlirbc"]}
    assert (kept / "input.mlirbc").read_text() == "the input the crash needs"
    data.unlink()  # the reproducer does not need the original
    replay = subprocess.run([sys.executable, "-m", "mlir_fdt.child", str(kept / "call.json")], capture_output=True)
    assert replay.returncode == -6  # SIGABRT again, in one process


def test_workers_replace_a_child_that_died():
    with Workers(1) as workers:
        first = workers.call("os:getpid")
        assert workers.call("os:getpid") == first  # long-lived: no start-up per call
        with pytest.raises(ChildDied, match="exit status 3"):
            workers.call("os:_exit", 3)
        assert workers.call("os:getpid") != first
