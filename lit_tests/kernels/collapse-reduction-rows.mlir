// RUN: mlir-fdt-opt %s --split-input-file -p 'fdt-collapse-reduction-rows' | filecheck %s

// A 3x3 window of an RGB input (3 channels) and one output channel's weights: the kw and channel loops
// of each row are merged into one loop of 9 over collapsed (contiguous) rows, so the dot-product
// kernels read two words and a byte per row instead of nine bytes.
// CHECK-LABEL: func.func @rgb_window
//       CHECK: memref.collapse_shape %arg0 {{\[}}[0], [1, 2]] : memref<3x3x3xi8, strided<[288, 3, 1], offset: ?>> into memref<3x9xi8, strided<[288, 1], offset: ?>>
//       CHECK: memref.collapse_shape %arg1 {{\[}}[0], [1], [2, 3]] : memref<1x3x3x3xi8, strided<[27, 9, 3, 1], offset: ?>> into memref<1x3x9xi8, strided<[27, 9, 1], offset: ?>>
//       CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "reduction"]
//  CHECK-SAME:   ins({{.*}} : memref<3x9xi8, strided<[288, 1], offset: ?>>, memref<1x3x9xi8, strided<[27, 9, 1], offset: ?>>, i32)
#x = affine_map<(d0, d1, d2, d3) -> (d1, d2, d3)>
#w = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#scalar = affine_map<(d0, d1, d2, d3) -> ()>
#out = affine_map<(d0, d1, d2, d3) -> (d0)>
func.func @rgb_window(%x: memref<3x3x3xi8, strided<[288, 3, 1], offset: ?>>,
                      %w: memref<1x3x3x3xi8, strided<[27, 9, 3, 1], offset: ?>>, %acc: memref<1xi32>) {
  %zx = arith.constant -128 : i32
  linalg.generic {indexing_maps = [#x, #w, #scalar, #out],
                  iterator_types = ["parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %w, %zx : memref<3x3x3xi8, strided<[288, 3, 1], offset: ?>>,
          memref<1x3x3x3xi8, strided<[27, 9, 3, 1], offset: ?>>, i32) outs(%acc : memref<1xi32>) {
  ^bb0(%a: i8, %b: i8, %za: i32, %o: i32):
    %0 = arith.extsi %a : i8 to i32
    %1 = arith.subi %0, %za : i32
    %2 = arith.extsi %b : i8 to i32
    %3 = arith.muli %1, %2 : i32
    %4 = arith.addi %o, %3 : i32
    linalg.yield %4 : i32
  }
  return
}

// -----

// The input's rows are not contiguous (a stride-2 window along W): left alone.
// CHECK-LABEL: func.func @strided_row
//   CHECK-NOT: memref.collapse_shape
#x = affine_map<(d0, d1, d2, d3) -> (d1, d2, d3)>
#w = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#scalar = affine_map<(d0, d1, d2, d3) -> ()>
#out = affine_map<(d0, d1, d2, d3) -> (d0)>
func.func @strided_row(%x: memref<3x3x3xi8, strided<[288, 6, 1], offset: ?>>,
                       %w: memref<1x3x3x3xi8, strided<[27, 9, 3, 1], offset: ?>>, %acc: memref<1xi32>) {
  %zx = arith.constant -128 : i32
  linalg.generic {indexing_maps = [#x, #w, #scalar, #out],
                  iterator_types = ["parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %w, %zx : memref<3x3x3xi8, strided<[288, 6, 1], offset: ?>>,
          memref<1x3x3x3xi8, strided<[27, 9, 3, 1], offset: ?>>, i32) outs(%acc : memref<1xi32>) {
  ^bb0(%a: i8, %b: i8, %za: i32, %o: i32):
    %0 = arith.extsi %a : i8 to i32
    %1 = arith.subi %0, %za : i32
    %2 = arith.extsi %b : i8 to i32
    %3 = arith.muli %1, %2 : i32
    %4 = arith.addi %o, %3 : i32
    linalg.yield %4 : i32
  }
  return
}
