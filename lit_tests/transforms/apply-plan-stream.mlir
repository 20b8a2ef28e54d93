// RUN: mlir-fdt-opt %S/Inputs/conv-pool.mlir -p fdt-normalize-linalg,fdt-fold-constant-transposes \
// RUN:   --fdt-apply-plan=plan=%S/Inputs/stream-pool.json | filecheck %s
// RUN: mlir-fdt-opt %S/Inputs/conv-pool.mlir -p fdt-normalize-linalg,fdt-fold-constant-transposes \
// RUN:   --fdt-apply-plan=plan=%S/Inputs/stream-pool.json -p \
// RUN:   fdt-simplify-guards,fdt-fold-pad-into-consumer,fdt-fuse-epilogues,fdt-bufferize,fdt-plan-memory | filecheck \
// RUN:   %s --check-prefix=PLAN

// A streamed path (conv 3x3 padded, ReLU, then the global pooling): one loop over 9 steps (8 rows, the
// convolution one step behind the input's third row). The input reaches the convolution through a window of
// 3 rows, filled with the padding value at its first row (inside the loop, so a window first written late may
// share bytes the loop has finished reading), shifted up one row a step, the new row copied at the bottom; the
// convolution computes one output row from it (its columns padded, its rows not: the window's rows before the
// first are padding) into its own one-row window; the pooling adds that row to the 8 sums the loop carries,
// zeroed at its first row.
// CHECK: scf.for %[[STEP:.+]] = %c0 to %c9 step %c1 iter_args(%[[IN:.+]] = %{{.+}}, %[[ROW:.+]] = %{{.+}}, %[[SUMS:.+]] = %{{.+}}) -> (tensor<3x8x4xf32>, tensor<1x8x8xf32>, tensor<8xf32>)
// CHECK:   %[[FIRST:.+]] = arith.cmpi eq, %[[STEP]], %c0
// CHECK:   %[[FILLED:.+]] = scf.if %[[FIRST]]
// CHECK:     linalg.generic {{.*}} outs(%[[IN]] : tensor<3x8x4xf32>)
// CHECK:   tensor.extract_slice %[[FILLED]][1, 0, 0] [2, 8, 4]
// CHECK:   tensor.insert_slice %{{.+}} into %[[FILLED]][0, 0, 0] [2, 8, 4]
// CHECK:   tensor.extract_slice %collapsed[%[[STEP]], 0, 0] [1, 8, 4]
// CHECK:   tensor.pad %{{.+}} low[0, 1, 0] high[0, 1, 0]
// CHECK:   linalg.generic {{.*}} ins(%padded, %{{.+}} : tensor<3x10x4xf32>, tensor<3x3x4x8xf32>) outs(%{{.+}} : tensor<1x8x8xf32>)
// CHECK:   linalg.generic {{.*}} outs(%[[ROW]] : tensor<1x8x8xf32>)
// CHECK:   %[[POOLING:.+]] = arith.cmpi eq, %{{.+}}, %c0
// CHECK:   %[[ZEROED:.+]] = scf.if %[[POOLING]]
// CHECK:     linalg.generic {{.*}} outs(%[[SUMS]] : tensor<8xf32>)
// CHECK:   linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "reduction"]{{.*}} outs(%[[ZEROED]] : tensor<8xf32>)

// The arena: the f32 input (1024 B), its 3-row window (384 B), the convolution's one-row window (256 B) and
// the 8 sums (32 B); no 8x8x8 map is ever whole (untiled: 3104 B). The convolution's window, first written at
// step 1, shares 128 B with the input's first row, which step 0 copied (memory/overlap.py): 1696 -> 1568 B.
// PLAN: fdt.arena_bytes = 1568
// PLAN-SAME: fdt.io = {{\[\[}}"input0", 544, 1024], ["output0", 0, 32]]
