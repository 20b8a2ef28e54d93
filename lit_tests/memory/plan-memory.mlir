// RUN: mlir-fdt-opt %s -p \
// RUN:   'fdt-normalize-linalg,fdt-fold-constant-transposes,fdt-fuse-epilogues,fdt-bufferize,fdt-plan-memory' | \
// RUN:   filecheck %s
// RUN: mlir-fdt-opt %s -p 'fdt-normalize-linalg,fdt-fold-constant-transposes,fdt-fuse-epilogues,fdt-bufferize' \
// RUN:   --fdt-plan-memory=algorithm=linear | filecheck %s --check-prefix=LINEAR
// RUN: mlir-fdt-opt %s -p 'fdt-normalize-linalg,fdt-fold-constant-transposes,fdt-fuse-epilogues,fdt-bufferize' \
// RUN:   --fdt-plan-memory=shifted-aliases=false | filecheck %s --check-prefix=APART

// Input (128 B, rows of 32 B) and output (192 B, rows of 48 B) are live together, but the 1x1
// layer reads input row r only while it writes output row r: the output may start 96 bytes
// below the input (after its last row, the output's first 192 bytes end where the input's last
// row begins). The arena is 224 bytes; the one-element accumulator becomes an alloca (a
// register), not an arena buffer.
// CHECK-LABEL: func.func @conv_relu
//  CHECK-SAME: (%[[ARENA:.+]]: memref<224xi8>)
//  CHECK-SAME: fdt.arena_bytes = 224
//  CHECK-SAME: fdt.io = {{\[\[}}"input0", 96, 128], ["output0", 0, 192]]
//   CHECK-DAG: memref.view %[[ARENA]][%{{.+}}][] : memref<224xi8> to memref<1x4x4x2xf32>
//   CHECK-DAG: memref.view %[[ARENA]][%{{.+}}][] : memref<224xi8> to memref<4x4x3xf32>
//   CHECK-DAG: memref.alloca() : memref<1x1x1xf32>
//   CHECK-NOT: memref.alloc(
//       CHECK: return{{$}}

// Without shifted aliases, input and output lie apart: 320 bytes.
// APART: fdt.arena_bytes = 320
// APART-SAME: fdt.io = {{\[\[}}"input0", 192, 128], ["output0", 0, 192]]

// The linear planner places buffers one after another in program order.
// LINEAR: fdt.arena_bytes = 320
// LINEAR-SAME: fdt.io = {{\[\[}}"input0", 0, 128], ["output0", 128, 192]]
func.func @conv_relu(%arg0: tensor<1x4x4x2xf32>) -> tensor<1x4x4x3xf32> {
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<[[[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]]]> : tensor<1x1x3x2xf32>
  %e0 = tensor.empty() : tensor<1x1x2x3xf32>
  %wt = linalg.transpose ins(%w : tensor<1x1x3x2xf32>) outs(%e0 : tensor<1x1x2x3xf32>) permutation = [0, 1, 3, 2]
  %e = tensor.empty() : tensor<1x4x4x3xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x4x3xf32>) -> tensor<1x4x4x3xf32>
  %c = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%arg0, %wt : tensor<1x4x4x2xf32>, tensor<1x1x2x3xf32>) outs(%f : tensor<1x4x4x3xf32>) -> tensor<1x4x4x3xf32>
  %e2 = tensor.empty() : tensor<1x4x4x3xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>,
                                        affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c : tensor<1x4x4x3xf32>) outs(%e2 : tensor<1x4x4x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x4x4x3xf32>
  return %r : tensor<1x4x4x3xf32>
}
