"""TFLite flatbuffer -> TOSA (tosa-converter-for-tflite, bytecode) -> linalg."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from ..errors import FdtError, ToolError
from ..external import find_tool, invoke
from ..ir import ir, run_pipeline
from .tflite_cast import truncate_cast_roundings
from .tflite_flatbuffer import TfliteModel, read_tflite, truncating_cast_outputs
from .tflite_operators import check_known_unsupported, refuse_named, tfl_op_names
from .tflite_quantize import saturate_quantize_casts
from .tflite_resize import fix_resizes, resize_operators
from .tosa import lower_tosa_to_linalg


def converter_reason(stderr: str) -> str:
    """The converter's own error line (it also logs absl banners and a generic "[ERROR]" summary)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        m = re.search(r"\berror: (.*)", line)
        if m:
            return m.group(1)
    return lines[-1] if lines else "no message"


def _unconverted_operators(converter: str, path: Path) -> list[str]:
    """TFLite names of the operators the converter left as `tfl.*` (its text form keeps them; the
    bytecode then fails to parse because IREE's MLIR has no TFLite dialect)."""
    try:
        proc = invoke([converter, str(path), "--text"], tool="tosa-converter-for-tflite")
    except ToolError:
        return []
    return tfl_op_names(proc.stdout.decode(errors="replace"))


def import_tflite(path: Path, context: ir.Context) -> ir.Module:
    model: TfliteModel = read_tflite(path)
    check_known_unsupported(model)
    converter = find_tool("tosa-converter-for-tflite")
    casts = truncating_cast_outputs(model)
    resizes = resize_operators(model)
    with tempfile.TemporaryDirectory(prefix="mlir-fdt-import-") as tmp:
        out = Path(tmp) / "model.tosa.mlirbc"
        # Bytecode, not text: the converter's text form does not parse in IREE 3.13's MLIR.
        # Debug locations (TFLite tensor names) only to find the CAST ops' tosa.cast and the RESIZE ops'
        # tosa.resize.
        debug = ["--emit-debug-info"] if casts or resizes else []
        try:
            invoke([converter, str(path), "--bytecode", *debug, "-o", str(out)], tool="tosa-converter-for-tflite")
        except ToolError as e:
            reason = converter_reason(e.stderr)
            raise (refuse_named(model, tfl_op_names(e.stderr), f"the TFLite to TOSA converter rejects it ({reason})")
                   or FdtError(f"{path}: the TFLite to TOSA conversion failed (truncated or unsupported model?): "
                               f"{reason}")) from None
        if not out.exists():
            raise FdtError(f"{path}: the TFLite to TOSA conversion produced no output")
        with context:
            try:
                module = ir.Module.parse(out.read_bytes())
            except ir.MLIRError as e:
                left = _unconverted_operators(converter, path)
                raise (refuse_named(model, left, "the TFLite to TOSA converter leaves it unconverted (no TOSA "
                                                 "lowering for this operator with these types and shapes)")
                       or FdtError(f"{path}: the TOSA produced by the converter does not parse: {e}")) from None
    saturate_quantize_casts(module)
    if resizes:
        fix_resizes(module, model)
    module = lower_tosa_to_linalg(module, str(path))
    if casts and truncate_cast_roundings(module, casts) == 0:
        raise FdtError(f"{path}: found no rounding to make truncate in the lowered CAST ops "
                       f"{', '.join(sorted(casts))} (has IREE's lowering of tosa.cast changed?)")
    if debug:
        run_pipeline(module, "builtin.module(strip-debuginfo)")  # diagnostics as without the debug info
    return module
