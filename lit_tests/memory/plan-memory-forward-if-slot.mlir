// RUN: mlir-fdt-opt %s -p 'fdt-bufferize,fdt-plan-memory' | filecheck %s

// A row of a streamed path's step (transforms/stream_rows.py): computed in the branch that runs, left unwritten in
// the other, read after the scf.if. Both branches' buffers take one arena slot, so the scf.if's result is that
// view: its reader is given the view itself (the kernel passes prove their rewrites on static views; read through
// the scf.if result, a 1x1 layer lost its 2x2 pixel blocking, +18 % on VWW's streamed nest).
// CHECK-LABEL: func.func @row_of_the_step
//       CHECK: %[[ROW:view_[0-9]+]] = memref.view %arg0[%{{.*}}][] : memref<512xi8> to memref<64xf32>
//  CHECK-NEXT: scf.if
//       CHECK: linalg.generic {{.*}} ins(%[[ROW]] : memref<64xf32>)
//  CHECK-NEXT: ^bb0
//  CHECK-NEXT: arith.addf
#id = affine_map<(d0) -> (d0)>
func.func @row_of_the_step(%x: tensor<64xf32>, %flags: tensor<1xi1>) -> tensor<64xf32> {
  %c0 = arith.constant 0 : index
  %flag = tensor.extract %flags[%c0] : tensor<1xi1>
  %row = tensor.empty() : tensor<64xf32>
  %r = scf.if %flag -> tensor<64xf32> {
    %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
        ins(%x : tensor<64xf32>) outs(%row : tensor<64xf32>) {
    ^bb0(%a: f32, %b: f32):
      %n = arith.negf %a : f32
      linalg.yield %n : f32
    } -> tensor<64xf32>
    scf.yield %y : tensor<64xf32>
  } else {
    scf.yield %row : tensor<64xf32>
  }
  %out = tensor.empty() : tensor<64xf32>
  %z = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%r : tensor<64xf32>) outs(%out : tensor<64xf32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.addf %a, %a : f32
    linalg.yield %s : f32
  } -> tensor<64xf32>
  return %z : tensor<64xf32>
}
