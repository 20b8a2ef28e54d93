// RUN: mlir-fdt-opt %s -p 'fdt-fuse-elementwise-chains' | filecheck %s

// TFLite QUANTIZE as the TOSA import spells it (scale, round to i32, add the zero point, clamp,
// narrow to i8): one generic, so neither the f32 product nor the i32 value is a whole tensor.
// CHECK-LABEL: func.func @quantize
//       CHECK: linalg.generic
//   CHECK-NOT: linalg.generic
//       CHECK: return
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @quantize(%x: tensor<4x8xf32>) -> tensor<4x8xi8> {
  %s = arith.constant 12.5 : f32
  %zp = arith.constant -7 : i32
  %lo = arith.constant -128 : i32
  %hi = arith.constant 127 : i32
  %e0 = tensor.empty() : tensor<4x8xf32>
  %m = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%e0 : tensor<4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.mulf %in, %s : f32
    linalg.yield %0 : f32
  } -> tensor<4x8xf32>
  %e1 = tensor.empty() : tensor<4x8xi32>
  %q = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%m : tensor<4x8xf32>) outs(%e1 : tensor<4x8xi32>) {
  ^bb0(%in: f32, %out: i32):
    %0 = math.roundeven %in : f32
    %1 = arith.fptosi %0 : f32 to i32
    %2 = arith.addi %1, %zp : i32
    %3 = arith.maxsi %2, %lo : i32
    %4 = arith.minsi %3, %hi : i32
    linalg.yield %4 : i32
  } -> tensor<4x8xi32>
  %e2 = tensor.empty() : tensor<4x8xi8>
  %n = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%q : tensor<4x8xi32>) outs(%e2 : tensor<4x8xi8>) {
  ^bb0(%in: i32, %out: i8):
    %0 = arith.trunci %in : i32 to i8
    linalg.yield %0 : i8
  } -> tensor<4x8xi8>
  return %n : tensor<4x8xi8>
}


// A convolution is still a named op here: its epilogue stays a generic of its own, for
// fdt-fuse-epilogues (which keeps the convolution tileable).
// CHECK-LABEL: func.func @conv_epilogue
//       CHECK: linalg.conv_2d_nhwc_hwcf
//       CHECK: linalg.generic
func.func @conv_epilogue(%x: tensor<1x4x4x2xf32>, %w: tensor<1x1x2x3xf32>) -> tensor<1x4x4x3xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x4x3xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x4x3xf32>) -> tensor<1x4x4x3xf32>
  %c = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : tensor<1x4x4x2xf32>, tensor<1x1x2x3xf32>) outs(%f : tensor<1x4x4x3xf32>) -> tensor<1x4x4x3xf32>
  %e2 = tensor.empty() : tensor<1x4x4x3xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>,
                                        affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c : tensor<1x4x4x3xf32>) outs(%e2 : tensor<1x4x4x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.maximumf %in, %zero : f32
    linalg.yield %0 : f32
  } -> tensor<1x4x4x3xf32>
  return %r : tensor<1x4x4x3xf32>
}


// A convolution's requantization to i8 then MEAN's rescale back to i32 before its reduction (the TOSA
// import's form: a linalg.reduce whose result is expanded, which the fusion turns into a generic): the
// chain is not fused across its i8 value, which stays a tensor (the convolution's epilogue will write it;
// the reduction reads i8), instead of the reduction reading the convolution's i32 accumulators.
// CHECK-LABEL: func.func @requantize_then_reduce
//       CHECK: linalg.conv_2d_nhwc_hwcf
//       CHECK: %[[NARROW:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<1x4x4x3xi32>) outs(%{{.*}} : tensor<1x4x4x3xi8>)
//       CHECK: arith.trunci
//       CHECK: arith.maxsi
//       CHECK: %[[EXPANDED:.*]] = tensor.expand_shape %[[NARROW]]
//       CHECK: linalg.generic {{.*}}"reduction"{{.*}} ins(%[[EXPANDED]] : tensor<1x4x1x4x3xi8>)
//       CHECK: arith.extsi
//   CHECK-NOT: util.optimization_barrier
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @requantize_then_reduce(%x: tensor<1x4x4x2xi8>, %w: tensor<1x1x2x3xi8>) -> tensor<1x1x4x3xi32> {
  %zero = arith.constant 0 : i32
  %lo = arith.constant -5 : i8
  %e = tensor.empty() : tensor<1x4x4x3xi32>
  %f = linalg.fill ins(%zero : i32) outs(%e : tensor<1x4x4x3xi32>) -> tensor<1x4x4x3xi32>
  %c = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : tensor<1x4x4x2xi8>, tensor<1x1x2x3xi8>) outs(%f : tensor<1x4x4x3xi32>) -> tensor<1x4x4x3xi32>
  %e1 = tensor.empty() : tensor<1x4x4x3xi8>
  %n = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c : tensor<1x4x4x3xi32>) outs(%e1 : tensor<1x4x4x3xi8>) {
  ^bb0(%in: i32, %out: i8):
    %0 = arith.trunci %in : i32 to i8
    linalg.yield %0 : i8
  } -> tensor<1x4x4x3xi8>
  %k = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%n : tensor<1x4x4x3xi8>) outs(%e1 : tensor<1x4x4x3xi8>) {
  ^bb0(%in: i8, %out: i8):
    %0 = arith.maxsi %in, %lo : i8
    linalg.yield %0 : i8
  } -> tensor<1x4x4x3xi8>
  %wide = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%k : tensor<1x4x4x3xi8>) outs(%e : tensor<1x4x4x3xi32>) {
  ^bb0(%in: i8, %out: i32):
    %0 = arith.extsi %in : i8 to i32
    linalg.yield %0 : i32
  } -> tensor<1x4x4x3xi32>
  %e2 = tensor.empty() : tensor<1x4x3xi32>
  %f2 = linalg.fill ins(%zero : i32) outs(%e2 : tensor<1x4x3xi32>) -> tensor<1x4x3xi32>
  %sum = linalg.reduce ins(%wide : tensor<1x4x4x3xi32>) outs(%f2 : tensor<1x4x3xi32>) dimensions = [1]
    (%in: i32, %init: i32) {
      %0 = arith.addi %in, %init : i32
      linalg.yield %0 : i32
    }
  %r = tensor.expand_shape %sum [[0], [1, 2], [3]] output_shape [1, 1, 4, 3] : tensor<1x4x3xi32> into tensor<1x1x4x3xi32>
  return %r : tensor<1x1x4x3xi32>
}
