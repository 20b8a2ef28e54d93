// RUN: mlir-fdt-opt %s --split-input-file -p 'fdt-peel-padded-windows' | filecheck %s

// One output element of a 1-D convolution (kernel 3, padding 1) at position %pos, reading its input
// through a clamped index and a select of the padding value. Peeled: when the window [pos-1, pos+1]
// lies inside the input (pos-1 >= 0 and pos+1 < 8), a copy reads a 3-element subview with no compare,
// clamp or select; the original handles the border.
// CHECK-LABEL: func.func @conv1d
//       CHECK: %[[BASE:.+]] = arith.addi %{{.+}}, %arg3 : index
//       CHECK: arith.cmpi sge, %[[BASE]]
//       CHECK: arith.cmpi slt
//       CHECK: scf.if
//       CHECK:   %[[WIN:.+]] = memref.subview %arg0[%[[BASE]]] [3] [1]
//       CHECK:   linalg.generic {{.+}} ins(%arg1, %[[WIN]] :
//   CHECK-NOT:     arith.select
//   CHECK-NOT:     arith.minsi
//       CHECK:     arith.muli
// The border: the padding is the input zero point, so padded taps add nothing; the same copy runs on
// the window clipped to the input, taps [max(0, 1-pos), min(3, 9-pos)), and on the matching weights.
//       CHECK: } else {
//       CHECK:   %[[LO:.+]] = arith.maxsi
//       CHECK:   %[[N:.+]] = arith.maxsi
//       CHECK:   %[[CLIP:.+]] = memref.subview %arg0[%{{.+}}] [%[[N]]] [1]
//       CHECK:   %[[W:.+]] = memref.subview %arg1[%[[LO]]] [%[[N]]] [1]
//       CHECK:   linalg.generic {{.+}} ins(%[[W]], %[[CLIP]] :
//   CHECK-NOT:     arith.select
func.func @conv1d(%src: memref<8xi8>, %w: memref<3xi8>, %acc: memref<i32>, %pos: index) {
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>],
                  iterator_types = ["reduction"]}
      ins(%w : memref<3xi8>) outs(%acc : memref<i32>) {
  ^bb0(%b: i8, %out: i32):
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c7 = arith.constant 7 : index
    %pad = arith.constant -128 : i8
    %zp = arith.constant -128 : i32
    %d = linalg.index 0 : index
    %i = arith.addi %pos, %d : index
    %s = arith.subi %i, %c1 : index
    %ge = arith.cmpi sge, %s, %c0 : index
    %le = arith.cmpi sle, %s, %c7 : index
    %ok = arith.andi %ge, %le : i1
    %lo = arith.maxsi %s, %c0 : index
    %cl = arith.minsi %lo, %c7 : index
    %v = memref.load %src[%cl] : memref<8xi8>
    %x = arith.select %ok, %v, %pad : i8
    %0 = arith.extsi %x : i8 to i32
    %1 = arith.subi %0, %zp : i32
    %2 = arith.extsi %b : i8 to i32
    %3 = arith.muli %1, %2 : i32
    %4 = arith.addi %out, %3 : i32
    linalg.yield %4 : i32
  }
  return
}

// -----

// Padding 0 with input zero point -128: padded taps do contribute, so the border keeps the bounds checks.
// CHECK-LABEL: func.func @conv1d_nonzero_padding
//       CHECK: scf.if
//       CHECK: } else {
//       CHECK:   linalg.generic
//       CHECK:     arith.minsi
//       CHECK:     arith.select
func.func @conv1d_nonzero_padding(%src: memref<8xi8>, %w: memref<3xi8>, %acc: memref<i32>, %pos: index) {
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>],
                  iterator_types = ["reduction"]}
      ins(%w : memref<3xi8>) outs(%acc : memref<i32>) {
  ^bb0(%b: i8, %out: i32):
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c7 = arith.constant 7 : index
    %pad = arith.constant 0 : i8
    %zp = arith.constant -128 : i32
    %d = linalg.index 0 : index
    %i = arith.addi %pos, %d : index
    %s = arith.subi %i, %c1 : index
    %ge = arith.cmpi sge, %s, %c0 : index
    %le = arith.cmpi sle, %s, %c7 : index
    %ok = arith.andi %ge, %le : i1
    %lo = arith.maxsi %s, %c0 : index
    %cl = arith.minsi %lo, %c7 : index
    %v = memref.load %src[%cl] : memref<8xi8>
    %x = arith.select %ok, %v, %pad : i8
    %0 = arith.extsi %x : i8 to i32
    %1 = arith.subi %0, %zp : i32
    %2 = arith.extsi %b : i8 to i32
    %3 = arith.muli %1, %2 : i32
    %4 = arith.addi %out, %3 : i32
    linalg.yield %4 : i32
  }
  return
}

// -----

// No padded read: nothing to peel.
// CHECK-LABEL: func.func @plain
//   CHECK-NOT: scf.if
func.func @plain(%x: memref<4xi8>, %acc: memref<i32>) {
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>],
                  iterator_types = ["reduction"]}
      ins(%x : memref<4xi8>) outs(%acc : memref<i32>) {
  ^bb0(%a: i8, %out: i32):
    %0 = arith.extsi %a : i8 to i32
    %1 = arith.addi %out, %0 : i32
    linalg.yield %1 : i32
  }
  return
}
