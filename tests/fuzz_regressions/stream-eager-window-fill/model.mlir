func.func @main(%arg0: tensor<1x3x3x2xi8>) -> tensor<1x3x3x4xi8> {
    %v0 = tosa.const values(dense<"0x17A4DF2F"> : tensor<2x1x1x2xi8>) : () -> tensor<2x1x1x2xi8>
    %v1 = tosa.const values(dense<"0x17140000940E0000"> : tensor<2xi32>) : () -> tensor<2xi32>
    %v2 = tosa.const values(dense<-74> : tensor<1xi8>) : () -> tensor<1xi8>
    %v3 = tosa.const values(dense<0> : tensor<1xi8>) : () -> tensor<1xi8>
    %v4 = tosa.conv2d %arg0, %v0, %v1, %v2, %v3 pad([0, 0, 0, 0]) stride([1, 1]) dilation([1, 1]) acc_type(i32) : (tensor<1x3x3x2xi8>, tensor<2x1x1x2xi8>, tensor<2xi32>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x3x3x2xi32>
    %v5 = tosa.const values(dense<"0x829AC876537CB646"> : tensor<2xi32>) : () -> tensor<2xi32>
    %v6 = tosa.const values(dense<"0x2727"> : tensor<2xi8>) : () -> tensor<2xi8>
    %v7 = tosa.const values(dense<0> : tensor<1xi32>) : () -> tensor<1xi32>
    %v8 = tosa.const values(dense<-128> : tensor<1xi8>) : () -> tensor<1xi8>
    %v9 = tosa.rescale %v4, %v5, %v6, %v7, %v8 scale32(true) rounding_mode<DOUBLE_ROUND> per_channel(true) input_unsigned(false) output_unsigned(false) : (tensor<1x3x3x2xi32>, tensor<2xi32>, tensor<2xi8>, tensor<1xi32>, tensor<1xi8>) -> tensor<1x3x3x2xi8>
    %v10 = tosa.clamp %v9 min_val(-128 : i8) max_val(127 : i8) : (tensor<1x3x3x2xi8>) -> tensor<1x3x3x2xi8>
    %v11 = tosa.const values(dense<"0xD81BF998BCD2"> : tensor<1x3x2x1xi8>) : () -> tensor<1x3x2x1xi8>
    %v12 = tosa.const values(dense<"0xC7F8FFFF6AF1FFFF"> : tensor<2xi32>) : () -> tensor<2xi32>
    %v13 = tosa.depthwise_conv2d %v10, %v11, %v12, %v8, %v3 pad([0, 0, 1, 1]) stride([1, 1]) dilation([1, 1]) acc_type(i32) : (tensor<1x3x3x2xi8>, tensor<1x3x2x1xi8>, tensor<2xi32>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x3x3x2xi32>
    %v14 = tosa.const values(dense<"0x4711FA68E19B5E6B"> : tensor<2xi32>) : () -> tensor<2xi32>
    %v15 = tosa.const values(dense<"0x2626"> : tensor<2xi8>) : () -> tensor<2xi8>
    %v16 = tosa.const values(dense<-17> : tensor<1xi8>) : () -> tensor<1xi8>
    %v17 = tosa.rescale %v13, %v14, %v15, %v7, %v16 scale32(true) rounding_mode<DOUBLE_ROUND> per_channel(true) input_unsigned(false) output_unsigned(false) : (tensor<1x3x3x2xi32>, tensor<2xi32>, tensor<2xi8>, tensor<1xi32>, tensor<1xi8>) -> tensor<1x3x3x2xi8>
    %v18 = tosa.clamp %v17 min_val(-17 : i8) max_val(80 : i8) : (tensor<1x3x3x2xi8>) -> tensor<1x3x3x2xi8>
    %v19 = tosa.const_shape values(dense<[1, 9, 2]> : tensor<3xindex>) : () -> !tosa.shape<3>
    %v20 = tosa.reshape %v18, %v19 : (tensor<1x3x3x2xi8>, !tosa.shape<3>) -> tensor<1x9x2xi8>
    %v21 = tosa.const values(dense<"0x7E02306667A17804"> : tensor<1x2x4xi8>) : () -> tensor<1x2x4xi8>
    %v22 = tosa.matmul %v20, %v21, %v16, %v3 : (tensor<1x9x2xi8>, tensor<1x2x4xi8>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x9x4xi32>
    %v23 = tosa.const values(dense<"0xF0F76D58"> : tensor<1xi32>) : () -> tensor<1xi32>
    %v24 = tosa.const values(dense<"0x26"> : tensor<1xi8>) : () -> tensor<1xi8>
    %v25 = tosa.const values(dense<-31> : tensor<1xi8>) : () -> tensor<1xi8>
    %v26 = tosa.rescale %v22, %v23, %v24, %v7, %v25 scale32(true) rounding_mode<DOUBLE_ROUND> per_channel(false) input_unsigned(false) output_unsigned(false) : (tensor<1x9x4xi32>, tensor<1xi32>, tensor<1xi8>, tensor<1xi32>, tensor<1xi8>) -> tensor<1x9x4xi8>
    %v27 = tosa.clamp %v26 min_val(-31 : i8) max_val(59 : i8) : (tensor<1x9x4xi8>) -> tensor<1x9x4xi8>
    %v28 = tosa.const_shape values(dense<[1, 3, 3, 4]> : tensor<4xindex>) : () -> !tosa.shape<4>
    %v29 = tosa.reshape %v27, %v28 : (tensor<1x9x4xi8>, !tosa.shape<4>) -> tensor<1x3x3x4xi8>
    return %v29 : tensor<1x3x3x4xi8>
}
