func.func @main(%arg0: tensor<1x1x1x3xi8>) -> tensor<1x1x1x3xi8> {
    %v0 = tosa.clamp %arg0 min_val(-126 : i8) max_val(127 : i8) : (tensor<1x1x1x3xi8>) -> tensor<1x1x1x3xi8>
    %v1 = tosa.const values(dense<"0x99AEE6FC68B1"> : tensor<2x1x3x1xi8>) : () -> tensor<2x1x3x1xi8>
    %v2 = tosa.const values(dense<"0xAB0B0000C607000006FDFFFF"> : tensor<3xi32>) : () -> tensor<3xi32>
    %v3 = tosa.const values(dense<-126> : tensor<1xi8>) : () -> tensor<1xi8>
    %v4 = tosa.const values(dense<0> : tensor<1xi8>) : () -> tensor<1xi8>
    %v5 = tosa.depthwise_conv2d %v0, %v1, %v2, %v3, %v4 pad([0, 1, 0, 0]) stride([1, 1]) dilation([1, 1]) acc_type(i32) : (tensor<1x1x1x3xi8>, tensor<2x1x3x1xi8>, tensor<3xi32>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x1x1x3xi32>
    %v6 = tosa.const values(dense<"0x1479557298208046A7202344"> : tensor<3xi32>) : () -> tensor<3xi32>
    %v7 = tosa.const values(dense<"0x272526"> : tensor<3xi8>) : () -> tensor<3xi8>
    %v8 = tosa.const values(dense<0> : tensor<1xi32>) : () -> tensor<1xi32>
    %v9 = tosa.const values(dense<7> : tensor<1xi8>) : () -> tensor<1xi8>
    %v10 = tosa.rescale %v5, %v6, %v7, %v8, %v9 scale32(true) rounding_mode<DOUBLE_ROUND> per_channel(true) input_unsigned(false) output_unsigned(false) : (tensor<1x1x1x3xi32>, tensor<3xi32>, tensor<3xi8>, tensor<1xi32>, tensor<1xi8>) -> tensor<1x1x1x3xi8>
    %v11 = tosa.clamp %v10 min_val(-128 : i8) max_val(127 : i8) : (tensor<1x1x1x3xi8>) -> tensor<1x1x1x3xi8>
    %v12 = tosa.const values(dense<"0x00000040"> : tensor<1xi32>) : () -> tensor<1xi32>
    %v13 = tosa.const values(dense<"0x0A"> : tensor<1xi8>) : () -> tensor<1xi8>
    %v14 = tosa.rescale %v0, %v12, %v13, %v3, %v8 scale32(true) rounding_mode<DOUBLE_ROUND> per_channel(false) input_unsigned(false) output_unsigned(false) : (tensor<1x1x1x3xi8>, tensor<1xi32>, tensor<1xi8>, tensor<1xi8>, tensor<1xi32>) -> tensor<1x1x1x3xi32>
    %v15 = tosa.const values(dense<"0xDF7D344E"> : tensor<1xi32>) : () -> tensor<1xi32>
    %v16 = tosa.const values(dense<"0x20"> : tensor<1xi8>) : () -> tensor<1xi8>
    %v17 = tosa.rescale %v14, %v15, %v16, %v8, %v8 scale32(true) rounding_mode<DOUBLE_ROUND> per_channel(false) input_unsigned(false) output_unsigned(false) : (tensor<1x1x1x3xi32>, tensor<1xi32>, tensor<1xi8>, tensor<1xi32>, tensor<1xi32>) -> tensor<1x1x1x3xi32>
    %v18 = tosa.const values(dense<"0x00000040"> : tensor<1xi32>) : () -> tensor<1xi32>
    %v19 = tosa.const values(dense<"0x0A"> : tensor<1xi8>) : () -> tensor<1xi8>
    %v20 = tosa.rescale %v11, %v18, %v19, %v9, %v8 scale32(true) rounding_mode<DOUBLE_ROUND> per_channel(false) input_unsigned(false) output_unsigned(false) : (tensor<1x1x1x3xi8>, tensor<1xi32>, tensor<1xi8>, tensor<1xi8>, tensor<1xi32>) -> tensor<1x1x1x3xi32>
    %v21 = tosa.const values(dense<"0x34313D7E"> : tensor<1xi32>) : () -> tensor<1xi32>
    %v22 = tosa.const values(dense<"0x20"> : tensor<1xi8>) : () -> tensor<1xi8>
    %v23 = tosa.rescale %v20, %v21, %v22, %v8, %v8 scale32(true) rounding_mode<DOUBLE_ROUND> per_channel(false) input_unsigned(false) output_unsigned(false) : (tensor<1x1x1x3xi32>, tensor<1xi32>, tensor<1xi8>, tensor<1xi32>, tensor<1xi32>) -> tensor<1x1x1x3xi32>
    %v24 = tosa.add %v17, %v23 : (tensor<1x1x1x3xi32>, tensor<1x1x1x3xi32>) -> tensor<1x1x1x3xi32>
    %v25 = tosa.const values(dense<"0xA0811965"> : tensor<1xi32>) : () -> tensor<1xi32>
    %v26 = tosa.const values(dense<"0x33"> : tensor<1xi8>) : () -> tensor<1xi8>
    %v27 = tosa.const values(dense<18> : tensor<1xi8>) : () -> tensor<1xi8>
    %v28 = tosa.rescale %v24, %v25, %v26, %v8, %v27 scale32(true) rounding_mode<DOUBLE_ROUND> per_channel(false) input_unsigned(false) output_unsigned(false) : (tensor<1x1x1x3xi32>, tensor<1xi32>, tensor<1xi8>, tensor<1xi32>, tensor<1xi8>) -> tensor<1x1x1x3xi8>
    %v29 = tosa.clamp %v28 min_val(-128 : i8) max_val(127 : i8) : (tensor<1x1x1x3xi8>) -> tensor<1x1x1x3xi8>
    return %v29 : tensor<1x1x1x3xi8>
}
