"""UNIDIRECTIONAL_SEQUENCE_LSTM, which tosa-converter-for-tflite leaves as `tfl.unidirectional_sequence_lstm`,
lowered by mlir-fdt itself (lstm_float.py: linalg with one `scf.for` over time).

The converter's bytecode with that op parses only in a context that allows unregistered dialects,
and the op's attributes (cell clip, time major, activation) come out unreadable; the flatbuffer's
builtin options give them instead. The op's operands are the converter's constants for the weights
(TFLite's 24 inputs, in order). The variant is the one TFLite Micro runs (`LstmTensors::
ValidateTensorStatus`): all four gates (no CIFG), no peephole, projection or layer norm, variable
hidden and cell states. Two type variants: float32 (lstm_float.py) and int8 activations and weights with
an int16 cell state and int32 biases (lstm_int8.py, its constants from the tensors' scales as TFLite
Micro's Prepare derives them: lstm_int8_params.py).
"""

from __future__ import annotations

import flatbuffers

from ..ir import call_new_function, ir
from .lstm_float import lstm_function
from .lstm_int8 import lstm_int8_function
from .lstm_int8_params import LstmQuantization, lstm_quantization
from .lstm_loops import LstmShape
from .tflite_flatbuffer import TfliteModel, TfliteOperator
from .tflite_unconverted import inline_lowerings, replace_by_call, unconverted_operators

OP_NAME = "UNIDIRECTIONAL_SEQUENCE_LSTM"
TFL_OP = "tfl.unidirectional_sequence_lstm"

# TFLite's LSTM inputs (lstm_shared.h)
INPUT = 0
INPUT_WEIGHTS = (1, 2, 3, 4)           # input, forget, cell, output gate
RECURRENT_WEIGHTS = (5, 6, 7, 8)
PEEPHOLE = (9, 10, 11)
GATE_BIASES = (12, 13, 14, 15)
PROJECTION = (16, 17)
HIDDEN_STATE, CELL_STATE = 18, 19
LAYER_NORM = (20, 21, 22, 23)

# the dtypes of (input and hidden state, weights, biases, cell state) in the variants mlir-fdt lowers
FLOAT32 = ("float32", "float32", "float32", "float32")
INT8 = ("int8", "int8", "int32", "int16")

# schema.fbs ActivationFunctionType: the cell gate's activation, as TFLite Micro's CalculateLstmGate takes it
_CELL_ACTIVATIONS = {4: "tanh", 6: "sigmoid"}


def _options(op: TfliteOperator) -> tuple[int, float, bool]:
    """(fused activation, cell clip, time major) from UnidirectionalSequenceLSTMOptions."""
    n = flatbuffers.number_types
    t = op.options
    if t is None:
        return 0, 0.0, False
    return t.scalar(0, n.Int8Flags), t.scalar(1, n.Float32Flags, 0.0), bool(t.scalar(3, n.BoolFlags))


def unsupported_lstm_reason(model: TfliteModel, op: TfliteOperator) -> str | None:
    """Why mlir-fdt does not lower this LSTM (the variant, in a user's words), or None if it does."""
    inputs = op.inputs + [""] * (24 - len(op.inputs))
    present = [bool(name) for name in inputs]
    if not present[INPUT_WEIGHTS[0]] or not present[RECURRENT_WEIGHTS[0]]:
        return "a CIFG LSTM (coupled input and forget gates), which TFLite Micro does not run either"
    for indices, variant in ((PEEPHOLE, "peephole connections"), (PROJECTION, "a projection layer"),
                             (LAYER_NORM, "layer normalisation")):
        if any(present[i] for i in indices):
            return f"an LSTM with {variant}, which TFLite Micro does not run either"
    tensors = [model.tensor(inputs[i]) for i in (INPUT, *INPUT_WEIGHTS, *RECURRENT_WEIGHTS, *GATE_BIASES,
                                                 HIDDEN_STATE, CELL_STATE)]
    if any(t is None for t in tensors):
        return "an LSTM with a missing input (weights, biases or state)"
    reason = _type_variant_reason(tensors)
    if reason:
        return reason
    activation, _, _ = _options(op)
    if activation not in _CELL_ACTIVATIONS:
        return f"an LSTM whose cell gate activation (TFLite code {activation}) is not tanh or sigmoid"
    if len(tensors[0].shape) != 3:
        return f"an LSTM with a rank-{len(tensors[0].shape)} input (expected [batch, time, features])"
    return None


