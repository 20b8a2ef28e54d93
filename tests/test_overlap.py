"""Shifted aliases (memory/overlap.py): which offset differences between a buffer dying in a loop
and one born there are safe, how the planners use them, and that the verifier checks them."""

from __future__ import annotations

import pytest

from mlir_fdt.ir import entry_function, ir, new_context
from mlir_fdt.memory.liveness import collect_buffers
from mlir_fdt.memory.overlap import Overlap, find_overlaps
from mlir_fdt.memory.plan_memory import PlanMemory
from mlir_fdt.memory.planner import arena_size, lower_bound, solve
from mlir_fdt.memory.verifier import PlanError, verify_plan

# y[i] = x[a(i)] + x[a(i) + 1] for i in 0..7, x: 16 bytes, y: 8 bytes; a(i) = READ_MAP(i).
HALVE = """
func.func @halve(%x: memref<16xi8>) -> memref<8xi8> {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %y = memref.alloc() : memref<8xi8>
  scf.for %i = %c0 to %c8 step %c1 {{
    %a = affine.apply affine_map<(d0) -> ({read})>(%i)
    %b = affine.apply affine_map<(d0) -> ({read} + 1)>(%i)
    %u = memref.load %x[%a] : memref<16xi8>
    %v = memref.load %x[%b] : memref<16xi8>
    %s = arith.addi %u, %v : i8
    memref.store %s, %y[%i] : memref<8xi8>
  }}
  return %y : memref<8xi8>
}}
"""


# A 3x3 stride-2 depthwise layer with 8 outputs per channel over a `tosa.slice` of its input, as
# bufferized: the 9x9 slice is a rank-reducing subview (1x10x10x1 -> 9x9), each window a subview
# of that. x: 100 bytes (rows of 10), y: 128 bytes (rows of 32, written 32 per row of x read 20).
SLICED_DEPTHWISE = """
func.func @dw(%x: memref<1x10x10x1xi8>) -> memref<4x4x8xi8> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0 : i8
  %y = memref.alloc() : memref<4x4x8xi8>
  %s = memref.subview %x[0, 0, 0, 0] [1, 9, 9, 1] [1, 1, 1, 1]
      : memref<1x10x10x1xi8> to memref<9x9xi8, strided<[10, 1]>>
  scf.for %i = %c0 to %c4 step %c1 {
    scf.for %j = %c0 to %c4 step %c1 {
      scf.for %c = %c0 to %c8 step %c1 {
        %a = affine.apply affine_map<(d0) -> (d0 * 2)>(%i)
        %b = affine.apply affine_map<(d0) -> (d0 * 2)>(%j)
        %w = memref.subview %s[%a, %b] [3, 3] [1, 1]
            : memref<9x9xi8, strided<[10, 1]>> to memref<3x3xi8, strided<[10, 1], offset: ?>>
        %acc = scf.for %k = %c0 to %c3 step %c1 iter_args(%p = %zero) -> (i8) {
          %q = scf.for %l = %c0 to %c3 step %c1 iter_args(%r = %p) -> (i8) {
            %v = memref.load %w[%k, %l] : memref<3x3xi8, strided<[10, 1], offset: ?>>
            %n = arith.addi %r, %v : i8
            scf.yield %n : i8
          }
          scf.yield %q : i8
        }
        memref.store %acc, %y[%i, %j, %c] : memref<4x4x8xi8>
      }
    }
  }
  return %y : memref<4x4x8xi8>
}
"""


def _overlaps(read: str, text: str = HALVE):
    ctx = new_context()
    module = ir.Module.parse(text.format(read=read) if read else text, ctx)
    with ctx:
        fn = entry_function(module)
        buffers = collect_buffers(fn)
        return [b.name for b in buffers], find_overlaps(fn, [[b] for b in buffers]), module


def test_a_forward_halving_loop_lets_its_output_trail_the_input():
    names, found, _ = _overlaps("d0 * 2")
    assert names == ["input0", "output0"]
    # iteration t reads x[2t, 2t+1] and has written y[0..t]: y may start anywhere below x
    # (d <= -1) or past it, never at d in 0..15
    assert found == [Overlap(0, 1, ((0, 15),))]


