// RUN: mlir-fdt-opt %s --split-input-file -p 'fdt-dot-product-kernels' | filecheck %s

// One output element of a 1x1 convolution (128 input channels, input zero point -128): the reduction
// becomes a loop of 16 MACs an iteration: four steps of four-byte loads and two SMLADs, the activation pairs offset by +128 in each half
// (0x00800080 = 8388736), the weights (zero point 0) only sign-extended.
//       CHECK: func.func private @fdt_smlad
//       CHECK: func.func private @fdt_sxtab16
//       CHECK: func.func private @fdt_sxtb16
// CHECK-LABEL: func.func @pointwise
//   CHECK-NOT: linalg.generic
//       CHECK: %[[ACC:.+]] = memref.load %arg2
//       CHECK: scf.for %{{.+}} = %{{.+}} to %c128{{.*}} step %c16{{.*}} iter_args
//       CHECK:   vector.load %arg0{{.*}} vector<4xi8>
//       CHECK:   call @fdt_sxtab16(%c8388736_i32
//       CHECK:   vector.load %arg1{{.*}} vector<4xi8>
//       CHECK:   call @fdt_sxtb16
//       CHECK:   call @fdt_smlad
//       CHECK:   call @fdt_smlad
// CHECK-COUNT-6:   call @fdt_smlad
//       CHECK: memref.store
func.func @pointwise(%x: memref<128xi8>, %w: memref<128xi8>, %acc: memref<1xi32>) {
  %zx = arith.constant -128 : i32
  %zw = arith.constant 0 : i32
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d1)>,
                                   affine_map<(d0, d1) -> ()>, affine_map<(d0, d1) -> ()>,
                                   affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x, %w, %zx, %zw : memref<128xi8>, memref<128xi8>, i32, i32) outs(%acc : memref<1xi32>) {
  ^bb0(%a: i8, %b: i8, %za: i32, %zb: i32, %out: i32):
    %0 = arith.extsi %a : i8 to i32
    %1 = arith.subi %0, %za : i32
    %2 = arith.extsi %b : i8 to i32
    %3 = arith.subi %2, %zb : i32
    %4 = arith.muli %1, %3 : i32
    %5 = arith.addi %out, %4 : i32
    linalg.yield %5 : i32
  }
  return
}

// -----

// Six input channels: a short row is emitted in straight line (no loop): one SIMD32 step of four, then
// two scalar MACs for the last two.
// CHECK-LABEL: func.func @tail
//   CHECK-NOT: scf.for
//       CHECK: vector.load %arg0[%c0{{.*}}] : memref<6xi8>, vector<4xi8>
//       CHECK: call @fdt_smlad
//       CHECK: call @fdt_smlad
//       CHECK: memref.load %arg0[%c4{{.*}}]
//       CHECK: arith.muli
//       CHECK: memref.load %arg0[%c5{{.*}}]
//       CHECK: arith.muli
//   CHECK-NOT: scf.for
func.func @tail(%x: memref<6xi8>, %w: memref<6xi8>, %acc: memref<i32>) {
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>],
                  iterator_types = ["reduction"]}
      ins(%x, %w : memref<6xi8>, memref<6xi8>) outs(%acc : memref<i32>) {
  ^bb0(%a: i8, %b: i8, %out: i32):
    %0 = arith.extsi %a : i8 to i32
    %1 = arith.extsi %b : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %out, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

// Weights read with a stride (the innermost reduction loop is not their innermost axis): no SIMD32, but
// the 8-MAC window of each output element is emitted in straight line (the depthwise 3x3 case).
// CHECK-LABEL: func.func @strided_weights
//       CHECK: scf.for
// CHECK-COUNT-8: arith.muli
//   CHECK-NOT: fdt_smlad
func.func @strided_weights(%x: memref<8xi8>, %w: memref<8x2xi8>, %acc: memref<2xi32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d1, d0)>,
                                   affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x, %w : memref<8xi8>, memref<8x2xi8>) outs(%acc : memref<2xi32>) {
  ^bb0(%a: i8, %b: i8, %out: i32):
    %0 = arith.extsi %a : i8 to i32
    %1 = arith.extsi %b : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %out, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

// A strided window of 32 MACs is too long to unroll: left alone.
// CHECK-LABEL: func.func @long_strided
//       CHECK: linalg.generic
func.func @long_strided(%x: memref<32xi8>, %w: memref<32x2xi8>, %acc: memref<2xi32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d1, d0)>,
                                   affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x, %w : memref<32xi8>, memref<32x2xi8>) outs(%acc : memref<2xi32>) {
  ^bb0(%a: i8, %b: i8, %out: i32):
    %0 = arith.extsi %a : i8 to i32
    %1 = arith.extsi %b : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %out, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

// Float reductions are not SIMD32 dot products: left alone.
// CHECK-LABEL: func.func @float
//       CHECK: linalg.generic
//   CHECK-NOT: fdt_smlad
func.func @float(%x: memref<8xf32>, %w: memref<8xf32>, %acc: memref<f32>) {
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>],
                  iterator_types = ["reduction"]}
      ins(%x, %w : memref<8xf32>, memref<8xf32>) outs(%acc : memref<f32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  }
  return
}
