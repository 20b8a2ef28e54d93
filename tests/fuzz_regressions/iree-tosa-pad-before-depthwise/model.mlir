func.func @main(%arg0: tensor<1x1x1x1xi8>) -> tensor<1x4x3x1xi8> {
    %v0 = tosa.const_shape values(dense<[0, 0, 2, 1, 1, 1, 0, 0]> : tensor<8xindex>) : () -> !tosa.shape<8>
    %v1 = tosa.const values(dense<-30> : tensor<1xi8>) : () -> tensor<1xi8>
    %v2 = tosa.pad %arg0, %v0, %v1 : (tensor<1x1x1x1xi8>, !tosa.shape<8>, tensor<1xi8>) -> tensor<1x4x3x1xi8>
    %v3 = tosa.const values(dense<"0xD5"> : tensor<1x1x1x1xi8>) : () -> tensor<1x1x1x1xi8>
    %v4 = tosa.const values(dense<"0xDDF8FFFF"> : tensor<1xi32>) : () -> tensor<1xi32>
    %v5 = tosa.const values(dense<0> : tensor<1xi8>) : () -> tensor<1xi8>
    %v6 = tosa.depthwise_conv2d %v2, %v3, %v4, %v1, %v5 pad([0, 0, 0, 0]) stride([1, 1]) dilation([1, 1]) acc_type(i32) : (tensor<1x4x3x1xi8>, tensor<1x1x1x1xi8>, tensor<1xi32>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x4x3x1xi32>
    %v7 = tosa.const values(dense<"0xA71A1978"> : tensor<1xi32>) : () -> tensor<1xi32>
    %v8 = tosa.const values(dense<"0x25"> : tensor<1xi8>) : () -> tensor<1xi8>
    %v9 = tosa.const values(dense<0> : tensor<1xi32>) : () -> tensor<1xi32>
    %v10 = tosa.const values(dense<31> : tensor<1xi8>) : () -> tensor<1xi8>
    %v11 = tosa.rescale %v6, %v7, %v8, %v9, %v10 scale32(true) rounding_mode<DOUBLE_ROUND> per_channel(false) input_unsigned(false) output_unsigned(false) : (tensor<1x4x3x1xi32>, tensor<1xi32>, tensor<1xi8>, tensor<1xi32>, tensor<1xi8>) -> tensor<1x4x3x1xi8>
    %v12 = tosa.clamp %v11 min_val(-128 : i8) max_val(127 : i8) : (tensor<1x4x3x1xi8>) -> tensor<1x4x3x1xi8>
    return %v12 : tensor<1x4x3x1xi8>
}
