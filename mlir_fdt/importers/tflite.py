"""TFLite flatbuffer -> TOSA (tosa-converter-for-tflite, bytecode) -> linalg."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from ..errors import FdtError, ToolError
from ..external import find_tool, invoke
from ..ir import ir, name_inlined_results, run_pipeline, walk_ops
from .tflite_cast import truncate_cast_roundings
from .tflite_flatbuffer import TfliteModel, read_tflite, truncating_cast_outputs
from .tflite_lstm import OP_NAME as SEQUENCE_LSTM
from .tflite_lstm import lower_sequence_lstms
from .tflite_svdf import OP_NAME as SVDF
from .tflite_svdf import lower_svdfs
from .tflite_integer_kernels import as_placeholders, lower_placeholders
from .tflite_operators import (check_known_unsupported, refuse_named, refuse_producers, same_named_operators,
                               tfl_op_names)
from .tflite_resize import fix_resizes, resize_operators
from .tflite_int16_activations import exact_int16_activations, int16_activations
from .tflite_fused_activations import clamp_pool_activations, pools_with_activation
from .tflite_quantize import exact_quantize_rounding, saturate_quantize_casts
from .tflite_scalars import rank_shapeless_scalars
from .tflite_split_sizes import resolve_split_sizes
from .tflite_static_shapes import drop_dynamic_signatures
from .tflite_strided_slices import normalize_strided_slices
from .tflite_tensor_names import name_tensors_uniquely
from .tflite_uint8_io import flip_uint8_io, signed_io
from .tosa import IREE_REJECTS, TosaLoweringError, lower_tosa_to_linalg


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


UNCONVERTED = ("the TFLite to TOSA converter leaves it unconverted (no TOSA lowering for this operator with these "
               "types and shapes)")


def _parse_converted(bytecode: bytes, context: ir.Context, model: TfliteModel) -> ir.Module:
    """The converter's TOSA, with the `tfl.*` ops mlir-fdt lowers itself lowered (they parse only while
    unregistered dialects are allowed: IREE's MLIR has no TFLite dialect)."""
    if not any(op.name in (SEQUENCE_LSTM, SVDF) for op in model.operators):
        return ir.Module.parse(bytecode)
    context.allow_unregistered_dialects = True
    try:
        module = ir.Module.parse(bytecode)
        lower_sequence_lstms(module, model)
        lower_svdfs(module, model)
    finally:
        context.allow_unregistered_dialects = False
    left = tfl_op_names(" ".join(op.name for op in walk_ops(module.operation)))
    if left:
        raise refuse_named(model, left, UNCONVERTED) or FdtError(
            f"{model.path}: the converter left TFLite ops unconverted: {', '.join(left)}")
    return module


# rewrites of the file before the converter reads it: each returns (bytes, how many tensors it changed)
_SOURCE_REWRITES = (
    name_tensors_uniquely,     # the names read_tflite gives the tensors
    rank_shapeless_scalars,    # empty shapes are scalars
    drop_dynamic_signatures,   # the shapes TFLite Micro runs, not a dynamic batch
    signed_io,                 # uint8 model inputs and outputs as int8 (flipped back by flip_uint8_io)
    resolve_split_sizes,       # SPLIT_V's -1 size as the size it stands for
    normalize_strided_slices,  # STRIDED_SLICE bounds counted from 0 and clamped, as TFLite reads them
    as_placeholders,           # integer operators the converter rejects: custom `fdt.<index>`, lowered here
)


def _converter_source(path: Path, tmp: Path) -> Path:
    """`path`, or a copy in `tmp` with `_SOURCE_REWRITES` applied."""
    data, changed = path.read_bytes(), 0
    for rewrite in _SOURCE_REWRITES:
        data, n = rewrite(data)
        changed += n
    if not changed:
        return path
    fixed = tmp / path.name
    fixed.write_bytes(data)
    return fixed


