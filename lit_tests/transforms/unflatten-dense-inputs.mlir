// RUN: mlir-fdt-opt %s -p fdt-unflatten-dense-inputs --split-input-file | filecheck %s

// A dense layer over a flattened 2x3x4 map sums over its rows, columns and channels; its weights
// are reshaped the same way (row-major), the zero-point scalar is left alone.
// CHECK-LABEL: func.func @flattened
//       CHECK: %[[W:.+]] = arith.constant dense<{{.+}}> : tensor<2x3x4x5xi8>
//       CHECK: linalg.generic {indexing_maps = [#{{.+}}, #{{.+}}, #{{.+}}, #{{.+}}],
//  CHECK-SAME: iterator_types = ["parallel", "reduction", "reduction", "reduction"]}
//  CHECK-SAME: ins(%arg0, %[[W]], %{{.+}} : tensor<2x3x4xi8>, tensor<2x3x4x5xi8>, i32)
func.func @flattened(%arg0: tensor<2x3x4xi8>) -> tensor<5xi32> {
  %w = arith.constant dense<1> : tensor<24x5xi8>
  %zp = arith.constant -128 : i32
  %acc = arith.constant dense<0> : tensor<5xi32>
  %flat = tensor.collapse_shape %arg0 [[0, 1, 2]] : tensor<2x3x4xi8> into tensor<24xi8>
  %r = linalg.generic {indexing_maps = [affine_map<(o, k) -> (k)>, affine_map<(o, k) -> (k, o)>,
                                        affine_map<(o, k) -> ()>, affine_map<(o, k) -> (o)>],
                       iterator_types = ["parallel", "reduction"]}
      ins(%flat, %w, %zp : tensor<24xi8>, tensor<24x5xi8>, i32) outs(%acc : tensor<5xi32>) {
  ^bb0(%in: i8, %wt: i8, %z: i32, %out: i32):
    %x = arith.extsi %in : i8 to i32
    %xs = arith.subi %x, %z : i32
    %y = arith.extsi %wt : i8 to i32
    %m = arith.muli %xs, %y : i32
    %a = arith.addi %out, %m : i32
    linalg.yield %a : i32
  } -> tensor<5xi32>
  return %r : tensor<5xi32>
}

// -----

// The flattened index also addresses a computed tensor (not a constant to reshape): unchanged.
// CHECK-LABEL: func.func @computed_weights
//       CHECK: ins(%{{.+}}, %arg1 : tensor<24xf32>, tensor<24x5xf32>)
func.func @computed_weights(%arg0: tensor<2x3x4xf32>, %arg1: tensor<24x5xf32>) -> tensor<5xf32> {
  %acc = arith.constant dense<0.0> : tensor<5xf32>
  %flat = tensor.collapse_shape %arg0 [[0, 1, 2]] : tensor<2x3x4xf32> into tensor<24xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(o, k) -> (k)>, affine_map<(o, k) -> (k, o)>,
                                        affine_map<(o, k) -> (o)>],
                       iterator_types = ["parallel", "reduction"]}
      ins(%flat, %arg1 : tensor<24xf32>, tensor<24x5xf32>) outs(%acc : tensor<5xf32>) {
  ^bb0(%in: f32, %wt: f32, %out: f32):
    %m = arith.mulf %in, %wt : f32
    %a = arith.addf %out, %m : f32
    linalg.yield %a : f32
  } -> tensor<5xf32>
  return %r : tensor<5xf32>
}
