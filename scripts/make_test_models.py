"""Write the small TFLite test models the corpus lacks into tests/data/models/.

TensorFlow is a tool for regenerating this test data, not a dependency of mlir-fdt or its tests:

    python3 -m venv /tmp/tf && /tmp/tf/bin/pip install tensorflow-cpu
    /tmp/tf/bin/python scripts/make_test_models.py

Every model is built from fixed seeds, so rerunning writes the same files (up to the converter's
version). Each is tiny (a few KB) and exercises one thing real models do that the MLPerf files do not.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "models"


def _representative(shape, lo=-1.0, hi=1.0):
    def gen():
        rng = np.random.default_rng(0)
        for _ in range(32):
            yield [rng.uniform(lo, hi, size=shape).astype(np.float32)]
    return gen


def _int8(model, shape, float_io: bool, lo=-1.0, hi=1.0) -> bytes:
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = _representative(shape, lo, hi)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if not float_io:
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    return conv.convert()


def float_io_int8_conv() -> bytes:
    """Float input and output around an int8 body: QUANTIZE (zero point != 0: the input range is
    asymmetric) -> CONV_2D -> DEPTHWISE_CONV_2D -> DEQUANTIZE."""
    tf.keras.utils.set_random_seed(1)
    inp = tf.keras.Input((12, 12, 3), batch_size=1)
    x = tf.keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(inp)
    x = tf.keras.layers.DepthwiseConv2D(3, padding="same", activation="relu")(x)
    model = tf.keras.Model(inp, x)
    return _int8(model, (1, 12, 12, 3), float_io=True, lo=-0.5, hi=2.0)


def multi_io_int8() -> bytes:
    """Two int8 inputs of different shapes, two outputs declared in the other order than computed."""
    tf.keras.utils.set_random_seed(2)
    a = tf.keras.Input((8, 8, 4), batch_size=1, name="image")
    b = tf.keras.Input((16,), batch_size=1, name="features")
    x = tf.keras.layers.Conv2D(4, 3, padding="same", activation="relu")(a)
    pooled = tf.keras.layers.GlobalAveragePooling2D()(x)
    y = tf.keras.layers.Dense(4, activation="relu")(b)
    s = tf.keras.layers.Add(name="sum")([pooled, y])
    model = tf.keras.Model([a, b], [tf.keras.layers.Dense(3, name="logits")(s), pooled])
    def gen():
        rng = np.random.default_rng(0)
        for _ in range(32):
            image = rng.uniform(-1, 1, (1, 8, 8, 4)).astype(np.float32)
            features = rng.uniform(-1, 1, (1, 16)).astype(np.float32)
            yield {"image": image, "features": features}
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = gen
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    return conv.convert()


def _stacked_lstms(seed: int):
    """Two stacked LSTMs on a batch of 2: the first returns its whole sequence, the second only its last
    step. Keras 2 (`pip install tf-keras`): the converter fuses its LSTM layers into
    UNIDIRECTIONAL_SEQUENCE_LSTM; Keras 3's become WHILE loops."""
    import tf_keras
    tf_keras.utils.set_random_seed(seed)
    inp = tf_keras.Input((5, 3), batch_size=2)
    x = tf_keras.layers.LSTM(4, return_sequences=True)(inp)
    x = tf_keras.layers.LSTM(3)(x)
    return tf_keras.Model(inp, tf_keras.layers.Dense(2)(x))


def float_lstm() -> bytes:
    """Float UNIDIRECTIONAL_SEQUENCE_LSTMs (the variant TFLite Micro runs), stacked, batch 2."""
    return tf.lite.TFLiteConverter.from_keras_model(_stacked_lstms(3)).convert()


def int8_lstm() -> bytes:
    """The same layers fully quantized: int8 activations, int16 cell state (TFLite Micro's integer LSTM)."""
    return _int8(_stacked_lstms(3), (2, 5, 3), float_io=False)


