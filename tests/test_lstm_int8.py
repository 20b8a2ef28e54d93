"""The int8 UNIDIRECTIONAL_SEQUENCE_LSTM (int8 activations and weights, int16 cell state, TFLite Micro's
`EvalLstm<int8_t, int8_t, int16_t, int32_t>`): its constants and arithmetic, first as a NumPy model against
TFLite Micro's intermediate tensors (each layer's output sequence and final cell state), then the lowering
against TFLite Micro."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import requires_qemu
from int8_lstm_numpy import lstm_int8, multiply_by_quantized_multiplier, sigmoid16, tanh16

from mlir_fdt.codegen.iree_compile import compile_host
from mlir_fdt.compiler import CompileOptions, compile_model
from mlir_fdt.errors import FdtError
from mlir_fdt.importers import import_model
from mlir_fdt.importers.lstm_int8 import lstm_int8_function
from mlir_fdt.importers.lstm_int8_params import LstmQuantization, Rescale, lstm_quantization, quantize_multiplier
from mlir_fdt.importers.lstm_loops import LstmShape
from mlir_fdt.importers.tflite_flatbuffer import TfliteModel, TfliteOperator, TfliteTensor, read_tflite
from mlir_fdt.importers.tflite_lstm import lstm_quantization_of, unsupported_lstm_reason
from mlir_fdt.importers.tflite_operators import check_known_unsupported
from mlir_fdt.ir import ir, new_context, run_pipeline, walk_ops
from mlir_fdt.reference.host import run_arena_program
from mlir_fdt.reference.tflm import tflite_micro_arena_head, tflite_micro_interpreter

DATA = Path(__file__).resolve().parent / "data" / "models"
INT8_LSTM = DATA / "int8_lstm.tflite"


@pytest.mark.parametrize("real,expected", [
    (2.0 ** -15, Rescale(1 << 30, -14)),          # a power of two: mantissa 1/2
    (0.75, Rescale(3 << 29, 0)),
    (3.0, Rescale(3 << 29, 2)),                    # above one: a left shift
    (1 - 2.0 ** -40, Rescale(1 << 30, 1)),        # the mantissa rounds up to 2^31: halved, shift + 1
    (2.0 ** -40, Rescale(0, 0)),                  # below 2^-32: flushed to zero
])
def test_quantize_multiplier_as_tflite(real, expected):
    assert quantize_multiplier(real) == expected


def test_multiply_by_quantized_multiplier_rounds_twice_as_gemmlowp():
    """The doubling high multiply rounds halves up (-1.5 -> -1); the right shift rounds them away from zero
    (-1.5 -> -2); so 5 * 0.25 rounds 2.5 -> 3 then 1.5 -> 2 (not 1)."""
    half, quarter = Rescale(1 << 30, 0), Rescale(1 << 30, -1)
    assert multiply_by_quantized_multiplier(np.array([3, -3, 5, -5, 4]), half).tolist() == [2, -1, 3, -2, 2]
    assert multiply_by_quantized_multiplier(np.array([6, -6, 5]), quarter).tolist() == [2, -2, 2]


def test_int16_activations_follow_sigmoid_and_tanh_over_all_inputs():
    """Q3.12 in, Q0.15 out: within 1e-4 of the real functions, monotone, exact at 0."""
    x = np.arange(-32768, 32768).astype(np.int16)
    s, t = sigmoid16(x), tanh16(x, 3, 0)
    real = x / 4096.0
    assert s[32768] == 1 << 14 and t[32768] == 0
    assert np.abs(s / 32768 - 1 / (1 + np.exp(-real))).max() < 1e-4
    assert np.abs(t / 32768 - np.tanh(real)).max() < 1e-4
    assert (np.diff(s) >= 0).all() and (np.diff(t) >= 0).all()


def _tflite_micro_layers(seed: int):
    """(model, each LSTM's (operator, its input, output sequence, final cell state), weights reader) after
    one TFLite Micro invoke on random int8 input."""
    model = read_tflite(INT8_LSTM)
    index = {t.name: i for i, t in enumerate(model.tensors)}
    interp = tflite_micro_interpreter(INT8_LSTM, preserve_all_tensors=True)
    x = np.random.default_rng(seed).integers(-128, 128, model.inputs[0].shape).astype(np.int8)
    interp.set_input(x, 0)
    interp.invoke()
    tensor = lambda name: np.array(interp.GetTensor(index[name], 0)["tensor_data"])
    lstms = [op for op in model.operators if op.name == "UNIDIRECTIONAL_SEQUENCE_LSTM"]
    layers = [(op, tensor(op.inputs[0]), tensor(op.outputs[0]), tensor(op.inputs[19])) for op in lstms]
    return model, layers, tensor


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_numpy_model_matches_tflite_micro_step_by_step(seed):
    """Each layer's whole output sequence (every step's hidden state) and its final int16 cell state."""
    model, layers, tensor = _tflite_micro_layers(seed)
    assert len(layers) == 2
    for op, x, y, cell in layers:
        q, time_major = lstm_quantization_of(model, op)
        weights = [tensor(op.inputs[i]) for i in range(1, 16) if i not in (9, 10, 11)]
        got, got_cell = lstm_int8(x, weights[0:4], weights[4:8], weights[8:12], q, time_major)
        np.testing.assert_array_equal(got, y)
        np.testing.assert_array_equal(got_cell, cell)
        assert len(np.unique(y)) > 8  # not a saturated sequence


# --- the lowering ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("model,x_dtype", [(INT8_LSTM, np.int8), (DATA / "int8_lstm_wide.tflite", np.float32)],
                         ids=["stacked-batch2", "wide-float-io"])
def test_int8_lstm_matches_tflite_micro_in_no_more_arena(tmp_path, model, x_dtype):
    """Two stacked int8 LSTMs (batch 2, 5 steps, 4 then 3 units; and batch 1, 12 steps, 16 then 8 units between
    a float QUANTIZE and DEQUANTIZE), a slice of the last step and a dense layer: bit-exact on five random
    inputs, in no more arena than TFLite Micro's."""
    report = compile_model(model, tmp_path, CompileOptions(run="host", checks=5)).to_json()
    assert report["reference"] == "tflite-micro" and report["match"], report["max_abs_diff"]
    assert report["reference_output_varies"]
    head = tflite_micro_arena_head(model, [np.zeros(report["inputs"][0]["shape"], x_dtype)])
    assert head is not None and report["arena_bytes"] <= head
    assert report["executed_macs"] == report["macs"]


