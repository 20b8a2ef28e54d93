"""Which input rows TFLite's resize kernels read, which ones IREE's tosa.resize lowering reads, and the
parameters that make the two agree (importers/resize_sampling)."""

from __future__ import annotations

import pytest

from mlir_fdt.importers.resize_sampling import (
    AxisParams,
    bilinear_int_params,
    lowered_bilinear,
    lowered_nearest,
    nearest_params,
    tflite_bilinear_int,
    tflite_nearest,
)

# the flag combinations TensorFlow writes (it refuses align_corners with half_pixel_centers)
FLAGS = [(False, False), (True, False), (False, True)]


def _indices(taps) -> list[int]:
    return [next(iter(t)) for t in taps]


def test_tflite_nearest_floors_where_the_converters_resize_rounds():
    """4 -> 8 rows, no flags: TFLite floors x/2; the converter's tosa.resize (scale 4/2, offset 0) rounds."""
    assert _indices(tflite_nearest(4, 8, False, False)) == [0, 0, 1, 1, 2, 2, 3, 3]
    assert _indices(lowered_nearest(AxisParams(4, 2, 0, 4, 8))) == [0, 1, 1, 2, 2, 3, 3, 3]
    assert _indices(lowered_nearest(nearest_params(4, 8, False, False))) == [0, 0, 1, 1, 2, 2, 3, 3]


def test_tflite_nearest_rounds_x_times_scale_in_float32():
    """2 -> 82 rows: 41 * float32(2/82) is just below 1, so TFLite reads row 0 where 41 * 2/82 = 1."""
    assert tflite_nearest(2, 82, False, False)[41] == {0: 1}
    assert tflite_nearest(2, 82, False, False)[42] == {1: 1}
    params = nearest_params(2, 82, False, False)
    assert lowered_nearest(params) == tflite_nearest(2, 82, False, False)
    assert lowered_nearest(params, float_mode=True) == tflite_nearest(2, 82, False, False)


@pytest.mark.parametrize("align_corners,half_pixel_centers", FLAGS)
def test_nearest_parameters_exist_for_small_shapes(align_corners, half_pixel_centers):
    """Every shape up to 16 -> 40, in both of IREE's lowerings (integer and float index arithmetic)."""
    for size in range(1, 17):
        for out in range(1, 41):
            params = nearest_params(size, out, align_corners, half_pixel_centers)
            assert params is not None, (size, out)
            target = tflite_nearest(size, out, align_corners, half_pixel_centers)
            assert lowered_nearest(params) == target and lowered_nearest(params, float_mode=True) == target


def test_nearest_without_parameters_is_none():
    """24 -> 76 rows with half-pixel centres: TFLite's float32 indices follow no scale and offset."""
    assert nearest_params(24, 76, False, True) is None


def test_tflite_bilinear_int_quantizes_the_scale_to_1024ths():
    """6 -> 9 rows: scale_10 = round(6/9 * 1024) = 683, so output 3 sits at 2049/1024, not at row 2."""
    assert tflite_bilinear_int(6, 9, False, False)[3] == {2: 1023, 3: 1}


def test_half_pixel_bilinear_clamps_where_the_lowering_extrapolates():
    """4 -> 7 rows with half-pixel centres: output 0 lies before row 0; TFLite reads row 0 only, IREE's
    lowering of the same position reads rows 0 and 1 with a negative weight. One leading copy of row 0
    makes them agree."""
    scale_10 = (4 * 1024 + 3) // 7
    offset = scale_10 // 2 - 512
    assert tflite_bilinear_int(4, 7, False, True)[0] == {0: 1024}
    assert lowered_bilinear(AxisParams(1024, scale_10, offset, 4, 7))[0] == {0: 1024 - offset, 1: offset}
    fixed = bilinear_int_params(4, 7, False, True)
    assert fixed.pad == 1 and fixed.params.offset == offset + 1024


@pytest.mark.parametrize("align_corners,half_pixel_centers", FLAGS)
def test_bilinear_int_parameters_exist_for_small_shapes(align_corners, half_pixel_centers):
    for size in range(2, 17):
        for out in range(1, 41):
            assert bilinear_int_params(size, out, align_corners, half_pixel_centers) is not None, (size, out)


@pytest.mark.parametrize("align_corners,half_pixel_centers", FLAGS)
def test_parameters_for_a_one_row_input_are_valid_tosa(align_corners, half_pixel_centers):
    """TOSA requires every scale value > 0 (align_corners' (in-1)/(out-1) is 0 for one row)."""
    for out in (1, 2, 3, 7):
        near = nearest_params(1, out, align_corners, half_pixel_centers)
        bilinear = bilinear_int_params(1, out, align_corners, half_pixel_centers).params
        assert min(near.n, near.d, bilinear.n, bilinear.d) > 0


def test_bilinear_int_reading_outside_the_input_is_none():
    """1 -> 55 rows: scale_10 = 19, so TFLite's last output row is 1026/1024: row 1 of a 1-row input."""
    assert tflite_bilinear_int(1, 55, False, False) is None
    assert bilinear_int_params(1, 55, False, False) is None


def test_border_gives_the_output_size_tosa_verifies():
    p = AxisParams(1024, 683, 0, 6, 9)
    assert ((p.size - 1) * p.n - p.offset + p.border) // p.d + 1 == p.out
    assert ((p.size - 1) * p.n - p.offset + p.border) % p.d == 0