def _from_function(fn, shape, int8: bool) -> bytes:
    """A model of one traced function over a float input of `shape`; int8 I/O if `int8` (calibrated on an
    asymmetric range: the zero point is not 0)."""
    conv = tf.lite.TFLiteConverter.from_concrete_functions(
        [tf.function(fn).get_concrete_function(tf.TensorSpec(shape, tf.float32))])
    if int8:
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = _representative(shape, -0.5, 2.0)  # zero point != 0
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    return conv.convert()


# REDUCE_MAX / REDUCE_MIN: float and int8, one axis, several axes (with and without keep_dims), all
# axes to a scalar, and a negative axis
REDUCE_SHAPE = (1, 4, 6, 3)
REDUCTIONS = {
    "reduce_max_float_axis1": (tf.reduce_max, [1], False, False),
    "reduce_min_float_axes12_keep": (tf.reduce_min, [1, 2], True, False),
    "reduce_max_float_all": (tf.reduce_max, [0, 1, 2, 3], False, False),
    "reduce_max_int8_axes_neg1_1": (tf.reduce_max, [-1, 1], False, True),
    "reduce_min_int8_axis2_keep": (tf.reduce_min, [2], True, True),
    "reduce_min_int8_all": (tf.reduce_min, [0, 1, 2, 3], False, True),
}


def _reduction(reduce, axes, keepdims: bool, int8: bool):
    def build() -> bytes:
        return _from_function(lambda x: reduce(x, axis=axes, keepdims=keepdims), REDUCE_SHAPE, int8)
    return build


def unranked_scalar_reduce_int8() -> bytes:
    """An int8 REDUCE_MIN to a scalar, written as TFLite files were before the schema had
    `Tensor.has_rank`: the empty shape alone says "scalar" (mlonmcu_model_with_reduce_max is such a
    file, in float). TensorFlow's own schema module rewrites the converter's output."""
    import flatbuffers
    from tensorflow.lite.python import schema_py_generated as schema
    model = schema.ModelT.InitFromPackedBuf(_reduction(tf.reduce_min, [0, 1, 2, 3], False, True)(), 0)
    for tensor in model.subgraphs[0].tensors:
        tensor.hasRank = False
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _int16x8(model, shape) -> bytes:
    """16-bit activations, 8-bit weights (TFLite's 16x8 quantization): an i48 accumulator in TOSA."""
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = _representative(shape)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    conv.inference_input_type = tf.int16
    conv.inference_output_type = tf.int16
    return conv.convert()


# int16x8 TRANSPOSE_CONV: (kernel, strides, padding); SAME crops the output (negative TOSA out_pad), a
# kernel the stride does not divide pads the phase kernels
TRANSPOSE_CONVS = {
    "transpose_conv_int16_k3_s2_same": ((3, 3), (2, 2), "same"),
    "transpose_conv_int16_k3x4_s1x2_valid": ((3, 4), (1, 2), "valid"),
}


def _transpose_conv(kernel, strides, padding: str):
    def build() -> bytes:
        tf.keras.utils.set_random_seed(3)
        inp = tf.keras.Input((3, 5, 4), batch_size=1)
        out = tf.keras.layers.Conv2DTranspose(6, kernel, strides=strides, padding=padding,
                                              bias_initializer=tf.keras.initializers.RandomUniform(-0.5, 0.5))(inp)
        return _int16x8(tf.keras.Model(inp, out), (1, 3, 5, 4))
    return build


def int8_lstm_wide() -> bytes:
    """Wider int8 LSTMs between a float QUANTIZE and DEQUANTIZE: 12 steps of 8 features into 16 units, then 8
    units, then a dense layer. (A sigmoid cell activation, `activation="sigmoid"`, crashes the converter.)"""
    import tf_keras
    tf_keras.utils.set_random_seed(5)
    inp = tf_keras.Input((12, 8), batch_size=1)
    x = tf_keras.layers.LSTM(16, return_sequences=True)(inp)
    x = tf_keras.layers.LSTM(8)(x)
    return _int8(tf_keras.Model(inp, tf_keras.layers.Dense(4)(x)), (1, 12, 8), float_io=True, lo=-2.0, hi=2.0)