def test_a_rank_reducing_slice_is_bounded_in_its_own_dimensions():
    """Indices into the 9x9 slice step 10 and 1 bytes, not the 100 and 10 of the first two of the
    input's four dimensions: scaled so, iteration t seemed to read x from byte 200t on, and y
    starting 32 bytes below x (its row 1 over x's rows 2-3, which iteration 1 reads) was accepted."""
    names, found, _ = _overlaps("", SLICED_DEPTHWISE)
    assert names == ["input0", "output0"]
    # iteration t reads x[20t, 20t + 28] and has written y[0, 32t + 31]: forbidden d in
    # [20t - 32t - 31, 20t + 28], t = 0..3
    assert found == [Overlap(0, 1, ((-67, 88),))]
    assert not found[0].allows(-32)  # the planner's pick before the fix: an int8 output off by 42
    assert found[0].allows(-68) and found[0].allows(89)


def test_a_loop_reading_its_input_backwards_shares_nothing():
    _, found, _ = _overlaps("14 - d0 * 2")
    assert found == []  # iteration 0 reads x's end, the last one its start: no byte is free early


# A streamed loop (transforms/stream_rows.py): step t copies input row t (8 bytes) into the loop's work, and a
# buffer first used at step 4 (a later layer's window, filled at its first row) is written only from then on,
# under a guard on the step that combines a start and a beat (`andi`); before step 4 `t - 4` is negative and its
# remainder is not evaluated, which must not make the guard unknown.
GUARDED = """
func.func @late(%x: memref<8x8xi8>) -> memref<16xi8> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %row = memref.alloc() : memref<8xi8>
  %y = memref.alloc() : memref<16xi8>
  scf.for %t = %c0 to %c8 step %c1 {
    %src = memref.subview %x[%t, 0] [1, 8] [1, 1] : memref<8x8xi8> to memref<8xi8, strided<[1], offset: ?>>
    memref.copy %src, %row : memref<8xi8, strided<[1], offset: ?>> to memref<8xi8>
    %since = arith.subi %t, %c4 : index
    %started = arith.cmpi sge, %t, %c4 : index
    %phase = arith.remsi %since, %c2 : index
    %beat = arith.cmpi eq, %phase, %c0 : index
    %go = arith.andi %started, %beat : i1
    scf.if %go {
      %v = memref.load %row[%c0] : memref<8xi8>
      memref.store %v, %y[%c0] : memref<16xi8>
      memref.store %v, %y[%c1] : memref<16xi8>
    }
  }
  return %y : memref<16xi8>
}
"""


def test_a_buffer_written_from_a_late_step_may_take_the_rows_read_before():
    """y's two written bytes are first written at step 4, when input rows 0-3 (32 B) are consumed: y may start
    on those rows (d <= 30), not where its bytes would land on a row a step from 4 on reads (31..63). Without
    the guards the writes would count from step 0, and y at x's start (d = 0) would be refused."""
    ctx = new_context()
    module = ir.Module.parse(GUARDED, ctx)
    with ctx:
        fn = entry_function(module)
        buffers = collect_buffers(fn)
        found = find_overlaps(fn, [[b] for b in buffers])
    y = [b.name for b in buffers].index("output0")
    (pair,) = [o for o in found if o.born == y]
    assert pair.forbidden == ((31, 63),)
    assert pair.allows(0) and pair.allows(30) and not pair.allows(31) and pair.allows(64)


def test_plan_memory_places_the_output_one_byte_below_the_input():
    _, _, module = _overlaps("d0 * 2")
    plan = PlanMemory(algorithm="optimal", alignment=1).run(module)
    assert plan.arena_bytes == 17 == plan.lower_bound_bytes  # 16 + 8 apart
    # no layer marks in this hand-written program: the labels are the buffers' names
    assert plan.shifted_aliases == [dict(dying="input0", born="output0", shift=-1, dying_label="input0",
                                         born_label="output0")]
    apart = PlanMemory(algorithm="optimal", alignment=1, shifted_aliases=False)
    _, _, module = _overlaps("d0 * 2")
    assert apart.run(module).arena_bytes == 24


def test_planners_respect_forbidden_shifts():
    sizes, lifetimes = [16, 8], [(0, 2), (1, 3)]
    pair = Overlap(0, 1, ((0, 15),))
    assert lower_bound(sizes, lifetimes, [pair]) == 17
    optimal = solve(sizes, lifetimes, 1, "optimal", [pair])
    assert optimal.size == 17 and optimal.offsets[1] - optimal.offsets[0] == -1
    # greedy places the larger buffer first at 0: the smaller one cannot go below it
    greedy = solve(sizes, lifetimes, 1, "greedy", [pair])
    assert greedy.offsets == [0, 16] and arena_size(sizes, greedy.offsets) == 24
    # a pair whose allowed shift lies inside the larger buffer: greedy uses it
    inside = Overlap(0, 1, ((-7, 3),))
    assert solve(sizes, lifetimes, 1, "greedy", [inside]).offsets == [0, 4]


