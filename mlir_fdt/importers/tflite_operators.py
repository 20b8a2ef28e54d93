"""Which TFLite operators mlir-fdt cannot compile, and refusals that name them as the user knows them:
the TFLite operator name, its index in the main subgraph, its tensors, and what to do.

Two sources of refusals: operators known in advance (custom operators, recurrent layers the
converter leaves as `tfl.*`, the variants of the ones mlir-fdt lowers itself that it does not lower),
checked before conversion; and whatever the converter rejects or
leaves unconverted, named from its `tfl.<op>` message and matched to the flatbuffer's operators.
"""

from __future__ import annotations

import re

from ..errors import FdtError
from .tflite_flatbuffer import TfliteModel, TfliteOperator
from .tflite_lstm import unsupported_lstm_reason
from .tflite_svdf import unsupported_svdf_reason
from .tflite_integer_kernels import unsupported_reason as integer_kernel_reason
from .tflite_fused_activations import fused_activation_reason
from .tflite_strided_slices import NEGATIVE_STRIDE, negative_stride_slices
from .tflite_uint8_io import uint8_reason

CUSTOM_ADVICE = "a custom operator (its kernel belongs to another runtime): split the model before it"
# TFLite operators that neither the TOSA converter nor mlir-fdt lowers today (the converter leaves them as
# `tfl.*`), with what a user can do about it
UNSUPPORTED = {
    "BIDIRECTIONAL_SEQUENCE_LSTM": "not supported yet: export the LSTM unrolled (Keras `unroll=True`)",
    "UNIDIRECTIONAL_SEQUENCE_RNN": "not supported yet: export the RNN unrolled (Keras `unroll=True`)",
    "BIDIRECTIONAL_SEQUENCE_RNN": "not supported yet: export the RNN unrolled (Keras `unroll=True`)",
    "LSTM": "not supported yet: export the LSTM unrolled (Keras `unroll=True`)",
    "RNN": "not supported yet: export the RNN unrolled (Keras `unroll=True`)",
    "WHILE": "a control-flow loop (Keras 3 writes recurrent layers such as GRU this way): export the layer "
             "unrolled (`unroll=True`)",
}
# (operator, input type) the converter lowers but not as TFLite Micro computes it, so that a program would differ
# from TFLite Micro's: why
INEXACT = {
    ("SUM", "int8"): "an int8 SUM, which TFLite Micro computes in float32 and narrows without saturating; "
                     "mlir-fdt does not reproduce that bit for bit (a MEAN, or a SUM in float32, compiles)",
    ("SUM", "int16"): "an int16 SUM, which TFLite Micro computes in float32 and narrows without saturating; "
                      "mlir-fdt does not reproduce that bit for bit (a MEAN, or a SUM in float32, compiles)",
}
RELU6_REQUANTIZING = ("a quantized RELU6 whose output is quantized otherwise than its input: TFLite Micro clamps the "
                      "input's values and ignores the output's quantization, the converter requantizes (TensorFlow's "
                      "converter gives both the same)")
# TFLite operators that mlir-fdt lowers itself in some variants: why this one is not (None: it is)
LOWERED_VARIANTS = {
    "UNIDIRECTIONAL_SEQUENCE_LSTM": unsupported_lstm_reason,
    "SVDF": unsupported_svdf_reason,
}
# the converter's op names that are bookkeeping, not operators of the model
_NOT_OPERATORS = {"no_value", "pseudo_const", "pseudo_qconst", "pseudo_sparse_const", "control_node", "yield"}


def _names(names: list[str], most: int = 2) -> str:
    shown = [n or "-" for n in names[:most]]
    return ", ".join(shown) + (f", ... ({len(names)} in all)" if len(names) > most else "")


def describe(op: TfliteOperator) -> str:
    """`operator 3 SVDF (in: a, b, ... (5 in all); out: c)`: as Netron numbers and names it."""
    return f"operator {op.index} {op.name} (in: {_names(op.inputs)}; out: {_names(op.outputs)})"


def _refusal(path, ops: list[TfliteOperator], reason_of) -> FdtError:
    names = sorted({op.name for op in ops})
    lines = [f"{path}: {len(ops)} operator{'s' if len(ops) != 1 else ''} mlir-fdt cannot compile "
             f"({', '.join(names)}):"]
    lines += [f"  {describe(op)}: {reason_of(op)}" for op in ops]
    return FdtError("\n".join(lines))


