"""Render a `CaseSpec` as a TOSA module, one handler per layer kind (see tosa_text.py for the ops).

Shapes are inferred layer by layer; a layer that does not fit its input raises `InvalidSpec`
(the generator then draws another, the shrinker drops that candidate). Quantized layers are built
the way TFLite's TOSA legalization builds them: conv with zero-point operands and an i32 (int8)
or i48 (int16x8) accumulator, a per-channel `tosa.rescale` to the activation type, a clamp;
residual adds rescale both sides to i32 with headroom; windows whose stride does not divide the
input are preceded by a `tosa.slice`, as the converter does for ResNet's strided 1x1
convolutions. The ops beyond this CNN core (MEAN, strided slices, transpose convolution, resize,
gather, second inputs and outputs) are in emit_extra.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from . import emit_extra
from .quant import INT8_WEIGHT_STD, INT16_INPUT_STD, accumulator_std
from .spec import CaseSpec, LayerSpec
from .tosa_text import Emitter, InvalidSpec, Tensor, tensor_type, window

__all__ = ["InvalidSpec", "render", "window"]


def _spatial(x: Tensor, p: dict) -> tuple[int, int, int, int, tuple[int, int], tuple[int, int], tuple[int, int], int]:
    if len(x.shape) != 4:
        raise InvalidSpec(f"needs an NHWC input, got {x.shape}")
    _, h, w, _ = x.shape
    kh, kw = p["kernel"]
    sh, sw = p["stride"]
    d = p.get("dilation", 1)
    pads = p.get("pads", (0, 0, 0, 0))
    t, b, ch, oh = window(h, kh, sh, d, p["padding"], (pads[0], pads[1]))
    left, right, cw, ow = window(w, kw, sw, d, p["padding"], (pads[2], pads[3]))
    return oh, ow, ch, cw, (kh, kw), (sh, sw), (t, b, left, right), d


def _crop(em: Emitter, x: Tensor, ch: int, cw: int) -> Tensor:
    n, h, w, c = x.shape
    return em.slice(x, (n, h - ch, w - cw, c))


def _attrs(pad: tuple[int, ...], stride: tuple[int, int], dilation: int) -> str:
    return f"pad([{', '.join(map(str, pad))}]) stride([{stride[0]}, {stride[1]}]) dilation([{dilation}, {dilation}])"


# -- layer handlers ------------------------------------------------------------------------------------
def _conv_like(em: Emitter, x: Tensor, layer: LayerSpec, depthwise: bool) -> Tensor:
    p = layer.params
    oh, ow, ch, cw, (kh, kw), stride, pad, d = _spatial(x, p)
    x = _crop(em, x, ch, cw)
    rng = em.rng(layer.uid)
    c = x.shape[3]
    if depthwise:
        mult = p.get("mult", 1)
        out_c, fan_in, wshape, op = c * mult, kh * kw, (kh, kw, c, mult), "tosa.depthwise_conv2d"
    else:
        out_c = p.get("out") or c
        fan_in, wshape, op = kh * kw * c, (out_c, kh, kw, c), "tosa.conv2d"
    return em.weighted(op, x, wshape, fan_in, (1, oh, ow, out_c), _attrs(pad, stride, d), p.get("act", "none"), rng)


def conv(em: Emitter, x: Tensor, layer: LayerSpec) -> Tensor:
    return _conv_like(em, x, layer, depthwise=False)


def depthwise(em: Emitter, x: Tensor, layer: LayerSpec) -> Tensor:
    return _conv_like(em, x, layer, depthwise=True)


def _pool(em: Emitter, x: Tensor, layer: LayerSpec, kind: str) -> Tensor:
    p = layer.params
    oh, ow, ch, cw, kernel, stride, pad, _ = _spatial(x, {**p, "dilation": 1})
    if min(kernel) < 1 or pad[0] >= kernel[0] or pad[1] >= kernel[0] or pad[2] >= kernel[1] or pad[3] >= kernel[1]:
        raise InvalidSpec("pooling pads must be smaller than the kernel")
    x = _crop(em, x, ch, cw)
    out_shape = (1, oh, ow, x.shape[3])
    io = f"({tensor_type(x.shape, x.elem)}"
    attrs = f"kernel([{kernel[0]}, {kernel[1]}]) stride([{stride[0]}, {stride[1]}]) pad([{', '.join(map(str, pad))}])"
    if kind == "max":
        name = em.op(f"tosa.max_pool2d {x.name} {attrs} : {io}) -> {tensor_type(out_shape, x.elem)}")
        return Tensor(name, out_shape, x.elem, x.zp, x.std)
    acc = "i32" if em.quantized else "f32"
    z = em.scalar(x.zp if em.quantized else 0.0, x.elem)
    name = em.op(f"tosa.avg_pool2d {x.name}, {z}, {z} {attrs} acc_type({acc}) : {io}, tensor<1x{x.elem}>, "
                 f"tensor<1x{x.elem}>) -> {tensor_type(out_shape, x.elem)}")
    return Tensor(name, out_shape, x.elem, x.zp, x.std * 0.7)


def avg_pool(em: Emitter, x: Tensor, layer: LayerSpec) -> Tensor:
    return _pool(em, x, layer, "avg")


def max_pool(em: Emitter, x: Tensor, layer: LayerSpec) -> Tensor:
    return _pool(em, x, layer, "max")


def global_pool(em: Emitter, x: Tensor, layer: LayerSpec) -> Tensor:
    """TFLite's MEAN over H and W: an average pooling whose window is the whole map."""
    if len(x.shape) != 4:
        raise InvalidSpec("global pooling needs an NHWC input")
    _, h, w, _ = x.shape
    spec = LayerSpec("avgpool", layer.uid, {"kernel": (h, w), "stride": (1, 1), "padding": "valid"})
    return _pool(em, x, spec, "avg")


