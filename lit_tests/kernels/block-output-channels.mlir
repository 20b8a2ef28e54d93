// RUN: mlir-fdt-opt %s --split-input-file -p 'fdt-dot-product-kernels,fdt-block-output-channels' | filecheck %s

// Eight output channels of a dense layer (64 inputs): the channel loop steps by two; each channel of a
// pair initialises its own accumulator (a second alloca), then one loop of 16 MACs an iteration carries
// both sums (the input word of each step is loaded for both: LLVM keeps one copy), then both epilogues.
// CHECK-LABEL: func.func @pairs
//       CHECK: %[[B:.+]] = memref.alloca() : memref<1xi32>
//       CHECK: %[[A:.+]] = memref.alloca() : memref<1xi32>
//       CHECK: scf.for %[[C:.+]] = %{{.+}} to %c8 step %c2
//       CHECK:   linalg.copy {{.*}} outs(%[[A]]
//       CHECK:   %[[NEXT:.+]] = arith.addi %[[C]], %c1
//       CHECK:   memref.subview %arg1[%[[NEXT]], 0]
//       CHECK:   linalg.copy {{.*}} outs(%[[B]]
//       CHECK:   memref.load %[[A]]
//       CHECK:   memref.load %[[B]]
//       CHECK:   scf.for {{.*}} step %c16 iter_args({{.*}}) -> (i32, i32)
// CHECK-COUNT-16:  call @fdt_smlad
//   CHECK-NOT:     call @fdt_smlad
//       CHECK:     scf.yield {{.*}} : i32, i32
//       CHECK:   memref.store {{.*}}, %[[A]]
//       CHECK:   memref.store {{.*}}, %[[B]]
//       CHECK:   linalg.copy ins(%[[A]]
//       CHECK:   linalg.copy ins(%[[B]]
func.func @pairs(%x: memref<64xi8>, %w: memref<8x64xi8>, %b: memref<8xi32>, %out: memref<8xi32>) {
  %acc = memref.alloca() : memref<1xi32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zx = arith.constant -128 : i32
  scf.for %c = %c0 to %c8 step %c1 {
    %wc = memref.subview %w[%c, 0] [1, 64] [1, 1] : memref<8x64xi8> to memref<64xi8, strided<[1], offset: ?>>
    %bc = memref.subview %b[%c] [1] [1] : memref<8xi32> to memref<1xi32, strided<[1], offset: ?>>
    linalg.copy ins(%bc : memref<1xi32, strided<[1], offset: ?>>) outs(%acc : memref<1xi32>)
    linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d1)>,
                                     affine_map<(d0, d1) -> ()>, affine_map<(d0, d1) -> (d0)>],
                    iterator_types = ["parallel", "reduction"]}
        ins(%x, %wc, %zx : memref<64xi8>, memref<64xi8, strided<[1], offset: ?>>, i32) outs(%acc : memref<1xi32>) {
    ^bb0(%a: i8, %bw: i8, %za: i32, %o: i32):
      %0 = arith.extsi %a : i8 to i32
      %1 = arith.subi %0, %za : i32
      %2 = arith.extsi %bw : i8 to i32
      %3 = arith.muli %1, %2 : i32
      %4 = arith.addi %o, %3 : i32
      linalg.yield %4 : i32
    }
    %oc = memref.subview %out[%c] [1] [1] : memref<8xi32> to memref<1xi32, strided<[1], offset: ?>>
    linalg.copy ins(%acc : memref<1xi32>) outs(%oc : memref<1xi32, strided<[1], offset: ?>>)
  }
  return
}

// -----

// Seven channels: an odd trip count is left alone (one channel an iteration, one accumulator, the row
// in straight line as for any row of up to 64 MACs).
// CHECK-LABEL: func.func @odd
//       CHECK: memref.alloca()
//   CHECK-NOT: memref.alloca()
//       CHECK: scf.for {{.*}} to %c7 step %c1
//   CHECK-NOT: iter_args
func.func @odd(%x: memref<64xi8>, %w: memref<7x64xi8>, %b: memref<7xi32>, %out: memref<7xi32>) {
  %acc = memref.alloca() : memref<1xi32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c7 = arith.constant 7 : index
  %zx = arith.constant -128 : i32
  scf.for %c = %c0 to %c7 step %c1 {
    %wc = memref.subview %w[%c, 0] [1, 64] [1, 1] : memref<7x64xi8> to memref<64xi8, strided<[1], offset: ?>>
    %bc = memref.subview %b[%c] [1] [1] : memref<7xi32> to memref<1xi32, strided<[1], offset: ?>>
    linalg.copy ins(%bc : memref<1xi32, strided<[1], offset: ?>>) outs(%acc : memref<1xi32>)
    linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d1)>,
                                     affine_map<(d0, d1) -> ()>, affine_map<(d0, d1) -> (d0)>],
                    iterator_types = ["parallel", "reduction"]}
        ins(%x, %wc, %zx : memref<64xi8>, memref<64xi8, strided<[1], offset: ?>>, i32) outs(%acc : memref<1xi32>) {
    ^bb0(%a: i8, %bw: i8, %za: i32, %o: i32):
      %0 = arith.extsi %a : i8 to i32
      %1 = arith.subi %0, %za : i32
      %2 = arith.extsi %bw : i8 to i32
      %3 = arith.muli %1, %2 : i32
      %4 = arith.addi %o, %3 : i32
      linalg.yield %4 : i32
    }
    %oc = memref.subview %out[%c] [1] [1] : memref<7xi32> to memref<1xi32, strided<[1], offset: ?>>
    linalg.copy ins(%acc : memref<1xi32>) outs(%oc : memref<1xi32, strided<[1], offset: ?>>)
  }
  return
}
