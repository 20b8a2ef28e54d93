// RUN: mlir-fdt-opt %s --verify-diagnostics --split-input-file -p fdt-normalize-linalg \
// RUN:   --fdt-apply-plan=plan=%S/Inputs/unknown-layer.json

// Misuse: the plan names a layer this program does not have.
// expected-error {{plan: unknown layer(s) conv_7; this model's layers: pw_0}}
func.func @one_conv(%arg0: tensor<1x4x4x2xf32>) -> tensor<1x4x4x3xf32> {
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<1.0> : tensor<1x1x2x3xf32>
  %e = tensor.empty() : tensor<1x4x4x3xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x4x3xf32>) -> tensor<1x4x4x3xf32>
  %c = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%arg0, %w : tensor<1x4x4x2xf32>, tensor<1x1x2x3xf32>) outs(%f : tensor<1x4x4x3xf32>) -> tensor<1x4x4x3xf32>
  return %c : tensor<1x4x4x3xf32>
}
