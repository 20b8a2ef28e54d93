func.func @main(%arg0: tensor<1x1x4x2xi8>) -> tensor<1x4x5x2xi8> {
    %v0 = tosa.const_shape values(dense<[0, 0, 1, 2, 0, 1, 0, 0]> : tensor<8xindex>) : () -> !tosa.shape<8>
    %v1 = tosa.const values(dense<56> : tensor<1xi8>) : () -> tensor<1xi8>
    %v2 = tosa.pad %arg0, %v0, %v1 : (tensor<1x1x4x2xi8>, !tosa.shape<8>, tensor<1xi8>) -> tensor<1x4x5x2xi8>
    %v3 = tosa.const values(dense<"0x627E0491"> : tensor<2x1x1x2xi8>) : () -> tensor<2x1x1x2xi8>
    %v4 = tosa.const values(dense<"0x6F0200009C0F0000"> : tensor<2xi32>) : () -> tensor<2xi32>
    %v5 = tosa.const values(dense<0> : tensor<1xi8>) : () -> tensor<1xi8>
    %v6 = tosa.conv2d %v2, %v3, %v4, %v1, %v5 pad([0, 0, 0, 0]) stride([1, 1]) dilation([1, 1]) acc_type(i32) : (tensor<1x4x5x2xi8>, tensor<2x1x1x2xi8>, tensor<2xi32>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x4x5x2xi32>
    %v7 = tosa.const values(dense<"0xBD98264C4B6A3A50"> : tensor<2xi32>) : () -> tensor<2xi32>
    %v8 = tosa.const values(dense<"0x2626"> : tensor<2xi8>) : () -> tensor<2xi8>
    %v9 = tosa.const values(dense<0> : tensor<1xi32>) : () -> tensor<1xi32>
    %v10 = tosa.const values(dense<-33> : tensor<1xi8>) : () -> tensor<1xi8>
    %v11 = tosa.rescale %v6, %v7, %v8, %v9, %v10 scale32(true) rounding_mode<DOUBLE_ROUND> per_channel(true) input_unsigned(false) output_unsigned(false) : (tensor<1x4x5x2xi32>, tensor<2xi32>, tensor<2xi8>, tensor<1xi32>, tensor<1xi8>) -> tensor<1x4x5x2xi8>
    %v12 = tosa.clamp %v11 min_val(-128 : i8) max_val(127 : i8) : (tensor<1x4x5x2xi8>) -> tensor<1x4x5x2xi8>
    return %v12 : tensor<1x4x5x2xi8>
}
