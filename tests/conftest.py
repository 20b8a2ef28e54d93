"""Shared fixtures: the reference models in ../shared/models and compiled-once model artefacts."""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO.parent / "shared" / "models"
INT8_MODELS = ["kws_int8", "vww_int8", "ic_resnet8_int8", "ad_int8"]
FP32_MODELS = ["kws_fp32", "vww_fp32", "ic_resnet8_fp32", "ad_fp32"]
# TFLite Micro's planned arena ("head") for each model, from ../shared/models/README.md.
TFLM_HEAD = {"kws_int8": 16000, "vww_int8": 73728, "ic_resnet8_int8": 49152, "ad_int8": 768,
             "vww_fp32": 294912, "ic_resnet8_fp32": 196608, "ad_fp32": 3072}


def model_path(name: str) -> Path:
    path = MODELS / f"{name}.tflite"
    if not path.exists():
        pytest.skip(f"reference model {path} is absent (expected ../shared/models beside the repository)")
    return path


CORPUS = REPO.parent / "shared" / "corpus"


def corpus_path(name: str) -> Path:
    """A model of the wider corpus (../shared/corpus), or a skip when it is absent."""
    path = CORPUS / name
    if not path.exists():
        pytest.skip(f"corpus model {path} is absent (expected ../shared/corpus beside the repository)")
    return path


def have_firmware_tools() -> bool:
    return all(shutil.which(t) for t in ("qemu-system-arm", "arm-none-eabi-gcc", "cmake", "ninja"))


requires_qemu = pytest.mark.skipif(not have_firmware_tools(),
                                   reason="qemu-system-arm / arm-none-eabi-gcc / cmake / ninja not installed")


@contextlib.contextmanager
def _locked(path: Path):
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def compiled(tmp_path_factory, worker_id):
    """compile_model once per (model, run, options) for the whole test run: the pytest-xdist workers share
    one folder of compiles (the first to ask compiles, under a lock; the others read its report.json)."""
    from mlir_fdt.compiler import CompileOptions, compile_model
    root = tmp_path_factory.getbasetemp()
    cache = (root.parent if worker_id != "master" else root) / "compiled-models"
    cache.mkdir(exist_ok=True)

    def get(name: str, run: str | None = "host", **kw):
        key = "-".join([name, str(run), *(f"{k}={v}" for k, v in sorted(kw.items()))])
        out = cache / key
        with _locked(cache / f"{key}.lock"):
            if not (out / "report.json").exists():
                compile_model(model_path(name), out, CompileOptions(run=run, seed=0, **kw))
            return json.loads((out / "report.json").read_text()), out
    return get