def test_verifier_checks_the_shift_of_an_overlapping_pair():
    sizes, lifetimes, names = [16, 8], [(0, 2), (1, 3)], ["x", "y"]
    pair = Overlap(0, 1, ((0, 15),))
    verify_plan(names, sizes, lifetimes, [1, 0], 17, 1, [pair])
    with pytest.raises(PlanError, match="overlap"):
        verify_plan(names, sizes, lifetimes, [0, 0], 16, 1, [pair])  # shift 0 is forbidden
    with pytest.raises(PlanError, match="overlap"):
        verify_plan(names, sizes, lifetimes, [1, 0], 17, 1)  # no pair: no overlap allowed


# Iteration i reads rows 2i, 2i+1 of x (through a rank-reducing 8x4 view of the 1x8x4 input,
# as a sliced NHWC input with unit dims folded) and writes row i of y, 8 bytes.
RANK_REDUCED = """
func.func @pairs(%x: memref<1x8x4xi8>) -> memref<4x8xi8> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %y = memref.alloc() : memref<4x8xi8>
  %v = memref.subview %x[0, 0, 0] [1, 8, 4] [1, 1, 1] : memref<1x8x4xi8> to memref<8x4xi8, strided<[4, 1]>>
  scf.for %i = %c0 to %c4 step %c1 {
    %a = affine.apply affine_map<(d0) -> (d0 * 2)>(%i)
    %b = affine.apply affine_map<(d0) -> (d0 * 2 + 1)>(%i)
    scf.for %k = %c0 to %c4 step %c1 {
      %u = memref.load %v[%a, %k] : memref<8x4xi8, strided<[4, 1]>>
      %w = memref.load %v[%b, %k] : memref<8x4xi8, strided<[4, 1]>>
      %k4 = affine.apply affine_map<(d0) -> (d0 + 4)>(%k)
      memref.store %u, %y[%i, %k] : memref<4x8xi8>
      memref.store %w, %y[%i, %k4] : memref<4x8xi8>
    }
  }
  return %y : memref<4x8xi8>
}
"""


def test_a_rank_reducing_view_pairs_its_indices_with_the_kept_strides():
    """Regression (mlonmcu_MNIST_best_model, max diff 0.046): the view's row index was paired
    with the stride of the dropped batch dim, so reads looked far ahead of where they are and
    the depthwise output was placed over input rows not yet read."""
    ctx = new_context()
    module = ir.Module.parse(RANK_REDUCED, ctx)
    with ctx:
        fn = entry_function(module)
        buffers = collect_buffers(fn)
        found = find_overlaps(fn, [[b] for b in buffers])
    # iteration t reads x[8t, 8t+8) and has written y[0, 8t+8): y may start 8 bytes below x or
    # lower (it trails the reads by a row), or past x's end; never at d in -7..31
    assert found == [Overlap(0, 1, ((-7, 31),))]


def test_ranges_that_do_not_depend_on_the_loop_index_are_computed_once_for_all_iterations():
    """`InvariantRanges` (the enumeration behind `step_extents`): the range of an inner loop's index and of
    constants is kept across bindings of the outer index; a value computed from the outer index is not (a
    stale range there would make every iteration read the first one's bytes)."""
    from mlir_fdt.analysis.index_ranges import InvariantRanges, value_range
    ctx = new_context()
    module = ir.Module.parse(SLICED_DEPTHWISE, ctx)
    with ctx:
        fn = entry_function(module)
        outer = next(op for op in fn.regions[0].blocks[0].operations if op.operation.name == "scf.for")
        i = outer.regions[0].blocks[0].arguments[0]
        inner = next(op for op in outer.regions[0].blocks[0].operations if op.operation.name == "scf.for")
        j = inner.regions[0].blocks[0].arguments[0]
        a = next(op for op in inner.regions[0].blocks[0].operations
                 if op.operation.name == "scf.for").regions[0].blocks[0].operations[0].results[0]  # 2i
        invariant = InvariantRanges(i)
        assert invariant.varies(a) and not invariant.varies(j)
        for x in range(4):
            cache = invariant.for_binding()
            assert value_range(a, {i: x}, cache) == (2 * x, 2 * x)
            assert value_range(j, {i: x}, cache) == (0, 3)
        assert j in invariant.ranges and a not in invariant.ranges
