// RUN: mlir-fdt-opt %S/Inputs/three-relu-convs.mlir -p fdt-normalize-linalg,fdt-fold-constant-transposes \
// RUN:   --fdt-apply-plan=plan=%S/Inputs/in-place.json -p \
// RUN:   fdt-simplify-guards,fdt-fold-pad-into-consumer,fdt-fuse-epilogues,fdt-reuse-dying-inputs | filecheck %s
// RUN: mlir-fdt-opt %S/Inputs/three-relu-convs.mlir -p fdt-normalize-linalg,fdt-fold-constant-transposes \
// RUN:   --fdt-apply-plan=plan=%S/Inputs/in-place.json -p \
// RUN:   fdt-simplify-guards,fdt-fold-pad-into-consumer,fdt-fuse-epilogues,fdt-reuse-dying-inputs,fdt-bufferize \
// RUN:   --fdt-plan-memory=shifted-aliases=false | filecheck %s --check-prefix=PLAN
// RUN: mlir-fdt-opt %S/Inputs/three-relu-convs.mlir -p fdt-normalize-linalg,fdt-fold-constant-transposes \
// RUN:   --fdt-apply-plan=plan=%S/Inputs/in-place.json -p \
// RUN:   fdt-simplify-guards,fdt-fold-pad-into-consumer,fdt-fuse-epilogues,fdt-bufferize \
// RUN:   --fdt-plan-memory=shifted-aliases=false | filecheck %s --check-prefix=NOREUSE

// Reuse one level up: the depthwise layer cut into one-channel partitions (fdt /8) reads, per
// partition, only the input channel it writes; the 1x1 layer cut into rows (ffmt 8x1) reads only
// the input row it writes. Each loop starts from its dying input, computes its tile into a
// private tile buffer and inserts it where it read.
// CHECK:      %[[CONV:.+]] = scf.for
// CHECK:      %[[DW:.+]] = scf.for %[[C:.+]] = %c0 to %c8 step %c1 iter_args(%[[A:.+]] = %[[CONV]])
// CHECK-NEXT:   %[[IN:.+]] = tensor.extract_slice %[[A]][0, 0, %[[C]]] [8, 8, 1] [1, 1, 1]
// CHECK-NEXT:   %[[TILE:.+]] = tensor.empty() : tensor<8x8x1xf32>
// CHECK:        scf.for %{{.+}} iter_args(%{{.+}} = %[[TILE]]) -> (tensor<8x8x1xf32>)
// CHECK:        tensor.insert_slice %{{.+}} into %[[A]][0, 0, %[[C]]] [8, 8, 1] [1, 1, 1]
// CHECK:      fdt.reuses_input = "%{{[0-9]+}}"
// CHECK:      scf.for %[[R:.+]] = %c0 to %c8 step %c1 iter_args(%[[B:.+]] = %[[DW]])
// CHECK-NEXT:   tensor.extract_slice %[[B]][%[[R]], 0, 0] [1, 8, 8] [1, 1, 1]
// CHECK-NEXT:   %[[ROW:.+]] = tensor.empty() : tensor<1x8x8xf32>
// CHECK:        scf.for %{{.+}} iter_args(%{{.+}} = %[[ROW]]) -> (tensor<1x8x8xf32>)
// CHECK:        tensor.insert_slice %{{.+}} into %[[B]][%[[R]], 0, 0] [1, 8, 8] [1, 1, 1]
// CHECK:      fdt.reuses_input = "%{{[0-9]+}}"

// Maps are 8x8x8 f32 (2048 B), the input 1024 B, tiles 256 B. In place, the depthwise and 1x1
// layers need 2048 + 256 B; the peak is the first convolution's input + output (3072 B).
// Without reuse the tiled layers need two whole maps and a tile. (Shifted aliases are off here,
// to measure the in-place reuse alone.)
// PLAN: fdt.arena_bytes = 3072
// NOREUSE: fdt.arena_bytes = 4352
