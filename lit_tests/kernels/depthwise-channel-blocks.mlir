// RUN: mlir-fdt-opt %s --split-input-file -p 'fdt-depthwise-channel-blocks' | filecheck %s

// A depthwise layer's channel loop (eight channels, one output position), peeled as
// fdt-peel-padded-windows leaves it: an interior 3x3 window and a border window clipped at run time.
// Blocked by four: each channel initialises its own accumulator (three more allocas) and has its own
// epilogue; one reduction computes the four channels, per tap one word of input (SXTAB16 adding the
// zero point 128 to both halves: 0x800080) and one of weights (SXTB16), four single products
// (SMLABB / SMLATT). The interior's 9 taps are straight-line, the border's a loop nest carrying the
// four sums.
// CHECK-LABEL: func.func @depthwise
// CHECK-COUNT-4: memref.alloca() : memref<1x1x1xi32>
//       CHECK: scf.for %[[C:.+]] = %{{.+}} to %c8 step %c4
// CHECK-COUNT-4: linalg.fill
//       CHECK:   scf.if
//       CHECK:     memref.subview %arg0[%{{.+}}, %{{.+}}, %[[C]]] [3, 3, 4] [1, 1, 1]
//       CHECK:     memref.subview %arg1[0, 0, %[[C]]] [3, 3, 4] [1, 1, 1]
//       CHECK:     arith.constant 8388736 : i32
// CHECK-COUNT-18:  call @fdt_smlabb
//   CHECK-NOT:     call @fdt_smlabb
//       CHECK:   } else {
//       CHECK:     scf.for {{.*}} iter_args({{.*}}) -> (i32, i32, i32, i32)
//       CHECK:       scf.for {{.*}} iter_args({{.*}}) -> (i32, i32, i32, i32)
//       CHECK:         vector.load {{.*}} vector<4xi8>
//       CHECK:         call @fdt_sxtab16(
//       CHECK:         call @fdt_sxtb16(
//       CHECK:         call @fdt_smlabb
//       CHECK:         call @fdt_smlabb
//       CHECK:         call @fdt_smlatt
//       CHECK:         call @fdt_smlatt
//   CHECK-NOT:     linalg.generic {{.*}}reduction
// CHECK-COUNT-4: linalg.copy
#in = affine_map<(d0, d1, d2, d3, d4) -> (d3, d4, d2)>
#scalar = affine_map<(d0, d1, d2, d3, d4) -> ()>
#out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2)>
func.func @depthwise(%x: memref<5x5x8xi8>, %w: memref<3x3x8xi8>, %out: memref<8xi32>, %inside: i1,
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

// -----

// Six channels (not a multiple of four), or a channel that is not the buffer's innermost axis: left alone.
// CHECK-LABEL: func.func @six_channels
//   CHECK-NOT: fdt_smlabb
#in = affine_map<(d0, d1, d2, d3, d4) -> (d3, d4, d2)>
#scalar = affine_map<(d0, d1, d2, d3, d4) -> ()>
#out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2)>
func.func @six_channels(%x: memref<3x3x6xi8>, %w: memref<3x3x6xi8>, %out: memref<6xi32>) {
  %acc = memref.alloca() : memref<1x1x1xi32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c6 = arith.constant 6 : index
  %zx = arith.constant -128 : i32
  %zw = arith.constant 0 : i32
  scf.for %c = %c0 to %c6 step %c1 {
    %wc = memref.subview %w[0, 0, %c] [3, 3, 1] [1, 1, 1] : memref<3x3x6xi8> to memref<3x3x1xi8, strided<[18, 6, 1], offset: ?>>
    %xc = memref.subview %x[0, 0, %c] [3, 3, 1] [1, 1, 1] : memref<3x3x6xi8> to memref<3x3x1xi8, strided<[18, 6, 1], offset: ?>>
    linalg.generic {indexing_maps = [#in, #in, #scalar, #scalar, #out],
                    iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
        ins(%xc, %wc, %zx, %zw : memref<3x3x1xi8, strided<[18, 6, 1], offset: ?>>,
            memref<3x3x1xi8, strided<[18, 6, 1], offset: ?>>, i32, i32) outs(%acc : memref<1x1x1xi32>) {
    ^bb0(%a: i8, %b: i8, %za: i32, %zb: i32, %o: i32):
      %0 = arith.extsi %a : i8 to i32
      %1 = arith.subi %0, %za : i32
      %2 = arith.extsi %b : i8 to i32
      %3 = arith.subi %2, %zb : i32
      %4 = arith.muli %1, %3 : i32
      %5 = arith.addi %o, %4 : i32
      linalg.yield %5 : i32
    }
    %oc = memref.subview %out[%c] [1] [1] : memref<6xi32> to memref<1xi32, strided<[1], offset: ?>>
    %a3 = memref.collapse_shape %acc [[0, 1, 2]] : memref<1x1x1xi32> into memref<1xi32>
    linalg.copy ins(%a3 : memref<1xi32>) outs(%oc : memref<1xi32, strided<[1], offset: ?>>)
  }
  return
}
