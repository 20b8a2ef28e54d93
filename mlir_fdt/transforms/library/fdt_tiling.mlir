// RUN: mlir-fdt-opt %s | filecheck %s
// Transform-dialect library of the tiling strategies (FFMT and FDT); Python instantiates them
// for a tiling plan (mlir_fdt/transforms/apply_plan.py) with tile sizes as parameters.
// CHECK: transform.named_sequence @fdt_ffmt_tile
// CHECK: transform.named_sequence @fdt_ffmt_reduce_tile
// CHECK: transform.named_sequence @fdt_fuse_producers
// CHECK: transform.named_sequence @fdt_fdt_channel_tile
// CHECK: transform.named_sequence @fdt_fdt_pooled_channel_tile
module attributes {transform.with_named_sequence} {

  /// Fused feature-map tiling (FFMT), step 1: tiles `anchor`, the last op of a fused path with an
  /// HxWxC result, into spatial tiles of `rows` x `cols` (channels untiled). Returns the outer
  /// tile loop, into which @fdt_fuse_producer then pulls the path's ops one by one: each tile
  /// pulls its receptive field through the path, halos are recomputed.
  transform.named_sequence @fdt_ffmt_tile(
      %anchor: !transform.any_op {transform.consumed},
      %rows: !transform.param<i64> {transform.readonly},
      %cols: !transform.param<i64> {transform.readonly}) -> !transform.any_op {
    %tiled, %row_loop, %col_loop = transform.structured.tile_using_for %anchor tile_sizes [%rows, %cols, 0]
        : (!transform.any_op, !transform.param<i64>, !transform.param<i64>)
        -> (!transform.any_op, !transform.any_op, !transform.any_op)
    transform.yield %row_loop : !transform.any_op
  }

  /// FFMT through a global pooling, step 1: tiles `reduction`, a pooling that reduces an HxW map
  /// to one value per channel (loops: channel, rows, cols), along its two reduction loops into
  /// spatial tiles of `rows` x `cols`. The pooled sums accumulate across tiles in the
  /// loop-carried result (partial sums), so no feature map of the path is ever whole.
  transform.named_sequence @fdt_ffmt_reduce_tile(
      %reduction: !transform.any_op {transform.consumed},
      %rows: !transform.param<i64> {transform.readonly},
      %cols: !transform.param<i64> {transform.readonly}) -> !transform.any_op {
    %tiled, %row_loop, %col_loop = transform.structured.tile_using_for %reduction tile_sizes [0, %rows, %cols]
        : (!transform.any_op, !transform.param<i64>, !transform.param<i64>)
        -> (!transform.any_op, !transform.any_op, !transform.any_op)
    transform.yield %row_loop : !transform.any_op
  }

  /// Fuses `producers` (the convolutions, epilogues, pads and accumulator inits of a path) into
  /// `loop` where their consumers are; returns the loop. The interpreter picks, each time, a
  /// producer with a use inside the loop, so the handle may list them in any order.
  transform.named_sequence @fdt_fuse_producers(
      %producers: !transform.any_op {transform.consumed},
      %loop: !transform.any_op {transform.consumed}) -> !transform.any_op {
    %fused, %new_loop = transform.structured.fuse_into_containing_op %producers into %loop
        : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield %new_loop : !transform.any_op
  }

  /// Fused depthwise tiling (FDT) without partial sums: tiles `anchor`, the last op of a path whose
  /// ops after the first keep channels apart (depthwise convolutions, poolings, elementwise), along
  /// its channel dimension into partitions of `channels`. The first op computes a channel slice
  /// of its output from its whole input; nothing is computed twice.
  transform.named_sequence @fdt_fdt_channel_tile(
      %anchor: !transform.any_op {transform.consumed},
      %channels: !transform.param<i64> {transform.readonly}) -> !transform.any_op {
    %tiled, %loop = transform.structured.tile_using_for %anchor tile_sizes [0, 0, %channels]
        : (!transform.any_op, !transform.param<i64>) -> (!transform.any_op, !transform.any_op)
    transform.yield %loop : !transform.any_op
  }

  /// FDT closed by a global pooling (or MEAN over rows and columns): tiles `anchor`, the last op
  /// of a path ending in a reduction of an HxWxC map to C values, along its one (channel)
  /// dimension into partitions of `channels`. Each partition pools its own channels: no partial
  /// sums, and the map before the pooling is never whole.
  transform.named_sequence @fdt_fdt_pooled_channel_tile(
      %anchor: !transform.any_op {transform.consumed},
      %channels: !transform.param<i64> {transform.readonly}) -> !transform.any_op {
    %tiled, %loop = transform.structured.tile_using_for %anchor tile_sizes [%channels]
        : (!transform.any_op, !transform.param<i64>) -> (!transform.any_op, !transform.any_op)
    transform.yield %loop : !transform.any_op
  }
}
