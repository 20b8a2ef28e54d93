"""Straight-line scalar MLIR for TFLite Micro's integer arithmetic (gemmlowp rescaling and fixed-point products, the
int16 Logistic and Tanh table interpolation), shared by the lowerings that compute TFLite Micro's integer kernels
themselves (the int8 LSTM, int16 LOGISTIC/TANH, SVDF, int8-to-int16 SOFTMAX)."""

from __future__ import annotations

from .lstm_int8_params import Rescale

# TFLite's `sigmoid_table_uint16` (kernels/internal/common.h): sigmoid(i / 24) in 0.16 fixed point, the
# table that its int16 Logistic and Tanh interpolate (tanh(x) = 2 sigmoid(2x) - 1). Not a rounding of the
# formula (44 entries differ from round(65536 sigmoid(i / 24)) by one): the values themselves.
SIGMOID_TABLE = (
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064,
    42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464,
    50942, 51409, 51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503,
    56823, 57133, 57433, 57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370,
    60565, 60753, 60935, 61110, 61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666,
    62778, 62886, 62990, 63090, 63186, 63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968,
    64030, 64090, 64148, 64204, 64257, 64308, 64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687,
    64721, 64754, 64786, 64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079,
    65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234, 65246, 65258, 65269, 65280, 65291,
    65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367, 65374, 65381, 65387, 65393, 65399, 65404,
    65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465,
    65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498,
    65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513, 65514, 65515, 65516,
    65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524, 65525, 65525,
    65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530, 65530,
    65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
    65535)


def sigmoid_table_constant(name: str = "%sigmoid_table") -> str:
    """`%sigmoid_table = arith.constant ...`: SIGMOID_TABLE as i16 (the uint16 bits), which `Scalars` reads."""
    table = ", ".join(str(v - (1 << 16) if v >= 1 << 15 else v) for v in SIGMOID_TABLE)
    return f"{name} = arith.constant dense<[{table}]> : tensor<256xi16>"


INDENT = "        "


