// RUN: mlir-fdt-opt %s | filecheck %s
// Transform-dialect library of the tiling strategies (FFMT and FDT); Python instantiates them
// for a tiling plan (mlir_fdt/transforms/apply_plan.py) with tile sizes as parameters.
// CHECK: transform.named_sequence @fdt_ffmt_tile_and_fuse
// CHECK: transform.named_sequence @fdt_fdt_partition_and_fuse
module attributes {transform.with_named_sequence} {

  /// Fused feature-map tiling (FFMT): tiles `anchor`, the last op of a fused path with an
  /// HxWxC result, into `rows` x `cols` spatial tiles (channels untiled) and fuses every op of
  /// the path (`producers`: convolutions, epilogues, pads, accumulator inits) into the tile loop
  /// nest. Each tile pulls its receptive field through the path: halos are recomputed.
  transform.named_sequence @fdt_ffmt_tile_and_fuse(
      %anchor: !transform.any_op {transform.consumed},
      %producers: !transform.any_op {transform.consumed},
      %rows: !transform.param<i64> {transform.readonly},
      %cols: !transform.param<i64> {transform.readonly}) {
    %tiled, %row_loop, %col_loop = transform.structured.tile_using_for %anchor tile_sizes [%rows, %cols, 0]
        : (!transform.any_op, !transform.param<i64>, !transform.param<i64>)
        -> (!transform.any_op, !transform.any_op, !transform.any_op)
    %fused, %new_loop = transform.structured.fuse_into_containing_op %producers into %row_loop
        : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }

  /// Fused depthwise tiling (FDT): tiles `reduction`, the channel-reducing op closing a fused path
  /// (a 1x1 convolution or dense layer), along its reduction (input-channel) loop `dim` into
  /// partitions of `size` channels, and fuses the path's per-channel producers (`producers`: the
  /// depthwise convolution, the first convolution, their epilogues and inits) into that loop.
  /// Each partition computes a channel slice through the path and adds its partial sums into the
  /// accumulator carried by the loop; no element is computed twice.
  transform.named_sequence @fdt_fdt_partition_and_fuse(
      %reduction: !transform.any_op {transform.consumed},
      %producers: !transform.any_op {transform.consumed},
      %sizes: !transform.any_param {transform.readonly}) {
    %tiled, %loop = transform.structured.tile_using_for %reduction tile_sizes *(%sizes)
        : (!transform.any_op, !transform.any_param) -> (!transform.any_op, !transform.any_op)
    %fused, %new_loop = transform.structured.fuse_into_containing_op %producers into %loop
        : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }
}
