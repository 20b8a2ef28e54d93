"""TOSA text as IREE 3.13 parses it (its own printer's form, not tosa-converter-for-tflite's
`--text`, which IREE's MLIR does not read back): values, constants, the program's inputs and
outputs, and the few ops every layer uses (reshape, slice, rescale, clamp, the quantized
epilogue), plus TOSA's window arithmetic.

Quantized networks are int8 (TFLite's int8 quantization: i32 accumulators) or int16 activations
with int8 weights (TFLite's 16x8 quantization: zero points 0, i48 accumulators and biases, and a
16-bit rescale multiplier out of them, as tosa-converter-for-tflite writes them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .quant import accumulator_std, quantize_multiplier


class InvalidSpec(ValueError):
    """A layer does not fit its input (a kernel larger than the map, a reshape that does not divide)."""


@dataclass(frozen=True)
class Tensor:
    name: str
    shape: tuple[int, ...]
    elem: str           # "f32", "i8", "i16", "i32" or "i48"
    zp: int = 0         # int8 zero point (int16: always 0)
    std: float = 1.0    # estimated spread of (value - zp): drives the next layer's scales


def tensor_type(shape: tuple[int, ...], elem: str) -> str:
    return f"tensor<{'x'.join(map(str, shape))}x{elem}>"


_NUMPY = {"f32": np.float32, "i8": np.int8, "i16": np.int16, "i32": np.int32}
# quantized activation type -> (accumulator type, int range, spread of a layer's output)
QUANT = {"i8": ("i32", (-128, 127), (20.0, 50.0)), "i16": ("i48", (-32768, 32767), (3000.0, 9000.0))}


class Emitter:
    """Accumulates the lines of `@main`; names values `%vN` and inputs `%argN`; deduplicates
    scalar constants; collects extra program inputs (index inputs, second operands) and outputs."""

    def __init__(self, dtype: str, weight_seed: int):
        self.dtype = dtype
        self.weight_seed = weight_seed
        self.lines: list[str] = []
        self._count = 0
        self._scalars: dict[tuple, str] = {}
        self.inputs: list[Tensor] = []   # the program's inputs after %arg0
        self.outputs: list[Tensor] = []  # the program's outputs before the last layer's

    @property
    def quantized(self) -> bool:
        return self.dtype in QUANT

    @property
    def acc(self) -> str:
        """Accumulator type of a quantized layer: i32 (int8), i48 (int16x8); f32 for float."""
        return QUANT[self.dtype][0] if self.quantized else "f32"

    @property
    def qrange(self) -> tuple[int, int]:
        return QUANT[self.dtype][1]

    def target_std(self, rng: np.random.Generator) -> float:
        """Spread to give a requantized output: most of the type's range used, little saturation."""
        return float(rng.uniform(*QUANT[self.dtype][2]))

    def new_input(self, shape: tuple[int, ...], elem: str, zp: int = 0, std: float = 1.0) -> Tensor:
        x = Tensor(f"%arg{len(self.inputs) + 1}", shape, elem, zp, std)
        self.inputs.append(x)
        return x

    def rng(self, uid: int) -> np.random.Generator:
        return np.random.default_rng([self.weight_seed, uid])

    def op(self, text: str) -> str:
        name = f"%v{self._count}"
        self._count += 1
        self.lines.append(f"    {name} = {text}")
        return name

    def const(self, array: np.ndarray, elem: str) -> str:
        if elem == "i48":  # no numpy type: decimal literals (bias vectors, a few values)
            data = np.asarray(array, dtype=np.int64)
            ttype = tensor_type(data.shape, elem)
            return self.op(f"tosa.const values(dense<{data.tolist()}> : {ttype}) : () -> {ttype}")
        data = np.ascontiguousarray(array, dtype=_NUMPY[elem])
        ttype = tensor_type(data.shape, elem)
        return self.op(f'tosa.const values(dense<"0x{data.tobytes().hex().upper()}"> : {ttype}) : () -> {ttype}')

    def scalar(self, value: float | int, elem: str) -> str:
        """A `tensor<1xelem>` constant (zero points, shifts), emitted once per value."""
        key = (value, elem)
        if key not in self._scalars:
            literal = f"{float(value):e}" if elem == "f32" else str(int(value))
            self._scalars[key] = self.op(f"tosa.const values(dense<{literal}> : tensor<1x{elem}>) : () -> "
                                         f"tensor<1x{elem}>")
        return self._scalars[key]

    def shape(self, values: list[int]) -> str:
        n = len(values)
        return self.op(f"tosa.const_shape values(dense<[{', '.join(map(str, values))}]> : tensor<{n}xindex>) : "
                       f"() -> !tosa.shape<{n}>")

    # -- small ops shared by the layer handlers ------------------------------------------------------
    def reshape(self, x: Tensor, shape: tuple[int, ...]) -> Tensor:
        if math.prod(shape) != math.prod(x.shape):
            raise InvalidSpec(f"cannot reshape {x.shape} to {shape}")
        s = self.shape(list(shape))
        name = self.op(f"tosa.reshape {x.name}, {s} : ({tensor_type(x.shape, x.elem)}, !tosa.shape<{len(shape)}>) "
                       f"-> {tensor_type(shape, x.elem)}")
        return Tensor(name, shape, x.elem, x.zp, x.std)

    def slice(self, x: Tensor, size: tuple[int, ...], start: tuple[int, ...] | None = None) -> Tensor:
        """`size` elements of x from `start` (default: its origin)."""
        if size == x.shape:
            return x
        n = len(size)
        begin, sz = self.shape(list(start or (0,) * n)), self.shape(list(size))
        name = self.op(f"tosa.slice {x.name}, {begin}, {sz} : ({tensor_type(x.shape, x.elem)}, !tosa.shape<{n}>, "
                       f"!tosa.shape<{n}>) -> {tensor_type(size, x.elem)}")
        return Tensor(name, size, x.elem, x.zp, x.std)

    def rescale(self, x: Tensor, scales: list[float], out_elem: str, out_zp: int, out_std: float,
                rounding: str = "DOUBLE_ROUND") -> Tensor:
        """`tosa.rescale` by `scales` (one, or one per channel) from x.elem to out_elem; out of an
        i48 accumulator with a 16-bit multiplier (TOSA requires scale32 false there)."""
        scale32 = x.elem != "i48"
        mult_elem = "i32" if scale32 else "i16"
        pairs = [quantize_multiplier(s, 32 if scale32 else 16) for s in scales]
        mult = self.const(np.array([m for m, _ in pairs]), mult_elem)
        shift = self.const(np.array([s for _, s in pairs]), "i8")
        in_zp, o_zp = self.scalar(x.zp, x.elem), self.scalar(out_zp, out_elem)
        per_channel = "true" if len(scales) > 1 else "false"
        k = len(scales)
        name = self.op(f"tosa.rescale {x.name}, {mult}, {shift}, {in_zp}, {o_zp} scale32({str(scale32).lower()}) "
                       f"rounding_mode<{rounding}> per_channel({per_channel}) input_unsigned(false) "
                       f"output_unsigned(false) : ({tensor_type(x.shape, x.elem)}, tensor<{k}x{mult_elem}>, "
                       f"tensor<{k}xi8>, tensor<1x{x.elem}>, tensor<1x{out_elem}>) -> "
                       f"{tensor_type(x.shape, out_elem)}")
        return Tensor(name, x.shape, out_elem, out_zp, out_std)

    def clamp(self, x: Tensor, lo: float, hi: float) -> Tensor:
        ttype = tensor_type(x.shape, x.elem)
        if x.elem == "f32":
            bounds = f"min_val({float(lo):e} : f32) max_val({float(hi):e} : f32)"
        else:
            bounds = f"min_val({int(lo)} : {x.elem}) max_val({int(hi)} : {x.elem})"
        name = self.op(f"tosa.clamp {x.name} {bounds} : ({ttype}) -> {ttype}")
        return Tensor(name, x.shape, x.elem, x.zp, x.std)

    def weighted(self, op: str, x: Tensor, wshape: tuple[int, ...], fan_in: int, out_shape: tuple[int, ...],
                 attrs: str, act: str, rng: np.random.Generator) -> Tensor:
        """A convolution-like op (`tosa.conv2d`, `depthwise_conv2d`, `transpose_conv2d`) on `x` with
        random weights of `wshape` and a bias per output channel, then its epilogue: float, the
        activation; quantized, int8 weights, an i32/i48 bias and `requantize`."""
        out_c = out_shape[-1]
        in_t = tensor_type(x.shape, x.elem)
        if not self.quantized:
            w = self.const(rng.normal(0, 1 / math.sqrt(fan_in), wshape), "f32")
            b = self.const(rng.normal(0, 0.1, out_c), "f32")
            z = self.scalar(0.0, "f32")
            name = self.op(f"{op} {x.name}, {w}, {b}, {z}, {z} {attrs} acc_type(f32) : ({in_t}, "
                           f"{tensor_type(wshape, 'f32')}, tensor<{out_c}xf32>, tensor<1xf32>, tensor<1xf32>) -> "
                           f"{tensor_type(out_shape, 'f32')}")
            return self.activation(Tensor(name, out_shape, "f32", 0, 1.0), act, rng)
        w = self.const(rng.integers(-127, 128, wshape), "i8")
        acc = accumulator_std(fan_in, x.std)
        b = self.const(np.round(rng.normal(0, acc * 0.5, out_c)), self.acc)  # int16x8: a signed i48 bias
        name = self.op(f"{op} {x.name}, {w}, {b}, {self.scalar(x.zp, x.elem)}, {self.scalar(0, 'i8')} {attrs} "
                       f"acc_type({self.acc}) : ({in_t}, {tensor_type(wshape, 'i8')}, tensor<{out_c}x{self.acc}>, "
                       f"tensor<1x{x.elem}>, tensor<1xi8>) -> {tensor_type(out_shape, self.acc)}")
        spread = acc * rng.uniform(0.5, 2.0, out_c)
        return self.requantize(Tensor(name, out_shape, self.acc, 0, acc), spread, rng, act)

    def requantize(self, acc: Tensor, scales_from: np.ndarray, rng: np.random.Generator, act: str) -> Tensor:
        """Quantized epilogue of an i32/i48 accumulator: per-channel rescale (int8: to a fresh zero
        point; int16: symmetric, to the 16-bit multiplier TFLite uses out of i48), then the
        activation clamp (TFLite always clamps, to the type's range at least). Rounding as the
        converter writes it: DOUBLE_ROUND for int8, SINGLE_ROUND for int16x8."""
        if self.dtype == "i8":
            out_zp = -128 if act == "relu" and rng.random() < 0.6 else int(rng.integers(-40, 40))
        else:
            out_zp = 0
        target = self.target_std(rng)
        rounding = "DOUBLE_ROUND" if self.dtype == "i8" else "SINGLE_ROUND"
        y = self.rescale(acc, [target / s for s in scales_from], self.dtype, out_zp, target, rounding)
        return self.activation(y, act, rng)

    def add(self, a: Tensor, b: Tensor, rng: np.random.Generator) -> Tensor:
        """a + b of one shape. Quantized as TFLite's ADD: both sides to i32 with headroom (int8: 20
        bits; int16: 15, the converter's left shift), scaled, added, requantized."""
        ttype = tensor_type(a.shape, "i32" if self.quantized else a.elem)
        if not self.quantized:
            return Tensor(self.op(f"tosa.add {a.name}, {b.name} : ({ttype}, {ttype}) -> {ttype}"), a.shape, a.elem)
        headroom = 2.0 ** (20 if self.dtype == "i8" else 15)
        sides = []
        for t in (a, b):
            wide = self.rescale(t, [headroom], "i32", 0, t.std * headroom)
            factor = float(rng.uniform(0.25, 0.5))
            sides.append(self.rescale(wide, [factor], "i32", 0, wide.std * factor))
        name = self.op(f"tosa.add {sides[0].name}, {sides[1].name} : ({ttype}, {ttype}) -> {ttype}")
        spread = math.hypot(sides[0].std, sides[1].std)
        out_zp, target = int(rng.integers(-40, 40)), self.target_std(rng)
        if self.dtype != "i8":
            out_zp = 0
        return self.rescale(Tensor(name, a.shape, "i32", 0, spread), [target / spread], self.dtype, out_zp, target)

    def activation(self, x: Tensor, act: str, rng: np.random.Generator) -> Tensor:
        if x.elem == "f32":
            if act == "relu":
                return self.clamp(x, 0.0, 3.4028234663852886e38)
            if act == "relu6":
                return self.clamp(x, 0.0, 6.0)
            return x
        lo, hi = QUANT[x.elem][1]
        if act == "relu":
            return self.clamp(x, max(lo, x.zp), hi)
        if act == "relu6":  # 6.0 somewhere in the upper part of the output's spread
            six = int(rng.integers(20, 120)) if x.elem == "i8" else int(rng.integers(3000, 15000))
            return self.clamp(x, max(lo, x.zp), min(hi, x.zp + six))
        return self.clamp(x, lo, hi)


# -- windows --------------------------------------------------------------------------------------------
def window(size: int, kernel: int, stride: int, dilation: int, padding: str,
           pads: tuple[int, int]) -> tuple[int, int, int, int]:
    """(pad_before, pad_after, rows cropped at the end, output size) of one spatial dim, so that
    TOSA's `(in - 1 + pads - (k - 1) * d) % stride == 0` holds."""
    extent = (kernel - 1) * dilation + 1
    if padding == "same":
        out = -(-size // stride)
        total = max((out - 1) * stride + extent - size, 0)
        before, after = total // 2, total - total // 2
    elif padding == "valid":
        before, after = 0, 0
    else:
        before, after = min(pads[0], kernel - 1), min(pads[1], kernel - 1)
    span = size + before + after - extent
    if span < 0:
        raise InvalidSpec(f"kernel {kernel} (dilation {dilation}) larger than the padded input {size}")
    crop = 0
    rem = span % stride
    if rem:
        if after >= rem:
            after -= rem
        else:
            crop = rem
    out = (size - crop + before + after - extent) // stride + 1
    return before, after, crop, out
