// RUN: mlir-fdt-opt %s --split-input-file -p 'fdt-pad-border-windows' | filecheck %s

// An unswitched window test of a one-channel 3x4 window (input zero point 5): the interior reads
// whole rows of 4 (SIMD32 words), the border its window clipped to the input (rows of run-time length:
// scalar). The border becomes: a 3x4 buffer (in the entry block: stack, not arena) filled with the
// zero point, the part of the window inside the input copied in, and the interior's loop on the buffer.
// CHECK-LABEL: func.func @border
//       CHECK: %[[BUF:.+]] = memref.alloca() : memref<3x4xi8>
//       CHECK: scf.if
//       CHECK:   linalg.generic {{.*}} ins(%{{.+}}, %{{.+}}, %{{.+}} : memref<3x4xi8, strided<[4, 1], offset: ?>>, i32, memref<3x4xi8, strided<[6, 1], offset: ?>>)
//       CHECK: } else {
//       CHECK:   linalg.fill ins(%c5_i8 : i8) outs(%[[BUF]] : memref<3x4xi8>)
//       CHECK:   %[[IN:.+]] = memref.subview %arg0
//       CHECK:   %[[PART:.+]] = memref.subview %[[BUF]]
//       CHECK:   linalg.copy {{.*}} ins(%[[IN]] {{.*}} outs(%[[PART]]
//       CHECK:   scf.for
//       CHECK:     linalg.generic {{.*}} ins(%{{.+}}, %{{.+}}, %[[BUF]] : memref<3x4xi8, strided<[4, 1], offset: ?>>, i32, memref<3x4xi8>)
//   CHECK-NOT:     memref<?x?xi8
#row = affine_map<(d0, d1, d2) -> (d1, d2)>
#scalar = affine_map<(d0, d1, d2) -> ()>
#out = affine_map<(d0, d1, d2) -> (d0)>
func.func @border(%x: memref<8x6xi8>, %w: memref<4x3x4xi8>, %out: memref<4xi32>, %r: index, %s: index,
                  %inside: i1, %r0: index, %s0: index, %h: index, %k: index, %h0: index, %k0: index) {
  %acc = memref.alloca() : memref<1xi32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zx = arith.constant 5 : i32
  %zero = arith.constant 0 : i32
  scf.if %inside {
    scf.for %c = %c0 to %c4 step %c1 {
      linalg.fill ins(%zero : i32) outs(%acc : memref<1xi32>)
      %ws = memref.subview %w[%c, 0, 0] [1, 3, 4] [1, 1, 1] : memref<4x3x4xi8> to memref<3x4xi8, strided<[4, 1], offset: ?>>
      %xs = memref.subview %x[%r, %s] [3, 4] [1, 1] : memref<8x6xi8> to memref<3x4xi8, strided<[6, 1], offset: ?>>
      linalg.generic {indexing_maps = [#row, #scalar, #row, #out], iterator_types = ["parallel", "reduction", "reduction"]}
          ins(%ws, %zx, %xs : memref<3x4xi8, strided<[4, 1], offset: ?>>, i32, memref<3x4xi8, strided<[6, 1], offset: ?>>)
          outs(%acc : memref<1xi32>) {
      ^bb0(%b: i8, %za: i32, %a: i8, %o: i32):
        %0 = arith.extsi %a : i8 to i32
        %1 = arith.subi %0, %za : i32
        %2 = arith.extsi %b : i8 to i32
        %3 = arith.muli %1, %2 : i32
        %4 = arith.addi %o, %3 : i32
        linalg.yield %4 : i32
      }
      %oc = memref.subview %out[%c] [1] [1] : memref<4xi32> to memref<1xi32, strided<[1], offset: ?>>
      linalg.copy ins(%acc : memref<1xi32>) outs(%oc : memref<1xi32, strided<[1], offset: ?>>)
    }
  } else {
    scf.for %c = %c0 to %c4 step %c1 {
      linalg.fill ins(%zero : i32) outs(%acc : memref<1xi32>)
      %ws = memref.subview %w[%c, %h0, %k0] [1, %h, %k] [1, 1, 1] : memref<4x3x4xi8> to memref<?x?xi8, strided<[4, 1], offset: ?>>
      %xs = memref.subview %x[%r0, %s0] [%h, %k] [1, 1] : memref<8x6xi8> to memref<?x?xi8, strided<[6, 1], offset: ?>>
      linalg.generic {indexing_maps = [#row, #scalar, #row, #out], iterator_types = ["parallel", "reduction", "reduction"]}
          ins(%ws, %zx, %xs : memref<?x?xi8, strided<[4, 1], offset: ?>>, i32, memref<?x?xi8, strided<[6, 1], offset: ?>>)
          outs(%acc : memref<1xi32>) {
      ^bb0(%b: i8, %za: i32, %a: i8, %o: i32):
        %0 = arith.extsi %a : i8 to i32
        %1 = arith.subi %0, %za : i32
        %2 = arith.extsi %b : i8 to i32
        %3 = arith.muli %1, %2 : i32
        %4 = arith.addi %o, %3 : i32
        linalg.yield %4 : i32
      }
      %oc = memref.subview %out[%c] [1] [1] : memref<4xi32> to memref<1xi32, strided<[1], offset: ?>>
      linalg.copy ins(%acc : memref<1xi32>) outs(%oc : memref<1xi32, strided<[1], offset: ?>>)
    }
  }
  return
}
