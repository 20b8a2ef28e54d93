// RUN: mlir-fdt-opt %s --split-input-file -p 'fdt-unswitch-window-tests' | filecheck %s

// A peeled 3-row window over 16 channels, tested inside the loop over 4 output channels: the test
// (computed from the output row only) moves before the channel loop, which is copied into both
// branches; each copy holds one side of the test.
// CHECK-LABEL: func.func @window
//       CHECK: scf.for %[[P:.+]] = %c0 to %c4 step %c1 {
//       CHECK:   %[[START:.+]] = arith.addi %[[P]], %c-1
//       CHECK:   %[[INSIDE:.+]] = arith.andi
//   CHECK-NOT:   scf.for
//       CHECK:   scf.if %[[INSIDE]] {
//       CHECK:     scf.for %{{.+}} = %c0 to %c4 step %c1 {
//       CHECK:       linalg.fill
//       CHECK:       linalg.generic
//       CHECK:       linalg.copy
//       CHECK:   } else {
//       CHECK:     scf.for %{{.+}} = %c0 to %c4 step %c1 {
//       CHECK:       linalg.fill
//   CHECK-NOT:       linalg.generic
//       CHECK:       linalg.copy
func.func @window(%x: memref<6x16xi8>, %w: memref<4x3x16xi8>, %out: memref<4x4xi32>) {
  %acc = memref.alloca() : memref<1xi32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c6 = arith.constant 6 : index
  %cm1 = arith.constant -1 : index
  %zero = arith.constant 0 : i32
  scf.for %p = %c0 to %c4 step %c1 {
    scf.for %c = %c0 to %c4 step %c1 {
      %start = arith.addi %p, %cm1 : index
      %lo = arith.cmpi sge, %start, %c0 : index
      %end = arith.addi %start, %c3 : index
      %hi = arith.cmpi sle, %end, %c6 : index
      %inside = arith.andi %lo, %hi : i1
      linalg.fill ins(%zero : i32) outs(%acc : memref<1xi32>)
      scf.if %inside {
        %xs = memref.subview %x[%start, 0] [3, 16] [1, 1] : memref<6x16xi8> to memref<3x16xi8, strided<[16, 1], offset: ?>>
        %ws = memref.subview %w[%c, 0, 0] [1, 3, 16] [1, 1, 1] : memref<4x3x16xi8> to memref<3x16xi8, strided<[16, 1], offset: ?>>
        linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>,
                                         affine_map<(d0, d1, d2) -> (d0)>],
                        iterator_types = ["parallel", "reduction", "reduction"]}
            ins(%xs, %ws : memref<3x16xi8, strided<[16, 1], offset: ?>>, memref<3x16xi8, strided<[16, 1], offset: ?>>)
            outs(%acc : memref<1xi32>) {
        ^bb0(%a: i8, %b: i8, %o: i32):
          %0 = arith.extsi %a : i8 to i32
          %1 = arith.extsi %b : i8 to i32
          %2 = arith.muli %0, %1 : i32
          %3 = arith.addi %o, %2 : i32
          linalg.yield %3 : i32
        }
      }
      %oc = memref.subview %out[%p, %c] [1, 1] [1, 1] : memref<4x4xi32> to memref<1xi32, strided<[1], offset: ?>>
      linalg.copy ins(%acc : memref<1xi32>) outs(%oc : memref<1xi32, strided<[1], offset: ?>>)
    }
  }
  return
}

// -----

// A test that depends on the channel itself stays where it is.
// CHECK-LABEL: func.func @per_channel
//       CHECK: scf.for
//       CHECK:   scf.for
//       CHECK:     scf.if
func.func @per_channel(%x: memref<4x16xi8>, %w: memref<16xi8>, %acc: memref<1xi32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  scf.for %p = %c0 to %c4 step %c1 {
    scf.for %c = %c0 to %c4 step %c1 {
      %odd = arith.cmpi slt, %c, %c2 : index
      scf.if %odd {
        %xs = memref.subview %x[%c, 0] [1, 16] [1, 1] : memref<4x16xi8> to memref<16xi8, strided<[1], offset: ?>>
        linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d1)>,
                                         affine_map<(d0, d1) -> (d0)>],
                        iterator_types = ["parallel", "reduction"]}
            ins(%xs, %w : memref<16xi8, strided<[1], offset: ?>>, memref<16xi8>) outs(%acc : memref<1xi32>) {
        ^bb0(%a: i8, %b: i8, %o: i32):
          %0 = arith.extsi %a : i8 to i32
          %1 = arith.extsi %b : i8 to i32
          %2 = arith.muli %0, %1 : i32
          %3 = arith.addi %o, %2 : i32
          linalg.yield %3 : i32
        }
      }
    }
  }
  return
}
