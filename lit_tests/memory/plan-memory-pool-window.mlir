// RUN: mlir-fdt-opt %s -p 'fdt-normalize-linalg,fdt-fuse-epilogues,fdt-bufferize,fdt-plan-memory' | filecheck %s

// A max pooling's window operand gives only the window's shape: no op reads or writes it, so it
// takes no bytes of the arena (it was 16 B on top of TFLite Micro's arena in cifar10). The arena
// holds the input (256 B) and the output (64 B), nothing else; the output, computed one element at a time with
// its accumulator (`fdt-fuse-epilogues` gives the lone reduction a copy to fuse into), trails the input it
// has consumed: 288 B, not 320.
// CHECK-LABEL: func.func @max_pool
//  CHECK-SAME: fdt.arena_bytes = 288
//       CHECK: memref.alloca() : memref<2x2xf32>
//   CHECK-NOT: memref.alloc(
//       CHECK: return{{$}}
func.func @max_pool(%x: tensor<1x4x4x4xf32>) -> tensor<1x2x2x4xf32> {
  %lowest = arith.constant -3.40282347E+38 : f32
  %e = tensor.empty() : tensor<1x2x2x4xf32>
  %f = linalg.fill ins(%lowest : f32) outs(%e : tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32>
  %window = tensor.empty() : tensor<2x2xf32>
  %p = linalg.pooling_nhwc_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
      ins(%x, %window : tensor<1x4x4x4xf32>, tensor<2x2xf32>) outs(%f : tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32>
  return %p : tensor<1x2x2x4xf32>
}
