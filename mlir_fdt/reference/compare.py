"""How far an output is from its reference, and what a float tolerance scales with: one definition for the
outputs and the intermediates."""

from __future__ import annotations

import numpy as np


def largest_magnitude(values: list[np.ndarray]) -> float:
    """The largest |finite value| of `values` (0 for none): what a float tolerance scales with (a NaN or an
    infinity in the reference would make it NaN or infinite)."""
    finite = [np.abs(v[np.isfinite(v)]) for v in values if v.size]
    return max((float(f.max()) for f in finite if f.size), default=0.0)


def max_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    """The largest |a - b|, element for element (`a` reshaped to `b`'s shape). Floats: a NaN where the
    reference has one, or the same infinity, counts as equal (sqrt of a negative input is NaN in both);
    a NaN or infinity on one side only is an infinite difference."""
    if a.shape != b.shape:
        a = a.reshape(b.shape)
    if not a.size:
        return 0.0
    if np.issubdtype(a.dtype, np.integer):
        return float(np.max(np.abs(a.astype(np.int64) - b.astype(np.int64))))
    x, y = a.astype(np.float64), b.astype(np.float64)
    same = (x == y) | (np.isnan(x) & np.isnan(y))
    with np.errstate(invalid="ignore"):
        diff = np.where(same, 0.0, np.abs(x - y))
    return float(np.max(np.where(np.isnan(diff), np.inf, diff)))
