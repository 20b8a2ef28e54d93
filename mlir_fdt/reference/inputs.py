"""Seeded test inputs that exercise a model the way real data does.

Uniform noise over the whole int8 range drives many real models into saturation: the output is then
the same for every input and a bit-exact match proves little. Integer inputs are drawn over their
type's range (for a quantized input that *is* its quantization range), but a float input that a
QUANTIZE maps onto integers is drawn inside the range that QUANTIZE represents, and other float
inputs in [-1, 1). An input that only states a shape (TRANSPOSE_CONV's output_shape) gets that shape.
"""

from __future__ import annotations

import numpy as np

from ..errors import FdtError
from ..importers.tflite_flatbuffer import TfliteModel

Range = tuple[float, float]


# the element types a model's inputs and outputs may have (its checks draw and compare them)
IO_DTYPES = {"i8": np.int8, "i16": np.int16, "i32": np.int32, "i64": np.int64, "f32": np.float32, "f16": np.float16,
             "ui8": np.uint8, "i1": np.bool_}


def numpy_dtype(element_type: str) -> np.dtype:
    if element_type not in IO_DTYPES:
        raise FdtError(f"unsupported input/output element type {element_type}")
    return np.dtype(IO_DTYPES[element_type])


def tflite_input_ranges(fb: TfliteModel) -> list[Range | None]:
    """Per input of a TFLite model: the float range a consuming QUANTIZE maps onto its integer type
    (scale * (qmin - zero_point) .. scale * (qmax - zero_point)), or None (draw the default)."""
    ranges: list[Range | None] = []
    for t in fb.inputs:
        found = None
        if t.dtype in ("float32", "float16"):
            for op in fb.consumers(t.name):
                out = fb.tensor(op.outputs[0]) if op.name == "QUANTIZE" and op.outputs else None
                if out is not None and out.quantized and out.dtype in ("int8", "int16", "uint8"):
                    info = np.iinfo(np.dtype(out.dtype))
                    zp = out.zero_point[0] if out.zero_point else 0
                    found = (out.scale[0] * (info.min - zp), out.scale[0] * (info.max - zp))
                    break
        ranges.append(found)
    return ranges


def declared_input_ranges(declared) -> list[Range | None] | None:
    """The input ranges of a TFLite model (`tflite_input_ranges`) or an ONNX model
    (`reference.ort.onnx_input_ranges`); None for a model file that declares no signature."""
    if declared is None:
        return None
    if isinstance(declared, TfliteModel):
        return tflite_input_ranges(declared)
    from .ort import onnx_input_ranges
    return onnx_input_ranges(declared)


# TFLite operators with an operand that states the shape of their output: operator -> operand index
SHAPE_OPERANDS = {"TRANSPOSE_CONV": 0}


def tflite_shape_inputs(fb: TfliteModel) -> dict[int, np.ndarray]:
    """Model inputs that state an operator's output shape (`SHAPE_OPERANDS`), by input index, with the
    value they must have: the declared shape of that output. TFLite resizes the output to the value;
    TFLite Micro and the compiled program take the declared shape, so random int32 would describe an
    output neither computes."""
    fixed: dict[int, np.ndarray] = {}
    for i, t in enumerate(fb.inputs):
        for op in fb.consumers(t.name):
            k = SHAPE_OPERANDS.get(op.name)
            out = fb.tensor(op.outputs[0]) if k is not None and op.outputs else None
            if out is not None and len(op.inputs) > k and op.inputs[k] == t.name and [len(out.shape)] == t.shape:
                fixed[i] = np.array(out.shape)
    return fixed


def random_inputs(shapes_and_types: list[tuple[list[int], str]], seed: int,
                  ranges: list[Range | None] | None = None,
                  index_ranges: dict[int, tuple[int, int]] | None = None,
                  fixed: dict[int, np.ndarray] | None = None) -> list[np.ndarray]:
    """Seeded inputs: uniform over the integer type's range; floats uniform in their range or [-1, 1).
    An input the program uses as an index (`analysis.input_ranges`: the token ids of an embedding
    lookup) is drawn from the whole numbers of its valid [lo, hi) whatever its type: random floats
    would index out of range (the references then disagree or fail) or mostly the first entry.
    An input in `fixed` (`tflite_shape_inputs`) gets that value, not a random one."""
    rng = np.random.default_rng(seed)
    out = []
    for i, (shape, element_type) in enumerate(shapes_and_types):
        dtype = numpy_dtype(element_type)
        if fixed and i in fixed:
            out.append(np.asarray(fixed[i]).astype(dtype).reshape(shape))
        elif index_ranges and i in index_ranges:
            lo, hi = index_ranges[i]
            out.append(rng.integers(lo, hi, size=shape).astype(dtype))
        elif dtype == np.bool_:
            out.append(rng.integers(0, 2, size=shape).astype(np.bool_))
        elif np.issubdtype(dtype, np.integer):
            info = np.iinfo(dtype)
            out.append(rng.integers(info.min, info.max + 1, size=shape, dtype=dtype))
        else:
            lo, hi = (ranges[i] if ranges and i < len(ranges) and ranges[i] else (-1.0, 1.0))
            out.append(rng.uniform(lo, hi, size=shape).astype(dtype))
    return out
