func.func @main(%arg0: tensor<1x3x2x1xi8>) -> tensor<1x1x1x1xi8> {
    %v0 = tosa.const values(dense<-39> : tensor<1xi8>) : () -> tensor<1xi8>
    %v1 = tosa.avg_pool2d %arg0, %v0, %v0 kernel([1, 1]) stride([1, 1]) pad([0, 0, 0, 0]) acc_type(i32) : (tensor<1x3x2x1xi8>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x3x2x1xi8>
    %v2 = tosa.const_shape values(dense<[0, 0, 0, 0]> : tensor<4xindex>) : () -> !tosa.shape<4>
    %v3 = tosa.const_shape values(dense<[1, 2, 2, 1]> : tensor<4xindex>) : () -> !tosa.shape<4>
    %v4 = tosa.slice %v1, %v2, %v3 : (tensor<1x3x2x1xi8>, !tosa.shape<4>, !tosa.shape<4>) -> tensor<1x2x2x1xi8>
    %v5 = tosa.avg_pool2d %v4, %v0, %v0 kernel([2, 2]) stride([2, 2]) pad([0, 0, 0, 0]) acc_type(i32) : (tensor<1x2x2x1xi8>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x1x1x1xi8>
    return %v5 : tensor<1x1x1x1xi8>
}
