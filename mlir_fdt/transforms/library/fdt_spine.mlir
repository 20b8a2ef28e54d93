// RUN: mlir-fdt-opt %s | filecheck %s
// Transform-dialect library of the untiled spine: the fusions every program gets.
// CHECK: transform.named_sequence @fdt_tile_and_fuse_epilogue_{{[0-9]}}d
module attributes {transform.with_named_sequence} {

  /// Fuses an epilogue into one output element at a time: tiles `anchor` (the last
  /// elementwise op after a convolution, dense layer or pooling: bias, requantize, clamp)
  /// to one element per iteration and pulls `producers` (the reduction, the bias add, the
  /// accumulator's initialisation) into that loop nest, so the int32 accumulator is a
  /// single element (a register) instead of a whole tensor. Producers are fused in any
  /// order that has a use inside the loop, so the handle can list them in program order.
  transform.named_sequence @fdt_tile_and_fuse_epilogue_1d(
      %anchor: !transform.any_op {transform.consumed},
      %producers: !transform.any_op {transform.consumed}) {
    %tiled, %loop = transform.structured.tile_using_for %anchor tile_sizes [1]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %fused, %new_loop = transform.structured.fuse_into_containing_op %producers into %loop
        : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }

  /// As @fdt_tile_and_fuse_epilogue_1d, for a 2-d anchor (rows x channels).
  transform.named_sequence @fdt_tile_and_fuse_epilogue_2d(
      %anchor: !transform.any_op {transform.consumed},
      %producers: !transform.any_op {transform.consumed}) {
    %tiled, %l0, %l1 = transform.structured.tile_using_for %anchor tile_sizes [1, 1]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op)
    %fused, %new_loop = transform.structured.fuse_into_containing_op %producers into %l0
        : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }

  /// As @fdt_tile_and_fuse_epilogue_1d, for a 3-d anchor (height x width x channels).
  transform.named_sequence @fdt_tile_and_fuse_epilogue_3d(
      %anchor: !transform.any_op {transform.consumed},
      %producers: !transform.any_op {transform.consumed}) {
    %tiled, %l0, %l1, %l2 = transform.structured.tile_using_for %anchor tile_sizes [1, 1, 1]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    %fused, %new_loop = transform.structured.fuse_into_containing_op %producers into %l0
        : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }

  /// As @fdt_tile_and_fuse_epilogue_1d, for a 4-d anchor (batch x height x width x channels).
  transform.named_sequence @fdt_tile_and_fuse_epilogue_4d(
      %anchor: !transform.any_op {transform.consumed},
      %producers: !transform.any_op {transform.consumed}) {
    %tiled, %l0, %l1, %l2, %l3 = transform.structured.tile_using_for %anchor tile_sizes [1, 1, 1, 1]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    %fused, %new_loop = transform.structured.fuse_into_containing_op %producers into %l0
        : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }

  /// Cleans up after fusion: folds the whole-tensor `tensor.empty`s that fused producers
  /// leave behind into per-tile ones, so bufferization allocates tiles, not tensors.
  transform.named_sequence @fdt_cleanup(%func: !transform.any_op {transform.readonly}) {
    transform.apply_patterns to %func {
      transform.apply_patterns.tensor.fold_tensor_empty
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    transform.yield
  }
}
