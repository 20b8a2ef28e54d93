"""TFLite flatbuffer -> TOSA (tosa-converter-for-tflite, bytecode) -> linalg."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from ..errors import FdtError, ToolError
from ..external import find_tool, invoke
from ..ir import ir
from .tosa import lower_tosa_to_linalg


def check_tflite_header(path: Path) -> None:
    """Reject files that are not TFLite flatbuffers before a converter crashes on them."""
    head = path.read_bytes()[:8]
    if len(head) < 8 or head[4:8] != b"TFL3":
        raise FdtError(f"{path}: not a TFLite flatbuffer (missing the 'TFL3' identifier at byte 4)")


def converter_reason(stderr: str) -> str:
    """The converter's own error line (it also logs absl banners and a generic "[ERROR]" summary)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        m = re.search(r"\berror: (.*)", line)
        if m:
            return m.group(1)
    return lines[-1] if lines else "no message"


def import_tflite(path: Path, context: ir.Context) -> ir.Module:
    check_tflite_header(path)
    converter = find_tool("tosa-converter-for-tflite")
    with tempfile.TemporaryDirectory(prefix="mlir-fdt-import-") as tmp:
        out = Path(tmp) / "model.tosa.mlirbc"
        # Bytecode, not text: the converter's text form does not parse in IREE 3.13's MLIR.
        try:
            invoke([converter, str(path), "--bytecode", "-o", str(out)], tool="tosa-converter-for-tflite")
        except ToolError as e:
            raise FdtError(f"{path}: the TFLite to TOSA conversion failed (truncated or unsupported model?): "
                           f"{converter_reason(e.stderr)}") from None
        if not out.exists():
            raise FdtError(f"{path}: the TFLite to TOSA conversion produced no output")
        with context:
            try:
                module = ir.Module.parse(out.read_bytes())
            except ir.MLIRError as e:
                raise FdtError(f"{path}: the TOSA produced by the converter does not parse: {e}") from None
    return lower_tosa_to_linalg(module, str(path))
