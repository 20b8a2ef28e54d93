"""UNIDIRECTIONAL_SEQUENCE_LSTM lowered by mlir-fdt (importers/tflite_lstm.py, lstm_float.py): real and
small models against TFLite Micro, the lowering's variants against a NumPy LSTM, the time loop kept as
a loop, and the refusals of the variants it does not lower."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import corpus_path

from mlir_fdt.codegen.iree_compile import compile_host
from mlir_fdt.compiler import CompileOptions, compile_model
from mlir_fdt.importers import import_model
from mlir_fdt.importers.lstm_float import lstm_function
from mlir_fdt.importers.lstm_loops import LstmShape
from mlir_fdt.importers.tflite_flatbuffer import TfliteModel, TfliteOperator, TfliteTensor
from mlir_fdt.importers.tflite_lstm import unsupported_lstm_reason
from mlir_fdt.ir import ir, new_context, run_pipeline, walk_ops
from mlir_fdt.reference.host import run_arena_program
from mlir_fdt.reference.tflm import tflite_micro_arena_head

DATA = Path(__file__).resolve().parent / "data" / "models"


def _compile_and_check(model: Path, out: Path, x_dtype) -> dict:
    report = compile_model(model, out, CompileOptions(run="host", checks=3)).to_json()
    assert report["reference"] == "tflite-micro" and report["match"], report["max_abs_diff"]
    head = tflite_micro_arena_head(model, [np.zeros(report["inputs"][0]["shape"], x_dtype)])
    assert head is not None and report["arena_bytes"] <= head
    return report


def test_mnist_lstm_matches_tflite_micro_in_no_more_arena(tmp_path):
    """The corpus' Keras LSTM (28 steps of 28 features, 20 units) then a dense layer and softmax."""
    report = _compile_and_check(corpus_path("tflm_mnist_lstm_float.tflite"), tmp_path, np.float32)
    gates = 4 * 20 * (28 * 28 + 27 * 20)  # input term at 28 steps, recurrent term from the second on
    assert report["macs"] >= gates + 20 * 10 and report["executed_macs"] == report["macs"]


def test_stacked_lstms_on_a_batch_of_two_match_tflite_micro(tmp_path):
    _compile_and_check(DATA / "float_lstm.tflite", tmp_path, np.float32)


def test_time_loop_is_a_loop_not_unrolled_steps():
    """One loop over the time steps per LSTM, and each step's arithmetic appears once in the IR."""
    ctx = new_context()
    module = import_model(DATA / "float_lstm.tflite", ctx)
    ops = [op.name for op in walk_ops(module.operation)]
    assert ops.count("math.tanh") == 2 * 2  # cell gate and output, per LSTM
    with ctx:
        trip_counts = [ir.IntegerAttr(op.operands[1].owner.attributes["value"]).value
                       for op in walk_ops(module.operation)
                       if op.name == "scf.for" and op.operands[1].owner.name == "arith.constant"]
    assert trip_counts.count(5) == 2  # the model's 5 time steps, once per LSTM


def _lstm_op(present: set[int]) -> tuple[TfliteModel, TfliteOperator]:
    """A float LSTM operator whose inputs `present` are given (the rest omitted)."""
    tensors = [TfliteTensor(f"t{i}", [1, 4, 3] if i == 0 else [2, 3], "float32") for i in range(24)]
    op = TfliteOperator(0, "UNIDIRECTIONAL_SEQUENCE_LSTM", [f"t{i}" if i in present else "" for i in range(24)],
                        ["y"])
    return TfliteModel(Path("m.tflite"), [op], [tensors[0]], [], tensors), op


STANDARD = {0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 14, 15, 18, 19}


@pytest.mark.parametrize("extra,missing,words", [
    ({9, 10, 11}, set(), "peephole"), ({16}, set(), "projection"), ({20, 21, 22, 23}, set(), "layer normalisation"),
    (set(), {1, 5}, "CIFG")])
def test_variants_tflite_micro_does_not_run_are_refused(extra, missing, words):
    model, op = _lstm_op((STANDARD | extra) - missing)
    assert words in unsupported_lstm_reason(model, op)


# --- the lowering alone, against NumPy, in the variants the small models do not reach -------------------

