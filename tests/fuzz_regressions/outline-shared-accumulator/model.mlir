func.func @main(%arg0: tensor<1x2x2x2xi8>) -> tensor<1x1x1x2xi8> {
    %v0 = tosa.const values(dense<"0xCF8E292D76172F21E7629932DF9568A5"> : tensor<2x2x2x2xi8>) : () -> tensor<2x2x2x2xi8>
    %v1 = tosa.const values(dense<"0x8518000093E7FFFF"> : tensor<2xi32>) : () -> tensor<2xi32>
    %v2 = tosa.const values(dense<33> : tensor<1xi8>) : () -> tensor<1xi8>
    %v3 = tosa.const values(dense<0> : tensor<1xi8>) : () -> tensor<1xi8>
    %v4 = tosa.conv2d %arg0, %v0, %v1, %v2, %v3 pad([0, 0, 0, 0]) stride([1, 1]) dilation([1, 1]) acc_type(i32) : (tensor<1x2x2x2xi8>, tensor<2x2x2x2xi8>, tensor<2xi32>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x1x1x2xi32>
    %v5 = tosa.const values(dense<"0x3150A474AAD47C4D"> : tensor<2xi32>) : () -> tensor<2xi32>
    %v6 = tosa.const values(dense<"0x2827"> : tensor<2xi8>) : () -> tensor<2xi8>
    %v7 = tosa.const values(dense<0> : tensor<1xi32>) : () -> tensor<1xi32>
    %v8 = tosa.const values(dense<-39> : tensor<1xi8>) : () -> tensor<1xi8>
    %v9 = tosa.rescale %v4, %v5, %v6, %v7, %v8 scale32(true) rounding_mode<DOUBLE_ROUND> per_channel(true) input_unsigned(false) output_unsigned(false) : (tensor<1x1x1x2xi32>, tensor<2xi32>, tensor<2xi8>, tensor<1xi32>, tensor<1xi8>) -> tensor<1x1x1x2xi8>
    %v10 = tosa.clamp %v9 min_val(-128 : i8) max_val(127 : i8) : (tensor<1x1x1x2xi8>) -> tensor<1x1x1x2xi8>
    return %v10 : tensor<1x1x1x2xi8>
}
