"""Read what a TFLite flatbuffer declares, without TensorFlow: its operators (TFLite names, in the
order of the main subgraph), and its inputs and outputs (names, shapes, dtypes, quantization).

The converter's TOSA keeps the entry signature but loses the operator names and indices a user knows
from Netron or the TFLite converter's log; errors and the report name them from here. Field numbers
follow TFLite's `schema.fbs` (a table's field k is at vtable slot 4 + 2k).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import flatbuffers
import numpy as np

from ..errors import FdtError
from .tflite_tensor_names import unique_tensor_names

# schema.fbs `enum BuiltinOperator`, by value (0 = ADD ... 209)
BUILTIN_OPERATORS = tuple("""
    ADD AVERAGE_POOL_2D CONCATENATION CONV_2D DEPTHWISE_CONV_2D DEPTH_TO_SPACE DEQUANTIZE EMBEDDING_LOOKUP FLOOR
    FULLY_CONNECTED HASHTABLE_LOOKUP L2_NORMALIZATION L2_POOL_2D LOCAL_RESPONSE_NORMALIZATION LOGISTIC
    LSH_PROJECTION LSTM MAX_POOL_2D MUL RELU RELU_N1_TO_1 RELU6 RESHAPE RESIZE_BILINEAR RNN SOFTMAX
    SPACE_TO_DEPTH SVDF TANH CONCAT_EMBEDDINGS SKIP_GRAM CALL CUSTOM EMBEDDING_LOOKUP_SPARSE PAD
    UNIDIRECTIONAL_SEQUENCE_RNN GATHER BATCH_TO_SPACE_ND SPACE_TO_BATCH_ND TRANSPOSE MEAN SUB DIV SQUEEZE
    UNIDIRECTIONAL_SEQUENCE_LSTM STRIDED_SLICE BIDIRECTIONAL_SEQUENCE_RNN EXP TOPK_V2 SPLIT LOG_SOFTMAX DELEGATE
    BIDIRECTIONAL_SEQUENCE_LSTM CAST PRELU MAXIMUM ARG_MAX MINIMUM LESS NEG PADV2 GREATER GREATER_EQUAL
    LESS_EQUAL SELECT SLICE SIN TRANSPOSE_CONV SPARSE_TO_DENSE TILE EXPAND_DIMS EQUAL NOT_EQUAL LOG SUM SQRT
    RSQRT SHAPE POW ARG_MIN FAKE_QUANT REDUCE_PROD REDUCE_MAX PACK LOGICAL_OR ONE_HOT LOGICAL_AND LOGICAL_NOT
    UNPACK REDUCE_MIN FLOOR_DIV REDUCE_ANY SQUARE ZEROS_LIKE FILL FLOOR_MOD RANGE RESIZE_NEAREST_NEIGHBOR
    LEAKY_RELU SQUARED_DIFFERENCE MIRROR_PAD ABS SPLIT_V UNIQUE CEIL REVERSE_V2 ADD_N GATHER_ND COS WHERE RANK
    ELU REVERSE_SEQUENCE MATRIX_DIAG QUANTIZE MATRIX_SET_DIAG ROUND HARD_SWISH IF WHILE NON_MAX_SUPPRESSION_V4
    NON_MAX_SUPPRESSION_V5 SCATTER_ND SELECT_V2 DENSIFY SEGMENT_SUM BATCH_MATMUL
    PLACEHOLDER_FOR_GREATER_OP_CODES CUMSUM CALL_ONCE BROADCAST_TO RFFT2D CONV_3D IMAG REAL COMPLEX_ABS
    HASHTABLE HASHTABLE_FIND HASHTABLE_IMPORT HASHTABLE_SIZE REDUCE_ALL CONV_3D_TRANSPOSE VAR_HANDLE
    READ_VARIABLE ASSIGN_VARIABLE BROADCAST_ARGS RANDOM_STANDARD_NORMAL BUCKETIZE RANDOM_UNIFORM MULTINOMIAL
    GELU DYNAMIC_UPDATE_SLICE RELU_0_TO_1 UNSORTED_SEGMENT_PROD UNSORTED_SEGMENT_MAX UNSORTED_SEGMENT_SUM ATAN2
    UNSORTED_SEGMENT_MIN SIGN BITCAST BITWISE_XOR RIGHT_SHIFT STABLEHLO_LOGISTIC STABLEHLO_ADD STABLEHLO_DIVIDE
    STABLEHLO_MULTIPLY STABLEHLO_MAXIMUM STABLEHLO_RESHAPE STABLEHLO_CLAMP STABLEHLO_CONCATENATE
    STABLEHLO_BROADCAST_IN_DIM STABLEHLO_CONVOLUTION STABLEHLO_SLICE STABLEHLO_CUSTOM_CALL STABLEHLO_REDUCE
    STABLEHLO_ABS STABLEHLO_AND STABLEHLO_COSINE STABLEHLO_EXPONENTIAL STABLEHLO_FLOOR STABLEHLO_LOG
    STABLEHLO_MINIMUM STABLEHLO_NEGATE STABLEHLO_OR STABLEHLO_POWER STABLEHLO_REMAINDER STABLEHLO_RSQRT
    STABLEHLO_SELECT STABLEHLO_SUBTRACT STABLEHLO_TANH STABLEHLO_SCATTER STABLEHLO_COMPARE STABLEHLO_CONVERT
    STABLEHLO_DYNAMIC_SLICE STABLEHLO_DYNAMIC_UPDATE_SLICE STABLEHLO_PAD STABLEHLO_IOTA STABLEHLO_DOT_GENERAL
    STABLEHLO_REDUCE_WINDOW STABLEHLO_SORT STABLEHLO_WHILE STABLEHLO_GATHER STABLEHLO_TRANSPOSE DILATE
    STABLEHLO_RNG_BIT_GENERATOR REDUCE_WINDOW STABLEHLO_COMPOSITE STABLEHLO_SHIFT_LEFT STABLEHLO_CBRT
    STABLEHLO_CASE