# (output height, output width) x (align_corners, half_pixel_centers) for a 6x5 input: an integer upscale,
# a non-integer upscale and a non-integer downscale, each with TFLite's three flag combinations
RESIZE_SIZES = [(12, 10), (9, 7), (4, 3)]
RESIZE_FLAGS = [(False, False), (True, False), (False, True)]


def _resize_branches(x, method: str, sizes=RESIZE_SIZES, flags=RESIZE_FLAGS) -> list:
    v1 = tf.compat.v1.image
    op = v1.resize_nearest_neighbor if method == "nearest" else v1.resize_bilinear
    outs = []
    for size in sizes:
        for align_corners, half_pixel_centers in flags:
            name = f"{method}_{size[0]}x{size[1]}_ac{int(align_corners)}_hp{int(half_pixel_centers)}"
            def resize(t, s=size, a=align_corners, h=half_pixel_centers):
                return op(t, s, align_corners=a, half_pixel_centers=h)
            outs.append(tf.keras.layers.Lambda(resize, name=name)(x))
    return outs


def _convert(model, shape, kind: str, lo=-1.0, hi=1.0) -> bytes:
    """kind: "int8" (int8 I/O), "int16" (16x8 quantization, int16 I/O) or "float"."""
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    if kind != "float":
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = _representative(shape, lo, hi)
        ops = tf.lite.OpsSet.TFLITE_BUILTINS_INT8 if kind == "int8" else \
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8
        conv.target_spec.supported_ops = [ops]
        conv.inference_input_type = conv.inference_output_type = tf.int8 if kind == "int8" else tf.int16
    return conv.convert()


def _resize_model(method: str, kind: str, upsampling: bool = True) -> bytes:
    """RESIZE ops straight on a 1x6x5x4 input, one output per size and flag combination, plus Keras
    UpSampling2D (3x2: not the size of a branch, whose output the converter would share) with the same
    interpolation."""
    inp = tf.keras.Input((6, 5, 4), batch_size=1)
    outs = _resize_branches(inp, method)
    if upsampling:
        outs.append(tf.keras.layers.UpSampling2D((3, 2), interpolation=method, name=f"upsampling_{method}")(inp))
    return _convert(tf.keras.Model(inp, outs), (1, 6, 5, 4), kind)


def resize_nearest_int8() -> bytes:
    """RESIZE_NEAREST_NEIGHBOR (int8): up, non-integer up and down, each flag combination. (Keras'
    nearest UpSampling2D becomes RESHAPE + TILE, no resize, and TFLite Micro has no TILE.)"""
    return _resize_model("nearest", "int8", upsampling=False)


def resize_bilinear_int8() -> bytes:
    """RESIZE_BILINEAR (int8, TFLite's 1/1024 fixed point): the same sizes and flags; Keras' bilinear
    UpSampling2D (a RESIZE_BILINEAR with half_pixel_centers)."""
    return _resize_model("bilinear", "int8")


def resize_float() -> bytes:
    """Both resize operators in float32, every flag combination, up and down."""
    inp = tf.keras.Input((6, 5, 4), batch_size=1)
    outs = _resize_branches(inp, "nearest", sizes=[(9, 7), (4, 3)]) + \
        _resize_branches(inp, "bilinear", sizes=[(9, 7), (4, 3)])
    return _convert(tf.keras.Model(inp, outs), (1, 6, 5, 4), "float")


def resize_int16() -> bytes:
    """RESIZE_NEAREST_NEIGHBOR with 16x8 quantization (int16 activations): every flag combination."""
    inp = tf.keras.Input((6, 5, 4), batch_size=1)
    return _convert(tf.keras.Model(inp, _resize_branches(inp, "nearest", sizes=[(9, 7)])), (1, 6, 5, 4), "int16")