def test_lstm_state_carries_from_one_inference_to_the_next(tmp_path):
    """TFLite's LSTM states are variable tensors: TFLite Micro starts an inference from the states the one before
    left (until its Reset). Five inferences in a row equal its interpreter's; the state changes what an input
    gives, and the library's reset export brings back what a fresh interpreter gives."""
    from mlir_fdt.reference.host import run_arena_program_sequence
    from mlir_fdt.reference.tflm import run_tflite_micro, run_tflite_micro_sequence
    report = compile_model(INT8_LSTM, tmp_path, CompileOptions(run="host", checks=2)).to_json()
    assert report["reset_export"] == 1 and report["object_ram_bytes"] > 0
    x, y = report["inputs"][0], report["outputs"][0]
    rng = np.random.default_rng(4)
    inputs = [rng.integers(-128, 128, x["shape"]).astype(np.int8) for _ in range(5)]
    expected = [outs[0] for outs in run_tflite_micro_sequence(INT8_LSTM, [[v] for v in inputs], 1)]
    runs = run_arena_program_sequence(tmp_path / "fdt_model.host.vmfb", report["arena_bytes"],
                                      [[(x["offset"], v.tobytes())] for v in inputs], [(y["offset"], y["bytes"])])
    for k, ((raw,), e) in enumerate(zip(runs, expected)):
        np.testing.assert_array_equal(np.frombuffer(raw, e.dtype).reshape(e.shape), e, err_msg=f"inference {k}")
    assert not np.array_equal(run_tflite_micro(INT8_LSTM, [inputs[-1]], 1)[0], expected[-1])