def check_known_unsupported(model: TfliteModel) -> None:
    """Refuse, before conversion, the operators known not to compile: one line per operator."""
    backwards = negative_stride_slices(model.path) if any(op.name == "STRIDED_SLICE" for op in model.operators) \
        else set()

    def reason(op: TfliteOperator) -> str | None:
        if op.index in backwards:
            return NEGATIVE_STRIDE
        if op.name.startswith("CUSTOM:"):
            return CUSTOM_ADVICE
        if op.name in UNSUPPORTED:
            return UNSUPPORTED[op.name]
        if (uint8 := uint8_reason(model, op)) is not None:
            return uint8
        first = model.tensor(op.inputs[0]) if op.inputs and op.inputs[0] else None
        if first is not None and (op.name, first.dtype) in INEXACT:
            return INEXACT[op.name, first.dtype]
        if op.name == "RELU6" and first is not None and first.quantized and (out := model.tensor(op.outputs[0])) \
                and (first.scale, first.zero_point) != (out.scale, out.zero_point):
            return RELU6_REQUANTIZING
        if (activation := fused_activation_reason(model, op)) is not None:
            return activation
        if (kernel := integer_kernel_reason(model, op)) is not None:
            return kernel
        variant = LOWERED_VARIANTS.get(op.name)
        return variant(model, op) if variant else None
    bad = [op for op in model.operators if reason(op) is not None]
    if bad:
        raise _refusal(model.path, bad, reason)
    if not model.inputs:  # the converter failed on it with no message
        raise FdtError(f"{model.path}: the model has no inputs: its outputs are constants, nothing to compute")


def tfl_op_names(text: str) -> list[str]:
    """TFLite names of the `tfl.<op>` operators mentioned in `text` (converter messages, or TOSA
    text where the converter left operators unconverted): `tfl.reduce_max` -> REDUCE_MAX."""
    found = []
    for m in re.finditer(r"\btfl\.([a-z0-9_]+)", text):
        if m[1] not in _NOT_OPERATORS and m[1].upper() not in found:
            found.append(m[1].upper())
    return found


# TOSA ops the converter builds for TFLite operators of another name (int8 ELU: a `tosa.exp` it then rejects)
_TOSA_OP_SOURCES = {"exp": ("EXP", "ELU", "SOFTMAX", "LOG_SOFTMAX", "GELU"), "tanh": ("TANH", "GELU"),
                    "sigmoid": ("LOGISTIC", "HARD_SWISH"), "abs": ("ABS",), "mul": ("MUL", "DIV")}


def same_named_operators(text: str) -> list[str]:
    """TFLite names of the operators that build the `tosa.<op>` ops mentioned in `text` (`tosa.abs` -> ABS,
    `tosa.exp` -> EXP, ELU, ...): the converter rejects its own TOSA for some operators (int8 ABS, int8 ELU)
    without naming the `tfl` op."""
    ops = [m[1] for m in re.finditer(r"\btosa\.([a-z0-9_]+)", text)]
    return list(dict.fromkeys(name for op in ops for name in _TOSA_OP_SOURCES.get(op, (op.upper(),))))


def refuse_named(model: TfliteModel, tfl_names: list[str], why: str) -> FdtError | None:
    """A refusal naming every operator of the model whose TFLite name is in `tfl_names` (None if the
    model has none of them: then the caller reports the raw reason)."""
    ops = [op for op in model.operators if op.name in tfl_names]
    if not ops:
        return None
    return _refusal(model.path, ops, lambda op: why)


def refuse_producers(model: TfliteModel, tensor_names: list[str], why: str) -> FdtError | None:
    """A refusal naming every operator of the model that computes one of `tensor_names` (None if none does:
    then the caller reports the raw reason)."""
    ops = [op for op in model.operators if any(name in tensor_names for name in op.outputs)]
    if not ops:
        return None
    return _refusal(model.path, ops, lambda op: why)


def refuse_operators(model: TfliteModel, reasons: dict[int, str]) -> FdtError:
    """A refusal of the operators of the model whose indices key `reasons`, each with its own reason."""
    ops = [op for op in model.operators if op.index in reasons]
    return _refusal(model.path, ops, lambda op: reasons[op.index])
