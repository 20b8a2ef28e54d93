"""Transform scripts built with the transform dialect's Python builders (transforms/transform_library.py)."""

from __future__ import annotations

import pytest

import mlir_fdt
from mlir_fdt.errors import FdtError
from mlir_fdt.ir import ir, new_context
from mlir_fdt.transforms.transform_library import LIBRARY_DIR, TransformScript

PAYLOAD = """
func.func @f(%x: tensor<4xi32>) -> tensor<4xi32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                       iterator_types = ["parallel"]} ins(%x : tensor<4xi32>) outs(%x : tensor<4xi32>)
       attrs = {test.tag = 0 : i64} {
  ^bb0(%a: i32, %b: i32):
    %s = arith.addi %a, %a : i32
    linalg.yield %s : i32
  } -> tensor<4xi32>
  return %0 : tensor<4xi32>
}
"""


def test_libraries_are_package_data():
    """The libraries live inside the package (and pyproject ships them), so an installed wheel finds them."""
    assert LIBRARY_DIR.parent.is_relative_to(mlir_fdt.__path__[0])
    assert {p.name for p in LIBRARY_DIR.glob("*.mlir")} == {"fdt_spine.mlir", "fdt_tiling.mlir"}


def test_built_script_tiles_the_tagged_op_and_calls_a_library_sequence():
    ctx = new_context()
    with ctx:
        payload = ir.Module.parse(PAYLOAD)
    script = TransformScript(ctx, ["fdt_spine"])
    _, loops = script.tile_using_for(script.match_attribute("test.tag", 0), [2])
    assert len(loops) == 1
    script.include("fdt_cleanup", [script.match_ops(["func.func"])])
    script.apply(payload)
    text = str(payload)
    assert "scf.for" in text and "tensor<2xi32>" in text


def test_failing_script_is_a_clear_error():
    ctx = new_context()
    with ctx:
        payload = ir.Module.parse(PAYLOAD)
    script = TransformScript(ctx, [])
    script.tile_using_for(script.match_attribute("test.tag", 0), [2, 2])  # two sizes for a 1-d op
    with pytest.raises(FdtError, match="transform script failed"):
        script.apply(payload)
