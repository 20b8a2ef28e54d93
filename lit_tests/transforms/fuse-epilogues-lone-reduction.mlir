// RUN: mlir-fdt-opt %s -p 'fdt-normalize-linalg,fdt-fuse-epilogues' | filecheck %s

// A max pooling that keeps its input's quantization has no epilogue: the reduction is the layer. It gets a copy as
// its epilogue, so that its accumulator fill is fused with it one output element at a time, instead of filling the
// whole output first (a pass over the output, and an output born apart from the input it dies with). The copy
// folds away once tiled: the one-element result is inserted into the output.
// CHECK-LABEL: func.func @max_pool
//   CHECK-NOT: outs(%{{.*}} : tensor<4x8xi8>)
//       CHECK: scf.for %[[T:.+]] = %c0 to %c4
//       CHECK:   scf.for %[[C:.+]] = %c0 to %c8
//       CHECK:     %[[FILL:.+]] = linalg.generic {{.*}} ins(%c-128_i8 : i8) outs(%{{.*}} : tensor<1x1xi8>)
//       CHECK:     %[[MAX:.+]] = linalg.generic {{.*}} outs(%[[FILL]] : tensor<1x1xi8>)
//       CHECK:       arith.maxsi
//       CHECK:     tensor.insert_slice %[[MAX]] into %{{.*}}[%[[T]], %[[C]]] [1, 1] [1, 1]
//   CHECK-NOT: outs(%{{.*}} : tensor<4x8xi8>)
//       CHECK: return
func.func @max_pool(%x: tensor<8x8xi8>) -> tensor<4x8xi8> {
  %lowest = arith.constant -128 : i8
  %e = tensor.empty() : tensor<4x8xi8>
  %f = linalg.fill ins(%lowest : i8) outs(%e : tensor<4x8xi8>) -> tensor<4x8xi8>
  %window = tensor.empty() : tensor<2xi8>
  %p = linalg.generic {indexing_maps = [affine_map<(t, c, k) -> (t * 2 + k, c)>, affine_map<(t, c, k) -> (k)>,
                                        affine_map<(t, c, k) -> (t, c)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %window : tensor<8x8xi8>, tensor<2xi8>) outs(%f : tensor<4x8xi8>) {
  ^bb0(%in: i8, %w: i8, %acc: i8):
    %m = arith.maxsi %acc, %in : i8
    linalg.yield %m : i8
  } -> tensor<4x8xi8>
  return %p : tensor<4x8xi8>
}
