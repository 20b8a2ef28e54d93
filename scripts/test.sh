#!/usr/bin/env bash
# Set up (idempotent) and run every test: pytest (unit, end to end on the host and under QEMU) and lit.
# Slow, exhaustive suites are excluded; run them with: .venv/bin/pytest -m slow
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Tests only: headless Chromium renders report.html (tests/test_report.py; it fails, not skips, under CI
# without it). Kept out of setup.sh, which `scripts/demo.sh` and users run: a browser is not a build need.
if ! command -v chromium >/dev/null 2>&1; then
  echo "test: installing Debian package chromium (for the report.html browser test)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
# Tests only: torch for tests/test_pytorch_example.py (examples/pytorch: PyTorch -> ONNX -> QDQ -> mlir-fdt).
# Pinned: torch==2.13.0 is the CPU wheel (a local file through pip's find-links); any other version, or an
# unpinned torch, would download a multi-GB CUDA build.
if ! .venv/bin/python -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('torch') is None)"; then
  echo "test: installing torch==2.13.0 (CPU wheel) into .venv (for tests/test_pytorch_example.py)"
  .venv/bin/python -m pip install -q torch==2.13.0
fi
export MLIR_FDT_REQUIRE_TORCH=1  # tests/test_pytorch_example.py fails rather than skips without torch
export MLIR_FDT_REQUIRE_BROWSER=1  # the browser test fails rather than skips without chromium
status=0
.venv/bin/pytest -q -n auto --dist loadfile "$@" || status=$?  # a pytest worker a core, a file a worker (its fixtures compile once)
.venv/bin/lit -q lit_tests || status=$((status == 0 ? 1 : status))
exit $status
