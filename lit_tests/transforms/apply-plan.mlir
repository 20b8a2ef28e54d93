// RUN: mlir-fdt-opt %S/Inputs/two-convs.mlir -p fdt-normalize-linalg,fdt-fold-constant-transposes \
// RUN:   --fdt-apply-plan=plan=%S/Inputs/ffmt-2x1.json | filecheck %s --check-prefix=FFMT
// RUN: mlir-fdt-opt %S/Inputs/two-convs.mlir -p fdt-normalize-linalg,fdt-fold-constant-transposes \
// RUN:   --fdt-apply-plan=plan=%S/Inputs/fdt-4.json | filecheck %s --check-prefix=FDT
// RUN: mlir-fdt-opt %S/Inputs/two-convs.mlir -p fdt-normalize-linalg,fdt-fold-constant-transposes \
// RUN:   --fdt-apply-plan=plan=%S/Inputs/fdt-psum-2.json | filecheck %s --check-prefix=PSUM
// RUN: not mlir-fdt-opt %S/Inputs/two-convs.mlir -p fdt-normalize-linalg \
// RUN:   --fdt-apply-plan=plan=%S/Inputs/not-a-path.json 2>&1 | filecheck %s --check-prefix=NOTPATH
// RUN: not mlir-fdt-opt %S/Inputs/two-convs.mlir -p fdt-normalize-linalg \
// RUN:   --fdt-apply-plan=plan=%S/Inputs/unknown-layer.json 2>&1 | filecheck %s --check-prefix=UNKNOWN
// RUN: not mlir-fdt-opt %S/Inputs/two-convs.mlir -p fdt-normalize-linalg --fdt-apply-plan 2>&1 | filecheck %s \
// RUN:   --check-prefix=NOPLAN

// FFMT, 2x1 tiles of the depthwise output (8x8): two row tiles of 4; the first convolution is
// fused into the tile loop and computes its rows with a one-row halo on each side (clamped at
// the image edge, hence the dynamic slice of the input).
// FFMT: scf.for %[[R:.+]] = %c0 to %c8 step %c4 iter_args
// FFMT:   tensor.extract_slice %collapsed[%{{.+}}, 0, 0] [%{{.+}}, 8, 4] [1, 1, 1] : tensor<8x8x4xf32> to tensor<?x8x4xf32>
// FFMT:   tensor.insert_slice %{{.+}} into %{{.+}}[%[[R]], 0, 0] [4, 8, 8] [1, 1, 1] : tensor<4x8x8xf32> into tensor<8x8x8xf32>
// FFMT-NOT: scf.for

// FDT without partial sums, 4 partitions of the 8 channels: each iteration computes 2 output
// channels of the first convolution (reading its whole input) and the depthwise on them.
// FDT: scf.for %[[C:.+]] = %c0 to %c8 step %c2 iter_args
// FDT:   linalg.generic {{.*}} ins(%padded, %{{.+}} : tensor<10x10x4xf32>, tensor<3x3x4x2xf32>)
// FDT:   tensor.insert_slice %{{.+}} into %{{.+}}[0, 0, %[[C]]] [8, 8, 2] [1, 1, 1]

// FDT with partial sums: the 1x1 convolution's input channels in 2 partitions; each iteration
// computes 4 depthwise channels and adds their contribution to the whole accumulator.
// PSUM: %[[ACC:.+]] = scf.for %[[C:.+]] = %c0 to %c8 step %c4 iter_args(%[[SUM:.+]] = %{{.+}}) -> (tensor<8x8x8xf32>)
// PSUM:   tensor.extract_slice %{{.+}}[0, 0, %[[C]]] [8, 8, 4] [1, 1, 1] : tensor<8x8x8xf32> to tensor<8x8x4xf32>
// PSUM:   linalg.generic {{.*}} ins(%{{.+}}, %{{.+}} : tensor<8x8x4xf32>, tensor<4x8xf32>) outs(%[[SUM]] : tensor<8x8x8xf32>)
// PSUM:   scf.yield

// NOTPATH: error: plan: layer pw_2 does not consume the output of conv_0; a path must follow the data flow
// UNKNOWN: error: plan: unknown layer(s) conv_7; this model's layers: conv_0, dw_1, pw_2
// NOPLAN: error: fdt-apply-plan needs plan=<file.json>