def pad(em: Emitter, x: Tensor, layer: LayerSpec) -> Tensor:
    if len(x.shape) != 4:
        raise InvalidSpec("pad needs an NHWC input")
    t, b, left, right = layer.params["pads"]
    n, h, w, c = x.shape
    out_shape = (n, h + t + b, w + left + right, c)
    padding = em.shape([0, 0, t, b, left, right, 0, 0])
    value = em.scalar(x.zp if em.quantized else float(layer.params.get("value", 0.0)), x.elem)
    name = em.op(f"tosa.pad {x.name}, {padding}, {value} : ({tensor_type(x.shape, x.elem)}, !tosa.shape<8>, "
                 f"tensor<1x{x.elem}>) -> {tensor_type(out_shape, x.elem)}")
    return Tensor(name, out_shape, x.elem, x.zp, x.std)


def crop(em: Emitter, x: Tensor, layer: LayerSpec) -> Tensor:
    """A `tosa.slice` that drops rows and columns on any side. Bufferized, it is a view of its input
    (a subview that drops the batch dimension) starting past the origin: the next layer reads it in
    its source's strides, which the memory analyses must follow through the dropped dimension."""
    if len(x.shape) != 4:
        raise InvalidSpec("slice needs an NHWC input")
    top, bottom, left, right = layer.params["crop"]
    n, h, w, c = x.shape
    size = (n, h - top - bottom, w - left - right, c)
    if min(size) < 1:
        raise InvalidSpec(f"slice {layer.params['crop']} leaves nothing of {x.shape}")
    return em.slice(x, size, (0, top, left, 0))


def clamp(em: Emitter, x: Tensor, layer: LayerSpec) -> Tensor:
    """An activation on its own (no conv before it): relu, relu6, or a clip to [lo, hi] quantiles."""
    act = layer.params.get("act", "relu")
    if act in ("relu", "relu6"):
        return em.activation(x, act, em.rng(layer.uid))
    lo, hi = layer.params.get("range", (-0.5, 0.5))
    if em.quantized:
        qmin, qmax = em.qrange
        return em.clamp(x, max(qmin, x.zp + round(lo * 2 * x.std)), min(qmax, x.zp + round(hi * 2 * x.std)))
    return em.clamp(x, lo, hi)


def rescale(em: Emitter, x: Tensor, layer: LayerSpec) -> Tensor:
    """Requantization to a new scale (int8: and zero point; TFLite's QUANTIZE int8 -> int8 or
    int16 -> int16); float: none."""
    if not em.quantized:
        return x
    rng = em.rng(layer.uid)
    factor = float(layer.params.get("factor", 1.0))
    out_zp = int(rng.integers(-60, 60)) if em.dtype == "i8" else 0
    return em.rescale(x, [factor], em.dtype, out_zp, x.std * factor, layer.params.get("rounding", "DOUBLE_ROUND"))


