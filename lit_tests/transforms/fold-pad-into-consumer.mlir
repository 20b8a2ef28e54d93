// RUN: mlir-fdt-opt %s --split-input-file -p 'fdt-normalize-linalg,fdt-fold-pad-into-consumer' | filecheck %s

// A padded 3x3 convolution reads its unpadded input through clamped indices: no tensor.pad remains.
// CHECK-LABEL: func.func @conv_pad
//   CHECK-NOT: tensor.pad
//       CHECK: linalg.generic
//       CHECK:   arith.maxsi
//       CHECK:   arith.minsi
//       CHECK:   %[[V:.+]] = tensor.extract %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}] : tensor<8x8x4xf32>
//       CHECK:   arith.select %{{.+}}, %[[V]], %{{.+}} : f32
func.func @conv_pad(%arg0: tensor<1x8x8x4xf32>) -> tensor<1x8x8x8xf32> {
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<1.0> : tensor<3x3x4x8xf32>
  %padded = tensor.pad %arg0 low[0, 1, 1, 0] high[0, 1, 1, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x8x8x4xf32> to tensor<1x10x10x4xf32>
  %e = tensor.empty() : tensor<1x8x8x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  %c = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%padded, %w : tensor<1x10x10x4xf32>, tensor<3x3x4x8xf32>) outs(%f : tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  return %c : tensor<1x8x8x8xf32>
}

// -----

// A pad whose value depends on the position (computed in its region) is left alone.
// CHECK-LABEL: func.func @computed_pad_value
//       CHECK: tensor.pad
func.func @computed_pad_value(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  %padded = tensor.pad %arg0 low[1] high[1] {
  ^bb0(%i: index):
    %ii = arith.index_cast %i : index to i32
    %v = arith.sitofp %ii : i32 to f32
    tensor.yield %v : f32
  } : tensor<4xf32> to tensor<6xf32>
  %window = tensor.empty() : tensor<3xf32>
  %e = tensor.empty() : tensor<4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0 + d1)>, affine_map<(d0, d1) -> (d1)>,
                                        affine_map<(d0, d1) -> (d0)>],
                       iterator_types = ["parallel", "reduction"]}
      ins(%padded, %window : tensor<6xf32>, tensor<3xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%in: f32, %w: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// A reduction whose only input is the padded tensor (TFLite MEAN after PAD, from the fuzzer):
// without that input nothing would bound the reduced dim, so the pad stays (it used to fold
// into an invalid generic that crashed the transform interpreter).
// CHECK-LABEL: func.func @sum_of_padded
//       CHECK: tensor.pad
//       CHECK: linalg.generic {{.+}} iterator_types = ["reduction", "parallel"]} ins(%padded : tensor<3x4xf32>)
func.func @sum_of_padded(%arg0: tensor<1x1xf32>) -> tensor<4xf32> {
  %zero = arith.constant 0.0 : f32
  %v = arith.constant 0.04 : f32
  %padded = tensor.pad %arg0 low[2, 2] high[0, 1] {
  ^bb0(%i: index, %j: index):
    tensor.yield %v : f32
  } : tensor<1x1xf32> to tensor<3x4xf32>
  %e = tensor.empty() : tensor<4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>],
                       iterator_types = ["reduction", "parallel"]}
      ins(%padded : tensor<3x4xf32>) outs(%f : tensor<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}
