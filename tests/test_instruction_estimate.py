"""The instruction estimate counts executed ops: once per loop iteration, loop-invariant index
arithmetic once per run of the enclosing loop, edge tiles with their own trip counts."""

from __future__ import annotations

from mlir_fdt.analysis.instructions import LOOP_OPS, executed_ops
from mlir_fdt.ir import entry_function, ir, new_context

NEST = """
func.func @f(%m: memref<8x6xi8>, %n: memref<8x6xi8>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c6 = arith.constant 6 : index
  %c8 = arith.constant 8 : index
  scf.for %i = %c0 to %c8 step %c1 {
    scf.for %j = %c0 to %c6 step %c1 {
      %k = arith.addi %i, %c1 : index
      %v = memref.load %m[%i, %j] : memref<8x6xi8>
      %w = arith.addi %v, %v : i8
      memref.store %w, %n[%i, %j] : memref<8x6xi8>
    }
  }
  scf.for %t = %c0 to %c8 step %c4 {
    %rest = affine.min affine_map<(d0) -> (5, 8 - d0)>(%t)
    scf.for %r = %c0 to %rest step %c1 {
      %v = memref.load %m[%r, %c0] : memref<8x6xi8>
      memref.store %v, %n[%r, %c0] : memref<8x6xi8>
    }
  }
  return
}
"""


def test_executed_ops_hoist_invariants_and_follow_tile_bounds():
    ctx = new_context()
    module = ir.Module.parse(NEST, context=ctx)
    with ctx:
        ops = executed_ops(entry_function(module))
    # first nest: %k depends only on %i, so it runs 8 times, not 48; load, add, store 48 times
    first = 8 * (1 + LOOP_OPS) + 48 * (3 + LOOP_OPS)
    # second: the tile loop runs twice (t = 0, 4); its body loop min(5, 8) = 5, then min(5, 4) = 4 times
    second = 2 * (1 + LOOP_OPS) + (5 + 4) * (2 + LOOP_OPS)
    assert ops == first + second
