// RUN: mlir-fdt-opt %s -p fdt-materialize-constant-outputs | filecheck %s

// A constant output (ONNX Shape of a static input) is returned as a copy the program makes; a computed output is
// returned as it is.
// CHECK-LABEL: func.func @shape_and_relu
//       CHECK: %[[C:.+]] = arith.constant dense<[1, 3, 4, 5]> : tensor<4xi64>
//       CHECK: %[[COPY:.+]] = linalg.generic {{.*}} ins(%[[C]] : tensor<4xi64>)
//       CHECK: return %[[COPY]], %arg0
func.func @shape_and_relu(%arg0: tensor<1x3x4x5xf32>) -> (tensor<4xi64>, tensor<1x3x4x5xf32>) {
  %shape = arith.constant dense<[1, 3, 4, 5]> : tensor<4xi64>
  return %shape, %arg0 : tensor<4xi64>, tensor<1x3x4x5xf32>
}
