// RUN: mlir-fdt-opt %s -p fdt-fold-slice-reads | filecheck %s

// A stride-2 1x1 convolution over a zero-offset 7x7 slice of an 8x8 map reads the map itself.
// CHECK-LABEL: func.func @strided
//       CHECK: linalg.generic {{.*}} ins(%arg0, %{{.+}} : tensor<8x8x4xf32>, tensor<4x2xf32>)
func.func @strided(%arg0: tensor<8x8x4xf32>) -> tensor<4x4x2xf32> {
  %w = arith.constant dense<1.0> : tensor<4x2xf32>
  %x = tensor.expand_shape %arg0 [[0, 1], [2], [3]] output_shape [1, 8, 8, 4] : tensor<8x8x4xf32> into tensor<1x8x8x4xf32>
  %s = tensor.extract_slice %x[0, 0, 0, 0] [1, 7, 7, 4] [1, 1, 1, 1] : tensor<1x8x8x4xf32> to tensor<7x7x4xf32>
  %e = tensor.empty() : tensor<4x4x2xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(h, w, f, c) -> (h * 2, w * 2, c)>, affine_map<(h, w, f, c) -> (c, f)>,
                                        affine_map<(h, w, f, c) -> (h, w, f)>],
                       iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%s, %w : tensor<7x7x4xf32>, tensor<4x2xf32>) outs(%e : tensor<4x4x2xf32>) {
  ^bb0(%in: f32, %wt: f32, %out: f32):
    %m = arith.mulf %in, %wt : f32
    %a = arith.addf %out, %m : f32
    linalg.yield %a : f32
  } -> tensor<4x4x2xf32>
  return %r : tensor<4x4x2xf32>
}
