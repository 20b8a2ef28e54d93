// RUN: mlir-fdt-opt %s -p fdt-schedule-min-memory | filecheck %s

// Two branches from %x: a big one (%big, 4 KiB, reduced to %s1) and a small one (%small, 256 B).
// The imported order makes %small first, so it waits while %big is live (peak 64+256+4096);
// the best order runs the big branch first and makes %small after %big is reduced and freed.
// CHECK-LABEL: func.func @branches
//       CHECK: %[[BIG:.+]] = linalg.generic {{.*}} outs(%{{.+}} : tensor<16x64xf32>)
//       CHECK: linalg.generic {{.*}} ins(%[[BIG]] : tensor<16x64xf32>)
//       CHECK: linalg.generic {{.*}} outs(%{{.+}} : tensor<16x4xf32>)
func.func @branches(%x: tensor<16xf32>) -> tensor<16xf32> {
  %e64 = tensor.empty() : tensor<16x4xf32>
  %small = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i)>, affine_map<(i, j) -> (i, j)>],
                           iterator_types = ["parallel", "parallel"]} ins(%x : tensor<16xf32>) outs(%e64 : tensor<16x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<16x4xf32>
  %e1k = tensor.empty() : tensor<16x64xf32>
  %big = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i)>, affine_map<(i, j) -> (i, j)>],
                         iterator_types = ["parallel", "parallel"]} ins(%x : tensor<16xf32>) outs(%e1k : tensor<16x64xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<16x64xf32>
  %e16 = tensor.empty() : tensor<16xf32>
  %s1 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                        iterator_types = ["parallel", "reduction"]} ins(%big : tensor<16x64xf32>) outs(%e16 : tensor<16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.addf %a, %o : f32
    linalg.yield %s : f32
  } -> tensor<16xf32>
  %s2 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>,
                                         affine_map<(i, j) -> (i)>],
                        iterator_types = ["parallel", "reduction"]} ins(%small, %s1 : tensor<16x4xf32>, tensor<16xf32>) outs(%e16 : tensor<16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %o : f32
    linalg.yield %s : f32
  } -> tensor<16xf32>
  return %s2 : tensor<16xf32>
}
