// RUN: mlir-fdt-opt %s --split-input-file -p 'fdt-pool-windows' | filecheck %s

// A 2x2 max pool's output tile (one pixel, two channels): the element is loaded once, the four taps are
// combined in a register in the window's row-major order, and it is stored once.
// CHECK-LABEL: func.func @max_pool_2x2
//       CHECK: scf.for
//       CHECK:   %[[ACC:.*]] = memref.load %arg1
//       CHECK:   %[[T0:.*]] = memref.load %arg0
//  CHECK-NEXT:   %[[M0:.*]] = arith.maxsi %[[ACC]], %[[T0]] : i8
//       CHECK:   arith.maxsi %[[M0]]
//       CHECK:   arith.maxsi
//       CHECK:   %[[M3:.*]] = arith.maxsi
//  CHECK-NEXT:   memref.store %[[M3]], %arg1
//   CHECK-NOT: linalg.generic
#in = affine_map<(d0, d1, d2, d3) -> (d2, d3, d0)>
#window = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#out = affine_map<(d0, d1, d2, d3) -> (d1, d0)>
func.func @max_pool_2x2(%x: memref<2x2x2xi8, strided<[80, 2, 1], offset: ?>>, %y: memref<1x2xi8>) {
  %w = memref.alloc() : memref<2x2xi8>
  linalg.generic {indexing_maps = [#in, #window, #out],
                  iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<2x2x2xi8, strided<[80, 2, 1], offset: ?>>, memref<2x2xi8>) outs(%y : memref<1x2xi8>) {
  ^bb0(%a: i8, %b: i8, %o: i8):
    %0 = arith.maxsi %o, %a : i8
    linalg.yield %0 : i8
  }
  return
}

// -----

// A global pool (25x5 taps) is above the 16 unrolled taps: left alone.
// CHECK-LABEL: func.func @global_sum
//       CHECK: linalg.generic
#in = affine_map<(d0, d1, d2) -> (d1, d2, d0)>
#out = affine_map<(d0, d1, d2) -> (d0)>
func.func @global_sum(%x: memref<25x5x4xi32>, %y: memref<4xi32>) {
  linalg.generic {indexing_maps = [#in, #out], iterator_types = ["parallel", "reduction", "reduction"]}
      ins(%x : memref<25x5x4xi32>) outs(%y : memref<4xi32>) {
  ^bb0(%a: i32, %o: i32):
    %0 = arith.addi %o, %a : i32
    linalg.yield %0 : i32
  }
  return
}

// -----

// A multiply-accumulate is not a pooling combiner (the dot-product kernels own it): left alone.
// CHECK-LABEL: func.func @dot
//       CHECK: linalg.generic
#a = affine_map<(d0, d1) -> (d1)>
#b = affine_map<(d0, d1) -> (d0, d1)>
#o = affine_map<(d0, d1) -> (d0)>
func.func @dot(%x: memref<4xi32>, %w: memref<2x4xi32>, %y: memref<2xi32>) {
  linalg.generic {indexing_maps = [#a, #b, #o], iterator_types = ["parallel", "reduction"]}
      ins(%x, %w : memref<4xi32>, memref<2x4xi32>) outs(%y : memref<2xi32>) {
  ^bb0(%a: i32, %b: i32, %o: i32):
    %0 = arith.muli %a, %b : i32
    %1 = arith.addi %o, %0 : i32
    linalg.yield %1 : i32
  }
  return
}
