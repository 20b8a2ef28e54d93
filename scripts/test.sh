#!/usr/bin/env bash
# Set up (idempotent) and run every test: pytest (unit, end to end on the host and under QEMU) and lit.
# Slow, exhaustive suites are excluded; run them with: .venv/bin/pytest -m slow
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
status=0
.venv/bin/pytest -q "$@" || status=$?
.venv/bin/lit -q lit_tests || status=$((status == 0 ? 1 : status))
exit $status
