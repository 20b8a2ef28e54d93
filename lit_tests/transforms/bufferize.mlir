// RUN: mlir-fdt-opt %s -p 'fdt-normalize-linalg,fdt-fold-constant-transposes,fdt-fuse-epilogues,fdt-bufferize' | \
// RUN:   filecheck %s

// After bufferization the only allocations are the output and the per-element accumulator;
// the weights are a constant global; no self-copies remain.
// CHECK: memref.global "private" constant @{{.+}} : memref<2x3xf32>
// CHECK-LABEL: func.func @conv_relu
//  CHECK-SAME: (%{{.+}}: memref<1x4x4x2xf32>) -> memref<1x4x4x3xf32>
//       CHECK: memref.alloc() {{.*}}: memref<4x4x3xf32>
//       CHECK: scf.for
//       CHECK: memref.alloc() {{.*}}: memref<1x1x1xf32>
//   CHECK-NOT: memref.copy
//       CHECK: return
func.func @conv_relu(%arg0: tensor<1x4x4x2xf32>) -> tensor<1x4x4x3xf32> {
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<[[[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]]]> : tensor<1x1x3x2xf32>
  %e0 = tensor.empty() : tensor<1x1x2x3xf32>
  %wt = linalg.transpose ins(%w : tensor<1x1x3x2xf32>) outs(%e0 : tensor<1x1x2x3xf32>) permutation = [0, 1, 3, 2]
  %e = tensor.empty() : tensor<1x4x4x3xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x4x3xf32>) -> tensor<1x4x4x3xf32>
  %c = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%arg0, %wt : tensor<1x4x4x2xf32>, tensor<1x1x2x3xf32>) outs(%f : tensor<1x4x4x3xf32>) -> tensor<1x4x4x3xf32>
  %e2 = tensor.empty() : tensor<1x4x4x3xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>,
                                        affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c : tensor<1x4x4x3xf32>) outs(%e2 : tensor<1x4x4x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x4x4x3xf32>
  return %r : tensor<1x4x4x3xf32>
}
