"""The constants of TFLite Micro's integer LSTM (`EvalLstm<int8_t, int8_t, int16_t, int32_t>`), derived from
tensor scales the way its Prepare does, so that a lowering can bake them in.

TFLite Micro (kernels/lstm_eval_common.cc) fixes the gates' scales: every gate's pre-activation is int16
with scale 2^-12 (Q3.12) and every gate's activation int16 with scale 2^-15 (Q0.15). Each of the four gates
has an input and a recurrent fully connected part, rescaled to Q3.12 by `in_scale * weight_scale / 2^-12`;
the element-wise products rescale by `s1 * s2 / out_scale` (forget x cell -> cell, input x cell gate -> cell,
tanh(cell) x output gate -> hidden, the last with the hidden state's zero point). Every real multiplier is
computed in double from the float32 scales and turned into a 31-bit fixed-point multiplier and a shift by
`QuantizeMultiplier` (kernels/internal/quantization_util.cc).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .tflite_flatbuffer import TfliteTensor

GATE_INPUT_SCALE = 2.0 ** -12     # a gate's pre-activation, Q3.12
GATE_OUTPUT_SCALE = 2.0 ** -15    # a gate's activation, Q0.15
INT16_MAX = 32767

@dataclass(frozen=True)
class Rescale:
    """x -> MultiplyByQuantizedMultiplier(x, multiplier, shift): shift > 0 shifts left, < 0 right."""
    multiplier: int
    shift: int


def quantize_multiplier(real: float) -> Rescale:
    """TFLite's QuantizeMultiplier (double rounding build): real ~= multiplier * 2^(shift - 31),
    multiplier in [2^30, 2^31), rounded half away from zero; multipliers below 2^-32 flush to 0."""
    if real == 0.0:
        return Rescale(0, 0)
    mantissa, shift = math.frexp(real)
    fixed = math.floor(abs(mantissa) * 2.0 ** 31 + 0.5) * (1 if mantissa > 0 else -1)
    if fixed == 1 << 31:
        fixed //= 2
        shift += 1
    if shift < -31:
        return Rescale(0, 0)
    return Rescale(fixed, shift)


def round_half_away(x) -> int:
    """TFLite's `TfLiteRound`/`std::round` of a float32: half away from zero."""
    x = np.float32(x)
    return int(np.sign(x) * np.floor(np.abs(x) + np.float32(0.5)))


def checked_log2(x: float) -> tuple[bool, int]:
    """TFLite's CheckedLog2 in float32: (whether log2(x) is within 1e-3 of an integer, round(log(x) * (1 / log(2)))
    half away from zero)."""
    f = np.float32
    value = f(np.log(f(x))) * (f(1.0) / f(np.log(f(2.0))))
    rounded = round_half_away(value)
    return bool(abs(value - f(rounded)) < f(1e-3)), rounded


@dataclass(frozen=True)
class LstmQuantization:
    input_zero_point: int
    hidden_zero_point: int           # the hidden state's, which the output copies
    input_gates: tuple[Rescale, ...]      # gates i, f, c, o: input x input weights -> Q3.12
    recurrent_gates: tuple[Rescale, ...]  # hidden x recurrent weights -> Q3.12
    forget_cell: Rescale             # Q0.15 x cell -> cell
    input_cell: Rescale              # Q0.15 x Q0.15 -> cell
    hidden: Rescale                  # Q0.15 x Q0.15 -> hidden (int8, hidden_zero_point)
    cell_scale_power: int            # log2 of the cell state's scale, for the cell's tanh
    cell_clip: int | None            # |cell| bound in cell units (None: no clipping)

    @property
    def cell_tanh_scaling(self) -> tuple[int, int]:
        """(multiplier, right shift) that bring the cell state to the int16 Tanh's input: TFLite Micro's
        lstm_internal::Tanh, then reference_integer_ops::Tanh's power-of-two case."""
        shift = 15 + self.cell_scale_power - 3
        if shift < 0:
            return 3, -shift
        return 3 << shift, 0


def lstm_quantization(x: TfliteTensor, input_weights: list[TfliteTensor], recurrent_weights: list[TfliteTensor],
                      hidden: TfliteTensor, cell: TfliteTensor, cell_clip: float) -> LstmQuantization:
    """TFLite Micro's PrepareGateParametersInteger and CreateLstmCellStateInfo, gates in order i, f, c, o."""
    def gate(activation: TfliteTensor, weights: TfliteTensor) -> Rescale:
        return quantize_multiplier(activation.scale[0] * weights.scale[0] / GATE_INPUT_SCALE)

    def product(s1: float, s2: float, out: float) -> Rescale:
        return quantize_multiplier(s1 * s2 / out)

    cell_scale = cell.scale[0]
    clip = math.trunc(min(max(cell_clip / cell_scale, -32768.0), 32767.0)) if cell_clip > 0 else None
    return LstmQuantization(
        input_zero_point=x.zero_point[0] if x.zero_point else 0,
        hidden_zero_point=hidden.zero_point[0] if hidden.zero_point else 0,
        input_gates=tuple(gate(x, w) for w in input_weights),
        recurrent_gates=tuple(gate(hidden, w) for w in recurrent_weights),
        forget_cell=product(GATE_OUTPUT_SCALE, cell_scale, cell_scale),
        input_cell=product(GATE_OUTPUT_SCALE, GATE_OUTPUT_SCALE, cell_scale),
        hidden=product(GATE_OUTPUT_SCALE, GATE_OUTPUT_SCALE, hidden.scale[0]),
        cell_scale_power=checked_log2(cell_scale)[1],
        cell_clip=clip)
