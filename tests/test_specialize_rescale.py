"""fdt-specialize-rescale's arithmetic, checked exhaustively over the shifts it accepts: the 32-bit words it
builds and the high-word shift give TOSA's double-rounding rescale bit for bit (the pass's ops, in Python
integers with 32-bit wrap-around)."""

from __future__ import annotations

import numpy as np
import pytest


def tosa_rescale(x: int, m: int, s: int) -> int:
    """TOSA apply_scale_32 with double rounding, as tosa-to-linalg lowers it (i64 arithmetic)."""
    v = x * m + ((1 << s) >> 1)
    if s > 31:
        v += (1 << 30) if x >= 0 else -(1 << 30)
    return v >> s  # the i64 arithmetic shift, then trunci to i32 (the value fits)


def wrap32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


def specialized(x: int, m: int, s: int) -> int:
    """The ops fdt-specialize-rescale emits, one by one."""
    exact32 = s == 32
    power = wrap32(1 << max(s - 33, 0))
    hi = 0 if exact32 else power
    lo = wrap32(0xC0000000) if exact32 else 0x40000000
    negative = x < 0
    if negative:
        lo = wrap32(lo ^ 0x80000000)
    if negative and not exact32:
        hi = wrap32(hi - 1)
    words = ((hi & 0xFFFFFFFF) << 32) | (lo & 0xFFFFFFFF)
    words = words - (1 << 64) if words >= 1 << 63 else words  # the i64 value
    v = x * m + words
    v = (v + (1 << 63)) % (1 << 64) - (1 << 63)               # i64 wrap (never hit: |x*m| < 2^62)
    high = wrap32(v >> 32)
    return high >> (s - 32)


@pytest.mark.parametrize("s", range(32, 64))
def test_specialized_rescale_is_tosa_rescale(s):
    rng = np.random.default_rng(s)
    xs = [0, 1, -1, 2**31 - 1, -2**31, 12345, -12345] + [int(v) for v in rng.integers(-2**31, 2**31, 200)]
    ms = [1 << 30, 2**31 - 1] + [int(v) for v in rng.integers(1 << 30, 2**31, 20)]
    for x in xs:
        for m in ms:
            assert specialized(x, m, s) == tosa_rescale(x, m, s), (x, m, s)


def specialized_above_32(x: int, m: int, s: int) -> int:
    """The ops fdt-specialize-rescale emits when every shift is in [33, 63] (the table holds t = s - 33)."""
    t = s - 33
    sign = -1 if x < 0 else 0                       # x >> 31
    hi = wrap32((1 << t) + sign)
    lo = wrap32((x & 0x80000000) | 0x40000000)
    words = ((hi & 0xFFFFFFFF) << 32) | (lo & 0xFFFFFFFF)
    words = words - (1 << 64) if words >= 1 << 63 else words
    high = wrap32((x * m + words) >> 32)
    return (high >> t) >> 1


@pytest.mark.parametrize("s", range(33, 64))
def test_specialized_rescale_above_32_is_tosa_rescale(s):
    rng = np.random.default_rng(100 + s)
    xs = [0, 1, -1, 2**31 - 1, -2**31, 12345, -12345] + [int(v) for v in rng.integers(-2**31, 2**31, 200)]
    ms = [1 << 30, 2**31 - 1] + [int(v) for v in rng.integers(1 << 30, 2**31, 20)]
    for x in xs:
        for m in ms:
            assert specialized_above_32(x, m, s) == tosa_rescale(x, m, s), (x, m, s)