def _convert(model: TfliteModel, converter: str, source: Path, tmp: Path, context: ir.Context,
             debug: bool) -> ir.Module:
    """The converter's TOSA for `source` (the model, or its copy from `_converter_source`), parsed; refusals
    name the TFLite operators the converter rejects or leaves unconverted."""
    out = tmp / f"model{'.debug' if debug else ''}.tosa.mlirbc"
    # Bytecode, not text: the converter's text form does not parse in IREE 3.13's MLIR.
    # Debug locations name each op after the TFLite tensor it computes.
    try:
        invoke([converter, str(source), "--bytecode", *(["--emit-debug-info"] if debug else []), "-o", str(out)],
               tool="tosa-converter-for-tflite")
    except ToolError as e:
        reason = converter_reason(e.stderr)
        named = tfl_op_names(e.stderr) or same_named_operators(e.stderr)
        raise (refuse_named(model, named, f"the TFLite to TOSA converter rejects it ({reason})")
               or FdtError(f"{model.path}: the TFLite to TOSA conversion failed (truncated or unsupported model?): "
                           f"{reason}")) from None
    if not out.exists():
        raise FdtError(f"{model.path}: the TFLite to TOSA conversion produced no output")
    with context:
        try:
            return _parse_converted(out.read_bytes(), context, model)
        except ir.MLIRError as e:
            if any(op.name in (SEQUENCE_LSTM, SVDF) for op in model.operators):
                # the bytecode of a `tfl` op left for mlir-fdt's own lowering does not always parse ("invalid
                # Attribute index", a single SVDF); its text form, which carries the same program, does
                text = tmp / f"model{'.debug' if debug else ''}.tosa.mlir"
                try:
                    invoke([converter, str(source), "--text", *(["--emit-debug-info"] if debug else []),
                            "-o", str(text)], tool="tosa-converter-for-tflite")
                    return _parse_converted(text.read_text(), context, model)
                except (ToolError, ir.MLIRError):
                    pass
            left = _unconverted_operators(converter, source)
            raise (refuse_named(model, left, UNCONVERTED)
                   or FdtError(f"{model.path}: the TOSA produced by the converter does not parse: {e}")) from None


def _lower(module: ir.Module, model: TfliteModel) -> ir.Module:
    lower_placeholders(module, model)
    clamp_pool_activations(module, model)
    exact_int16_activations(module, model)
    exact_quantize_rounding(module, model)
    saturate_quantize_casts(module)
    if resize_operators(model):
        fix_resizes(module, model)
    return lower_tosa_to_linalg(module, str(model.path))


def _rejected_operator(model: TfliteModel, converter: str, source: Path, tmp: Path, context: ir.Context,
                       error: TosaLoweringError) -> FdtError:
    """`error` as a refusal naming the TFLite operator whose TOSA IREE rejects. The rejected op's debug
    location names the tensor that operator computes; without debug info the model is converted and
    lowered again with it, only to find that name."""
    names = error.names
    if not names:
        try:
            _lower(_convert(model, converter, source, tmp, context, debug=True), model)
        except TosaLoweringError as again:
            names = again.names
        except FdtError:
            pass
    return refuse_producers(model, names, f"{IREE_REJECTS}: {error.detail}") or error


def import_tflite(path: Path, context: ir.Context, tensor_names: bool = False) -> ir.Module:
    """The model as linalg on tensors; with `tensor_names`, every op keeps the location the converter
    gives it: the name of the TFLite tensor its operator produces (`--check-intermediates`)."""
    model: TfliteModel = read_tflite(path)
    check_known_unsupported(model)
    converter = find_tool("tosa-converter-for-tflite")
    casts = truncating_cast_outputs(model)  # found by their debug locations
    resizes = resize_operators(model)  # found by their debug locations
    located = pools_with_activation(model) + int16_activations(model)  # found by their debug locations
    with tempfile.TemporaryDirectory(prefix="mlir-fdt-import-") as tmp:
        source = _converter_source(path, Path(tmp))
        module = _convert(model, converter, source, Path(tmp), context,
                          debug=bool(casts) or bool(resizes) or bool(located) or tensor_names)
        try:
            module = _lower(module, model)
        except TosaLoweringError as e:
            raise _rejected_operator(model, converter, source, Path(tmp), context, e) from None
    if tensor_names:
        with context:
            name_inlined_results(module)
    flip_uint8_io(module, model)
    if casts and truncate_cast_roundings(module, casts) == 0:
        raise FdtError(f"{path}: found no rounding to make truncate in the lowered CAST ops "
                       f"{', '.join(sorted(casts))} (has IREE's lowering of tosa.cast changed?)")
    if (casts or resizes or located) and not tensor_names:
        run_pipeline(module, "builtin.module(strip-debuginfo)")  # diagnostics as without the debug info
    return module
