// RUN: mlir-fdt-opt %s -p 'fdt-normalize-linalg,fdt-fold-constant-transposes,fdt-fuse-epilogues' | filecheck %s

// The convolution, its initialisation and the ReLU run one output element at a time:
// three loops over 4x4x3, a 1x1x1 accumulator, nothing materialised at full size but the result.
// CHECK-LABEL: func.func @conv_relu
//       CHECK: scf.for %[[H:.+]] = %c0 to %c4 step %c1
//       CHECK:   scf.for %[[W:.+]] = %c0 to %c4 step %c1
//       CHECK:     scf.for %[[C:.+]] = %c0 to %c3 step %c1
//       CHECK:       tensor.extract_slice %collapsed[%[[H]], %[[W]], 0] [1, 1, 2] [1, 1, 1]
//       CHECK:       linalg.generic {{.*}} outs(%{{.*}} : tensor<1x1x1xf32>)
//       CHECK:       linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]{{.*}} outs(%{{.*}} : tensor<1x1x1xf32>)
//       CHECK:       arith.maximumf
//       CHECK:       tensor.insert_slice %{{.*}} into %{{.*}}[%[[H]], %[[W]], %[[C]]] [1, 1, 1] [1, 1, 1]
//   CHECK-NOT: tensor<4x4x3xf32>) outs
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
