// RUN: mlir-fdt-opt %s -p \
// RUN:   'fdt-normalize-linalg,fdt-fold-constant-transposes,fdt-fuse-epilogues,fdt-bufferize,fdt-plan-memory,fdt-lower-to-loops,fdt-wrap-executable{executable-name=tiny}' \
// RUN:   | filecheck %s

// The planned program becomes a no_pipeline executable with one arena binding, lowered to
// loops (each top-level nest in a function of its own taking the arena), plus a host function
// dispatching it in place.
// CHECK: #[[T:.+]] = #iree_codegen.translation_info<pipeline = #iree_codegen.no_pipeline>
// CHECK: hal.executable.source public @tiny
// CHECK:   hal.executable.export public @tiny_main ordinal(0)
// CHECK:     hal.return %c1, %c1, %c1
// CHECK:   memref.global "private" constant
// CHECK:   func.func private @fdt_nest_0(%{{.+}}: memref<224xi8>)
// CHECK-NOT: linalg.generic
// CHECK:     scf.for
// CHECK:   func.func @tiny_main()
// CHECK-SAME: translation_info = #[[T]]
// CHECK:     %[[ARENA:.+]] = hal.interface.binding.subspan {{.*}} binding(0) {{.*}} : memref<224xi8>
// CHECK:     call @fdt_nest_0(%[[ARENA]])
// CHECK: func.func @run(%[[A:.+]]: tensor<224xi8>) -> tensor<224xi8>
// CHECK:   flow.dispatch @tiny::@tiny_main(%[[A]]) : (tensor<224xi8>) -> %[[A]]
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
