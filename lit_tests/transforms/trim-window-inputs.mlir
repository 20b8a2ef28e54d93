// RUN: mlir-fdt-opt %s -p fdt-trim-window-inputs | filecheck %s
// RUN: mlir-fdt-opt %s -p fdt-trim-window-inputs,fdt-normalize-linalg | filecheck %s --check-prefix=NORMALIZED

// One 3x3 stride-3 window over a 2x2 map padded to 4x4 (ONNX AveragePool, ceil mode, whose second window
// would start on the padding): the window reads rows and columns 0..2 only.
// CHECK-LABEL: func.func @pool
//       CHECK: %[[S:.+]] = tensor.extract_slice %{{.+}}[0, 0, 0, 0] [1, 3, 3, 3] [1, 1, 1, 1] : tensor<1x4x4x3xf32> to tensor<1x3x3x3xf32>
//       CHECK: linalg.pooling_nhwc_sum {{.*}} ins(%[[S]], %{{.+}} : tensor<1x3x3x3xf32>, tensor<3x3xf32>)
// Without the slice, dropping the unit output dims left an invalid generic op (loop range 3 from the window,
// 4 from the input).
// NORMALIZED-LABEL: func.func @pool
//       NORMALIZED: linalg.generic
func.func @pool(%x: tensor<1x2x2x3xf32>) -> tensor<1x1x1x3xf32> {
  %zero = arith.constant 0.0 : f32
  %padded = tensor.pad %x low[0, 1, 1, 0] high[0, 1, 1, 0] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %zero : f32
  } : tensor<1x2x2x3xf32> to tensor<1x4x4x3xf32>
  %window = tensor.empty() : tensor<3x3xf32>
  %init = tensor.empty() : tensor<1x1x1x3xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%init : tensor<1x1x1x3xf32>) -> tensor<1x1x1x3xf32>
  %sum = linalg.pooling_nhwc_sum {dilations = dense<1> : tensor<2xi64>, strides = dense<3> : tensor<2xi64>}
      ins(%padded, %window : tensor<1x4x4x3xf32>, tensor<3x3xf32>) outs(%fill : tensor<1x1x1x3xf32>) -> tensor<1x1x1x3xf32>
  return %sum : tensor<1x1x1x3xf32>
}

// A window op whose input is exactly what it reads is left as it is.
// CHECK-LABEL: func.func @exact
//   CHECK-NOT: tensor.extract_slice
func.func @exact(%x: tensor<1x7x7x3xf32>) -> tensor<1x3x3x3xf32> {
  %zero = arith.constant 0.0 : f32
  %window = tensor.empty() : tensor<3x3xf32>
  %init = tensor.empty() : tensor<1x3x3x3xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%init : tensor<1x3x3x3xf32>) -> tensor<1x3x3x3xf32>
  %max = linalg.pooling_nhwc_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
      ins(%x, %window : tensor<1x7x7x3xf32>, tensor<3x3xf32>) outs(%fill : tensor<1x3x3x3xf32>) -> tensor<1x3x3x3xf32>
  return %max : tensor<1x3x3x3xf32>
}
