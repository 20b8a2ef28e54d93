// RUN: mlir-fdt-opt %s --split-input-file -p 'fdt-dot-product-kernels,fdt-block-output-channels,fdt-block-output-pixels' | filecheck %s

// A pointwise layer over 3 pixels x 8 channels (64 inputs), input and output in disjoint arena views:
// after the channel pairs, the pixel loop steps by two (the third pixel runs alone in a copy), and one
// channel loop computes 2 pixels x 2 channels: four accumulators, each weight word loaded once for both
// pixels (32 SMLADs per iteration of 16 MACs per accumulator, 8 weight loads: 4 per channel).
// CHECK-LABEL: func.func @pointwise
//       CHECK: scf.for %{{.+}} = %c0 to %c2{{.*}} step %c2 {
//       CHECK:   scf.for {{.*}} step %c2
//       CHECK:     scf.for {{.*}} step %c16 iter_args({{.*}}) -> (i32, i32, i32, i32)
// CHECK-COUNT-32:    call @fdt_smlad
//   CHECK-NOT:       call @fdt_smlad
//       CHECK:       scf.yield {{.*}} : i32, i32, i32, i32
//       CHECK: scf.for %{{.+}} = %c2{{.*}} to %c3 step %c1
//       CHECK:   scf.for {{.*}} step %c2
//       CHECK:     scf.for {{.*}} step %c16 iter_args({{.*}}) -> (i32, i32)
#x = affine_map<(d0, d1) -> (d1)>
#acc = affine_map<(d0, d1) -> (d0)>
memref.global "private" constant @w : memref<8x64xi8> = dense<1>
memref.global "private" constant @b : memref<8xi32> = dense<2>
func.func @pointwise(%arena: memref<1024xi8>) {
  %w = memref.get_global @w : memref<8x64xi8>
  %b = memref.get_global @b : memref<8xi32>
  %acc = memref.alloca() : memref<1xi32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c8 = arith.constant 8 : index
  %c256 = arith.constant 256 : index
  %zx = arith.constant -128 : i32
  %x = memref.view %arena[%c0][] : memref<1024xi8> to memref<1x3x64xi8>
  %out = memref.view %arena[%c256][] : memref<1024xi8> to memref<1x3x8xi32>
  scf.for %p = %c0 to %c3 step %c1 {
    scf.for %c = %c0 to %c8 step %c1 {
      %xp = memref.subview %x[0, %p, 0] [1, 1, 64] [1, 1, 1] : memref<1x3x64xi8> to memref<64xi8, strided<[1], offset: ?>>
      %wc = memref.subview %w[%c, 0] [1, 64] [1, 1] : memref<8x64xi8> to memref<64xi8, strided<[1], offset: ?>>
      %bc = memref.subview %b[%c] [1] [1] : memref<8xi32> to memref<1xi32, strided<[1], offset: ?>>
      linalg.copy ins(%bc : memref<1xi32, strided<[1], offset: ?>>) outs(%acc : memref<1xi32>)
      linalg.generic {indexing_maps = [#x, #x, affine_map<(d0, d1) -> ()>, #acc], iterator_types = ["parallel", "reduction"]}
          ins(%xp, %wc, %zx : memref<64xi8, strided<[1], offset: ?>>, memref<64xi8, strided<[1], offset: ?>>, i32)
          outs(%acc : memref<1xi32>) {
      ^bb0(%a: i8, %bw: i8, %za: i32, %o: i32):
        %0 = arith.extsi %a : i8 to i32
        %1 = arith.subi %0, %za : i32
        %2 = arith.extsi %bw : i8 to i32
        %3 = arith.muli %1, %2 : i32
        %4 = arith.addi %o, %3 : i32
        linalg.yield %4 : i32
      }
      %oc = memref.subview %out[0, %p, %c] [1, 1, 1] [1, 1, 1] : memref<1x3x8xi32> to memref<1xi32, strided<[1], offset: ?>>
      linalg.copy ins(%acc : memref<1xi32>) outs(%oc : memref<1xi32, strided<[1], offset: ?>>)
    }
  }
  return
}

// -----

// The same layer writing its 8 channels over the input's first bytes (the output starts where the input
// does, narrower): pixel p+1's outputs would overwrite pixel p's inputs before its next channel pair
// reads them. Left with one pixel an iteration.
// CHECK-LABEL: func.func @overwrites_inputs
//   CHECK-NOT: step %c2 iter_args
//       CHECK: scf.for {{.*}} to %c3 step %c1
#x = affine_map<(d0, d1) -> (d1)>
#acc = affine_map<(d0, d1) -> (d0)>
memref.global "private" constant @w : memref<8x64xi8> = dense<1>
memref.global "private" constant @b : memref<8xi32> = dense<2>
func.func @overwrites_inputs(%arena: memref<1024xi8>) {
  %w = memref.get_global @w : memref<8x64xi8>
  %b = memref.get_global @b : memref<8xi32>
  %acc = memref.alloca() : memref<1xi32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c8 = arith.constant 8 : index
  %zx = arith.constant -128 : i32
  %x = memref.view %arena[%c0][] : memref<1024xi8> to memref<1x3x64xi8>
  %out = memref.view %arena[%c0][] : memref<1024xi8> to memref<1x3x8xi8>
  scf.for %p = %c0 to %c3 step %c1 {
    scf.for %c = %c0 to %c8 step %c1 {
      %xp = memref.subview %x[0, %p, 0] [1, 1, 64] [1, 1, 1] : memref<1x3x64xi8> to memref<64xi8, strided<[1], offset: ?>>
      %wc = memref.subview %w[%c, 0] [1, 64] [1, 1] : memref<8x64xi8> to memref<64xi8, strided<[1], offset: ?>>
      %bc = memref.subview %b[%c] [1] [1] : memref<8xi32> to memref<1xi32, strided<[1], offset: ?>>
      linalg.copy ins(%bc : memref<1xi32, strided<[1], offset: ?>>) outs(%acc : memref<1xi32>)
      linalg.generic {indexing_maps = [#x, #x, affine_map<(d0, d1) -> ()>, #acc], iterator_types = ["parallel", "reduction"]}
          ins(%xp, %wc, %zx : memref<64xi8, strided<[1], offset: ?>>, memref<64xi8, strided<[1], offset: ?>>, i32)
          outs(%acc : memref<1xi32>) {
      ^bb0(%a: i8, %bw: i8, %za: i32, %o: i32):
        %0 = arith.extsi %a : i8 to i32
        %1 = arith.subi %0, %za : i32
        %2 = arith.extsi %bw : i8 to i32
        %3 = arith.muli %1, %2 : i32
        %4 = arith.addi %o, %3 : i32
        linalg.yield %4 : i32
      }
      %oc = memref.subview %out[0, %p, %c] [1, 1, 1] [1, 1, 1] : memref<1x3x8xi8> to memref<1xi8, strided<[1], offset: ?>>
      %t = arith.constant 0 : i8
      linalg.fill ins(%t : i8) outs(%oc : memref<1xi8, strided<[1], offset: ?>>)
    }
  }
  return
}

// -----

// Rows x pixels (2 x 2): the pixel loop is blocked; the row loop around it is not blocked again (its body
// is a blocked pixel loop, not a loop over output channels): four accumulators, not eight.
// CHECK-LABEL: func.func @rows
//       CHECK: scf.for {{.*}} to %c2 step %c1
//       CHECK:   scf.for {{.*}} to %c2{{.*}} step %c2
//   CHECK-NOT: -> (i32, i32, i32, i32, i32
//       CHECK:         iter_args({{.*}}) -> (i32, i32, i32, i32)
#x = affine_map<(d0, d1) -> (d1)>
#acc = affine_map<(d0, d1) -> (d0)>
memref.global "private" constant @w : memref<8x64xi8> = dense<1>
memref.global "private" constant @b : memref<8xi32> = dense<2>
func.func @rows(%arena: memref<1024xi8>) {
  %w = memref.get_global @w : memref<8x64xi8>
  %b = memref.get_global @b : memref<8xi32>
  %acc = memref.alloca() : memref<1xi32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c8 = arith.constant 8 : index
  %c512 = arith.constant 512 : index
  %zx = arith.constant -128 : i32
  %x = memref.view %arena[%c0][] : memref<1024xi8> to memref<2x2x64xi8>
  %out = memref.view %arena[%c512][] : memref<1024xi8> to memref<2x2x8xi32>
  scf.for %r = %c0 to %c2 step %c1 {
    scf.for %p = %c0 to %c2 step %c1 {
      scf.for %c = %c0 to %c8 step %c1 {
        %xp = memref.subview %x[%r, %p, 0] [1, 1, 64] [1, 1, 1] : memref<2x2x64xi8> to memref<64xi8, strided<[1], offset: ?>>
        %wc = memref.subview %w[%c, 0] [1, 64] [1, 1] : memref<8x64xi8> to memref<64xi8, strided<[1], offset: ?>>
        %bc = memref.subview %b[%c] [1] [1] : memref<8xi32> to memref<1xi32, strided<[1], offset: ?>>
        linalg.copy ins(%bc : memref<1xi32, strided<[1], offset: ?>>) outs(%acc : memref<1xi32>)
        linalg.generic {indexing_maps = [#x, #x, affine_map<(d0, d1) -> ()>, #acc], iterator_types = ["parallel", "reduction"]}
            ins(%xp, %wc, %zx : memref<64xi8, strided<[1], offset: ?>>, memref<64xi8, strided<[1], offset: ?>>, i32)
            outs(%acc : memref<1xi32>) {
        ^bb0(%a: i8, %bw: i8, %za: i32, %o: i32):
          %0 = arith.extsi %a : i8 to i32
          %1 = arith.subi %0, %za : i32
          %2 = arith.extsi %bw : i8 to i32
          %3 = arith.muli %1, %2 : i32
          %4 = arith.addi %o, %3 : i32
          linalg.yield %4 : i32
        }
        %oc = memref.subview %out[%r, %p, %c] [1, 1, 1] [1, 1, 1] : memref<2x2x8xi32> to memref<1xi32, strided<[1], offset: ?>>
        linalg.copy ins(%acc : memref<1xi32>) outs(%oc : memref<1xi32, strided<[1], offset: ?>>)
      }
    }
  }
  return
}

// -----

// A padded 3-tap window over 16 channels, unswitched (`if inside { interior } else { border }` per
// pixel): the pixel loop steps by two; when both pixels' windows are inside, their interior channel
// loops run jammed (four accumulators); otherwise a loop over the two pixels runs the original body (its
// test, interior and border: one copy).
// CHECK-LABEL: func.func @window
//       CHECK: scf.for %{{.+}} = %c0{{.*}} to %c4 step %c2
//       CHECK:   arith.andi
//       CHECK:   arith.andi
//       CHECK:   %[[BOTH:.+]] = arith.andi
//       CHECK:   scf.if %[[BOTH]] {
//       CHECK:     scf.for {{.*}} to %c8 step %c2
// CHECK-COUNT-4:       memref.load %alloca
// CHECK-COUNT-4:       memref.store {{.*}}, %alloca
//       CHECK:   } else {
//       CHECK:     scf.for {{.*}} step %c1
//       CHECK:       scf.if
//   CHECK-NOT:       scf.if
#row = affine_map<(d0, d1, d2) -> (d1, d2)>
#scalar = affine_map<(d0, d1, d2) -> ()>
#acc = affine_map<(d0, d1, d2) -> (d0)>
memref.global "private" constant @w3 : memref<8x3x16xi8> = dense<1>
func.func @window(%arena: memref<1024xi8>) {
  %w = memref.get_global @w3 : memref<8x3x16xi8>
  %acc = memref.alloca() : memref<1xi32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %cm1 = arith.constant -1 : index
  %c512 = arith.constant 512 : index
  %zx = arith.constant -128 : i32
  %zero = arith.constant 0 : i32
  %x = memref.view %arena[%c0][] : memref<1024xi8> to memref<4x16xi8>
  %out = memref.view %arena[%c512][] : memref<1024xi8> to memref<4x8xi32>
  scf.for %p = %c0 to %c4 step %c1 {
    %start = arith.addi %p, %cm1 : index
    %lo = arith.cmpi sge, %start, %c0 : index
    %end = arith.addi %start, %c3 : index
    %hi = arith.cmpi sle, %end, %c4 : index
    %inside = arith.andi %lo, %hi : i1
    scf.if %inside {
      scf.for %c = %c0 to %c8 step %c1 {
        linalg.fill ins(%zero : i32) outs(%acc : memref<1xi32>)
        %xs = memref.subview %x[%start, 0] [3, 16] [1, 1] : memref<4x16xi8> to memref<3x16xi8, strided<[16, 1], offset: ?>>
        %ws = memref.subview %w[%c, 0, 0] [1, 3, 16] [1, 1, 1] : memref<8x3x16xi8> to memref<3x16xi8, strided<[16, 1], offset: ?>>
        linalg.generic {indexing_maps = [#row, #row, #scalar, #acc], iterator_types = ["parallel", "reduction", "reduction"]}
            ins(%xs, %ws, %zx : memref<3x16xi8, strided<[16, 1], offset: ?>>, memref<3x16xi8, strided<[16, 1], offset: ?>>, i32)
            outs(%acc : memref<1xi32>) {
        ^bb0(%a: i8, %b: i8, %za: i32, %o: i32):
          %0 = arith.extsi %a : i8 to i32
          %1 = arith.subi %0, %za : i32
          %2 = arith.extsi %b : i8 to i32
          %3 = arith.muli %1, %2 : i32
          %4 = arith.addi %o, %3 : i32
          linalg.yield %4 : i32
        }
        %oc = memref.subview %out[%p, %c] [1, 1] [1, 1] : memref<4x8xi32> to memref<1xi32, strided<[1], offset: ?>>
        linalg.copy ins(%acc : memref<1xi32>) outs(%oc : memref<1xi32, strided<[1], offset: ?>>)
      }
    } else {
      scf.for %c = %c0 to %c8 step %c1 {
        %oc = memref.subview %out[%p, %c] [1, 1] [1, 1] : memref<4x8xi32> to memref<1xi32, strided<[1], offset: ?>>
        linalg.fill ins(%zero : i32) outs(%oc : memref<1xi32, strided<[1], offset: ?>>)
      }
    }
  }
  return
}
