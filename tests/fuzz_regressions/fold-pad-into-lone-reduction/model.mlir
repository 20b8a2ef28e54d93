func.func @main(%arg0: tensor<1x1x1x1xf32>) -> tensor<1x1x4x1xf32> {
    %v0 = tosa.const_shape values(dense<[0, 0, 2, 0, 2, 1, 0, 0]> : tensor<8xindex>) : () -> !tosa.shape<8>
    %v1 = tosa.const values(dense<4.000000e-02> : tensor<1xf32>) : () -> tensor<1xf32>
    %v2 = tosa.pad %arg0, %v0, %v1 : (tensor<1x1x1x1xf32>, !tosa.shape<8>, tensor<1xf32>) -> tensor<1x3x4x1xf32>
    %v3 = tosa.reduce_sum %v2 axis(1) : (tensor<1x3x4x1xf32>) -> tensor<1x1x4x1xf32>
    %v4 = tosa.const values(dense<"0xABAAAA3E"> : tensor<1x1x1x1xf32>) : () -> tensor<1x1x1x1xf32>
    %v5 = tosa.const values(dense<0> : tensor<1xi8>) : () -> tensor<1xi8>
    %v6 = tosa.mul %v3, %v4, %v5 : (tensor<1x1x4x1xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<1x1x4x1xf32>
    return %v6 : tensor<1x1x4x1xf32>
}
