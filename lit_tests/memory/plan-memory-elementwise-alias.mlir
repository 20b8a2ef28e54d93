// RUN: mlir-fdt-opt %s --split-input-file -p 'fdt-normalize-linalg,fdt-bufferize,fdt-plan-memory' | filecheck %s
// RUN: mlir-fdt-opt %s --split-input-file -p 'fdt-normalize-linalg,fdt-bufferize' --fdt-plan-memory=shifted-aliases=false | \
// RUN:   filecheck %s --check-prefix=APART

// QUANTIZE as one element-wise op: it reads float32 element i, then writes int8 element i. Its
// int8 output may start where the float32 input starts (element i lands on bytes of element i/4,
// already read), so the arena is the input's 128 bytes, not 128 + 32.
// CHECK-LABEL: func.func @quantize
//  CHECK-SAME: fdt.arena_bytes = 128
//  CHECK-SAME: fdt.io = {{\[\[}}"input0", 0, 128], ["output0", 0, 32]]
// APART: fdt.arena_bytes = 160

// DEQUANTIZE writes 4 bytes per byte it reads: its float32 output may overlap its int8 input only
// if it starts at least 3 x 32 bytes below it (element i then ends before int8 element i + 1).
// CHECK-LABEL: func.func @dequantize
//  CHECK-SAME: fdt.arena_bytes = 128
//  CHECK-SAME: fdt.io = {{\[\[}}"input0", 96, 32], ["output0", 0, 128]]
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @quantize(%x: tensor<4x8xf32>) -> tensor<4x8xi8> {
  %s = arith.constant 0.5 : f32
  %e = tensor.empty() : tensor<4x8xi8>
  %q = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xi8>) {
  ^bb0(%in: f32, %out: i8):
    %0 = arith.divf %in, %s : f32
    %1 = arith.fptosi %0 : f32 to i8
    linalg.yield %1 : i8
  } -> tensor<4x8xi8>
  return %q : tensor<4x8xi8>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

func.func @dequantize(%x: tensor<4x8xi8>) -> tensor<4x8xf32> {
  %s = arith.constant 0.5 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %d = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xi8>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%in: i8, %out: f32):
    %0 = arith.sitofp %in : i8 to f32
    %1 = arith.mulf %0, %s : f32
    linalg.yield %1 : f32
  } -> tensor<4x8xf32>
  return %d : tensor<4x8xf32>
}
