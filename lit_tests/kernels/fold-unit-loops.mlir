// RUN: mlir-fdt-opt %s -p 'fdt-fold-unit-loops' | filecheck %s

// A streamed Conv1D row: the output's row loop runs once, so the window is read at (k, c), not (row + k, c), and
// fdt-collapse-reduction-rows can merge k and c. The reduction loops, which only the inputs index, are kept.
// CHECK: #[[WIN:.+]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// CHECK: #[[OUT:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
// CHECK-LABEL: func.func @row
// CHECK: linalg.generic {indexing_maps = [#[[WIN]], #{{.+}}, #[[OUT]]]
func.func @row(%window: memref<5x3xi8>, %w: memref<1x5x3xi8>, %acc: memref<1x1xi32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0 + d2, d3)>,
                                   affine_map<(d0, d1, d2, d3) -> (d1, d2, d3)>,
                                   affine_map<(d0, d1, d2, d3) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
      ins(%window, %w : memref<5x3xi8>, memref<1x5x3xi8>) outs(%acc : memref<1x1xi32>) {
  ^bb0(%x: i8, %k: i8, %a: i32):
    %xe = arith.extsi %x : i8 to i32
    %ke = arith.extsi %k : i8 to i32
    %p = arith.muli %xe, %ke : i32
    %s = arith.addi %a, %p : i32
    linalg.yield %s : i32
  }
  return
}
