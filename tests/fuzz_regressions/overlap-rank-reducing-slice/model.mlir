func.func @main(%arg0: tensor<1x10x10x1xi8>) -> tensor<1x2x2x8xi8> {
    %v0 = tosa.const_shape values(dense<[0, 0, 0, 0]> : tensor<4xindex>) : () -> !tosa.shape<4>
    %v1 = tosa.const_shape values(dense<[1, 9, 9, 1]> : tensor<4xindex>) : () -> !tosa.shape<4>
    %v2 = tosa.slice %arg0, %v0, %v1 : (tensor<1x10x10x1xi8>, !tosa.shape<4>, !tosa.shape<4>) -> tensor<1x9x9x1xi8>
    %v3 = tosa.const values(dense<"0x05D5DD1D1E0204A8644EF88548947FF0EB746D5043C92D16AAB6C9CB71887E82BE47265D6E7A1BF3F1CFD2865C47A69F793774357AA379FD48F81A6D2FDE876742D8C6F47BD5A0FA"> : tensor<3x3x1x8xi8>) : () -> tensor<3x3x1x8xi8>
    %v4 = tosa.const values(dense<"0x091F00008B110000A4230000D414000059D0FFFF190E0000CCFFFFFFF4DCFFFF"> : tensor<8xi32>) : () -> tensor<8xi32>
    %v5 = tosa.const values(dense<3> : tensor<1xi8>) : () -> tensor<1xi8>
    %v6 = tosa.const values(dense<0> : tensor<1xi8>) : () -> tensor<1xi8>
    %v7 = tosa.depthwise_conv2d %v2, %v3, %v4, %v5, %v6 pad([0, 0, 0, 0]) stride([2, 2]) dilation([1, 1]) acc_type(i32) : (tensor<1x9x9x1xi8>, tensor<3x3x1x8xi8>, tensor<8xi32>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x4x4x8xi32>
    %v8 = tosa.const values(dense<"0x196B82661EADE95458FAA760C094E655BAA64E62B75761521E1BD75CAC64217E"> : tensor<8xi32>) : () -> tensor<8xi32>
    %v9 = tosa.const values(dense<"0x2727282828282828"> : tensor<8xi8>) : () -> tensor<8xi8>
    %v10 = tosa.const values(dense<0> : tensor<1xi32>) : () -> tensor<1xi32>
    %v11 = tosa.const values(dense<21> : tensor<1xi8>) : () -> tensor<1xi8>
    %v12 = tosa.rescale %v7, %v8, %v9, %v10, %v11 scale32(true) rounding_mode<DOUBLE_ROUND> per_channel(true) input_unsigned(false) output_unsigned(false) : (tensor<1x4x4x8xi32>, tensor<8xi32>, tensor<8xi8>, tensor<1xi32>, tensor<1xi8>) -> tensor<1x4x4x8xi8>
    %v13 = tosa.clamp %v12 min_val(-128 : i8) max_val(127 : i8) : (tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8>
    %v14 = tosa.avg_pool2d %v13, %v11, %v11 kernel([2, 2]) stride([2, 2]) pad([0, 0, 0, 0]) acc_type(i32) : (tensor<1x4x4x8xi8>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x2x2x8xi8>
    return %v14 : tensor<1x2x2x8xi8>
}
