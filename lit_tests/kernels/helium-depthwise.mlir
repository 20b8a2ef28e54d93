// RUN: mlir-fdt-opt %s --split-input-file -p 'fdt-helium-depthwise' | filecheck %s

// A depthwise layer's channel loop (16 channels, one output position), peeled as fdt-peel-padded-windows
// leaves it (an interior 3x3 window, a border window clipped at run time): blocked by 8 (two iterations). Each channel
// keeps its own accumulator and epilogue; one vector of the 16 sums is built from them, and per tap one
// vector<8xi8> of input (widened, plus the zero point 128) times one of weights is added to it; the
// interior's 9 taps in straight line, the border's a loop nest carrying the vector; each lane is then
// stored to its channel's accumulator.
// CHECK-LABEL: func.func @depthwise16
// CHECK-COUNT-8: memref.alloca() : memref<1x1x1xi32>
//       CHECK: scf.for %[[C:.+]] = %{{.+}} to %c16 step %c8
//       CHECK:   scf.if
//       CHECK:     memref.subview %arg0[%{{.+}}, %{{.+}}, %[[C]]] [3, 3, 8] [1, 1, 1]
//       CHECK:     vector.from_elements
// CHECK-COUNT-9:   arith.muli %{{.+}}, %{{.+}} : vector<8xi32>
//       CHECK:   } else {
//       CHECK:     scf.for {{.*}} iter_args({{.*}}) -> (vector<8xi32>)
//       CHECK:       scf.for {{.*}} iter_args({{.*}}) -> (vector<8xi32>)
//       CHECK:         vector.load {{.*}} vector<8xi8>
//       CHECK:         arith.muli %{{.+}}, %{{.+}} : vector<8xi32>
//       CHECK:     vector.extract
//   CHECK-NOT:     linalg.generic {{.*}}reduction
#in = affine_map<(d0, d1, d2, d3, d4) -> (d3, d4, d2)>
#scalar = affine_map<(d0, d1, d2, d3, d4) -> ()>
#out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2)>
func.func @depthwise16(%x: memref<5x5x16xi8>, %w: memref<3x3x16xi8>, %out: memref<16xi32>, %inside: i1,
                     %r: index, %s: index, %h: index, %k: index) {
  %acc = memref.alloca() : memref<1x1x1xi32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %zx = arith.constant -128 : i32
  %zw = arith.constant 0 : i32
  %zero = arith.constant 0 : i32
  scf.for %c = %c0 to %c16 step %c1 {
    %wc = memref.subview %w[0, 0, %c] [3, 3, 1] [1, 1, 1] : memref<3x3x16xi8> to memref<3x3x1xi8, strided<[48, 16, 1], offset: ?>>
    linalg.fill ins(%zero : i32) outs(%acc : memref<1x1x1xi32>)
    scf.if %inside {
      %xc = memref.subview %x[%r, %s, %c] [3, 3, 1] [1, 1, 1] : memref<5x5x16xi8> to memref<3x3x1xi8, strided<[80, 16, 1], offset: ?>>
      linalg.generic {indexing_maps = [#in, #in, #scalar, #scalar, #out],
                      iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
          ins(%xc, %wc, %zx, %zw : memref<3x3x1xi8, strided<[80, 16, 1], offset: ?>>,
              memref<3x3x1xi8, strided<[48, 16, 1], offset: ?>>, i32, i32) outs(%acc : memref<1x1x1xi32>) {
      ^bb0(%a: i8, %b: i8, %za: i32, %zb: i32, %o: i32):
        %0 = arith.extsi %a : i8 to i32
        %1 = arith.subi %0, %za : i32
        %2 = arith.extsi %b : i8 to i32
        %3 = arith.subi %2, %zb : i32
        %4 = arith.muli %1, %3 : i32
        %5 = arith.addi %o, %4 : i32
        linalg.yield %5 : i32
      }
    } else {
      %xc = memref.subview %x[%r, %s, %c] [%h, %k, 1] [1, 1, 1] : memref<5x5x16xi8> to memref<?x?x1xi8, strided<[80, 16, 1], offset: ?>>
      %wk = memref.subview %wc[0, 0, 0] [%h, %k, 1] [1, 1, 1] : memref<3x3x1xi8, strided<[48, 16, 1], offset: ?>> to memref<?x?x1xi8, strided<[48, 16, 1], offset: ?>>
      linalg.generic {indexing_maps = [#in, #in, #scalar, #scalar, #out],
                      iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
          ins(%xc, %wk, %zx, %zw : memref<?x?x1xi8, strided<[80, 16, 1], offset: ?>>,
              memref<?x?x1xi8, strided<[48, 16, 1], offset: ?>>, i32, i32) outs(%acc : memref<1x1x1xi32>) {
      ^bb0(%a: i8, %b: i8, %za: i32, %zb: i32, %o: i32):
        %0 = arith.extsi %a : i8 to i32
        %1 = arith.subi %0, %za : i32
        %2 = arith.extsi %b : i8 to i32
        %3 = arith.subi %2, %zb : i32
        %4 = arith.muli %1, %3 : i32
        %5 = arith.addi %o, %4 : i32
        linalg.yield %5 : i32
      }
    }
    %oc = memref.subview %out[%c] [1] [1] : memref<16xi32> to memref<1xi32, strided<[1], offset: ?>>
    %a3 = memref.collapse_shape %acc [[0, 1, 2]] : memref<1x1x1xi32> into memref<1xi32>
    linalg.copy ins(%a3 : memref<1xi32>) outs(%oc : memref<1xi32, strided<[1], offset: ?>>)
  }
  return
}

// -----

// Eight channels: one block of 8.
// CHECK-LABEL: func.func @depthwise8
//       CHECK: scf.for %{{.+}} = %{{.+}} to %c8 step %c8
//       CHECK: arith.muli %{{.+}}, %{{.+}} : vector<8xi32>
#in = affine_map<(d0, d1, d2, d3, d4) -> (d3, d4, d2)>
#scalar = affine_map<(d0, d1, d2, d3, d4) -> ()>
#out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2)>
func.func @depthwise8(%x: memref<5x5x8xi8>, %w: memref<3x3x8xi8>, %out: memref<8xi32>, %inside: i1,
                     %r: index, %s: index, %h: index, %k: index) {
  %acc = memref.alloca() : memref<1x1x1xi32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zx = arith.constant -128 : i32
  %zw = arith.constant 0 : i32
  %zero = arith.constant 0 : i32
  scf.for %c = %c0 to %c8 step %c1 {
    %wc = memref.subview %w[0, 0, %c] [3, 3, 1] [1, 1, 1] : memref<3x3x8xi8> to memref<3x3x1xi8, strided<[24, 8, 1], offset: ?>>
    linalg.fill ins(%zero : i32) outs(%acc : memref<1x1x1xi32>)
    scf.if %inside {
      %xc = memref.subview %x[%r, %s, %c] [3, 3, 1] [1, 1, 1] : memref<5x5x8xi8> to memref<3x3x1xi8, strided<[40, 8, 1], offset: ?>>
      linalg.generic {indexing_maps = [#in, #in, #scalar, #scalar, #out],
                      iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
          ins(%xc, %wc, %zx, %zw : memref<3x3x1xi8, strided<[40, 8, 1], offset: ?>>,
              memref<3x3x1xi8, strided<[24, 8, 1], offset: ?>>, i32, i32) outs(%acc : memref<1x1x1xi32>) {
      ^bb0(%a: i8, %b: i8, %za: i32, %zb: i32, %o: i32):
        %0 = arith.extsi %a : i8 to i32
        %1 = arith.subi %0, %za : i32
        %2 = arith.extsi %b : i8 to i32
        %3 = arith.subi %2, %zb : i32
        %4 = arith.muli %1, %3 : i32
        %5 = arith.addi %o, %4 : i32
        linalg.yield %5 : i32
      }
    } else {
      %xc = memref.subview %x[%r, %s, %c] [%h, %k, 1] [1, 1, 1] : memref<5x5x8xi8> to memref<?x?x1xi8, strided<[40, 8, 1], offset: ?>>
      %wk = memref.subview %wc[0, 0, 0] [%h, %k, 1] [1, 1, 1] : memref<3x3x1xi8, strided<[24, 8, 1], offset: ?>> to memref<?x?x1xi8, strided<[24, 8, 1], offset: ?>>
      linalg.generic {indexing_maps = [#in, #in, #scalar, #scalar, #out],
                      iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
          ins(%xc, %wk, %zx, %zw : memref<?x?x1xi8, strided<[40, 8, 1], offset: ?>>,
              memref<?x?x1xi8, strided<[24, 8, 1], offset: ?>>, i32, i32) outs(%acc : memref<1x1x1xi32>) {
      ^bb0(%a: i8, %b: i8, %za: i32, %zb: i32, %o: i32):
        %0 = arith.extsi %a : i8 to i32
        %1 = arith.subi %0, %za : i32
        %2 = arith.extsi %b : i8 to i32
        %3 = arith.subi %2, %zb : i32
        %4 = arith.muli %1, %3 : i32
        %5 = arith.addi %o, %4 : i32
        linalg.yield %5 : i32
      }
    }
    %oc = memref.subview %out[%c] [1] [1] : memref<8xi32> to memref<1xi32, strided<[1], offset: ?>>
    %a3 = memref.collapse_shape %acc [[0, 1, 2]] : memref<1x1x1xi32> into memref<1xi32>
    linalg.copy ins(%a3 : memref<1xi32>) outs(%oc : memref<1xi32, strided<[1], offset: ?>>)
  }
  return
}
