// RUN: mlir-fdt-opt %s --split-input-file -p fdt-simplify-guards | filecheck %s

// The guard is false in every iteration of the loop (4 tiles of 2 rows never start past row 8):
// the else branch is inlined.
// CHECK-LABEL: func.func @never_empty
//   CHECK-NOT: scf.if
//       CHECK: arith.constant 3 : i32
func.func @never_empty(%t: tensor<8xi32>) -> tensor<8xi32> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c8 = arith.constant 8 : index
  %r = scf.for %i = %c0 to %c8 step %c2 iter_args(%acc = %t) -> (tensor<8xi32>) {
    %past = arith.cmpi sge, %i, %c8 : index
    %v = scf.if %past -> (i32) {
      %z = arith.constant 0 : i32
      scf.yield %z : i32
    } else {
      %one = arith.constant 1 : i32
      %two = arith.constant 2 : i32
      %s = arith.addi %one, %two : i32
      scf.yield %s : i32
    }
    %n = tensor.insert %v into %acc[%i] : tensor<8xi32>
    scf.yield %n : tensor<8xi32>
  }
  return %r : tensor<8xi32>
}

// -----

// The guard depends on the iteration: it stays.
// CHECK-LABEL: func.func @sometimes
//       CHECK: scf.if
func.func @sometimes(%t: tensor<8xi32>) -> tensor<8xi32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %r = scf.for %i = %c0 to %c8 step %c2 iter_args(%acc = %t) -> (tensor<8xi32>) {
    %late = arith.cmpi sge, %i, %c4 : index
    %v = scf.if %late -> (tensor<8xi32>) {
      %z = arith.constant 5 : i32
      %a = tensor.insert %z into %acc[%i] : tensor<8xi32>
      scf.yield %a : tensor<8xi32>
    } else {
      %o = arith.constant 7 : i32
      %j = arith.addi %i, %c1 : index
      %b = tensor.insert %o into %acc[%j] : tensor<8xi32>
      scf.yield %b : tensor<8xi32>
    }
    scf.yield %v : tensor<8xi32>
  }
  return %r : tensor<8xi32>
}
