// RUN: mlir-fdt-opt %s --split-input-file -p 'fdt-plan-memory' | filecheck %s

// A buffer of one loop whose row is rewritten whole before it is read, in every iteration (a streamed window's top
// row, written by its shift: transforms/stream_rows.py) holds nothing between that row's last read and its next
// write; a buffer of the loop body used only then may take its bytes (memory/dead_rows.py). Here %y (64 B) lies in
// row 0 of %w: 704 B (the output trails the input rows read, a shifted alias; %w), not 768 B.
// CHECK-LABEL: func.func @dead_top_row
//  CHECK-SAME: memref<704xi8>
#id = affine_map<(d0) -> (d0)>
func.func @dead_top_row(%x: memref<8x16xf32>) -> memref<8x16xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %out = memref.alloc() : memref<8x16xf32>
  %w = memref.alloc() : memref<2x16xf32>
  scf.for %t = %c0 to %c8 step %c1 {
    %y = memref.alloc() : memref<16xf32>
    %xt = memref.subview %x[%t, 0] [1, 16] [1, 1] : memref<8x16xf32> to memref<16xf32, strided<[1], offset: ?>>
    %ot = memref.subview %out[%t, 0] [1, 16] [1, 1] : memref<8x16xf32> to memref<16xf32, strided<[1], offset: ?>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
        ins(%xt : memref<16xf32, strided<[1], offset: ?>>) outs(%y : memref<16xf32>) {
    ^bb0(%a: f32, %b: f32):
      %n = arith.negf %a : f32
      linalg.yield %n : f32
    }
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
        ins(%y : memref<16xf32>) outs(%ot : memref<16xf32, strided<[1], offset: ?>>) {
    ^bb0(%a: f32, %b: f32):
      linalg.yield %a : f32
    }
    %w0 = memref.subview %w[0, 0] [1, 16] [1, 1] : memref<2x16xf32> to memref<16xf32, strided<[1]>>
    %w1 = memref.subview %w[1, 0] [1, 16] [1, 1] : memref<2x16xf32> to memref<16xf32, strided<[1], offset: 16>>
    memref.copy %w1, %w0 : memref<16xf32, strided<[1], offset: 16>> to memref<16xf32, strided<[1]>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
        ins(%xt : memref<16xf32, strided<[1], offset: ?>>) outs(%w1 : memref<16xf32, strided<[1], offset: 16>>) {
    ^bb0(%a: f32, %b: f32):
      %m = arith.mulf %a, %a : f32
      linalg.yield %m : f32
    }
    linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel"]}
        ins(%w0, %w1 : memref<16xf32, strided<[1]>>, memref<16xf32, strided<[1], offset: 16>>)
        outs(%ot : memref<16xf32, strided<[1], offset: ?>>) {
    ^bb0(%a: f32, %b: f32, %o: f32):
      %s = arith.addf %a, %b : f32
      %s2 = arith.addf %s, %o : f32
      linalg.yield %s2 : f32
    }
  }
  return %out : memref<8x16xf32>
}

// -----

// A row read before it is written carries data from one iteration to the next: %y takes bytes of its own.
// CHECK-LABEL: func.func @live_top_row
//  CHECK-SAME: memref<768xi8>
#id = affine_map<(d0) -> (d0)>
func.func @live_top_row(%x: memref<8x16xf32>) -> memref<8x16xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %out = memref.alloc() : memref<8x16xf32>
  %w = memref.alloc() : memref<2x16xf32>
  scf.for %t = %c0 to %c8 step %c1 {
    %y = memref.alloc() : memref<16xf32>
    %xt = memref.subview %x[%t, 0] [1, 16] [1, 1] : memref<8x16xf32> to memref<16xf32, strided<[1], offset: ?>>
    %ot = memref.subview %out[%t, 0] [1, 16] [1, 1] : memref<8x16xf32> to memref<16xf32, strided<[1], offset: ?>>
    %w0 = memref.subview %w[0, 0] [1, 16] [1, 1] : memref<2x16xf32> to memref<16xf32, strided<[1]>>
    %w1 = memref.subview %w[1, 0] [1, 16] [1, 1] : memref<2x16xf32> to memref<16xf32, strided<[1], offset: 16>>
    linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel"]}
        ins(%xt, %w0 : memref<16xf32, strided<[1], offset: ?>>, memref<16xf32, strided<[1]>>) outs(%y : memref<16xf32>) {
    ^bb0(%a: f32, %p: f32, %b: f32):
      %n = arith.subf %a, %p : f32
      linalg.yield %n : f32
    }
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
        ins(%y : memref<16xf32>) outs(%ot : memref<16xf32, strided<[1], offset: ?>>) {
    ^bb0(%a: f32, %b: f32):
      linalg.yield %a : f32
    }
    memref.copy %w1, %w0 : memref<16xf32, strided<[1], offset: 16>> to memref<16xf32, strided<[1]>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
        ins(%xt : memref<16xf32, strided<[1], offset: ?>>) outs(%w1 : memref<16xf32, strided<[1], offset: 16>>) {
    ^bb0(%a: f32, %b: f32):
      %m = arith.mulf %a, %a : f32
      linalg.yield %m : f32
    }
  }
  return %out : memref<8x16xf32>
}
