"""The TFLite single-operator battery (`benchmarks/tflite_operators.py`, -m slow: 133 compiles, ~5 min on 2 cores):
every model TFLite Micro runs either matches it or is refused naming the operator."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_every_operator_model_matches_tflite_micro_or_is_refused(tmp_path):
    spec = importlib.util.spec_from_file_location("tflite_operators", REPO / "benchmarks" / "tflite_operators.py")
    battery = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(battery)
    assert battery.main(["--json", str(tmp_path / "result.json")]) == 0
    result = json.loads((tmp_path / "result.json").read_text())
    bad = [r for r in result["rows"] if r["status"] not in ("pass", "refused")]
    assert not bad, bad
    assert result["summary"]["pass"] >= 115
