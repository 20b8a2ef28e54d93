// RUN: mlir-fdt-opt %s -p 'fdt-normalize-linalg,fdt-fuse-epilogues' | filecheck %s

// A dense layer with one input feature (sine models' first layer): folding the unit dims makes
// its one-element reduction an element-wise op, after element-wise chains were fused. Its product
// and the ReLU after it are computed one element at a time, so the product is never a whole
// tensor (in int8 models it is the int32 accumulator, 4x the output).
// CHECK-LABEL: func.func @dense_k1_relu
//       CHECK: scf.for %[[J:.+]] = %c0 to %c4 step %c1
//       CHECK:   linalg.generic {{.*}} outs(%{{.*}} : tensor<1xf32>)
//       CHECK:     arith.mulf
//       CHECK:   linalg.generic {{.*}} outs(%{{.*}} : tensor<1xf32>)
//       CHECK:     arith.maximumf
//       CHECK:   tensor.insert_slice %{{.*}} into %{{.*}}[%[[J]]] [1] [1]
//   CHECK-NOT: outs(%{{.*}} : tensor<4xf32>)
//       CHECK: return
func.func @dense_k1_relu(%x: tensor<1x1xf32>) -> tensor<1x4xf32> {
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<[[1.0, -2.0, 3.0, -4.0]]> : tensor<1x4xf32>
  %e = tensor.empty() : tensor<1x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4xf32>) -> tensor<1x4xf32>
  %d = linalg.matmul ins(%x, %w : tensor<1x1xf32>, tensor<1x4xf32>) outs(%f : tensor<1x4xf32>) -> tensor<1x4xf32>
  %e2 = tensor.empty() : tensor<1x4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%d : tensor<1x4xf32>) outs(%e2 : tensor<1x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x4xf32>
  return %r : tensor<1x4xf32>
}
