// RUN: mlir-fdt-opt %s --split-input-file -p 'fdt-normalize-linalg,fdt-fuse-epilogues,fdt-reuse-dying-inputs' | \
// RUN:   filecheck %s
// RUN: mlir-fdt-opt %s --split-input-file -p \
// RUN:   'fdt-normalize-linalg,fdt-fuse-epilogues,fdt-reuse-dying-inputs,fdt-bufferize,fdt-plan-memory' | filecheck \
// RUN:   %s --check-prefix=PLAN

// A residual block: y = (x @ w3) + x with x = in @ w1 and t = x @ w2. The last loop nest reads x
// only at the element it writes, and x dies there, so the nest starts from x instead of an empty
// tensor and reads x through the loop-carried value.
// CHECK-LABEL: func.func @residual
//       CHECK: %[[X:.+]] = scf.for
//       CHECK: %[[T:.+]] = scf.for
//       CHECK: scf.for %{{.+}} = %c0 to %c4 step %c1 iter_args(%[[ACC:.+]] = %[[X]]) -> (tensor<4x3xf32>)
//       CHECK:   scf.for %[[I:.+]] = %c0 to %c3 step %c1 iter_args(%[[ACC2:.+]] = %[[ACC]])
//       CHECK:     tensor.extract_slice %[[ACC2]][%{{.+}}, %[[I]]] [1, 1] [1, 1]
//       CHECK: fdt.reuses_input = "%{{[0-9]+}}"

// x, t and y are 48 B each (4x3 f32), the input 32 B. Without reuse the last nest needs x, t and
// y at once (144 B); with y written over x the peak is x + t = 96 B.
// PLAN: fdt.arena_bytes = 96
func.func @residual(%in: tensor<4x2xf32>) -> tensor<4x3xf32> {
  %zero = arith.constant 0.0 : f32
  %w1 = arith.constant dense<1.0> : tensor<2x3xf32>
  %w2 = arith.constant dense<2.0> : tensor<3x3xf32>
  %w3 = arith.constant dense<3.0> : tensor<3x3xf32>
  %e = tensor.empty() : tensor<4x3xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x3xf32>) -> tensor<4x3xf32>
  %x = linalg.matmul ins(%in, %w1 : tensor<4x2xf32>, tensor<2x3xf32>) outs(%f : tensor<4x3xf32>) -> tensor<4x3xf32>
  %t = linalg.matmul ins(%x, %w2 : tensor<4x3xf32>, tensor<3x3xf32>) outs(%f : tensor<4x3xf32>) -> tensor<4x3xf32>
  %u = linalg.matmul ins(%t, %w3 : tensor<4x3xf32>, tensor<3x3xf32>) outs(%f : tensor<4x3xf32>) -> tensor<4x3xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%u, %x : tensor<4x3xf32>, tensor<4x3xf32>) outs(%e : tensor<4x3xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %s = arith.addf %p, %q : f32
    linalg.yield %s : f32
  } -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// x is used again after the nest: no reuse.
// CHECK-LABEL: func.func @still_live
//   CHECK-NOT: fdt.reuses_input
func.func @still_live(%in: tensor<4x3xf32>) -> (tensor<4x3xf32>, tensor<4x3xf32>) {
  %zero = arith.constant 0.0 : f32
  %w1 = arith.constant dense<1.0> : tensor<3x3xf32>
  %e = tensor.empty() : tensor<4x3xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x3xf32>) -> tensor<4x3xf32>
  %x = linalg.matmul ins(%in, %w1 : tensor<4x3xf32>, tensor<3x3xf32>) outs(%f : tensor<4x3xf32>) -> tensor<4x3xf32>
  %u = linalg.matmul ins(%x, %w1 : tensor<4x3xf32>, tensor<3x3xf32>) outs(%f : tensor<4x3xf32>) -> tensor<4x3xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%u, %x : tensor<4x3xf32>, tensor<4x3xf32>) outs(%e : tensor<4x3xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %s = arith.addf %p, %q : f32
    linalg.yield %s : f32
  } -> tensor<4x3xf32>
  %z = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x, %x : tensor<4x3xf32>, tensor<4x3xf32>) outs(%e : tensor<4x3xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %s = arith.addf %p, %q : f32
    linalg.yield %s : f32
  } -> tensor<4x3xf32>
  return %y, %z : tensor<4x3xf32>, tensor<4x3xf32>
}
