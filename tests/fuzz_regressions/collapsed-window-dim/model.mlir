func.func @main(%arg0: tensor<1x2x4x2xi8>) -> tensor<1x3x1x1xi8> {
    %v0 = tosa.const values(dense<"0x499E893F2C4776DC72DE41C8A33DFC4E"> : tensor<1x2x4x2xi8>) : () -> tensor<1x2x4x2xi8>
    %v1 = tosa.const values(dense<"0xEECCFFFF"> : tensor<1xi32>) : () -> tensor<1xi32>
    %v2 = tosa.const values(dense<-2> : tensor<1xi8>) : () -> tensor<1xi8>
    %v3 = tosa.const values(dense<0> : tensor<1xi8>) : () -> tensor<1xi8>
    %v4 = tosa.conv2d %arg0, %v0, %v1, %v2, %v3 pad([1, 1, 0, 0]) stride([1, 1]) dilation([1, 1]) acc_type(i32) : (tensor<1x2x4x2xi8>, tensor<1x2x4x2xi8>, tensor<1xi32>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x3x1x1xi32>
    %v5 = tosa.const values(dense<"0x6BA06944"> : tensor<1xi32>) : () -> tensor<1xi32>
    %v6 = tosa.const values(dense<"0x27"> : tensor<1xi8>) : () -> tensor<1xi8>
    %v7 = tosa.const values(dense<0> : tensor<1xi32>) : () -> tensor<1xi32>
    %v8 = tosa.const values(dense<-7> : tensor<1xi8>) : () -> tensor<1xi8>
    %v9 = tosa.rescale %v4, %v5, %v6, %v7, %v8 scale32(true) rounding_mode<DOUBLE_ROUND> per_channel(false) input_unsigned(false) output_unsigned(false) : (tensor<1x3x1x1xi32>, tensor<1xi32>, tensor<1xi8>, tensor<1xi32>, tensor<1xi8>) -> tensor<1x3x1x1xi8>
    %v10 = tosa.clamp %v9 min_val(-128 : i8) max_val(127 : i8) : (tensor<1x3x1x1xi8>) -> tensor<1x3x1x1xi8>
    return %v10 : tensor<1x3x1x1xi8>
}
