#!/usr/bin/env bash
# Set up (idempotent), compile the bundled KWS model for Cortex-M4, run it under QEMU and check it
# against TFLite Micro. Artefacts and report.json land in out/kws_int8.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/mlir-fdt compile examples/models/kws_int8.tflite --target cortex-m4 --run qemu -o out/kws_int8 "$@"