@requires_qemu
@pytest.mark.qemu
def test_int8_lstm_matches_tflite_micro_under_qemu(tmp_path):
    report = compile_model(INT8_LSTM, tmp_path, CompileOptions(run="qemu", checks=2)).to_json()
    assert report["reference"] == "tflite-micro" and report["match"], report["max_abs_diff"]


def test_time_loop_is_a_loop_not_unrolled_steps():
    """One loop over the 5 time steps per LSTM, and one step's arithmetic once in the IR: 11 rescales a step
    (the input and recurrent part of 4 gates, forget x cell, input x cell gate, tanh(cell) x output gate),
    each with one 64-bit division."""
    ctx = new_context()
    module = import_model(INT8_LSTM, ctx)
    ops = [op.name for op in walk_ops(module.operation)]
    assert ops.count("arith.divsi") == 2 * 11
    with ctx:
        trip_counts = [ir.IntegerAttr(op.operands[1].owner.attributes["value"]).value
                       for op in walk_ops(module.operation)
                       if op.name == "scf.for" and op.operands[1].owner.name == "arith.constant"]
    assert trip_counts.count(5) == 2


def _lstm_op(dtypes: dict[int, str], weight_scales: int = 1) -> tuple[TfliteModel, TfliteOperator]:
    """An int8 LSTM operator with the standard inputs, some of whose dtypes `dtypes` overrides."""
    present = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 14, 15, 18, 19]
    default = {0: "int8", 18: "int8", 19: "int16", **{i: "int32" for i in (12, 13, 14, 15)}}
    tensors = [TfliteTensor(f"t{i}", [1, 4, 3] if i == 0 else [2, 3], dtypes.get(i, default.get(i, "int8")),
                            [0.01] * (weight_scales if 1 <= i <= 8 else 1), [0]) for i in range(24)]
    op = TfliteOperator(0, "UNIDIRECTIONAL_SEQUENCE_LSTM", [f"t{i}" if i in present else "" for i in range(24)], ["y"])
    return TfliteModel(Path("m.tflite"), [op], [tensors[0]], [], tensors), op


@pytest.mark.parametrize("dtypes,scales,words", [
    ({0: "int16", 18: "int16", **{i: "int64" for i in (12, 13, 14, 15)}}, 1, "int16 activations"),
    ({1: "float32"}, 1, "float32/int8 weights"),                     # mixed weights
    ({i: "int8" for i in range(1, 9)} | {0: "float32", 18: "float32", 19: "float32"}, 1, "float32 activations"),
    ({}, 4, "per-channel"),
])
def test_integer_variants_it_does_not_lower_are_refused(dtypes, scales, words):
    model, op = _lstm_op(dtypes, scales)
    assert words in unsupported_lstm_reason(model, op)


def test_refusal_names_the_operator():
    model, _ = _lstm_op({0: "int16", 18: "int16"})
    with pytest.raises(FdtError, match=r"operator 0 UNIDIRECTIONAL_SEQUENCE_LSTM .*int16 activations"):
        check_known_unsupported(model)


# --- the lowering alone, against the NumPy model, in variants the committed model does not reach -------------

def _tensor(scale: float, zero_point: int = 0, dtype: str = "int8") -> TfliteTensor:
    return TfliteTensor("t", [], dtype, [scale], [zero_point])


def _const(name: str, a: np.ndarray, element: str) -> str:
    dims = "x".join(map(str, a.shape))
    return f'  %{name} = arith.constant dense<"0x{a.tobytes().hex().upper()}"> : tensor<{dims}x{element}>\n'


