"""Layers real TinyML models use beyond the CNN core of emit.py, each written the way
tosa-converter-for-tflite writes the TFLite operator:

- MEAN: quantized, a rescale to i32 (the zero point removed), one `tosa.reduce_sum` per axis, a
  rescale to the output scale; float, the sums times a constant 1/N.
- STRIDED_SLICE with strides: a slice to a whole number of strides, a reshape that splits each
  strided dim into (count, stride), a slice keeping index 0 of each stride, a reshape back.
- TRANSPOSE_CONV: `tosa.transpose_conv2d` (weights [OC, KH, KW, IC], negative `out_pad` crops)
  and the usual quantized epilogue.
- RESIZE_NEAREST_NEIGHBOR / RESIZE_BILINEAR: `tosa.resize` with the converter's scale, offset and
  border for align_corners / half_pixel_centers; quantized bilinear widens to i32 (int8) or i48
  (int16) in units of scale_y_n * scale_x_n, then a rescale back.
- GATHER: an index input (i32 token ids, or float ids through a `tosa.cast` as Keras' embedding
  models have) selecting rows of a constant table (then concatenated to the activations) or of
  the activations themselves. The self-test draws index inputs in their valid range
  (analysis/input_ranges.py).
- A second data input added to the activations (TFLite ADD of two inputs), and a tap: a second
  head on an intermediate tensor that is a program output (models with several outputs).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .quant import INT8_WEIGHT_STD, INT16_INPUT_STD
from .spec import LayerSpec
from .tosa_text import Emitter, InvalidSpec, Tensor, tensor_type

AXES = {"h": (1,), "w": (2,), "hw": (1, 2)}


def _nhwc(x: Tensor, what: str) -> tuple[int, int, int, int]:
    if len(x.shape) != 4:
        raise InvalidSpec(f"{what} needs an NHWC input, got {x.shape}")
    return x.shape


def mean(em: Emitter, x: Tensor, layer: LayerSpec) -> Tensor:
    """TFLite's MEAN over H, W or both; `keep` False (over both) gives [1, C] as Keras'
    GlobalAveragePooling2D does."""
    n, h, w, c = _nhwc(x, "mean")
    axes = AXES[layer.params.get("axes", "hw")]
    keep = layer.params.get("keep", True) or axes != (1, 2)
    count = math.prod(x.shape[a] for a in axes)
    rng = em.rng(layer.uid)
    if em.quantized:
        y = em.rescale(x, [1.0], "i32", 0, x.std)
    else:
        y = x
    for axis in axes:
        shape = tuple(1 if i == axis else s for i, s in enumerate(y.shape))
        name = em.op(f"tosa.reduce_sum {y.name} axis({axis}) : ({tensor_type(y.shape, y.elem)}) -> "
                     f"{tensor_type(shape, y.elem)}")
        y = Tensor(name, shape, y.elem, 0, y.std * math.sqrt(x.shape[axis]))
    if em.quantized:
        out_zp = int(rng.integers(-40, 40)) if em.dtype == "i8" else 0
        target = em.target_std(rng)
        y = em.rescale(y, [target / y.std], em.dtype, out_zp, target)
    else:
        inv = em.const(np.full((1, 1, 1, 1), 1.0 / count), "f32")
        ttype = tensor_type(y.shape, "f32")
        name = em.op(f"tosa.mul {y.name}, {inv}, {em.scalar(0, 'i8')} : ({ttype}, tensor<1x1x1x1xf32>, "
                     f"tensor<1xi8>) -> {ttype}")
        y = Tensor(name, y.shape, "f32", 0, x.std / math.sqrt(count))
    return y if keep else em.reshape(y, (1, c))


def strided_slice(em: Emitter, x: Tensor, layer: LayerSpec) -> Tensor:
    """x[:, top::sh, left::sw, :], as many whole strides as fit."""
    n, h, w, c = _nhwc(x, "strided slice")
    top, left = layer.params.get("begin", (0, 0))
    sh, sw = layer.params["stride"]
    if max(sh, sw) < 2:
        raise InvalidSpec("a strided slice needs a stride above 1 (a plain slice is 'slice')")
    rows, cols = (h - top) // sh, (w - left) // sw
    if min(rows, cols) < 1:
        raise InvalidSpec(f"strided slice {layer.params} leaves nothing of {x.shape}")
    x = em.slice(x, (n, rows * sh, cols * sw, c), (0, top, left, 0))
    split = (n, rows, *((sh,) if sh > 1 else ()), cols, *((sw,) if sw > 1 else ()), c)
    keep = (n, rows, *((1,) if sh > 1 else ()), cols, *((1,) if sw > 1 else ()), c)
    y = em.slice(em.reshape(x, split), keep, (0,) * len(split))
    return em.reshape(y, (n, rows, cols, c))


def transpose_conv(em: Emitter, x: Tensor, layer: LayerSpec) -> Tensor:
    """TFLite's TRANSPOSE_CONV: out = (in - 1) * stride + kernel - crop, per spatial dim. Not int16x8:
    IREE's TOSA lowering rejects it (a reshape of the i48 bias), so there is no reference to compare
    with (mlir-fdt refuses such models, e.g. the corpus' seanet_transpose_conv0)."""
    if em.dtype == "i16":
        raise InvalidSpec("int16x8 transpose conv: IREE's TOSA to linalg lowering rejects it")
    n, h, w, c = _nhwc(x, "transpose conv")
    p = layer.params
    kh, kw = p["kernel"]
    sh, sw = p["stride"]
    crop = p.get("crop", (0, 0, 0, 0))
    if crop[0] + crop[1] >= kh + (h - 1) * sh or crop[2] + crop[3] >= kw + (w - 1) * sw \
            or max(crop[0], crop[1]) >= kh or max(crop[2], crop[3]) >= kw:
        raise InvalidSpec(f"transpose conv crop {crop} too large for kernel {(kh, kw)}")
    oh, ow = (h - 1) * sh + kh - crop[0] - crop[1], (w - 1) * sw + kw - crop[2] - crop[3]
    out_c = p.get("out") or c
    out_shape = (n, oh, ow, out_c)
    wshape = (out_c, kh, kw, c)
    fan_in = math.ceil(kh / sh) * math.ceil(kw / sw) * c
    attrs = f"out_pad([{', '.join(str(-v) for v in crop)}]) stride([{sh}, {sw}])"
    return em.weighted("tosa.transpose_conv2d", x, wshape, fan_in, out_shape, attrs, p.get("act", "none"),
                       em.rng(layer.uid))


def resize_params(size: int, out: int, align: str) -> tuple[int, int, int, int]:
    """(scale_n, scale_d, offset, border) of one dim, as the converter derives them from TFLite's
    align_corners / half_pixel_centers."""
    n, d = out, size
    if align == "align_corners" and size > 1 and out > 1:
        n, d = out - 1, size - 1
    g = math.gcd(n, d)
    n, d = n // g, d // g
    offset = 0
    if align == "half_pixel":
        n, d = n * 2, d * 2
        offset = d // 2 - n // 2
    border = d * (out - 1) - n * (size - 1) + offset
    return n, d, offset, border


def resize(em: Emitter, x: Tensor, layer: LayerSpec) -> Tensor:
    n_, h, w, c = _nhwc(x, "resize")
    p = layer.params
    (ny, dy), (nx, dx) = p["ratio"]
    oh, ow = max(1, h * ny // dy), max(1, w * nx // dx)
    align = p.get("align", "half_pixel")
    (yn, yd, yo, yb), (xn, xd, xo, xb) = resize_params(h, oh, align), resize_params(w, ow, align)
    for size, out, sn, sd, off, border in ((h, oh, yn, yd, yo, yb), (w, ow, xn, xd, xo, xb)):
        if ((size - 1) * sn - off + border) != (out - 1) * sd or not (-sn <= off < 16 * sn) \
                or not (-16 * sn <= border < sn) or sn > 16 * sd or sd >= 16 * sn or sn > 2048:
            raise InvalidSpec(f"resize {size} -> {out} ({align}) is outside TOSA's limits")
    bilinear = p.get("mode", "nearest") == "bilinear"
    mode = "BILINEAR" if bilinear else "NEAREST_NEIGHBOR"
    out_elem = x.elem
    if bilinear and em.quantized:
        out_elem = em.acc  # the interpolation's weights sum to scale_y_n * scale_x_n
    out_shape = (n_, oh, ow, c)
    scale, offset, border = em.shape([yn, yd, xn, xd]), em.shape([yo, xo]), em.shape([yb, xb])
    name = em.op(f"tosa.resize {x.name}, {scale}, {offset}, {border} mode<{mode}> : ({tensor_type(x.shape, x.elem)}, "
                 f"!tosa.shape<4>, !tosa.shape<2>, !tosa.shape<2>) -> {tensor_type(out_shape, out_elem)}")
    y = Tensor(name, out_shape, out_elem, x.zp if out_elem == x.elem else 0, x.std)
    if out_elem != x.elem:  # back to the input's scale: the zero point was interpolated with the values
        y = em.rescale(y, [1.0 / (yn * xn)], x.elem, x.zp, x.std, "SINGLE_ROUND")
    return y


def _index_input(em: Emitter, count: int, elem: str) -> str:
    """A new program input of `count` indices, i32 (or float, cast as Keras' embedding models do)."""
    ids = em.new_input((1, count), elem)
    if elem == "i32":
        return ids.name
    return em.op(f"tosa.cast {ids.name} : ({tensor_type(ids.shape, elem)}) -> {tensor_type(ids.shape, 'i32')}")


def gather(em: Emitter, x: Tensor, layer: LayerSpec) -> Tensor:
    """TFLite's GATHER: `source` "table": an embedding lookup of one id per pixel, concatenated to
    the activations' channels; "act": `rows` x `cols` pixels picked from the activations."""
    n, h, w, c = _nhwc(x, "gather")
    p = layer.params
    index_elem = p.get("index", "i32")
    rng = em.rng(layer.uid)
    if p.get("source", "table") == "act":
        rows, cols = p.get("rows", (1, 1))
        k, count = h * w, rows * cols
        values, vshape, zp, std, elem = em.reshape(x, (1, k, c)).name, (1, k, c), x.zp, x.std, x.elem
        out_map = (rows, cols)
    else:
        vocab, width = p.get("vocab", 8), p.get("out") or c
        vshape, count, elem = (1, vocab, width), h * w, x.elem
        if em.dtype == "i8":
            table, zp, std = rng.integers(-128, 128, vshape), x.zp, INT8_WEIGHT_STD
        elif em.dtype == "i16":
            table, zp, std = np.round(rng.normal(0, 5000, vshape)).clip(-32768, 32767), 0, 5000.0
        else:
            table, zp, std = rng.normal(0, 0.6, vshape), 0, 0.6
        values = em.const(table, elem)
        out_map = (h, w)
    ids = _index_input(em, count, index_elem)
    rows_shape = (1, count, vshape[2])
    name = em.op(f"tosa.gather {values}, {ids} : ({tensor_type(vshape, elem)}, tensor<1x{count}xi32>) -> "
                 f"{tensor_type(rows_shape, elem)}")
    y = em.reshape(Tensor(name, rows_shape, elem, zp, std), (1, *out_map, vshape[2]))
    if p.get("source", "table") == "act":
        return y
    shape = (n, h, w, c + vshape[2])
    name = em.op(f"tosa.concat {x.name}, {y.name} axis(3) : ({tensor_type(x.shape, x.elem)}, "
                 f"{tensor_type(y.shape, y.elem)}) -> {tensor_type(shape, x.elem)}")
    return Tensor(name, shape, x.elem, x.zp, x.std)


def add_input(em: Emitter, x: Tensor, layer: LayerSpec) -> Tensor:
    """x + a second program input of x's shape and type (TFLite's ADD of two inputs)."""
    rng = em.rng(layer.uid)
    if em.dtype == "i8":
        other = em.new_input(x.shape, x.elem, int(rng.integers(-128, 128)), INT8_WEIGHT_STD)
    elif em.dtype == "i16":
        other = em.new_input(x.shape, x.elem, 0, INT16_INPUT_STD)
    else:
        other = em.new_input(x.shape, x.elem, 0, 0.6)
    return em.activation(em.add(x, other, rng), layer.params.get("act", "none"), rng)


def tap(em: Emitter, x: Tensor, layer: LayerSpec) -> Tensor:
    """A second head on x made a program output (it must outlive the rest of the network), while
    the network goes on from x: a requantization (float: a clamp), as a model's extra output."""
    rng = em.rng(layer.uid)
    if em.quantized:
        out_zp = int(rng.integers(-40, 40)) if em.dtype == "i8" else 0
        head = em.rescale(x, [float(rng.uniform(0.5, 2.0))], em.dtype, out_zp, x.std)
    else:
        head = em.clamp(x, -0.5, 0.5)
    em.outputs.append(head)
    return x


HANDLERS: dict[str, Callable[[Emitter, Tensor, LayerSpec], Tensor]] = {
    "mean": mean, "sslice": strided_slice, "tconv": transpose_conv, "resize": resize, "gather": gather,
    "add_input": add_input, "tap": tap,
}
