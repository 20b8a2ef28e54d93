"""Quantization parameters as TFLite's converter produces them, so int8 cases look like real models.

TFLite turns a real scale into a 31-bit fixed-point multiplier and a right shift
(`QuantizeMultiplier` in tensorflow/lite/kernels/internal/quantization_util.cc); its TOSA
legalization passes both to `tosa.rescale`. Scales are chosen from an estimate of the integer
spread so outputs use the int8 range without saturating: a network whose every layer clips
to -128/127 would hide wrong accumulators.
"""

from __future__ import annotations

import math

INT8_WEIGHT_STD = 73.0  # std of integers uniform in [-127, 127]
INT16_INPUT_STD = 18918.0  # std of integers uniform over int16 (what the self-test feeds an i16 input)


def quantize_multiplier(real: float, bits: int = 32) -> tuple[int, int]:
    """`real` ~= multiplier * 2**-shift, multiplier in [2**(bits-2), 2**(bits-1)): TFLite's
    QuantizeMultiplier with TOSA's convention (a right shift, 2 <= shift <= 62). `bits` 16: the
    16-bit multiplier of `tosa.rescale scale32(false)`, which TOSA requires for i48 inputs (the
    accumulators of int16x8 layers)."""
    if not real > 0:
        raise ValueError(f"scale must be positive, got {real}")
    top = bits - 1
    mantissa, exponent = math.frexp(real)  # real = mantissa * 2**exponent, mantissa in [0.5, 1)
    multiplier = round(mantissa * (1 << top))
    if multiplier == 1 << top:
        multiplier //= 2
        exponent += 1
    shift = top - exponent
    if not 2 <= shift <= 62:
        raise ValueError(f"scale {real} needs shift {shift}, outside tosa.rescale's [2, 62]")
    return multiplier, shift


def accumulator_std(fan_in: int, input_std: float, weight_std: float = INT8_WEIGHT_STD) -> float:
    """Spread of a sum of `fan_in` products of independent centred values."""
    return max(1.0, math.sqrt(fan_in) * input_std * weight_std)
