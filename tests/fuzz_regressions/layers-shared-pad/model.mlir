func.func @main(%arg0: tensor<1x1x1x2xf32>) -> tensor<1x1x1x4xf32> {
    %v0 = tosa.const values(dense<"0xE56EB4BDE63BAE3D98F8FEBD83FB9DBD6AFC68BCCC9BB5BE8CA5303E966B3ABD1FFC18BEA2959FBC5C6DE03E701043BE0F4706BEE1FA063E95F1C23E3C1CAB3E7454123E1B1D96BE74DB373CD095B83DBA649F3E9736F03D157DCBBDE1E1B43EB58EF6BE3D932ABEB61372BDB5698E3DF51106BD0752373EFDDBA3BE999955BDBBD368BEC9F8CFBBAF39373E787A80BC"> : tensor<2x3x3x2xf32>) : () -> tensor<2x3x3x2xf32>
    %v1 = tosa.const values(dense<"0x95310BBDF02CB1BD"> : tensor<2xf32>) : () -> tensor<2xf32>
    %v2 = tosa.const values(dense<0.000000e+00> : tensor<1xf32>) : () -> tensor<1xf32>
    %v3 = tosa.conv2d %arg0, %v0, %v1, %v2, %v2 pad([1, 1, 1, 1]) stride([1, 1]) dilation([1, 1]) acc_type(f32) : (tensor<1x1x1x2xf32>, tensor<2x3x3x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x2xf32>
    %v4 = tosa.clamp %v3 min_val(0.000000e+00 : f32) max_val(3.402823e+38 : f32) : (tensor<1x1x1x2xf32>) -> tensor<1x1x1x2xf32>
    %v5 = tosa.const values(dense<"0x6F8CA03EF35FB0BEAA9306BFC3A8663D400F983EBE3A08BEF4FE06BEC6FC4ABEE4D103BF0A994CBEA79B7DBE8A4EACBE6E751BBFAE06C2BC253395BD967DACBD0F81F6BD1CE5833E622034BDF2FAA3BEAB83ECBD7D5C993E5700C8BE1760ADBDE5935EBD3BB7843C8C8473BE54B00E3E3EF9E3BC9CD3AE3E6D34233E102B8CBDF25A6E3E676C043E1803893D64767D3D"> : tensor<2x3x3x2xf32>) : () -> tensor<2x3x3x2xf32>
    %v6 = tosa.const values(dense<"0x82F181BDBC6087BE"> : tensor<2xf32>) : () -> tensor<2xf32>
    %v7 = tosa.conv2d %arg0, %v5, %v6, %v2, %v2 pad([1, 1, 1, 1]) stride([1, 1]) dilation([1, 1]) acc_type(f32) : (tensor<1x1x1x2xf32>, tensor<2x3x3x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x2xf32>
    %v8 = tosa.concat %v4, %v7 axis(3) : (tensor<1x1x1x2xf32>, tensor<1x1x1x2xf32>) -> tensor<1x1x1x4xf32>
    return %v8 : tensor<1x1x1x4xf32>
}
