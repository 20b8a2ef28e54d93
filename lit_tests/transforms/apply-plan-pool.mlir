// RUN: mlir-fdt-opt %S/Inputs/conv-pool.mlir -p fdt-normalize-linalg,fdt-fold-constant-transposes \
// RUN:   --fdt-apply-plan=plan=%S/Inputs/ffmt-pool-2x2.json | filecheck %s
// RUN: mlir-fdt-opt %S/Inputs/conv-pool.mlir -p fdt-normalize-linalg,fdt-fold-constant-transposes \
// RUN:   --fdt-apply-plan=plan=%S/Inputs/ffmt-pool-2x2.json -p \
// RUN:   fdt-simplify-guards,fdt-fold-pad-into-consumer,fdt-fuse-epilogues,fdt-bufferize,fdt-plan-memory | filecheck \
// RUN:   %s --check-prefix=PLAN

// FFMT through a global pooling: 2x2 spatial tiles of the pooled 8x8 map; the pooled sums (8
// channels) are carried across all tiles; each tile computes a 4x4 convolution tile from a 6x6
// padded input window.
// CHECK: scf.for %[[R:.+]] = %c0 to %c8 step %c4 iter_args(%[[A:.+]] = %{{.+}}) -> (tensor<8xf32>)
// CHECK:   scf.for %[[C:.+]] = %c0 to %c8 step %c4 iter_args(%[[B:.+]] = %[[A]]) -> (tensor<8xf32>)
// CHECK:     linalg.generic {{.*}} ins(%{{.+}}, %{{.+}} : tensor<6x6x4xf32>, tensor<3x3x4x8xf32>)
// CHECK:     linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "reduction"]{{.*}} outs(%[[B]] : tensor<8xf32>)

// After the spine the program needs the f32 input (1024 B), one 4x4x8 convolution tile (512 B)
// and the 8 sums (32 B): the padded input window is read through, the convolution runs per
// element, the pooling's 4x4 window operand only gives a shape (no bytes), and no 8x8x8 map is
// ever whole (it alone would be 2048 B; untiled the arena is 3104 B).
// PLAN: fdt.arena_bytes = 1568
// PLAN-SAME: fdt.io = {{\[\[}}"input0", 0, 1024], ["output0", 1536, 32]]
