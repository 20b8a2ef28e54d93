func.func @main(%arg0: tensor<1x5x3x2xi16>) -> tensor<1x1x1x2xi16> {
    %v0 = tosa.max_pool2d %arg0 kernel([2, 2]) stride([2, 2]) pad([0, 1, 0, 1]) : (tensor<1x5x3x2xi16>) -> tensor<1x3x2x2xi16>
    %v1 = tosa.const values(dense<0> : tensor<1xi16>) : () -> tensor<1xi16>
    %v2 = tosa.avg_pool2d %v0, %v1, %v1 kernel([3, 2]) stride([1, 1]) pad([0, 0, 0, 0]) acc_type(i32) : (tensor<1x3x2x2xi16>, tensor<1xi16>, tensor<1xi16>) -> tensor<1x1x1x2xi16>
    return %v2 : tensor<1x1x1x2xi16>
}
