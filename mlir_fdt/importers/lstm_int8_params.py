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

# TFLite's `sigmoid_table_uint16` (kernels/internal/common.h): sigmoid(i / 24) in 0.16 fixed point, the
# table that its int16 Logistic and Tanh interpolate (tanh(x) = 2 sigmoid(2x) - 1). Not a rounding of the
# formula (44 entries differ from round(65536 sigmoid(i / 24)) by one): the values themselves.
SIGMOID_TABLE = (
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064,
    42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464,
    50942, 51409, 51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503,
    56823, 57133, 57433, 57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370,
    60565, 60753, 60935, 61110, 61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666,
    62778, 62886, 62990, 63090, 63186, 63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968,
    64030, 64090, 64148, 64204, 64257, 64308, 64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687,
    64721, 64754, 64786, 64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079,
    65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234, 65246, 65258, 65269, 65280, 65291,
    65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367, 65374, 65381, 65387, 65393, 65399, 65404,
    65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465,
    65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498,
    65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513, 65514, 65515, 65516,
    65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524, 65525, 65525,
    65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530, 65530,
    65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
    65535)


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


def _log2_rounded(scale: float) -> int:
    """TFLite's CheckedLog2 in float32: round(log(x) * (1 / log(2))), half away from zero."""
    f = np.float32
    value = f(np.log(f(scale))) * (f(1.0) / f(np.log(f(2.0))))
    return int(np.sign(value) * np.floor(np.abs(value) + f(0.5)))


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
        cell_scale_power=_log2_rounded(cell_scale),
        cell_clip=clip)
