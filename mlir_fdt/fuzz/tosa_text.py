"""TOSA text as IREE 3.13 parses it (its own printer's form, not tosa-converter-for-tflite's
`--text`, which IREE's MLIR does not read back): values, constants, and the few ops every layer
uses (reshape, slice, rescale, clamp, the int8 epilogue), plus TOSA's window arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .quant import quantize_multiplier


class InvalidSpec(ValueError):
    """A layer does not fit its input (a kernel larger than the map, a reshape that does not divide)."""


@dataclass(frozen=True)
class Tensor:
    name: str
    shape: tuple[int, ...]
    elem: str           # "f32", "i8" or "i32"
    zp: int = 0         # int8 zero point
    std: float = 1.0    # estimated spread of (value - zp): drives the next layer's scales


def tensor_type(shape: tuple[int, ...], elem: str) -> str:
    return f"tensor<{'x'.join(map(str, shape))}x{elem}>"


_NUMPY = {"f32": np.float32, "i8": np.int8, "i32": np.int32}


class Emitter:
    """Accumulates the lines of `@main`; names values `%vN`; deduplicates scalar constants."""

    def __init__(self, dtype: str, weight_seed: int):
        self.dtype = dtype
        self.weight_seed = weight_seed
        self.lines: list[str] = []
        self._count = 0
        self._scalars: dict[tuple, str] = {}

    @property
    def is_int8(self) -> bool:
        return self.dtype == "i8"

    def rng(self, uid: int) -> np.random.Generator:
        return np.random.default_rng([self.weight_seed, uid])

    def op(self, text: str) -> str:
        name = f"%v{self._count}"
        self._count += 1
        self.lines.append(f"    {name} = {text}")
        return name

    def const(self, array: np.ndarray, elem: str) -> str:
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
        """`tosa.rescale` by `scales` (one, or one per channel) from x.elem to out_elem."""
        pairs = [quantize_multiplier(s) for s in scales]
        mult = self.const(np.array([m for m, _ in pairs]), "i32")
        shift = self.const(np.array([s for _, s in pairs]), "i8")
        in_zp, o_zp = self.scalar(x.zp, x.elem), self.scalar(out_zp, out_elem)
        per_channel = "true" if len(scales) > 1 else "false"
        k = len(scales)
        name = self.op(f"tosa.rescale {x.name}, {mult}, {shift}, {in_zp}, {o_zp} scale32(true) "
                       f"rounding_mode<{rounding}> per_channel({per_channel}) input_unsigned(false) "
                       f"output_unsigned(false) : ({tensor_type(x.shape, x.elem)}, tensor<{k}xi32>, "
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

    def requantize(self, acc: Tensor, scales_from: np.ndarray, rng: np.random.Generator, act: str) -> Tensor:
        """int8 epilogue of an i32 accumulator: per-channel rescale to a fresh zero point, then the
        activation clamp (TFLite always clamps, to [-128, 127] at least)."""
        out_zp = -128 if act == "relu" and rng.random() < 0.6 else int(rng.integers(-40, 40))
        target = float(rng.uniform(20, 50))
        y = self.rescale(acc, [target / s for s in scales_from], "i8", out_zp, target)
        return self.activation(y, act, rng)

    def activation(self, x: Tensor, act: str, rng: np.random.Generator) -> Tensor:
        if x.elem == "f32":
            if act == "relu":
                return self.clamp(x, 0.0, 3.4028234663852886e38)
            if act == "relu6":
                return self.clamp(x, 0.0, 6.0)
            return x
        if act == "relu":
            return self.clamp(x, max(-128, x.zp), 127)
        if act == "relu6":
            return self.clamp(x, max(-128, x.zp), min(127, x.zp + int(rng.integers(20, 120))))
        return self.clamp(x, -128, 127)


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
