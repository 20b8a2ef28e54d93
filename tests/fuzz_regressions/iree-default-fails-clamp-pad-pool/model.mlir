func.func @main(%arg0: tensor<1x1x1x2xi8>) -> tensor<1x3x2x2xi8> {
    %v0 = tosa.clamp %arg0 min_val(13 : i8) max_val(127 : i8) : (tensor<1x1x1x2xi8>) -> tensor<1x1x1x2xi8>
    %v1 = tosa.const_shape values(dense<[0, 0, 1, 1, 0, 1, 0, 0]> : tensor<8xindex>) : () -> !tosa.shape<8>
    %v2 = tosa.const values(dense<120> : tensor<1xi8>) : () -> tensor<1xi8>
    %v3 = tosa.pad %v0, %v1, %v2 : (tensor<1x1x1x2xi8>, !tosa.shape<8>, tensor<1xi8>) -> tensor<1x3x2x2xi8>
    %v4 = tosa.avg_pool2d %v3, %v2, %v2 kernel([2, 2]) stride([1, 1]) pad([0, 1, 0, 1]) acc_type(i32) : (tensor<1x3x2x2xi8>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x3x2x2xi8>
    return %v4 : tensor<1x3x2x2xi8>
}
