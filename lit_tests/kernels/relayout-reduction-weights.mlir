// RUN: mlir-fdt-opt %s --split-input-file -p 'fdt-relayout-reduction-weights' | filecheck %s

// A dense layer's weights imported input-channel-major (CF) are stored output-channel-major (FC), so
// that the reduction over input channels reads them contiguously; the values move with the layout.
// CHECK-LABEL: func.func @dense
//       CHECK: arith.constant dense<{{\[}}[1, 3, 5], [2, 4, 6]]> : tensor<2x3xi8>
//       CHECK: linalg.generic {indexing_maps = [#{{.+}}, #[[W:.+]], #{{.+}}]
func.func @dense(%x: tensor<3xi8>) -> tensor<2xi32> {
  %w = arith.constant dense<[[1, 2], [3, 4], [5, 6]]> : tensor<3x2xi8>
  %zero = arith.constant 0 : i32
  %e = tensor.empty() : tensor<2xi32>
  %f = linalg.fill ins(%zero : i32) outs(%e : tensor<2xi32>) -> tensor<2xi32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d1, d0)>,
                                        affine_map<(d0, d1) -> (d0)>],
                       iterator_types = ["parallel", "reduction"]}
      ins(%x, %w : tensor<3xi8>, tensor<3x2xi8>) outs(%f : tensor<2xi32>) {
  ^bb0(%a: i8, %b: i8, %out: i32):
    %0 = arith.extsi %a : i8 to i32
    %1 = arith.extsi %b : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %out, %2 : i32
    linalg.yield %3 : i32
  } -> tensor<2xi32>
  return %r : tensor<2xi32>
}

// -----

// A depthwise-style reduction: the channel indexes the input too, so it stays innermost ([K][C], as
// imported): four channels' weights are one word, like their inputs. Nothing to permute.
// CHECK-LABEL: func.func @depthwise
//       CHECK: arith.constant dense<{{\[}}[1, 2], [3, 4], [5, 6]]> : tensor<3x2xi8>
func.func @depthwise(%x: tensor<5x2xi8>) -> tensor<3x2xi32> {
  %w = arith.constant dense<[[1, 2], [3, 4], [5, 6]]> : tensor<3x2xi8>
  %zero = arith.constant 0 : i32
  %e = tensor.empty() : tensor<3x2xi32>
  %f = linalg.fill ins(%zero : i32) outs(%e : tensor<3x2xi32>) -> tensor<3x2xi32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0 + d2, d1)>,
                                        affine_map<(d0, d1, d2) -> (d2, d1)>,
                                        affine_map<(d0, d1, d2) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<5x2xi8>, tensor<3x2xi8>) outs(%f : tensor<3x2xi32>) {
  ^bb0(%a: i8, %b: i8, %out: i32):
    %0 = arith.extsi %a : i8 to i32
    %1 = arith.extsi %b : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %out, %2 : i32
    linalg.yield %3 : i32
  } -> tensor<3x2xi32>
  return %r : tensor<3x2xi32>
}
