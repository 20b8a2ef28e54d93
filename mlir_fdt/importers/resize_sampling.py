"""Which input rows (or columns) each output row of a resize reads, and with which weights: as TFLite
Micro's kernels compute it, and as IREE's lowering of `tosa.resize` computes it for given
scale/offset parameters. Pure arithmetic, one axis at a time (both kernels are separable).

An axis's sampling is, per output position, its taps: a dict {input index: weight} with zero weights
dropped and taps on the same index summed, so that two samplings are equal exactly when they give the
same output for every input. Weights are integers in 1/`unit` steps (1 for nearest neighbour, 1024 for
TFLite's int8 bilinear, which then rounds the 2^20-scaled sum) or floats (float bilinear).

TFLite's rules (tflite/kernels/internal/reference/resize_nearest_neighbor.h, resize_bilinear.h):
- nearest: index = min(floor((x + h) * s), in - 1) with h = 0.5 for half_pixel_centers (then also
  max 0), s = in/out in float32 (or (in-1)/(out-1) with align_corners, then round half away from zero
  instead of floor). float32: 2 -> 82 rows reads row 0 at output 41 where the exact ratio gives 1.
- int8 bilinear: scale_10 = round(1024 * in/out) (or align_corners' ratio), scaled = x * scale_10
  (half_pixel_centers: + scale_10/2 - 512); y0 = max(trunc(scaled/1024), 0), y1 = min(ceil(...),
  in - 1); weights 1024 - (scaled - 1024*y0) and scaled - 1024*y0.
- float bilinear: the same in float32 with s = in/out, (x + 0.5) * s - 0.5 for half_pixel_centers.

IREE's lowering (TosaToLinalg's GenericResizeConverter): val = x*d + offset; integer mode: i = val / n
truncated toward zero, delta = val - i*n (negative for a negative val); float mode: i = floor(val / n),
delta = (val rem n) / n. Nearest: i + 1 when delta >= n/2, clamped to [0, in-1]. Bilinear: indices
clamp(i) and clamp(i+1) with weights n - delta and delta (an input of size 1 reads index 0 at weight n).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Taps = dict  # {input index: weight}


@dataclass(frozen=True)
class AxisParams:
    """One axis of a tosa.resize's scale (n, d), offset and border, for `size` input and `out` output
    positions (border follows from the others: TOSA's verifier requires it to give `out`)."""
    n: int
    d: int
    offset: int
    size: int
    out: int

    @property
    def border(self) -> int:
        return (self.out - 1) * self.d + self.offset - (self.size - 1) * self.n


def _merge(pairs) -> Taps:
    taps: Taps = {}
    for index, weight in pairs:
        taps[index] = taps.get(index, 0) + weight
    return {i: w for i, w in taps.items() if w != 0}


def _round_half_away(v: float) -> int:
    return int(math.copysign(math.floor(abs(v) + 0.5), v))


# --- TFLite Micro --------------------------------------------------------------------------------

def _float_scale(size: int, out: int, align_corners: bool) -> np.float32:
    f32 = np.float32
    if align_corners and out > 1:
        return f32(size - 1) / f32(out - 1)
    return f32(size) / f32(out)


def tflite_nearest(size: int, out: int, align_corners: bool, half_pixel_centers: bool) -> list[Taps]:
    """TFLite's GetNearestNeighbor for every output position, in float32 as the kernel computes it."""
    f32 = np.float32
    scale = _float_scale(size, out, align_corners)
    offset = f32(0.5) if half_pixel_centers else f32(0.0)
    taps = []
    for x in range(out):
        v = float((f32(x) + offset) * scale)
        index = min(_round_half_away(v) if align_corners else math.floor(v), size - 1)
        if half_pixel_centers:
            index = max(0, index)
        taps.append({index: 1})
    return taps


def tflite_bilinear_int(size: int, out: int, align_corners: bool, half_pixel_centers: bool) -> list[Taps] | None:
    """TFLite's ResizeBilinearInteger taps in 1/1024 steps; None where the kernel would read outside the
    input (its lower index is not clamped from above)."""
    if align_corners and out > 1:
        scale_10 = (1024 * (size - 1) + (out - 1) // 2) // (out - 1)
    else:
        scale_10 = (1024 * size + out // 2) // out
    taps = []
    for x in range(out):
        scaled = x * scale_10 + (scale_10 // 2 - 512 if half_pixel_centers else 0)
        y0 = max(int(scaled / 1024), 0)            # C division truncates toward zero
        y1 = min(int((scaled + 1023) / 1024), size - 1)
        if y0 > size - 1:
            return None
        w1 = scaled - 1024 * y0
        taps.append(_merge([(y0, 1024 - w1), (y1, w1)]))
    return taps


def tflite_bilinear_float(size: int, out: int, align_corners: bool, half_pixel_centers: bool) -> list[Taps]:
    """TFLite's float ResizeBilinear taps (float weights)."""
    f32 = np.float32
    scale = _float_scale(size, out, align_corners)
    taps = []
    for x in range(out):
        v = (f32(x) + f32(0.5)) * scale - f32(0.5) if half_pixel_centers else f32(x) * scale
        y0 = max(math.floor(v), 0)
        y1 = min(math.ceil(v), size - 1)
        w1 = float(v) - y0
        taps.append(_merge([(y0, 1.0 - w1), (y1, w1)]))
    return taps


# --- IREE's lowering of tosa.resize ----------------------------------------------------------------

def _index_and_delta(x: int, p: AxisParams, float_mode: bool):
    val = x * p.d + p.offset
    if float_mode:
        return val // p.n, math.fmod(val, p.n) / p.n   # floor division, remainder with val's sign
    index = abs(val) // p.n * (1 if val >= 0 else -1)    # truncated toward zero
    return index, val - index * p.n


def lowered_nearest(p: AxisParams, float_mode: bool = False) -> list[Taps]:
    """The taps of IREE's nearest-neighbour lowering."""
    if p.size == 1:
        return [{0: 1} for _ in range(p.out)]
    taps = []
    for x in range(p.out):
        index, delta = _index_and_delta(x, p, float_mode)
        up = delta >= 0.5 if float_mode else 2 * delta >= p.n
        taps.append({min(max(index + up, 0), p.size - 1): 1})
    return taps


def lowered_bilinear(p: AxisParams, float_mode: bool = False) -> list[Taps]:
    """The taps of IREE's bilinear lowering (integer weights in 1/n steps, or float weights)."""
    unit = 1.0 if float_mode else p.n
    if p.size == 1:
        return [{0: unit} for _ in range(p.out)]
    taps = []
    for x in range(p.out):
        index, delta = _index_and_delta(x, p, float_mode)
        i0, i1 = (min(max(i, 0), p.size - 1) for i in (index, index + 1))
        taps.append(_merge([(i0, unit - delta), (i1, delta)]))
    return taps


def same_taps(a: list[Taps], b: list[Taps], tolerance: float = 0.0) -> bool:
    """Equal samplings (float weights within `tolerance`)."""
    if len(a) != len(b):
        return False
    for ta, tb in zip(a, b):
        if tolerance == 0.0:
            if ta != tb:
                return False
        elif any(abs(ta.get(i, 0) - tb.get(i, 0)) > tolerance for i in set(ta) | set(tb)):
            return False
    return True


# --- parameters that make IREE's lowering sample as TFLite does ------------------------------------

def _exact_nearest(size: int, out: int, align_corners: bool, half_pixel_centers: bool) -> AxisParams:
    """The rational form of TFLite's rule with TOSA's round-half-up (ignoring float32 rounding):
    floor(x*s) = round_half_up((x*d - n/2) / n) with n = 2*out, d = 2*in; align_corners rounds
    x*(in-1)/(out-1) itself; half_pixel_centers floors (x + 1/2)*s."""
    if align_corners and out > 1:
        return AxisParams(max(out - 1, 1), max(size - 1, 0) or 1, 0, size, out)
    offset = size - out if half_pixel_centers else -out
    if align_corners:  # out == 1: round(x * in) at x = 0 is 0
        offset = 0
    return AxisParams(2 * out, 2 * size, offset, size, out)


def _fitted_nearest(target: list[Taps], size: int, out: int, max_n: int = 4096) -> AxisParams | None:
    """The smallest scale n (and d, offset) whose lowering reads `target`'s indices, for the rare shapes
    where float32 rounding makes TFLite's indices differ from the exact ratio's."""
    t = np.array([next(iter(taps)) for taps in target], dtype=np.int64)
    x = np.arange(out, dtype=np.int64)
    inner, top = (t > 0), (t < size - 1)
    for n in range(1, max_n + 1):
        # an index t needs n*t - floor(n/2) <= x*d + offset <= n*t + floor((n-1)/2) (only the upper
        # bound for t = 0 and only the lower one for t = size - 1: the lowering clamps)
        lo, hi = n * t - n // 2, n * t + (n - 1) // 2
        slope = (size / out) if out > 0 else 1.0
        for d in range(max(1, math.floor(n * slope) - 1), math.ceil(n * slope) + 2):
            low = np.where(inner, lo - x * d, np.iinfo(np.int64).min).max()
            high = np.where(top, hi - x * d, np.iinfo(np.int64).max).min()
            if low <= high:
                offset = int(low) if low > np.iinfo(np.int64).min else int(high)
                p = AxisParams(n, d, offset, size, out)
                if same_taps(lowered_nearest(p), target):
                    return p
    return None


def nearest_params(size: int, out: int, align_corners: bool, half_pixel_centers: bool) -> AxisParams | None:
    """Parameters with which IREE's nearest lowering reads TFLite's indices (None: none found)."""
    target = tflite_nearest(size, out, align_corners, half_pixel_centers)
    p = _exact_nearest(size, out, align_corners, half_pixel_centers)
    if same_taps(lowered_nearest(p), target) and same_taps(lowered_nearest(p, float_mode=True), target):
        return p
    p = _fitted_nearest(target, size, out)
    if p is not None and same_taps(lowered_nearest(p, float_mode=True), target):
        return p
    return None


@dataclass(frozen=True)
class BilinearInt:
    """Integer bilinear parameters for one axis; `pad` = 1 when the input needs one leading copy of
    its first row (column) so that no sampled position lies before it (IREE's lowering extrapolates
    there where TFLite clamps both taps to row 0)."""
    params: AxisParams
    pad: int


def bilinear_int_params(size: int, out: int, align_corners: bool, half_pixel_centers: bool) -> BilinearInt | None:
    """Parameters (n = 1024, as TFLite's weights) with which IREE's integer bilinear lowering gives
    TFLite's 2^20-scaled sums exactly; None when no such parameters exist."""
    target = tflite_bilinear_int(size, out, align_corners, half_pixel_centers)
    if target is None:
        return None
    if align_corners and out > 1:
        scale_10 = (1024 * (size - 1) + (out - 1) // 2) // (out - 1)
    else:
        scale_10 = (1024 * size + out // 2) // out
    offset = scale_10 // 2 - 512 if half_pixel_centers else 0
    for pad in (0, 1):
        # scale_10 is 0 for align_corners on a one-row input, which TOSA does not verify: any d reads row 0
        p = AxisParams(1024, max(scale_10, 1), offset + 1024 * pad, size + pad, out)
        # padded index i is original index max(i - pad, 0)
        lowered = [_merge((max(i - pad, 0), w) for i, w in taps.items()) for taps in lowered_bilinear(p)]
        if same_taps(lowered, target):
            return BilinearInt(p, pad)
    return None


def bilinear_float_ok(p: AxisParams, align_corners: bool, half_pixel_centers: bool, tolerance: float = 1e-5) -> bool:
    """Whether IREE's float bilinear lowering with the converter's parameters samples as TFLite's float
    kernel (weights within `tolerance`: float32 rounding differs between the two)."""
    return same_taps(lowered_bilinear(p, float_mode=True),
                     tflite_bilinear_float(p.size, p.out, align_corners, half_pixel_centers), tolerance)
