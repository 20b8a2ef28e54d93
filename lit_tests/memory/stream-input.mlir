// RUN: mlir-fdt-opt %s -p fdt-normalize-linalg,fdt-fold-constant-transposes \
// RUN:   --fdt-apply-plan=plan=%S/../transforms/Inputs/stream-pool.json -p \
// RUN:   fdt-simplify-guards,fdt-fold-pad-into-consumer,fdt-fuse-epilogues,fdt-bufferize,fdt-stream-input,fdt-plan-memory \
// RUN:   | filecheck %s
// RUN: sed 's/ attributes {fdt.stream_inputs}//' %s | mlir-fdt-opt -p fdt-normalize-linalg,fdt-fold-constant-transposes \
// RUN:   --fdt-apply-plan=plan=%S/../transforms/Inputs/stream-pool.json -p \
// RUN:   fdt-simplify-guards,fdt-fold-pad-into-consumer,fdt-fuse-epilogues,fdt-bufferize,fdt-stream-input,fdt-plan-memory \
// RUN:   | filecheck %s --check-prefix=WHOLE

// The streamed path of transforms/apply-plan-stream.mlir (a padded 3x3 convolution, ReLU, global pooling, one
// loop over 9 steps) on a function that asks for its input a row at a time (`fdt.stream_inputs`, set by
// `mlir-fdt compile --stream-input`): each copy of an input row into the convolution's 3-row window becomes a
// call of the row callback (input 0, the step's row, 128 bytes, the window's bottom row), and the 1024-byte
// input leaves the arena: 1568 B -> 672 B. Without the attribute the copy and the input stay.
// CHECK: func.func private @fdt_read_input_row(i32, i32, i32, !llvm.ptr) attributes {hal.import.static}
// CHECK: fdt.arena_bytes = 672
// CHECK-SAME: fdt.io = {{\[\[}}"output0", 640, 32]]
// CHECK-SAME: fdt.streamed_inputs = {{\[\[}}0, 128, 8, 1]]
// CHECK: scf.for %[[STEP:.+]] = %c0 to %c9 step %c1
// CHECK:   scf.if
// CHECK:     %[[ADDRESS:.+]] = memref.extract_aligned_pointer_as_index
// CHECK:     %[[POINTER:.+]] = llvm.inttoptr
// CHECK:     %[[ROW:.+]] = arith.index_cast %[[STEP]] : index to i32
// CHECK:     func.call @fdt_read_input_row(%c0_i32, %[[ROW]], %c128_i32, %[[POINTER]])
// CHECK-NOT: memref.copy %subview
// WHOLE-NOT: fdt_read_input_row
// WHOLE: fdt.arena_bytes = 1568
// WHOLE-SAME: fdt.io = {{\[\[}}"input0", 544, 1024], ["output0", 0, 32]]
// A padded 3x3 convolution with ReLU, then a global average pooling (sum; the division is the
// model's next op), f32.
func.func @net(%arg0: tensor<1x8x8x4xf32>) -> tensor<1x8xf32> attributes {fdt.stream_inputs} {
  %zero = arith.constant 0.0 : f32
  %w0 = arith.constant dense<0.5> : tensor<3x3x4x8xf32>
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