def reshape(em: Emitter, x: Tensor, layer: LayerSpec) -> Tensor:
    if len(x.shape) != 4:
        raise InvalidSpec("reshape modes apply to NHWC tensors")
    n, h, w, c = x.shape
    mode = layer.params["mode"]
    if mode == "swap_hw":
        shape = (n, w, h, c)
    elif mode == "split_w" and w % 2 == 0:
        shape = (n, h * 2, w // 2, c)
    elif mode == "merge_c" and w % 2 == 0:
        shape = (n, h, w // 2, c * 2)
    else:
        raise InvalidSpec(f"reshape {mode} does not apply to {x.shape}")
    return em.reshape(x, shape)


def _matmul(em: Emitter, a: Tensor, weights: np.ndarray, rng: np.random.Generator) -> Tensor:
    """[1, M, K] x constant [1, K, N]: f32, or int8 with zero points into an i32 accumulator (TOSA's
    matmul takes operands of one type: no int16x8 form)."""
    if em.dtype == "i16":
        raise InvalidSpec("tosa.matmul has no int16 x int8 form")
    _, m, k = a.shape
    n = weights.shape[2]
    out_elem = "i32" if em.quantized else "f32"
    b = em.const(weights, a.elem)
    za, zb = (em.scalar(a.zp, "i8"), em.scalar(0, "i8")) if em.quantized else (em.scalar(0.0, "f32"),) * 2
    name = em.op(f"tosa.matmul {a.name}, {b}, {za}, {zb} : ({tensor_type(a.shape, a.elem)}, "
                 f"{tensor_type(weights.shape, a.elem)}, tensor<1x{a.elem}>, tensor<1x{a.elem}>) -> "
                 f"{tensor_type((1, m, n), out_elem)}")
    return Tensor(name, (1, m, n), out_elem, 0, accumulator_std(k, a.std) if em.quantized else 1.0)


def _weights(em: Emitter, rng: np.random.Generator, shape: tuple[int, ...], fan_in: int) -> np.ndarray:
    if em.quantized:
        return rng.integers(-127, 128, shape)
    return rng.normal(0, 1 / math.sqrt(fan_in), shape)


def matmul_pointwise(em: Emitter, x: Tensor, layer: LayerSpec) -> Tensor:
    """A 1x1 convolution written as `tosa.matmul` over the flattened pixels."""
    if len(x.shape) != 4:
        raise InvalidSpec("matmul_pw needs an NHWC input")
    _, h, w, c = x.shape
    out_c = layer.params.get("out") or c
    rng = em.rng(layer.uid)
    flat = em.reshape(x, (1, h * w, c))
    acc = _matmul(em, flat, _weights(em, rng, (1, c, out_c), c), rng)
    if em.quantized:
        acc = em.requantize(acc, np.full(1, acc.std), rng, layer.params.get("act", "none"))
    else:
        acc = em.activation(acc, layer.params.get("act", "none"), rng)
    return em.reshape(acc, (1, h, w, out_c))


def fully_connected(em: Emitter, x: Tensor, layer: LayerSpec) -> Tensor:
    """TFLite's FULLY_CONNECTED as its TOSA legalization writes it (reshape to 1x1xN, 1x1 conv, reshape
    to [1, units]), or as a `tosa.matmul` (int8 and float: TOSA has no int16 x int8 matmul)."""
    n = math.prod(x.shape)
    units = layer.params["out"]
    rng = em.rng(layer.uid)
    act = layer.params.get("act", "none")
    if layer.params.get("via", "conv") == "matmul" and em.dtype != "i16":
        acc = _matmul(em, em.reshape(x, (1, 1, n)), _weights(em, rng, (1, n, units), n), rng)
        y = em.requantize(acc, np.full(1, acc.std), rng, act) if em.quantized else em.activation(acc, act, rng)
        return em.reshape(y, (1, units))
    flat = em.reshape(x, (1, 1, 1, n))
    spec = LayerSpec("conv", layer.uid, {"out": units, "kernel": (1, 1), "stride": (1, 1), "padding": "valid",
                                         "act": act})
    return em.reshape(conv(em, flat, spec), (1, units))


def residual(em: Emitter, x: Tensor, layer: LayerSpec) -> Tensor:
    """x + branch(x): the branch must keep the shape."""
    y = render_layers(em, x, layer.branches[0] if layer.branches else ())
    if y.shape != x.shape:
        raise InvalidSpec(f"residual branch changes the shape {x.shape} -> {y.shape}")
    rng = em.rng(layer.uid)
    return em.activation(em.add(x, y, rng), layer.params.get("act", "none"), rng)


def concat(em: Emitter, x: Tensor, layer: LayerSpec) -> Tensor:
    """Channel concatenation of two branches of x; int8 inputs are first requantized to one zero point."""
    outs = [render_layers(em, x, branch) for branch in layer.branches]
    if any(len(o.shape) != 4 or o.shape[:3] != outs[0].shape[:3] for o in outs):
        raise InvalidSpec(f"concat branches disagree: {[o.shape for o in outs]}")
    if em.quantized:
        outs = [o if o.zp == outs[0].zp else em.rescale(o, [float(em.rng(layer.uid).uniform(0.8, 1.25))], "i8",
                                                        outs[0].zp, o.std) for o in outs]
    shape = (*outs[0].shape[:3], sum(o.shape[3] for o in outs))
    types = ", ".join(tensor_type(o.shape, o.elem) for o in outs)
    name = em.op(f"tosa.concat {', '.join(o.name for o in outs)} axis(3) : ({types}) -> "
                 f"{tensor_type(shape, outs[0].elem)}")
    return Tensor(name, shape, outs[0].elem, outs[0].zp, outs[0].std)


HANDLERS: dict[str, Callable[[Emitter, Tensor, LayerSpec], Tensor]] = {
    "conv": conv, "dw": depthwise, "avgpool": avg_pool, "maxpool": max_pool, "gpool": global_pool, "pad": pad,
    "slice": crop, "clamp": clamp, "rescale": rescale, "reshape": reshape, "matmul_pw": matmul_pointwise,
    "fc": fully_connected, "residual": residual, "concat": concat, **emit_extra.HANDLERS,
}
DATA_MOVEMENT = ("tosa.const", "tosa.const_shape", "tosa.reshape", "tosa.slice")
MAX_ELEMENTS = 1 << 16  # per tensor: keeps a case a few seconds


def render_layers(em: Emitter, x: Tensor, layers: tuple[LayerSpec, ...]) -> Tensor:
    for layer in layers:
        if layer.kind not in HANDLERS:
            raise InvalidSpec(f"unknown layer kind '{layer.kind}'")
        x = HANDLERS[layer.kind](em, x, layer)
        if min(x.shape) < 1 or math.prod(x.shape) > MAX_ELEMENTS:
            raise InvalidSpec(f"{layer.kind} gives shape {x.shape}")
    return x


def render(spec: CaseSpec) -> str:
    """The case's network as a TOSA module with one `func.func @main`."""
    """The case's network as a TOSA module with one `func.func @main`: the input `%arg0` then the
    inputs layers add (`%arg1`, ...); the last layer's output then the outputs layers add."""
    em = Emitter(spec.dtype, spec.weight_seed)
    h, w, c = spec.input_shape
    std = {"i8": INT8_WEIGHT_STD, "i16": INT16_INPUT_STD}.get(spec.dtype, 0.6)
    x = Tensor("%arg0", (1, h, w, c), spec.dtype, spec.input_zp if spec.dtype == "i8" else 0, std)
    y = render_layers(em, x, spec.layers)
    if not any(line.split(" = ", 1)[1].split(" ", 1)[0] not in DATA_MOVEMENT for line in em.lines):
        raise InvalidSpec("the network only moves data (mlir-fdt rightly refuses a model without computation)")
    outputs = [y, *em.outputs]
    if y.name.startswith("%arg") or len({o.name for o in outputs}) < len(outputs):
        raise InvalidSpec("an output that is an input, or the same value returned twice")
    args = ", ".join(f"{t.name}: {tensor_type(t.shape, t.elem)}" for t in (x, *em.inputs))
    out_types = ", ".join(tensor_type(o.shape, o.elem) for o in outputs)
    results = f"({out_types})" if len(outputs) > 1 else out_types
    body = "\n".join(em.lines)
    return (f"func.func @main({args}) -> {results} {{\n{body}\n"
            f"    return {', '.join(o.name for o in outputs)} : {out_types}\n}}\n")