def _type_variant_reason(tensors: list) -> str | None:
    """Why the LSTM's types are not a variant mlir-fdt lowers; `tensors` as unsupported_lstm_reason lists them."""
    x, weights, biases, hidden, cell = tensors[0], tensors[1:9], tensors[9:13], tensors[13], tensors[14]
    kinds = {"activation": {x.dtype, hidden.dtype}, "weight": {t.dtype for t in weights},
             "bias": {t.dtype for t in biases}, "cell": {cell.dtype}}
    found = tuple("/".join(sorted(d or "?" for d in kinds[k])) for k in ("activation", "weight", "bias", "cell"))
    if found == FLOAT32:
        return None
    if found[0] == "int16":
        return ("an LSTM with int16 activations (TFLite's 16x8 quantization): mlir-fdt lowers float32 and int8 "
                "LSTMs only")
    if found != INT8:
        return (f"an LSTM with {found[0]} activations, {found[1]} weights, {found[2]} biases and cell state "
                f"{found[3]}: mlir-fdt lowers float32 LSTMs and int8 ones (int8 weights, int32 biases, "
                "int16 cell state)")
    if any(len(t.scale) != 1 for t in [x, hidden, cell, *weights]):
        return "an int8 LSTM with per-channel quantized weights, which TFLite Micro's LSTM kernel does not apply"
    if any(t.zero_point and t.zero_point[0] != 0 for t in weights):
        return "an int8 LSTM whose weights have a nonzero zero point, which TFLite Micro's LSTM kernel does not take"
    return None


def lstm_quantization_of(model: TfliteModel, op: TfliteOperator) -> tuple[LstmQuantization, bool]:
    """(the integer constants of an int8 LSTM operator, whether it is time major)."""
    _, cell_clip, time_major = _options(op)
    t = [model.tensor(name) if name else None for name in op.inputs]
    return lstm_quantization(t[INPUT], [t[i] for i in INPUT_WEIGHTS], [t[i] for i in RECURRENT_WEIGHTS],
                             t[HIDDEN_STATE], t[CELL_STATE], cell_clip), time_major


def _shape(model: TfliteModel, op: TfliteOperator) -> LstmShape:
    activation, cell_clip, time_major = _options(op)
    x = model.tensor(op.inputs[INPUT]).shape
    units = model.tensor(op.inputs[INPUT_WEIGHTS[0]]).shape[0]
    time, batch = (x[0], x[1]) if time_major else (x[1], x[0])
    return LstmShape(batch=batch, time=time, inputs=x[2], units=units, time_major=time_major,
                     cell_clip=cell_clip, cell_activation=_CELL_ACTIVATIONS[activation])


def lower_sequence_lstms(module: ir.Module, model: TfliteModel) -> None:
    """Replace every `tfl.unidirectional_sequence_lstm` of the converted module (matched in order with
    the flatbuffer's LSTM operators) by an inlined call to its linalg lowering."""
    pairs = unconverted_operators(module, model, TFL_OP, OP_NAME)
    if not pairs:
        return
    with module.context, ir.Location.unknown():
        for k, (tfl, op) in enumerate(pairs):
            name = f"fdt_sequence_lstm_{k}"
            shape = _shape(model, op)
            if model.tensor(op.inputs[INPUT]).dtype == "int8":
                text = lstm_int8_function(name, shape, lstm_quantization_of(model, op)[0])
            else:
                text = lstm_function(name, shape)
            operands = [tfl.operands[i] for i in (INPUT, *INPUT_WEIGHTS, *RECURRENT_WEIGHTS, *GATE_BIASES)]
            with ir.InsertionPoint(tfl), tfl.location:
                call = call_new_function(module, text, operands)
            replace_by_call(model, op, tfl, call)
    inline_lowerings(module)