def _numpy_lstm(x, w, r, b, shape: LstmShape):
    sigmoid = lambda v: 1 / (1 + np.exp(-v))
    act = np.tanh if shape.cell_activation == "tanh" else sigmoid
    xs = x if shape.time_major else x.transpose(1, 0, 2)  # [time, batch, features]
    h = c = np.zeros((shape.batch, shape.units))
    out = []
    for xt in xs:
        i, f, g, o = (xt @ w[k].T + b[k] + h @ r[k].T for k in range(4))
        c = sigmoid(f) * c + sigmoid(i) * act(g)
        if shape.cell_clip > 0:
            c = np.clip(c, -shape.cell_clip, shape.cell_clip)
        h = sigmoid(o) * np.tanh(c)
        out.append(h)
    y = np.stack(out)
    return y if shape.time_major else y.transpose(1, 0, 2)


def _program(shape: LstmShape, w, r, b) -> str:
    """A linalg module `main(x) -> lstm(x)` with the weights as constants."""
    def const(name: str, a: np.ndarray) -> str:
        dims = "x".join(map(str, a.shape))
        return f'  %{name} = arith.constant dense<"0x{a.astype("<f4").tobytes().hex().upper()}"> : tensor<{dims}xf32>\n'
    x_type = f"tensor<{shape.sequence(shape.inputs)}>"
    y_type = f"tensor<{shape.sequence(shape.units)}>"
    body = "".join(const(f"w{k}", w[k]) + const(f"r{k}", r[k]) + const(f"b{k}", b[k]) for k in range(4))
    args = ", ".join([f"%w{k}" for k in range(4)] + [f"%r{k}" for k in range(4)] + [f"%b{k}" for k in range(4)])
    types = ", ".join([f"tensor<{shape.units}x{shape.inputs}xf32>"] * 4
                      + [f"tensor<{shape.units}x{shape.units}xf32>"] * 4
                      + [f"tensor<{shape.units}xf32>"] * 4)
    lstm = lstm_function("lstm", shape).strip()
    lstm = lstm[lstm.index("{") + 1:lstm.rindex("}")]  # the function, without its module
    return (f"module {{\n{lstm}\nfunc.func @main(%x: {x_type}) -> {y_type} {{\n{body}"
            f"  %y = func.call @lstm(%x, {args}) : ({x_type}, {types}) -> {y_type}\n"
            f"  return %y : {y_type}\n}}\n}}\n")


@pytest.mark.parametrize("shape", [
    LstmShape(batch=2, time=4, inputs=3, units=5, time_major=True, cell_clip=0.0, cell_activation="tanh"),
    LstmShape(batch=1, time=3, inputs=2, units=3, time_major=False, cell_clip=0.5, cell_activation="sigmoid"),
], ids=["time-major-batch2-noclip", "clip-sigmoid-cell"])
def test_lowering_matches_numpy(tmp_path, shape):
    rng = np.random.default_rng(7)
    w = rng.normal(0, 0.8, (4, shape.units, shape.inputs)).astype(np.float32)
    r = rng.normal(0, 0.8, (4, shape.units, shape.units)).astype(np.float32)
    b = rng.normal(0, 0.5, (4, shape.units)).astype(np.float32)
    ctx = new_context()
    with ctx:
        module = ir.Module.parse(_program(shape, w, r, b))
        run_pipeline(module, "builtin.module(inline,symbol-dce)")
    source = tmp_path / "lstm.mlir"
    source.write_text(str(module))
    report = compile_model(source, tmp_path / "out", CompileOptions()).to_json()  # no --run: IREE's default flow, the
    vmfb = compile_host(tmp_path / "out" / "fdt_model.mlir", tmp_path / "out" / "lstm.vmfb")  # reference, fails on it
    x = rng.uniform(-2, 2, [int(d) for d in shape.sequence(shape.inputs).split("x")[:3]]).astype(np.float32)
    spec_in, spec_out = report["inputs"][0], report["outputs"][0]
    (raw,) = run_arena_program(vmfb, report["arena_bytes"],
                               [(spec_in["offset"], x.tobytes())], [(spec_out["offset"], spec_out["bytes"])])
    got = np.frombuffer(raw, np.float32).reshape(spec_out["shape"])
    np.testing.assert_allclose(got, _numpy_lstm(x.astype(np.float64), w, r, b, shape), atol=1e-5)
