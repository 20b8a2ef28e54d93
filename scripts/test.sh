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
export MLIR_FDT_REQUIRE_BROWSER=1  # the browser test fails rather than skips without chromium
status=0
.venv/bin/pytest -q -n auto --dist loadfile "$@" || status=$?  # a pytest worker a core, a file a worker (its fixtures compile once)
.venv/bin/lit -q lit_tests || status=$((status == 0 ? 1 : status))
exit $status
