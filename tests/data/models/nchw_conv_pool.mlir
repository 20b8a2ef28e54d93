// An NCHW input (1x4x8x8, f32) transposed to channels-last, then the padded 3x3 convolution, ReLU and global
// sum pooling of lit_tests/transforms/Inputs/conv-pool.mlir: a model exported from PyTorch or ONNX in
// miniature (tests/test_stream_input.py streams its input: a row is 4 runs, one per channel plane).
func.func @main(%nchw: tensor<1x4x8x8xf32>) -> tensor<1x8xf32> {
  %t = tensor.empty() : tensor<1x8x8x4xf32>
  %arg0 = linalg.transpose ins(%nchw : tensor<1x4x8x8xf32>) outs(%t : tensor<1x8x8x4xf32>) permutation = [0, 2, 3, 1]
  %zero = arith.constant 0.0 : f32
  %w0 = arith.constant dense<[[[[0.5, -0.375, 0.25, -0.125, 0.0, 0.125, -0.25, 0.375], [-1.0, 0.875, -0.75, 0.625, -0.5, 0.375, -0.25, 0.125], [1.5, -1.375, 1.25, -1.125, 1.0, -0.875, 0.75, -0.625], [-2.0, 1.875, -1.75, 1.625, -1.5, 1.375, -1.25, 1.125]], [[0.4375, -0.3125, 0.1875, -0.0625, -0.0625, 0.1875, -0.3125, 0.4375], [-0.9375, 0.8125, -0.6875, 0.5625, -0.4375, 0.3125, -0.1875, 0.0625], [1.4375, -1.3125, 1.1875, -1.0625, 0.9375, -0.8125, 0.6875, -0.5625], [-1.9375, 1.8125, -1.6875, 1.5625, -1.4375, 1.3125, -1.1875, 1.0625]], [[0.375, -0.25, 0.125, -0.0, -0.125, 0.25, -0.375, 0.5], [-0.875, 0.75, -0.625, 0.5, -0.375, 0.25, -0.125, 0.0], [1.375, -1.25, 1.125, -1.0, 0.875, -0.75, 0.625, -0.5], [-1.875, 1.75, -1.625, 1.5, -1.375, 1.25, -1.125, 1.0]]], [[[0.75, -0.625, 0.5, -0.375, 0.25, -0.125, 0.0, 0.125], [-1.25, 1.125, -1.0, 0.875, -0.75, 0.625, -0.5, 0.375], [1.75, -1.625, 1.5, -1.375, 1.25, -1.125, 1.0, -0.875], [-2.25, 2.125, -2.0, 1.875, -1.75, 1.625, -1.5, 1.375]], [[0.6875, -0.5625, 0.4375, -0.3125, 0.1875, -0.0625, -0.0625, 0.1875], [-1.1875, 1.0625, -0.9375, 0.8125, -0.6875, 0.5625, -0.4375, 0.3125], [1.6875, -1.5625, 1.4375, -1.3125, 1.1875, -1.0625, 0.9375, -0.8125], [-2.1875, 2.0625, -1.9375, 1.8125, -1.6875, 1.5625, -1.4375, 1.3125]], [[0.625, -0.5, 0.375, -0.25, 0.125, -0.0, -0.125, 0.25], [-1.125, 1.0, -0.875, 0.75, -0.625, 0.5, -0.375, 0.25], [1.625, -1.5, 1.375, -1.25, 1.125, -1.0, 0.875, -0.75], [-2.125, 2.0, -1.875, 1.75, -1.625, 1.5, -1.375, 1.25]]], [[[1.0, -0.875, 0.75, -0.625, 0.5, -0.375, 0.25, -0.125], [-1.5, 1.375, -1.25, 1.125, -1.0, 0.875, -0.75, 0.625], [2.0, -1.875, 1.75, -1.625, 1.5, -1.375, 1.25, -1.125], [-2.5, 2.375, -2.25, 2.125, -2.0, 1.875, -1.75, 1.625]], [[0.9375, -0.8125, 0.6875, -0.5625, 0.4375, -0.3125, 0.1875, -0.0625], [-1.4375, 1.3125, -1.1875, 1.0625, -0.9375, 0.8125, -0.6875, 0.5625], [1.9375, -1.8125, 1.6875, -1.5625, 1.4375, -1.3125, 1.1875, -1.0625], [-2.4375, 2.3125, -2.1875, 2.0625, -1.9375, 1.8125, -1.6875, 1.5625]], [[0.875, -0.75, 0.625, -0.5, 0.375, -0.25, 0.125, -0.0], [-1.375, 1.25, -1.125, 1.0, -0.875, 0.75, -0.625, 0.5], [1.875, -1.75, 1.625, -1.5, 1.375, -1.25, 1.125, -1.0], [-2.375, 2.25, -2.125, 2.0, -1.875, 1.75, -1.625, 1.5]]]]> : tensor<3x3x4x8xf32>
  %p0 = tensor.pad %arg0 low[0, 1, 1, 0] high[0, 1, 1, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x8x8x4xf32> to tensor<1x10x10x4xf32>
  %e = tensor.empty() : tensor<1x8x8x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  %c0 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%p0, %w0 : tensor<1x10x10x4xf32>, tensor<3x3x4x8xf32>) outs(%f : tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  %r0 = linalg.generic {indexing_maps = [affine_map<(a, b, c, d) -> (a, b, c, d)>, affine_map<(a, b, c, d) -> (a, b, c, d)>],
                        iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c0 : tensor<1x8x8x8xf32>) outs(%e : tensor<1x8x8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x8x8x8xf32>
  %window = tensor.empty() : tensor<8x8xf32>
  %e1 = tensor.empty() : tensor<1x1x1x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<1x1x1x8xf32>) -> tensor<1x1x1x8xf32>
  %pool = linalg.pooling_nhwc_sum {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>}
      ins(%r0, %window : tensor<1x8x8x8xf32>, tensor<8x8xf32>) outs(%f1 : tensor<1x1x1x8xf32>) -> tensor<1x1x1x8xf32>
  %flat = tensor.collapse_shape %pool [[0, 1, 2], [3]] : tensor<1x1x1x8xf32> into tensor<1x8xf32>
  return %flat : tensor<1x8xf32>
}