class Scalars:
    """Straight-line scalar MLIR with fresh SSA names (`%<prefix><n>`); constants are emitted where used."""

    def __init__(self, prefix: str = "s") -> None:
        self.lines: list[str] = []
        self._count = 0
        self._prefix = prefix  # of the SSA names: two instances' code in one block need two

    def _emit(self, text: str) -> str:
        name = f"%{self._prefix}{self._count}"
        self._count += 1
        self.lines.append(f"{INDENT}{name} = {text}")
        return name

    def op(self, text: str, type_: str) -> str:
        """`text : type_` (the operands' type, as arith's custom syntax takes it)."""
        return self._emit(f"{text} : {type_}")

    def cast(self, kind: str, x: str, source: str, target: str) -> str:
        return self._emit(f"arith.{kind} {x} : {source} to {target}")

    def const(self, value: int, type_: str = "i32") -> str:
        return self.op(f"arith.constant {value}", type_)

    def clamp(self, v: str, low: int, high: int) -> str:
        return self.op(f"arith.minsi {self.op(f'arith.maxsi {v}, {self.const(low)}', 'i32')}, {self.const(high)}",
                       "i32")

    def rescale(self, x: str, r: Rescale) -> str:
        """gemmlowp's SaturatingRoundingDoublingHighMul(x << left, multiplier), then RoundingDivideByPOT (the
        multiplier is never INT32_MIN, so the high multiply never saturates)."""
        if r.shift > 0:  # C's x * (1 << shift) on int32: wraps as shli does
            x = self.op(f"arith.shli {x}, {self.const(r.shift)}", "i32")
        high = self._doubling_high(self.cast("extsi", x, "i32", "i64"), self.const(r.multiplier, "i64"))
        right = max(-r.shift, 0)
        return self.divide_by_pot(high, right) if right else high

    def _doubling_high(self, a: str, b: str) -> str:
        """The high half of 2ab, rounded to nearest (i64 operands, an i32 result): the product without its
        saturation at INT32_MIN x INT32_MIN."""
        product = self.op(f"arith.muli {a}, {b}", "i64")
        negative = self.op(f"arith.cmpi slt, {product}, {self.const(0, 'i64')}", "i64")
        nudge = self.op(f"arith.select {negative}, {self.const(1 - (1 << 30), 'i64')}, {self.const(1 << 30, 'i64')}",
                        "i64")
        nudged = self.op(f"arith.addi {product}, {nudge}", "i64")
        high = self.op(f"arith.divsi {nudged}, {self.const(1 << 31, 'i64')}", "i64")  # C division: toward zero
        return self.cast("trunci", high, "i64", "i32")

    def high_mul(self, a: str, b: str) -> str:
        """gemmlowp's SaturatingRoundingDoublingHighMul(a, b) on int32 (a fixed-point product)."""
        high = self._doubling_high(self.cast("extsi", a, "i32", "i64"), self.cast("extsi", b, "i32", "i64"))
        same = self.op(f"arith.cmpi eq, {a}, {b}", "i32")
        is_min = self.op(f"arith.cmpi eq, {a}, {self.const(-(1 << 31))}", "i32")
        both_min = self.op(f"arith.andi {same}, {is_min}", "i1")
        return self.op(f"arith.select {both_min}, {self.const((1 << 31) - 1)}, {high}", "i32")

    def divide_by_pot(self, x: str, exponent: int | str) -> str:
        """gemmlowp's RoundingDivideByPOT(x, exponent): a constant exponent, or an i32 value in [0, 31]."""
        if isinstance(exponent, int):
            mask, half_mask, shift = self.const((1 << exponent) - 1), self.const(((1 << exponent) - 1) >> 1), \
                self.const(exponent)
        else:
            power = self.op(f"arith.shli {self.const(1)}, {exponent}", "i32")
            mask = self.op(f"arith.subi {power}, {self.const(1)}", "i32")
            half_mask = self.op(f"arith.shrsi {mask}, {self.const(1)}", "i32")
            shift = exponent
        remainder = self.op(f"arith.andi {x}, {mask}", "i32")
        below_zero = self.op(f"arith.cmpi slt, {x}, {self.const(0)}", "i32")
        threshold = self.op(f"arith.addi {half_mask}, {self.cast('extui', below_zero, 'i1', 'i32')}", "i32")
        up = self.op(f"arith.cmpi sgt, {remainder}, {threshold}", "i32")
        shifted = self.op(f"arith.shrsi {x}, {shift}", "i32")
        return self.op(f"arith.addi {shifted}, {self.cast('extui', up, 'i1', 'i32')}", "i32")

    def shift_left_saturating(self, x: str, exponent: int) -> str:
        """gemmlowp's SaturatingRoundingMultiplyByPOT<exponent > 0>(x) on int32."""
        threshold = (1 << (31 - exponent)) - 1
        shifted = self.op(f"arith.shli {x}, {self.const(exponent)}", "i32")
        high = self.op(f"arith.cmpi sgt, {x}, {self.const(threshold)}", "i32")
        low = self.op(f"arith.cmpi slt, {x}, {self.const(-threshold)}", "i32")
        shifted = self.op(f"arith.select {high}, {self.const((1 << 31) - 1)}, {shifted}", "i32")
        return self.op(f"arith.select {low}, {self.const(-(1 << 31))}, {shifted}", "i32")

    def one_over_one_plus_x(self, a: str) -> str:
        """gemmlowp's one_over_one_plus_x_for_x_in_0_1 on Q0.31 `a` (Newton-Raphson, three steps): Q0.31."""
        wide = self.op(f"arith.addi {self.cast('extsi', a, 'i32', 'i64')}, {self.const((1 << 31) - 1, 'i64')}", "i64")
        zero64 = self.const(0, "i64")
        positive = self.op(f"arith.cmpi sge, {wide}, {zero64}", "i64")
        sign = self.op(f"arith.select {positive}, {self.const(1, 'i64')}, {self.const(-1, 'i64')}", "i64")
        nudged = self.op(f"arith.addi {wide}, {sign}", "i64")
        half = self.cast("trunci", self.op(f"arith.divsi {nudged}, {self.const(2, 'i64')}", "i64"), "i64",
                         "i32")  # RoundingHalfSum(a, One)
        x = self.op(f"arith.addi {self.const(1515870810)}, {self.high_mul(half, self.const(-1010580540))}", "i32")
        for _ in range(3):
            error = self.op(f"arith.subi {self.const(1 << 29)}, {self.high_mul(half, x)}", "i32")
            x = self.op(f"arith.addi {x}, {self.shift_left_saturating(self.high_mul(x, error), 2)}", "i32")
        return self.shift_left_saturating(x, 1)

    def _interpolate(self, v: str, fraction_bits: int) -> tuple[str, str]:
        """(sign test v >= 0, table interpolation at |v| with `fraction_bits` bits between entries, or the
        saturated value past the table's end)."""
        zero = self.const(0)
        positive = self.op(f"arith.cmpi sge, {v}, {zero}", "i32")
        magnitude = self.op(f"arith.select {positive}, {v}, {self.op(f'arith.subi {zero}, {v}', 'i32')}", "i32")
        entry = self.op(f"arith.shrsi {magnitude}, {self.const(fraction_bits)}", "i32")
        saturated = self.op(f"arith.cmpi sge, {entry}, {self.const(255)}", "i32")
        index = self.cast("index_cast", self.op(f"arith.minsi {entry}, {self.const(254)}", "i32"), "i32", "index")
        next_index = self.op(f"arith.addi {index}, {self.op('arith.constant 1', 'index')}", "index")
        a = self.cast("extui", self.op(f"tensor.extract %sigmoid_table[{index}]", "tensor<256xi16>"), "i16", "i32")
        b = self.cast("extui", self.op(f"tensor.extract %sigmoid_table[{next_index}]", "tensor<256xi16>"), "i16", "i32")
        fraction = self.op(f"arith.andi {magnitude}, {self.const((1 << fraction_bits) - 1)}", "i32")
        step = self.op(f"arith.muli {fraction}, {self.op(f'arith.subi {b}, {a}', 'i32')}", "i32")
        inside = self.op(f"arith.addi {self.op(f'arith.shli {a}, {self.const(fraction_bits)}', 'i32')}, {step}", "i32")
        top = 0x7FFF << 10 if fraction_bits == 9 else 0xFFFF << 8
        return positive, self.op(f"arith.select {saturated}, {self.const(top)}, {inside}", "i32")

    def _scaled(self, x: str, multiplier: int, shift: int) -> str:
        """(x * multiplier + round) >> shift: the int16 kernels' input scaling (int32)."""
        v = self.op(f"arith.muli {x}, {self.const(multiplier)}", "i32")
        if shift > 0:
            v = self.op(f"arith.shrsi {self.op(f'arith.addi {v}, {self.const(1 << (shift - 1))}', 'i32')}, "
                        f"{self.const(shift)}", "i32")
        return v

    def sigmoid(self, x: str) -> str:
        """reference_integer_ops::Logistic on int16 Q3.12 (input multiplier 3, no shift): Q0.15."""
        return self.logistic(x, 3, 0)

    def logistic(self, x: str, multiplier: int, shift: int) -> str:
        """reference_integer_ops::Logistic on int16 after its input scaling: Q0.15."""
        positive, r = self._interpolate(self._scaled(x, multiplier, shift), 9)
        up = self.op(f"arith.addi {r}, {self.const(1 << 9)}", "i32")
        down = self.op(f"arith.subi {self.const((1 << 25) + (1 << 9) - 1)}, {r}", "i32")
        return self.op(f"arith.shrsi {self.op(f'arith.select {positive}, {up}, {down}', 'i32')}, {self.const(10)}",
                       "i32")

    def tanh(self, x: str, multiplier: int, shift: int) -> str:
        """reference_integer_ops::Tanh on int16 after its input scaling ((x * multiplier + round) >> shift): Q0.15."""
        positive, r = self._interpolate(self._scaled(x, multiplier, shift), 8)
        up = self.op(f"arith.addi {r}, {self.const((1 << 7) - (1 << 23))}", "i32")
        down = self.op(f"arith.subi {self.const((1 << 23) + (1 << 7) - 1)}, {r}", "i32")
        return self.op(f"arith.shrsi {self.op(f'arith.select {positive}, {up}, {down}', 'i32')}, {self.const(8)}",
                       "i32")
