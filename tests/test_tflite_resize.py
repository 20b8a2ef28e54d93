"""importers/tflite_resize on hand-written TOSA as the converter writes it: the parameters each
tosa.resize gets, the padding and rounding around integer bilinear ones, and refusals by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlir_fdt.errors import FdtError
from mlir_fdt.importers.tflite_flatbuffer import TfliteModel, TfliteOperator
from mlir_fdt.importers.tflite_resize import fix_resizes
from mlir_fdt.ir import ir, new_context, walk_ops

# The converter's TOSA for RESIZE_NEAREST_NEIGHBOR 1x4x5x32 -> 1x8x10x32 without flags (the reported bug):
# scale 4/2 on both axes, offset 0, which TOSA rounds.
NEAREST = """
func.func @main(%x: tensor<1x4x5x32xi8>) -> tensor<1x8x10x32xi8> {
  %scale = tosa.const_shape values(dense<[4, 2, 4, 2]> : tensor<4xindex>) : () -> !tosa.shape<4>
  %offset = tosa.const_shape values(dense<0> : tensor<2xindex>) : () -> !tosa.shape<2>
  %border = tosa.const_shape values(dense<2> : tensor<2xindex>) : () -> !tosa.shape<2>
  %y = tosa.resize %x, %scale, %offset, %border mode<NEAREST_NEIGHBOR>
    : (tensor<1x4x5x32xi8>, !tosa.shape<4>, !tosa.shape<2>, !tosa.shape<2>) -> tensor<1x8x10x32xi8> loc("out")
  return %y : tensor<1x8x10x32xi8>
}
"""

# The converter's TOSA for int8 RESIZE_BILINEAR 1x4x5x3 -> 1x7x9x3 with half_pixel_centers: an i32 sum
# in (1/14)x(1/18) steps, then a rescale by 1/(14*18).
BILINEAR = """
func.func @main(%x: tensor<1x4x5x3xi8>) -> tensor<1x7x9x3xi8> {
  %zp8 = tosa.const values(dense<0> : tensor<1xi8>) : () -> tensor<1xi8>
  %zp32 = tosa.const values(dense<0> : tensor<1xi32>) : () -> tensor<1xi32>
  %shift = tosa.const values(dense<38> : tensor<1xi8>) : () -> tensor<1xi8>
  %mul = tosa.const values(dense<1090785345> : tensor<1xi32>) : () -> tensor<1xi32>
  %scale = tosa.const_shape values(dense<[14, 8, 18, 10]> : tensor<4xindex>) : () -> !tosa.shape<4>
  %offset = tosa.const_shape values(dense<[-3, -4]> : tensor<2xindex>) : () -> !tosa.shape<2>
  %border = tosa.const_shape values(dense<[3, 4]> : tensor<2xindex>) : () -> !tosa.shape<2>
  %sum = tosa.resize %x, %scale, %offset, %border mode<BILINEAR>
    : (tensor<1x4x5x3xi8>, !tosa.shape<4>, !tosa.shape<2>, !tosa.shape<2>) -> tensor<1x7x9x3xi32> loc("out")
  %y = tosa.rescale %sum, %mul, %shift, %zp32, %zp8 scale32(true) rounding_mode<SINGLE_ROUND> per_channel(false)
      input_unsigned(false) output_unsigned(false)
    : (tensor<1x7x9x3xi32>, tensor<1xi32>, tensor<1xi8>, tensor<1xi32>, tensor<1xi8>) -> tensor<1x7x9x3xi8> loc("out")
  return %y : tensor<1x7x9x3xi8>
}
"""


def _model(kind: str, align_corners: bool = False, half_pixel_centers: bool = False) -> TfliteModel:
    op = TfliteOperator(0, kind, ["in", "size"], ["out"],
                        flags={"align_corners": align_corners, "half_pixel_centers": half_pixel_centers})
    return TfliteModel(Path("model.tflite"), [op], [], [])


def _shape_values(value) -> list[int]:
    values = [int(v) for v in ir.DenseIntElementsAttr(value.owner.attributes["values"])]
    return [v - (1 << 64) if v >= (1 << 63) else v for v in values]


def _resize(module):
    (resize,) = [op for op in walk_ops(module.operation) if op.name == "tosa.resize"]
    return resize


def test_nearest_without_flags_gets_floor_parameters():
    """round_half_up((16x - 8) / 16) = floor(x / 2): rows 0,0,1,1,... as TFLite reads them."""
    with new_context():
        module = ir.Module.parse(NEAREST)
        assert fix_resizes(module, _model("RESIZE_NEAREST_NEIGHBOR")) == 1
        resize = _resize(module)
        assert _shape_values(resize.operands[1]) == [16, 8, 20, 10]
        assert _shape_values(resize.operands[2]) == [-8, -10]
        assert module.operation.verify()


def test_half_pixel_int8_bilinear_is_padded_scaled_in_1024ths_and_rounded_half_away():
    with new_context():
        module = ir.Module.parse(BILINEAR)
        assert fix_resizes(module, _model("RESIZE_BILINEAR", half_pixel_centers=True)) == 1
        resize = _resize(module)
        # a leading copy of row 0 and of column 0 (TFLite clamps where the lowering would extrapolate)
        assert list(ir.RankedTensorType(resize.operands[0].type).shape) == [1, 5, 6, 3]
        scale_y, scale_x = (4 * 1024 + 3) // 7, (5 * 1024 + 4) // 9
        assert _shape_values(resize.operands[1]) == [1024, scale_y, 1024, scale_x]
        assert _shape_values(resize.operands[2]) == [scale_y // 2 - 512 + 1024, scale_x // 2 - 512 + 1024]
        names = [op.name for op in walk_ops(module.operation)]
        assert names.count("tosa.concat") == 2 and "tosa.arithmetic_right_shift" in names
        (rescale,) = [op for op in walk_ops(module.operation) if op.name == "tosa.rescale"]
        assert rescale.operands[0].owner.name == "tosa.add"


def test_a_resize_without_exact_parameters_is_refused_naming_its_operator():
    """Bilinear 1 -> 55 rows: TFLite's integer kernel reads row 1 of a one-row input."""
    text = BILINEAR.replace("1x4x5x3xi8>) -> tensor<1x7x9x3xi8>", "1x1x5x3xi8>) -> tensor<1x55x9x3xi8>")
    text = text.replace("tensor<1x4x5x3xi8>", "tensor<1x1x5x3xi8>").replace("1x7x9x3", "1x55x9x3")
    with new_context():
        module = ir.Module.parse(text)
        with pytest.raises(FdtError, match="operator 0 RESIZE_BILINEAR .*1x5 -> 55x9.*reads outside the input"):
            fix_resizes(module, _model("RESIZE_BILINEAR"))


def test_a_resize_of_no_known_operator_is_an_error():
    with new_context():
        module = ir.Module.parse(NEAREST.replace('loc("out")', 'loc("elsewhere")'))
        with pytest.raises(FdtError, match="cannot tell which TFLite operator"):
            fix_resizes(module, _model("RESIZE_NEAREST_NEIGHBOR"))