def resize_nearest_floor_int8() -> bytes:
    """The shape of a YOLO-style neck: 1x4x5x32 -> 1x8x10x32 nearest, no flags (TFLite floors x/2 where
    TOSA rounds), between two convolutions."""
    tf.keras.utils.set_random_seed(3)
    inp = tf.keras.Input((4, 5, 8), batch_size=1)
    x = tf.keras.layers.Conv2D(32, 1, activation="relu")(inp)
    x = tf.keras.layers.Lambda(lambda t: tf.compat.v1.image.resize_nearest_neighbor(t, (8, 10)))(x)
    x = tf.keras.layers.Conv2D(8, 3, padding="same")(x)
    return _convert(tf.keras.Model(inp, x), (1, 4, 5, 8), "int8")


def resize_nearest_float32_rounding_int8() -> bytes:
    """Nearest 2 -> 82 rows (and 3 -> 123 columns): TFLite's float32 x * (2/82) misses the exact ratio's
    index at x = 41 (and 3/123 at 41, 82): IREE needs other parameters than the exact ratio's."""
    inp = tf.keras.Input((2, 3, 2), batch_size=1)
    x = tf.keras.layers.Lambda(lambda t: tf.compat.v1.image.resize_nearest_neighbor(t, (82, 123)))(inp)
    return _convert(tf.keras.Model(inp, x), (1, 2, 3, 2), "int8")


def _single_resize(method: str, shape, size, half_pixel_centers: bool = False) -> bytes:
    inp = tf.keras.Input(shape, batch_size=1)
    v1 = tf.compat.v1.image
    op = v1.resize_nearest_neighbor if method == "nearest" else v1.resize_bilinear
    x = tf.keras.layers.Lambda(lambda t: op(t, size, half_pixel_centers=half_pixel_centers))(inp)
    return _convert(tf.keras.Model(inp, x), (1, *shape), "int8")


def resize_bilinear_int16() -> bytes:
    """RESIZE_BILINEAR with 16x8 quantization, which TFLite Micro has no kernel for (mlir-fdt refuses it)."""
    inp = tf.keras.Input((6, 5, 4), batch_size=1)
    outs = _resize_branches(inp, "bilinear", sizes=[(9, 7)], flags=[(False, True)])
    return _convert(tf.keras.Model(inp, outs), (1, 6, 5, 4), "int16")


def resize_bilinear_outside_int8() -> bytes:
    """Bilinear 1 -> 55 rows: TFLite's integer kernel rounds the scale to 19/1024 and reads row 1 of a
    one-row input at the last output row (mlir-fdt refuses it)."""
    return _single_resize("bilinear", (1, 3, 2), (55, 3))


def resize_nearest_unmatched_int8() -> bytes:
    """Nearest 24 -> 76 rows with half_pixel_centers: TFLite's float32 indices follow no TOSA resize's
    scale and offset (mlir-fdt refuses it)."""
    return _single_resize("nearest", (24, 1, 1), (76, 1), half_pixel_centers=True)


def int16x8_ops() -> bytes:
    """16x8 quantization (int16 activations, int8 weights) through CONV_2D, ADD, MUL and MEAN."""
    tf.keras.utils.set_random_seed(4)
    inp = tf.keras.Input((8, 8, 3), batch_size=1)
    a = tf.keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inp)
    b = tf.keras.layers.Conv2D(8, 1)(inp)
    s = tf.keras.layers.Add()([a, b])
    m = tf.keras.layers.Multiply()([s, b])
    out = tf.keras.layers.Lambda(lambda t: tf.reduce_mean(t, axis=[1, 2]))(m)
    return _convert(tf.keras.Model(inp, out), (1, 8, 8, 3), "int16")


def pointwise_depthwise_int16() -> bytes:
    """16x8 DEPTHWISE_CONV_2D with 1x1 kernels (stride 1; stride 2 with channel multiplier 2): IREE
    decomposes 1x1 depthwise layers with an i16 -> i48 cast its validation rejects."""
    tf.keras.utils.set_random_seed(6)
    inp = tf.keras.Input((7, 7, 4), batch_size=1)
    x = tf.keras.layers.Conv2D(4, 3, padding="same")(inp)
    x = tf.keras.layers.DepthwiseConv2D(1)(x)
    x = tf.keras.layers.DepthwiseConv2D(1, strides=2, depth_multiplier=2, activation="relu")(x)
    return _convert(tf.keras.Model(inp, x), (1, 7, 7, 4), "int16")


