"""`reference.compare.max_abs_diff`: what counts as a difference from the reference."""

from __future__ import annotations

import math

import numpy as np

from mlir_fdt.reference.compare import max_abs_diff


def test_nan_and_infinity_where_the_reference_has_them_are_equal():
    ref = np.array([1.0, np.nan, np.inf, -np.inf], np.float32)
    assert max_abs_diff(ref.copy(), ref) == 0.0  # sqrt of a negative input: NaN in both
    assert max_abs_diff(np.array([1.5, np.nan, np.inf, -np.inf], np.float32), ref) == 0.5


def test_nan_or_infinity_on_one_side_only_is_an_infinite_difference():
    ref = np.array([1.0, 2.0], np.float32)
    assert max_abs_diff(np.array([1.0, np.nan], np.float32), ref) == math.inf
    assert max_abs_diff(np.array([np.inf, 2.0], np.float32), ref) == math.inf
    assert max_abs_diff(ref, np.array([1.0, np.nan], np.float32)) == math.inf


def test_integers_differ_by_their_largest_step_without_overflow():
    assert max_abs_diff(np.array([127, -128], np.int8), np.array([-128, -128], np.int8)) == 255.0
    assert max_abs_diff(np.zeros((2, 3), np.int8), np.zeros(6, np.int8).reshape(3, 2)) == 0.0


def test_a_float_tolerance_scales_with_the_largest_finite_value():
    """An infinity or a NaN in the reference does not scale the tolerance (an infinite reference value made the
    output check's tolerance infinite: any output matched)."""
    from mlir_fdt.reference.compare import largest_magnitude
    assert largest_magnitude([np.array([1.0, -7.5, np.inf, np.nan]), np.array([3.0])]) == 7.5
    assert largest_magnitude([np.array([np.nan]), np.zeros(0)]) == 0.0
