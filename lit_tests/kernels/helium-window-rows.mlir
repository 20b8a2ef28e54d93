// RUN: mlir-fdt-opt %s --split-input-file -p 'fdt-helium-window-rows' | filecheck %s

// kws_int8's first layer at one output position: 64 output channels over a 10x4 window of one input
// channel (rows of 4). The window is copied once, before the channel loop, into a 40-byte stack buffer,
// and each channel's dot product reads the buffer and its weights as one row of 40.
// CHECK-LABEL: func.func @first_layer
//       CHECK: %[[BUF:.+]] = memref.alloca() : memref<10x4xi8>
//       CHECK: %[[WIN:.+]] = memref.subview %arg0[%arg3, %arg4] [10, 4] [1, 1]
//       CHECK: linalg.copy {{.*}} ins(%[[WIN]] {{.*}} outs(%[[BUF]] : memref<10x4xi8>)
//       CHECK: scf.for
//       CHECK:   memref.collapse_shape {{.*}} into memref<1x40xi8, strided<[40, 1], offset: ?>>
//       CHECK:   memref.collapse_shape %[[BUF]] {{\[}}[0, 1]] : memref<10x4xi8> into memref<40xi8>
//       CHECK:   linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]
#w = affine_map<(d0, d1, d2, d3, d4) -> (d2, d3, d4)>
#s = affine_map<(d0, d1, d2, d3, d4) -> ()>
#x = affine_map<(d0, d1, d2, d3, d4) -> (d3, d4)>
#o = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2)>
func.func @first_layer(%x: memref<49x10xi8>, %w: memref<64x10x4xi8>, %acc: memref<1x1x1xi32>, %r: index, %c: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %zx = arith.constant 83 : i32
  %zw = arith.constant 0 : i32
  scf.for %f = %c0 to %c64 step %c1 {
    %wf = memref.subview %w[%f, 0, 0] [1, 10, 4] [1, 1, 1] : memref<64x10x4xi8> to memref<1x10x4xi8, strided<[40, 4, 1], offset: ?>>
    %win = memref.subview %x[%r, %c] [10, 4] [1, 1] : memref<49x10xi8> to memref<10x4xi8, strided<[10, 1], offset: ?>>
    linalg.generic {indexing_maps = [#w, #s, #s, #x, #o],
                    iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
        ins(%wf, %zx, %zw, %win : memref<1x10x4xi8, strided<[40, 4, 1], offset: ?>>, i32, i32,
            memref<10x4xi8, strided<[10, 1], offset: ?>>) outs(%acc : memref<1x1x1xi32>) {
    ^bb0(%b: i8, %za: i32, %zb: i32, %a: i8, %out: i32):
      %0 = arith.extsi %a : i8 to i32
      %1 = arith.subi %0, %za : i32
      %2 = arith.extsi %b : i8 to i32
      %3 = arith.subi %2, %zb : i32
      %4 = arith.muli %1, %3 : i32
      %5 = arith.addi %out, %4 : i32
      linalg.yield %5 : i32
    }
  }
  return
}

// -----

// Rows of 8 or more (a 3x3 window over 16 channels): already Helium rows, left alone.
// CHECK-LABEL: func.func @wide_rows
//   CHECK-NOT: memref.alloca
//   CHECK-NOT: linalg.copy
#w = affine_map<(d0, d1, d2, d3, d4) -> (d2, d3, d4)>
#s = affine_map<(d0, d1, d2, d3, d4) -> ()>
#x = affine_map<(d0, d1, d2, d3, d4) -> (d3, d4)>
#o = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2)>
func.func @wide_rows(%x: memref<10x160xi8>, %w: memref<8x3x48xi8>, %acc: memref<1x1x1xi32>, %r: index, %c: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zx = arith.constant 83 : i32
  %zw = arith.constant 0 : i32
  scf.for %f = %c0 to %c8 step %c1 {
    %wf = memref.subview %w[%f, 0, 0] [1, 3, 48] [1, 1, 1] : memref<8x3x48xi8> to memref<1x3x48xi8, strided<[144, 48, 1], offset: ?>>
    %win = memref.subview %x[%r, %c] [3, 48] [1, 1] : memref<10x160xi8> to memref<3x48xi8, strided<[160, 1], offset: ?>>
    linalg.generic {indexing_maps = [#w, #s, #s, #x, #o],
                    iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
        ins(%wf, %zx, %zw, %win : memref<1x3x48xi8, strided<[144, 48, 1], offset: ?>>, i32, i32,
            memref<3x48xi8, strided<[160, 1], offset: ?>>) outs(%acc : memref<1x1x1xi32>) {
    ^bb0(%b: i8, %za: i32, %zb: i32, %a: i8, %out: i32):
      %0 = arith.extsi %a : i8 to i32
      %1 = arith.subi %0, %za : i32
      %2 = arith.extsi %b : i8 to i32
      %3 = arith.subi %2, %zb : i32
      %4 = arith.muli %1, %3 : i32
      %5 = arith.addi %out, %4 : i32
      linalg.yield %5 : i32
    }
  }
  return
}