def _program(shape: LstmShape, q: LstmQuantization, w, r, b) -> str:
    """A module `main(x) -> lstm(x)` with the weights as constants."""
    x_type, y_type = f"tensor<{shape.sequence(shape.inputs, 'i8')}>", f"tensor<{shape.sequence(shape.units, 'i8')}>"
    body = "".join(_const(f"w{k}", w[k], "i8") + _const(f"r{k}", r[k], "i8") + _const(f"b{k}", b[k], "i32")
                   for k in range(4))
    args = ", ".join([f"%w{k}" for k in range(4)] + [f"%r{k}" for k in range(4)] + [f"%b{k}" for k in range(4)])
    types = ", ".join([f"tensor<{shape.units}x{shape.inputs}xi8>"] * 4 + [f"tensor<{shape.units}x{shape.units}xi8>"] * 4
                      + [f"tensor<{shape.units}xi32>"] * 4)
    lstm = lstm_int8_function("lstm", shape, q).strip()
    lstm = lstm[lstm.index("{") + 1:lstm.rindex("}")]
    return (f"module {{\n{lstm}\nfunc.func @main(%x: {x_type}) -> {y_type} {{\n{body}"
            f"  %y = func.call @lstm(%x, {args}) : ({x_type}, {types}) -> {y_type}\n"
            f"  return %y : {y_type}\n}}\n}}\n")


VARIANTS = {
    # time major, batch 2, sigmoid cell gate, no clip; input gates rescale by more than one (a left shift);
    # cell scale 2^-11, where the cell's tanh scales its input up (multiplier 6, no shift)
    "time-major-sigmoid-cell-left-shift": (
        LstmShape(batch=2, time=4, inputs=3, units=5, time_major=True, cell_clip=0.0, cell_activation="sigmoid"),
        {"x": _tensor(0.05, 3), "w": 0.02, "h": _tensor(2.0 ** -7), "r": 0.01,
         "cell": _tensor(2.0 ** -11, 0, "int16")}),
    # batch major, a clip that bites (0.25 at cell scale 2^-15), the cell's tanh scaling down (shift 3)
    "clipped-cell": (
        LstmShape(batch=1, time=6, inputs=4, units=3, time_major=False, cell_clip=0.25, cell_activation="tanh"),
        {"x": _tensor(0.01, -5), "w": 0.006, "h": _tensor(0.0078, 10), "r": 0.005,
         "cell": _tensor(2.0 ** -15, 0, "int16")}),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_lowering_matches_numpy_model(tmp_path, variant):
    shape, scales = VARIANTS[variant]
    q = lstm_quantization(scales["x"], [_tensor(scales["w"])] * 4, [_tensor(scales["r"])] * 4, scales["h"],
                          scales["cell"], shape.cell_clip)
    rng = np.random.default_rng(11)
    w = rng.integers(-127, 128, (4, shape.units, shape.inputs)).astype(np.int8)
    r = rng.integers(-127, 128, (4, shape.units, shape.units)).astype(np.int8)
    b = rng.integers(-3000, 3000, (4, shape.units)).astype(np.int32)
    ctx = new_context()
    with ctx:
        module = ir.Module.parse(_program(shape, q, w, r, b))
        run_pipeline(module, "builtin.module(inline,symbol-dce)")
    source = tmp_path / "lstm.mlir"
    source.write_text(str(module))
    report = compile_model(source, tmp_path / "out", CompileOptions()).to_json()
    vmfb = compile_host(tmp_path / "out" / "fdt_model.mlir", tmp_path / "out" / "lstm.vmfb")
    spec_in, spec_out = report["inputs"][0], report["outputs"][0]
    for seed in range(3):
        x = np.random.default_rng(seed).integers(-128, 128, spec_in["shape"]).astype(np.int8)
        (raw,) = run_arena_program(vmfb, report["arena_bytes"], [(spec_in["offset"], x.tobytes())],
                                   [(spec_out["offset"], spec_out["bytes"])])
        expected, _ = lstm_int8(x, w, r, b, q, shape.time_major, shape.cell_activation == "tanh")
        assert len(np.unique(expected)) > 4  # not a saturated sequence
        np.testing.assert_array_equal(np.frombuffer(raw, np.int8).reshape(spec_out["shape"]), expected)