def _gru(kind: str, unroll: bool) -> bytes:
    tf.keras.utils.set_random_seed(5)
    inp = tf.keras.Input((6, 4), batch_size=1)
    x = tf.keras.layers.GRU(8, unroll=unroll)(inp)
    out = tf.keras.layers.Dense(3)(x)
    return _convert(tf.keras.Model(inp, out), (1, 6, 4), kind)


def activations_int8() -> bytes:
    """HARD_SWISH and LEAKY_RELU (MobileNet-v3 and YOLO-style activations) after a convolution."""
    tf.keras.utils.set_random_seed(5)
    inp = tf.keras.Input((6, 6, 3), batch_size=1)
    x = tf.keras.layers.Conv2D(4, 3, padding="same")(inp)
    x = tf.keras.layers.Activation(tf.keras.activations.hard_swish)(x)
    x = tf.keras.layers.Conv2D(4, 1)(x)
    x = tf.keras.layers.LeakyReLU(negative_slope=0.1)(x)
    return _int8(tf.keras.Model(inp, x), (1, 6, 6, 3), float_io=False, lo=-3.0, hi=3.0)


def repeated_output_int8() -> bytes:
    """One tensor listed twice among the outputs (a Keras model returning the same layer twice, or two
    identical branches the converter merges): every declared output must be written."""
    tf.keras.utils.set_random_seed(4)
    inp = tf.keras.Input((6, 6, 2), batch_size=1)
    x = tf.keras.layers.Conv2D(3, 3, padding="same", activation="relu")(inp)
    pooled = tf.keras.layers.GlobalAveragePooling2D()(x)
    return _int8(tf.keras.Model(inp, [pooled, x, pooled]), (1, 6, 6, 2), float_io=False)


MODELS = {
    "float_io_int8_conv": float_io_int8_conv,
    "repeated_output_int8": repeated_output_int8,
    "activations_int8": activations_int8,
    "pointwise_depthwise_int16": pointwise_depthwise_int16,
    "multi_io_int8": multi_io_int8,
    "float_lstm": float_lstm,
    "int8_lstm": int8_lstm,
    "int8_lstm_wide": int8_lstm_wide,
    **{name: _reduction(*spec) for name, spec in REDUCTIONS.items()},
    "unranked_scalar_reduce_int8": unranked_scalar_reduce_int8,
    **{name: _transpose_conv(*spec) for name, spec in TRANSPOSE_CONVS.items()},
    "resize_nearest_int8": resize_nearest_int8,
    "resize_bilinear_int8": resize_bilinear_int8,
    "resize_float": resize_float,
    "resize_int16": resize_int16,
    "resize_nearest_floor_int8": resize_nearest_floor_int8,
    "resize_nearest_float32_rounding_int8": resize_nearest_float32_rounding_int8,
    "resize_bilinear_int16": resize_bilinear_int16,
    "resize_bilinear_outside_int8": resize_bilinear_outside_int8,
    "resize_nearest_unmatched_int8": resize_nearest_unmatched_int8,
    "int16x8_ops": int16x8_ops,
    "gru_float": lambda: _gru("float", unroll=False),
    "gru_float_unrolled": lambda: _gru("float", unroll=True),
    # no "gru_int8" (unroll=False): TensorFlow 2.21's converter dies with a segmentation fault on it
    "gru_int8_unrolled": lambda: _gru("int8", unroll=True),
}


def main(names: list[str]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, build in MODELS.items():
        if names and name not in names:
            continue
        try:
            data = build()
        except Exception as e:  # noqa: BLE001 - a converter that cannot write one model should not stop the others
            print(f"{name}.tflite: not written: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
            continue
        (OUT / f"{name}.tflite").write_bytes(data)
        print(f"{name}.tflite: {len(data)} bytes")


if __name__ == "__main__":
    import sys
    main(sys.argv[1:])
