"""A NumPy model of TFLite Micro's integer LSTM step by step (kernels/lstm_eval.h `LstmStep` with int8
activations, int8 weights, int16 cell state and int32 biases), written from TFLite Micro's arithmetic
(reference FullyConnected, AddElementWise, the int16 Logistic/Tanh, MulElementwise, Clipping) to check the
lowering's constants and arithmetic against TFLite Micro operation by operation."""

from __future__ import annotations

import numpy as np

from mlir_fdt.importers.integer_scalars import SIGMOID_TABLE
from mlir_fdt.importers.lstm_int8_params import LstmQuantization, Rescale

TABLE = np.array(SIGMOID_TABLE, np.int64)


def _wrap32(v: np.ndarray) -> np.ndarray:
    return ((v + (1 << 31)) % (1 << 32)) - (1 << 31)


def multiply_by_quantized_multiplier(x: np.ndarray, r: Rescale) -> np.ndarray:
    """gemmlowp's SaturatingRoundingDoublingHighMul then RoundingDivideByPOT (TFLite's double rounding)."""
    x = _wrap32(np.asarray(x, np.int64) << max(r.shift, 0))
    product = x * r.multiplier
    nudged = product + np.where(product >= 0, 1 << 30, 1 - (1 << 30))
    high = np.where(nudged >= 0, nudged >> 31, -((-nudged) >> 31))  # C division: toward zero
    right = max(-r.shift, 0)
    mask = (1 << right) - 1
    threshold = (mask >> 1) + (high < 0)
    return (high >> right) + ((high & mask) > threshold)


def sigmoid16(x: np.ndarray) -> np.ndarray:
    """reference_integer_ops::Logistic on Q3.12 input (multiplier 3, no shift) -> Q0.15."""
    v = x.astype(np.int64) * 3
    a = np.abs(v)
    high = a >> 9
    index = np.minimum(high, 254)
    interpolated = (TABLE[index] << 9) + (a & 0x1FF) * (TABLE[index + 1] - TABLE[index])
    r = np.where(high >= 255, 0x7FFF << 10, interpolated)
    r = np.where(v >= 0, r + (1 << 9), (1 << 25) - r + (1 << 9) - 1)
    return (r >> 10).astype(np.int16)


def tanh16(x: np.ndarray, multiplier: int, shift: int) -> np.ndarray:
    """reference_integer_ops::Tanh with the input scaling (multiplier, right shift) -> Q0.15."""
    rounding = (1 << (shift - 1)) if shift > 0 else 0
    v = (x.astype(np.int64) * multiplier + rounding) >> shift
    a = np.abs(v)
    high = a >> 8
    index = np.minimum(high, 254)
    interpolated = (TABLE[index] << 8) + (a & 0xFF) * (TABLE[index + 1] - TABLE[index])
    r = np.where(high >= 255, 0xFFFF << 8, interpolated)
    r = np.where(v >= 0, r - (1 << 23) + (1 << 7), -r + (1 << 23) + (1 << 7) - 1)
    return (r >> 8).astype(np.int16)


def _clamp(v: np.ndarray, dtype) -> np.ndarray:
    info = np.iinfo(dtype)
    return np.clip(v, info.min, info.max).astype(dtype)


def lstm_int8(x: np.ndarray, w: list[np.ndarray], r: list[np.ndarray], b: list[np.ndarray],
              q: LstmQuantization, time_major: bool, cell_tanh: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(output [like x, units], final cell state [batch, units]); gates i, f, c, o; zeroed states."""
    xs = x if time_major else x.transpose(1, 0, 2)  # [time, batch, features]
    batch, units = xs.shape[1], w[0].shape[0]
    h = np.full((batch, units), q.hidden_zero_point, np.int64)
    c = np.zeros((batch, units), np.int64)
    out = []
    for xt in xs.astype(np.int64):
        gates = []
        for g in range(4):
            from_x = _clamp(multiply_by_quantized_multiplier(
                (xt - q.input_zero_point) @ w[g].T.astype(np.int64) + b[g], q.input_gates[g]), np.int16)
            from_h = _clamp(multiply_by_quantized_multiplier(
                (h - q.hidden_zero_point) @ r[g].T.astype(np.int64), q.recurrent_gates[g]), np.int16)
            pre = _clamp(from_x.astype(np.int64) + from_h, np.int16)
            gates.append(tanh16(pre, 3, 0) if g == 2 and cell_tanh else sigmoid16(pre))
        i, f, g, o = (v.astype(np.int64) for v in gates)
        kept = _clamp(multiply_by_quantized_multiplier(f * c, q.forget_cell), np.int16)
        added = _clamp(multiply_by_quantized_multiplier(i * g, q.input_cell), np.int16)
        c = _clamp(kept.astype(np.int64) + added, np.int16).astype(np.int64)
        if q.cell_clip is not None:
            c = np.clip(c, -q.cell_clip, q.cell_clip)
        t = tanh16(c, *q.cell_tanh_scaling).astype(np.int64)
        h = _clamp(q.hidden_zero_point + multiply_by_quantized_multiplier(t * o, q.hidden), np.int8).astype(np.int64)
        out.append(h)
    y = np.stack(out).astype(np.int8)
    return (y if time_major else y.transpose(1, 0, 2)), c.astype(np.int16)
