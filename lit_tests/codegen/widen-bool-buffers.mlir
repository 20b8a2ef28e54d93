// RUN: mlir-fdt-opt %s -p 'fdt-widen-bool-buffers' | filecheck %s

// An i1 view of the arena becomes an i8 one; its loads truncate to i1, its stores zero-extend.
// CHECK-LABEL: func.func @less
// CHECK:   %[[OUT:.+]] = memref.view %{{.+}} : memref<64xi8> to memref<4xi8>
// CHECK:   %[[IN:.+]] = memref.view %{{.+}} : memref<64xi8> to memref<4xi8>
// CHECK:   %[[B:.+]] = memref.load %[[IN]][%{{.+}}] : memref<4xi8>
// CHECK:   %[[T:.+]] = arith.trunci %[[B]] : i8 to i1
// CHECK:   %[[N:.+]] = arith.xori %[[T]]
// CHECK:   %[[E:.+]] = arith.extui %[[N]] : i1 to i8
// CHECK:   memref.store %[[E]], %[[OUT]][%{{.+}}] : memref<4xi8>
// CHECK-NOT: xi1>
func.func @less(%arena: memref<64xi8>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c32 = arith.constant 32 : index
  %true = arith.constant true
  %out = memref.view %arena[%c0][] : memref<64xi8> to memref<4xi1>
  %in = memref.view %arena[%c32][] : memref<64xi8> to memref<4xi1>
  scf.for %i = %c0 to %c4 step %c1 {
    %b = memref.load %in[%i] : memref<4xi1>
    %n = arith.xori %b, %true : i1
    memref.store %n, %out[%i] : memref<4xi1>
  }
  return
}
