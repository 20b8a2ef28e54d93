// RUN: mlir-fdt-opt %s -p 'fdt-resolve-branch-dims' | filecheck %s

// A tile buffer chosen by an scf.if whose branches view the arena with the same dynamic height: the loop over
// it is bounded by that height, not by a memref.dim of the scf.if result (which IREE cannot lower).
// CHECK-LABEL: func.func @tile
// CHECK-SAME: %[[H:[a-z0-9]+]]: index
// CHECK-NOT: memref.dim
// CHECK: scf.for %{{.+}} = %{{.+}} to %[[H]]
func.func @tile(%arena: memref<64xi8>, %h: index, %pad: i1) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %f = arith.constant 0.0 : f32
  %t = scf.if %pad -> (memref<?x2xf32>) {
    %a = memref.view %arena[%c0][%h] : memref<64xi8> to memref<?x2xf32>
    scf.yield %a : memref<?x2xf32>
  } else {
    %b = memref.view %arena[%c16][%h] : memref<64xi8> to memref<?x2xf32>
    scf.yield %b : memref<?x2xf32>
  }
  %d = memref.dim %t, %c0 : memref<?x2xf32>
  scf.for %i = %c0 to %d step %c1 {
    memref.store %f, %t[%i, %c0] : memref<?x2xf32>
  }
  return
}