""".split())

# schema.fbs `enum TensorType` -> numpy dtype name (None: no numpy equivalent mlir-fdt handles)
TENSOR_TYPES = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 5: None, 6: "bool", 7: "int16",
                8: None, 9: "int8", 10: "float64", 11: None, 12: "uint64", 13: None, 14: None, 15: "uint32",
                16: "uint16", 17: None, 18: None}


@dataclass
class TfliteTensor:
    name: str
    shape: list[int]
    dtype: str | None            # numpy dtype name
    scale: list[float] = field(default_factory=list)
    zero_point: list[int] = field(default_factory=list)
    variable: bool = False       # a state tensor (LSTM, SVDF): zeroed when TFLite Micro allocates the arena

    @property
    def quantized(self) -> bool:
        return bool(self.scale)

    def to_json(self) -> dict:
        d = {"name": self.name, "shape": self.shape, "dtype": self.dtype}
        if self.quantized:
            d["scale"], d["zero_point"] = self.scale[0], self.zero_point[0] if self.zero_point else 0
        return d


# the boolean builtin options mlir-fdt reads, by operator: option name -> field number in its options table
BOOL_OPTIONS = {
    "RESIZE_BILINEAR": {"align_corners": 2, "half_pixel_centers": 3},       # ResizeBilinearOptions
    "RESIZE_NEAREST_NEIGHBOR": {"align_corners": 0, "half_pixel_centers": 1},  # ResizeNearestNeighborOptions
}


@dataclass
class TfliteOperator:
    index: int                   # position in the main subgraph, as Netron and TFLite's logs number it
    name: str                    # BUILTIN name, or CUSTOM:<custom_code>
    inputs: list[str]            # tensor names ("" for an omitted optional input)
    outputs: list[str]
    options: _Table | None = field(default=None, repr=False, compare=False)  # its builtin options table
    flags: dict[str, bool] = field(default_factory=dict)  # the BOOL_OPTIONS of its kind (absent: False)


@dataclass
class TfliteModel:
    path: Path
    operators: list[TfliteOperator]
    inputs: list[TfliteTensor]
    outputs: list[TfliteTensor]
    tensors: list[TfliteTensor] = field(default_factory=list)

    def tensor(self, name: str) -> TfliteTensor | None:
        return next((t for t in self.tensors if t.name == name), None)

    def consumers(self, tensor_name: str) -> list[TfliteOperator]:
        return [op for op in self.operators if tensor_name in op.inputs]

    def op_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for op in self.operators:
            counts[op.name] = counts.get(op.name, 0) + 1
        return dict(sorted(counts.items()))


class _Table:
    """A flatbuffer table: scalar, string, vector and sub-table fields by field number."""

    def __init__(self, buf: bytearray, pos: int):
        self.t = flatbuffers.table.Table(buf, pos)

    def _off(self, k: int) -> int:
        return self.t.Offset(4 + 2 * k)

    def scalar(self, k: int, kind, default=0):
        o = self._off(k)
        return self.t.Get(kind, o + self.t.Pos) if o else default

    def string(self, k: int) -> str:
        o = self._off(k)
        return self.t.String(o + self.t.Pos).decode("utf-8", "replace") if o else ""

    def table(self, k: int) -> _Table | None:
        o = self._off(k)
        return _Table(self.t.Bytes, self.t.Indirect(o + self.t.Pos)) if o else None

    def tables(self, k: int) -> list[_Table]:
        o = self._off(k)
        if not o:
            return []
        start = self.t.Vector(o)
        return [_Table(self.t.Bytes, self.t.Indirect(start + 4 * i)) for i in range(self.t.VectorLen(o))]

    def numbers(self, k: int, dtype: str) -> list:
        o = self._off(k)
        if not o:
            return []
        start, n = self.t.Vector(o), self.t.VectorLen(o)
        return np.frombuffer(self.t.Bytes, dtype=np.dtype(dtype).newbyteorder("<"), count=n, offset=start).tolist()


def _operator_name(code: _Table) -> str:
    n = flatbuffers.number_types
    builtin = max(code.scalar(0, n.Int8Flags), code.scalar(3, n.Int32Flags))  # deprecated field, or the new one
    if builtin == 32:  # CUSTOM
        return f"CUSTOM:{code.string(1)}"
    return BUILTIN_OPERATORS[builtin] if 0 <= builtin < len(BUILTIN_OPERATORS) else f"BUILTIN_{builtin}"


def _tensor(t: _Table) -> TfliteTensor:
    n = flatbuffers.number_types
    q = t.table(4)
    scale = q.numbers(2, "float32") if q else []
    zero_point = q.numbers(3, "int64") if q else []
    return TfliteTensor(t.string(3), t.numbers(0, "int32"), TENSOR_TYPES.get(t.scalar(1, n.Int8Flags)),
                        [float(s) for s in scale], [int(z) for z in zero_point], bool(t.scalar(5, n.BoolFlags)))


def _bool_options(op: _Table, name: str) -> dict[str, bool]:
    fields = BOOL_OPTIONS.get(name)
    if not fields:
        return {}
    table = op.table(4)  # Operator.builtin_options (its union type is field 3)
    return {key: bool(table.scalar(k, flatbuffers.number_types.BoolFlags)) if table else False
            for key, k in fields.items()}


def read_tflite(path: str | Path) -> TfliteModel:
    """The main subgraph's operators and signature, its tensors named uniquely (`tflite_tensor_names`);
    FdtError naming the file if it is not a TFLite model."""
    path = Path(path)
    return read_tflite_bytes(path.read_bytes(), path)


def read_tflite_bytes(data: bytes, path: Path) -> TfliteModel:
    """`read_tflite` of the flatbuffer `data` (the file `path`, or a copy of it)."""
    buf = bytearray(data)
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise FdtError(f"{path}: not a TFLite flatbuffer (missing the 'TFL3' identifier at byte 4)")
    try:
        model = _Table(buf, flatbuffers.encode.Get(flatbuffers.packer.uoffset, buf, 0))
        codes = [_operator_name(c) for c in model.tables(1)]
        subgraphs = model.tables(2)
        if not subgraphs:
            raise FdtError(f"{path}: the model has no subgraph")
        graph = subgraphs[0]
        tensors = [_tensor(t) for t in graph.tables(0)]
        for tensor, name in zip(tensors, unique_tensor_names([t.name for t in tensors])):
            tensor.name = name

        def name(i: int) -> str:
            return tensors[i].name if i >= 0 else ""

        operators = []
        for i, op in enumerate(graph.tables(3)):
            kind = codes[op.scalar(0, flatbuffers.number_types.Uint32Flags)]
            operators.append(TfliteOperator(i, kind, [name(j) for j in op.numbers(1, "int32")],
                                            [name(j) for j in op.numbers(2, "int32")], op.table(4),
                                            _bool_options(op, kind)))
        inputs = [tensors[i] for i in graph.numbers(1, "int32")]
        outputs = [tensors[i] for i in graph.numbers(2, "int32")]
    except (IndexError, ValueError, UnicodeDecodeError, struct.error) as e:
        raise FdtError(f"{path}: truncated or corrupt TFLite flatbuffer ({e})") from None
    return TfliteModel(path, operators, inputs, outputs, tensors)


def truncating_cast_outputs(model: TfliteModel) -> set[str]:
    """Names of the output tensors of CAST ops from a float to an integer type: TFLite's CAST
    truncates toward zero (a C++ static_cast) where tosa.cast rounds to nearest."""
    names = set()
    for op in model.operators:
        if op.name != "CAST" or not op.inputs or not op.outputs:
            continue
        src, dst = model.tensor(op.inputs[0]), model.tensor(op.outputs[0])
        if src and dst and src.dtype in ("float32", "float16", "float64") and dst.dtype and "int" in dst.dtype:
            names.add(dst.name)
    return names
