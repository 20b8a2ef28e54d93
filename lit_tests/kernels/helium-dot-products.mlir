// RUN: mlir-fdt-opt %s --split-input-file -p 'fdt-helium-dot-products' | filecheck %s

// One output element of a 1x1 convolution (28 input channels, input zero point -128, so x + 128): one
// Helium step of 16 (vector<16xi8> of each operand, widened, multiplied, summed into the accumulator),
// a half step of 8, and the last 4 as one SIMD32 step. The zero point is not added per element: the
// weights' plain sum is carried (a second reduction of the same loads) and 128 times it is added once.
//       CHECK: func.func private @fdt_smlad
// CHECK-LABEL: func.func @pointwise
//   CHECK-NOT: linalg.generic
//       CHECK: %[[ACC:.+]] = memref.load %arg2
//       CHECK: %[[X:.+]] = vector.load %arg0[%{{.+}}] : memref<28xi8>, vector<16xi8>
//       CHECK: %[[W:.+]] = vector.load %arg1[%{{.+}}] : memref<28xi8>, vector<16xi8>
//       CHECK: %[[P:.+]] = arith.muli {{.*}} : vector<16xi32>
//       CHECK: vector.reduction <add>, %[[P]], %[[ACC]] : vector<16xi32> into i32
//       CHECK: vector.reduction <add>, %{{.+}}, %{{.+}} : vector<16xi32> into i32
//       CHECK: vector.load %arg0[%{{.+}}] : memref<28xi8>, vector<8xi8>
//       CHECK: vector.reduction <add>, %{{.+}}, %{{.+}} : vector<8xi32> into i32
//       CHECK: arith.muli %{{.+}}, %c128_i32
//       CHECK: vector.load %arg0[%{{.+}}] : memref<28xi8>, vector<4xi8>
//       CHECK: call @fdt_smlad
//       CHECK: memref.store
func.func @pointwise(%x: memref<28xi8>, %w: memref<28xi8>, %acc: memref<1xi32>) {
  %zx = arith.constant -128 : i32
  %zw = arith.constant 0 : i32
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d1)>,
                                   affine_map<(d0, d1) -> ()>, affine_map<(d0, d1) -> ()>,
                                   affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x, %w, %zx, %zw : memref<28xi8>, memref<28xi8>, i32, i32) outs(%acc : memref<1xi32>) {
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

// A long row (256 channels): a loop of Helium steps carrying the sum and the weights' sum.
// CHECK-LABEL: func.func @long_row
//       CHECK: scf.for %{{.+}} = %{{.+}} to %c256{{.*}} step %c16{{.*}} iter_args({{.*}}) -> (i32, i32, i32)
//       CHECK:   vector<16xi8>
func.func @long_row(%x: memref<256xi8>, %w: memref<256xi8>, %acc: memref<1xi32>) {
  %zx = arith.constant -128 : i32
  %zw = arith.constant 0 : i32
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d1)>,
                                   affine_map<(d0, d1) -> ()>, affine_map<(d0, d1) -> ()>,
                                   affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x, %w, %zx, %zw : memref<256xi8>, memref<256xi8>, i32, i32) outs(%acc : memref<1xi32>) {
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

// Six input channels: under a half step, left to the SIMD32 kernels.
// CHECK-LABEL: func.func @short_row
//       CHECK: linalg.generic
func.func @short_row(%x: memref<6xi8>, %w: memref<6xi8>, %acc: memref<1xi32>) {
  %zx = arith.constant -128 : i32
  %zw = arith.constant 0 : i32
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d1)>,
                                   affine_map<(d0, d1) -> ()>, affine_map<(d0, d1) -> ()>,
                                   affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x, %w, %zx, %zw : memref<6xi8>, memref<6xi8>, i32, i32) outs(%acc : memref<1xi32>) {
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

// Constant weights (a global, read through a subview per output channel) and rows of 4 steps: the weights'
// row sums come from a table computed at compile time (a private global beside the weights), so the steps
// carry no second sum; 128 times the channel's entry is added once.
//       CHECK: memref.global "private" constant @w_rowsum_0_64 : memref<2xi32> = dense<[64, -64]>
// CHECK-LABEL: func.func @folded_row_sums
//       CHECK: %[[T:.+]] = memref.get_global @w_rowsum_0_64 : memref<2xi32>
//       CHECK: %[[S:.+]] = memref.load %[[T]]
//       CHECK: scf.for {{.*}} iter_args({{.*}}) -> (i32, i32, i32)
//       CHECK:   vector.reduction <add>
//   CHECK-NOT:   vector.reduction <add>
//       CHECK:   scf.yield
//       CHECK: arith.muli %[[S]], %c128_i32
memref.global "private" constant @w : memref<2x64xi8> = dense<[[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1]]>
func.func @folded_row_sums(%x: memref<64xi8>, %acc: memref<1xi32>, %f: index) {
  %zx = arith.constant -128 : i32
  %zw = arith.constant 0 : i32
  %g = memref.get_global @w : memref<2x64xi8>
  %wf = memref.subview %g[%f, 0] [1, 64] [1, 1] : memref<2x64xi8> to memref<1x64xi8, strided<[64, 1], offset: ?>>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>,
                                   affine_map<(d0, d1) -> ()>, affine_map<(d0, d1) -> ()>,
                                   affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x, %wf, %zx, %zw : memref<64xi8>, memref<1x64xi8, strided<[64, 1], offset: ?>>, i32, i32)
      outs(%acc : memref<1xi32>) {
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
