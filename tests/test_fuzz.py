"""The fuzzer: its pieces by hand-worked cases, a CI-sized run of `mlir-fdt fuzz`, and the
reproducers it found (tests/fuzz_regressions/), which must pass once their bug is fixed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import have_firmware_tools, requires_qemu
from mlir_fdt.fuzz import campaign
from mlir_fdt.fuzz.emit import HANDLERS, InvalidSpec, render, window
from mlir_fdt.fuzz.emit_extra import resize_params
from mlir_fdt.fuzz.generator import generate_case, renders
from mlir_fdt.fuzz.quant import quantize_multiplier
from mlir_fdt.fuzz.results import CRASH, MISMATCH, PASS, SKIP, CaseResult
from mlir_fdt.fuzz.shrinker import candidates, shrink
from mlir_fdt.fuzz.spec import CaseSpec, LayerSpec, PlanSpec

REPO = Path(__file__).resolve().parents[1]
REGRESSIONS = REPO / "tests" / "fuzz_regressions"
OPEN_BUGS = json.loads((REGRESSIONS / "open_bugs.json").read_text())
CLI = [sys.executable, "-m", "mlir_fdt.tools.cli"]


# -- pieces ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("real,expected", [
    (2.0 ** 20, (1 << 30, 10)),        # the i8 -> i32 widening of TFLite's quantized ADD
    (0.5, (1 << 30, 31)),
    (0.75, (3 << 29, 31)),
    (1 - 2 ** -40, (1 << 30, 30)),     # rounds up to 2**31: halved, one less shift
])
def test_quantize_multiplier_as_tflite(real, expected):
    assert quantize_multiplier(real) == expected


@pytest.mark.parametrize("real,expected", [
    (0.5, (1 << 14, 15)),
    (0.75, (3 << 13, 15)),
    (1 - 2 ** -20, (1 << 14, 14)),     # rounds up to 2**15: halved, one less shift
])
def test_quantize_multiplier_16_bits_for_i48_accumulators(real, expected):
    assert quantize_multiplier(real, bits=16) == expected


def test_quantize_multiplier_rejects_what_rescale_cannot_shift():
    with pytest.raises(ValueError, match="outside tosa.rescale"):
        quantize_multiplier(2.0 ** 40)


@pytest.mark.parametrize("args,expected", [
    ((8, 3, 2, 1, "same", (0, 0)), (0, 1, 0, 4)),     # TFLite SAME: pad 1, at the end
    ((32, 1, 2, 1, "valid", (0, 0)), (0, 0, 1, 16)),  # ResNet's strided 1x1: the converter slices to 31
    ((7, 3, 1, 2, "same", (0, 0)), (2, 2, 0, 7)),     # dilation 2: extent 5
    ((8, 3, 2, 1, "explicit", (3, 2)), (2, 1, 0, 5)),  # pads clipped to k - 1, then the end trimmed
])
def test_window_keeps_tosa_divisibility(args, expected):
    before, after, crop, out = window(*args)
    assert (before, after, crop, out) == expected
    size, kernel, stride, dilation = args[:4]
    assert (size - crop - 1 + before + after - (kernel - 1) * dilation) % stride == 0


def test_window_too_large_kernel_is_invalid():
    with pytest.raises(InvalidSpec):
        window(2, 5, 1, 1, "valid", (0, 0))


def test_generation_is_deterministic_and_valid():
    specs = [generate_case(3, i) for i in range(60)]
    assert specs == [generate_case(3, i) for i in range(60)]
    assert specs != [generate_case(4, i) for i in range(60)]
    assert {s.dtype for s in specs} == {"f32", "i8", "i16"}
    kinds = {layer.kind for s in specs for layer in s.layers}
    assert {"conv", "dw", "residual", "concat", "fc", "slice"} <= kinds
    assert {layer.params["mult"] for s in specs for layer in s.layers if layer.kind == "dw"} >= {1, 2, 4, 8}
    assert {s.plan.method for s in specs if s.plan} == {"ffmt", "fdt", "in-place", "stream"}
    for spec in specs:
        assert renders(spec) is not None, spec.summary()
        assert CaseSpec.loads(spec.dumps()) == spec


CI_SEED, CI_CASES = 637, 10  # test_fuzz_ci_run's: the 10 cases of seed 637 draw every kind (below)


def _kinds(layers) -> set[str]:
    return {layer.kind for layer in layers} | {k for layer in layers for b in layer.branches for k in _kinds(b)}


def test_ci_run_draws_every_kind_and_dtype():
    """The CI-sized run (its cases depend only on seed and index) draws every layer kind, int16
    activations, and programs with several inputs and several outputs."""
    specs = [generate_case(CI_SEED, i) for i in range(CI_CASES)]
    assert set().union(*(_kinds(s.layers) for s in specs)) == set(HANDLERS)
    assert {s.dtype for s in specs} == {"f32", "i8", "i16"}
    texts = [render(s) for s in specs]
    assert any("%arg1:" in t for t in texts)
    assert any(re.search(r"^    return %\w+, %\w+", t, re.M) for t in texts)
    assert any("acc_type(i48)" in t and "scale32(false)" in t for t in texts)


def test_int16x8_layers_are_built_like_the_converter():
    """16-bit activations, 8-bit weights: i48 accumulator and (signed) bias, a 16-bit multiplier
    out of it, symmetric int16 activations; the residual add widens with 15 bits of headroom."""
    conv = LayerSpec("conv", 1, {"kernel": (3, 3), "stride": (1, 1), "padding": "same", "out": 4, "act": "relu"})
    add = LayerSpec("residual", 2, {"act": "none"}, ((LayerSpec("clamp", 3, {"act": "relu"}),),))
    text = render(CaseSpec("i16", (5, 6, 3), 0, (conv, add), weight_seed=1))
    assert re.search(r"tosa.conv2d %arg0, .* acc_type\(i48\) : \(tensor<1x5x6x3xi16>, tensor<4x3x3x3xi8>, "
                     r"tensor<4xi48>, tensor<1xi16>, tensor<1xi8>\) -> tensor<1x5x6x4xi48>", text)
    rendered = [render(CaseSpec("i16", (5, 6, 3), 0, (conv,), seed)) for seed in range(1, 6)]
    biases = [int(v) for r in rendered
              for v in re.search(r"dense<\[([-\d, ]+)\]> : tensor<4xi48>", r).group(1).split(",")]
    assert min(biases) < 0 < max(biases)  # negative i48 constants: what IREE's i48 pass got wrong (importers/i48.py)
    assert "scale32(false) rounding_mode<SINGLE_ROUND> per_channel(true)" in text
    assert "tensor<4xi16>, tensor<4xi8>" in text
    assert "min_val(0 : i16) max_val(32767 : i16)" in text
    # the add's widening by 2**15: multiplier 2**30, shift 15
    assert re.search(r'dense<"0x00000040"> : tensor<1xi32>.*\n.*dense<"0x0F"> : tensor<1xi8>', text)
    assert text.count("tosa.add") == 1


def test_mean_strided_slice_transpose_conv_resize_shapes():
    mean = LayerSpec("mean", 1, {"axes": "hw", "keep": False})
    text = render(CaseSpec("i8", (6, 5, 3), 2, (mean,), weight_seed=1))
    assert text.count("tosa.reduce_sum") == 2 and "-> tensor<1x3xi8>" in text.splitlines()[0]
    cut = LayerSpec("sslice", 1, {"begin": (1, 0), "stride": (2, 3)})
    text = render(CaseSpec("f32", (8, 7, 2), 0, (cut, LayerSpec("clamp", 2, {"act": "relu"})), weight_seed=1))
    # rows 1, 3, 5 (3 whole strides fit in 7) and columns 0, 3: slice, split, keep index 0, merge
    assert "-> tensor<1x6x6x2xf32>" in text and "-> tensor<1x3x2x2x3x2xf32>" in text
    assert "-> tensor<1x3x1x2x1x2xf32>" in text and "-> tensor<1x3x2x2xf32>" in text
    up = LayerSpec("tconv", 1, {"kernel": (3, 3), "stride": (2, 2), "crop": (1, 1, 0, 2), "out": 4})
    text = render(CaseSpec("i8", (5, 6, 3), 0, (up,), weight_seed=1))
    assert "out_pad([-1, -1, 0, -2]) stride([2, 2]) acc_type(i32)" in text and "-> tensor<1x9x11x4xi32>" in text
    resize = LayerSpec("resize", 1, {"mode": "bilinear", "ratio": ((2, 1), (2, 1)), "align": "half_pixel"})
    text = render(CaseSpec("i16", (4, 5, 3), 0, (resize,), weight_seed=1))
    assert "mode<BILINEAR>" in text and "-> tensor<1x8x10x3xi48>" in text and "-> tensor<1x8x10x3xi16>" in text


@pytest.mark.parametrize("args,expected", [
    ((4, 8, "half_pixel"), (4, 2, -1, 1)),    # tosa-converter-for-tflite on a Keras 2x bilinear upsampling
    ((4, 8, "none"), (2, 1, 0, 1)),
    ((4, 7, "align_corners"), (2, 1, 0, 0)),  # (7 - 1) / (4 - 1)
])
def test_resize_parameters_as_the_converter(args, expected):
    n, d, offset, border = resize_params(*args)
    assert (n, d, offset, border) == expected
    size, out = args[:2]
    assert (size - 1) * n - offset + border == (out - 1) * d  # TOSA's output size


@pytest.mark.parametrize("source", ["table", "act"])
def test_gather_index_input_is_drawn_in_range(tmp_path, source):
    """The index input a GATHER adds is found by the self-test's index analysis, with the range of
    the rows it selects from (random ids would read outside the table)."""
    from mlir_fdt.analysis.input_ranges import index_input_ranges
    from mlir_fdt.importers import import_model
    from mlir_fdt.ir import entry_function, new_context
    params = {"source": source, "index": "f32", "vocab": 9, "out": 2, "rows": (2, 3)}
    spec = CaseSpec("i8", (4, 5, 3), 1, (LayerSpec("gather", 1, params),), weight_seed=1)
    model = tmp_path / "model.mlir"
    model.write_text(render(spec))
    ctx = new_context()
    module = import_model(model, ctx)
    with ctx:
        assert index_input_ranges(entry_function(module)) == {1: (0, 9 if source == "table" else 4 * 5)}


def test_second_input_and_output_heads():
    layers = (LayerSpec("tap", 1, {}), LayerSpec("add_input", 2, {"act": "none"}), LayerSpec("tap", 3, {}))
    text = render(CaseSpec("i8", (3, 4, 2), 1, layers, weight_seed=1))
    assert text.startswith("func.func @main(%arg0: tensor<1x3x4x2xi8>, %arg1: tensor<1x3x4x2xi8>) -> "
                           "(tensor<1x3x4x2xi8>, tensor<1x3x4x2xi8>, tensor<1x3x4x2xi8>)")


def test_int8_layers_are_built_like_tflite():
    conv = LayerSpec("conv", 1, {"kernel": (3, 3), "stride": (2, 2), "padding": "valid", "out": 4, "act": "relu"})
    add = LayerSpec("residual", 2, {"act": "none"}, ((LayerSpec("dw", 3, {"kernel": (3, 3), "stride": (1, 1),
                                                                          "padding": "same", "mult": 1}),),))
    text = render(CaseSpec("i8", (9, 8, 3), -5, (conv, add), weight_seed=1))
    assert "tosa.slice" in text  # 8 columns, kernel 3, stride 2: one column cropped, as the converter does
    assert "acc_type(i32)" in text and "per_channel(true)" in text
    assert "dense<1073741824> : tensor<1xi32>" in text or '"0x00000040"' in text  # the 2**20 widening of ADD
    assert text.count("tosa.add") == 1


def test_a_slice_then_a_strided_depthwise_with_a_multiplier():
    """The shape of tests/fuzz_regressions/overlap-rank-reducing-slice, drawn from any side: a slice
    starting past the origin, then a stride-2 depthwise layer writing 8 channels per input channel."""
    cut = LayerSpec("slice", 1, {"crop": (1, 0, 2, 1)})
    dw = LayerSpec("dw", 2, {"kernel": (3, 3), "stride": (2, 2), "padding": "valid", "mult": 8})
    text = render(CaseSpec("i8", (10, 12, 2), 3, (cut, dw), weight_seed=1))
    assert "dense<[0, 1, 2, 0]>" in text and "dense<[1, 9, 9, 2]>" in text
    assert "tosa.depthwise_conv2d" in text and "tensor<3x3x2x8xi8>" in text and "-> tensor<1x4x4x16xi32>" in text
    shrunk = [c.layers[0].params["crop"] for c in candidates(CaseSpec("i8", (10, 12, 2), 3, (cut, dw), weight_seed=1))
              if c.layers and c.layers[0].kind == "slice"]
    assert (0, 1, 0, 3) in shrunk  # the same size, from the origin


def test_signature_blurs_shapes_and_temporary_paths():
    a = CaseResult(CRASH, "/tmp/mlir-fdt-fuzz-abc/model.mlir:8:11: op expects 3 got 4", "FdtError", "f.py:g")
    b = CaseResult(CRASH, "/tmp/mlir-fdt-fuzz-xyz/model.mlir:9:1: op expects 5 got 6", "FdtError", "f.py:g")
    assert a.signature() == b.signature()
    assert a.signature() != replace(b, where="f.py:h").signature()
    assert CaseResult(MISMATCH, "diff 3").signature() == CaseResult(MISMATCH, "diff 4").signature()


def test_skip_reasons_keep_the_signal():
    r = CaseResult(SKIP, "applying the tiling plan crashed the MLIR transform interpreter (signal 11) on "
                         '{"paths": [1]}; this plan cannot be applied')
    assert campaign.skip_reason(r) == "applying the tiling plan crashed the MLIR transform interpreter (signal 11) " \
                                      "on <plan>"
    r = CaseResult(SKIP, "plan: layer conv_2 does not consume the output of pool_1; a path must follow the data flow")
    assert campaign.skip_reason(r) == "plan: layer <layer> does not consume the output of <layer>"


def _has_dw(spec: CaseSpec) -> CaseResult:
    """A fake compiler that fails on every network with a depthwise layer."""
    text = render(spec)
    return CaseResult(MISMATCH if "depthwise" in text else PASS)


def test_shrinker_finds_the_smallest_failing_network():
    spec = CaseSpec("f32", (9, 7, 5), 0, (
        LayerSpec("conv", 1, {"kernel": (3, 3), "stride": (1, 1), "padding": "same", "out": 6, "act": "relu"}),
        LayerSpec("residual", 2, {"act": "relu"}, ((LayerSpec("dw", 3, {"kernel": (3, 3), "stride": (1, 1),
                                                                         "padding": "same", "mult": 1,
                                                                         "act": "relu6"}),),)),
        LayerSpec("fc", 4, {"out": 3, "via": "matmul", "act": "none"})), weight_seed=5,
        plan=PlanSpec(0, 2, (2, 2)), planner="linear", alignment=64)
    shrunk = shrink(spec, _has_dw(spec), _has_dw, max_attempts=200)
    assert shrunk.result.status == MISMATCH
    assert [layer.kind for layer in shrunk.spec.layers] == ["dw"]
    assert shrunk.spec.layers[0].params["kernel"] == (1, 1) and shrunk.spec.layers[0].params["act"] == "none"
    assert shrunk.spec.input_shape == (1, 1, 1)
    assert shrunk.spec.plan is None and (shrunk.spec.planner, shrunk.spec.alignment) == ("best", 16)


def test_shrinker_simplifies_the_new_kinds():
    """A fake compiler failing on any resize: the shrinker ends at one nearest, unaligned resize."""
    def has_resize(spec: CaseSpec) -> CaseResult:
        return CaseResult(MISMATCH if "tosa.resize" in render(spec) else PASS)
    spec = CaseSpec("i8", (6, 5, 3), 3, (
        LayerSpec("gather", 1, {"source": "table", "index": "f32", "vocab": 9, "out": 3}),
        LayerSpec("resize", 2, {"mode": "bilinear", "ratio": ((2, 1), (2, 1)), "align": "half_pixel"}),
        LayerSpec("tconv", 3, {"kernel": (3, 3), "stride": (2, 2), "crop": (1, 1, 1, 1), "out": 2}),
        LayerSpec("tap", 4, {}), LayerSpec("mean", 5, {"axes": "hw", "keep": False})), weight_seed=5)
    shrunk = shrink(spec, has_resize(spec), has_resize, max_attempts=200)
    assert [layer.kind for layer in shrunk.spec.layers] == ["resize"]
    assert shrunk.spec.layers[0].params["mode"] == "nearest" and shrunk.spec.layers[0].params["align"] == "none"


def test_shrink_candidates_never_grow():
    for i in range(20):
        spec = generate_case(9, i)
        for candidate in candidates(spec):
            assert candidate.size() <= spec.size()


def test_campaign_reports_in_case_order_whatever_the_jobs(monkeypatch):
    """Results come back in case order with any parallelism; the run stops at the first failure
    in that order; known crashes are counted apart."""
    def fake_run(spec: CaseSpec, work_dir=None, timeout=0.0, run="host", target="cortex-m4") -> CaseResult:
        n = spec.input_seed % 5
        if n == 0:
            return CaseResult(CRASH, "boom", "KeyError", "mlir_fdt/x.py:f")
        if n == 1:
            return CaseResult(SKIP, "plan: unknown layer(s) conv_1; this model's layers: conv_0")
        return CaseResult(PASS)
    monkeypatch.setattr(campaign, "run_case", fake_run)
    seen: dict[int, list[int]] = {1: [], 2: []}
    summaries = {}
    for jobs in (1, 2):
        summaries[jobs] = campaign.run_campaign(30, 1, keep_going=True, jobs=jobs,
                                                on_result=lambda i, s, r, j=jobs: seen[j].append(i))
    assert seen[1] == seen[2] == list(range(30))
    assert summaries[1].skips == summaries[2].skips
    assert [f.index for f in summaries[1].failures] == [f.index for f in summaries[2].failures]
    first = summaries[1].failures[0].index
    stopped = campaign.run_campaign(30, 1, keep_going=False, jobs=2)
    assert stopped.cases == first + 1 and stopped.mismatches == 1
    known = {CaseResult(CRASH, "boom", "KeyError", "mlir_fdt/x.py:f").signature(): "boom-bug"}
    tolerant = campaign.run_campaign(30, 1, keep_going=False, jobs=2, known=known)
    assert tolerant.cases == 30 and tolerant.mismatches == 0 and tolerant.known["boom-bug"] >= 1


# -- the CI-sized run ------------------------------------------------------------------------------------
def _fuzz(tmp_path: Path, cases: int, seed: int, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, "fuzz", "--cases", str(cases), "--seed", str(seed), "--keep-going",
                           "--known-failures", str(REGRESSIONS), "--shrink-attempts", "0",
                           "--out", str(tmp_path / "repro"), *extra], capture_output=True, text=True, timeout=3600)


def test_fuzz_ci_run(tmp_path):
    """`mlir-fdt fuzz --cases 10 --seed 637`: no wrong output and no crash beyond the open bugs.
    A failure leaves its (unshrunk) reproducer under --out; shrink it with `mlir-fdt fuzz` locally.
    (`-m slow` runs 300 cases.)"""
    proc = _fuzz(tmp_path, CI_CASES, CI_SEED)
    n = CI_CASES
    assert re.search(rf"^{n} cases, 0 mismatches$", proc.stdout, re.M), proc.stdout + proc.stderr
    assert proc.returncode == 0
    assert len(re.findall(rf"^\[\s*\d+/{n}\] ", proc.stdout, re.M)) == n  # one plain line per case (no TTY)
    # the property test covers both split kinds: spatial tiles and channel partitions
    assert re.search(rf"^\[\s*\d+/{n}\] pass .* ffmt \d+x\d+ ", proc.stdout, re.M)
    assert re.search(rf"^\[\s*\d+/{n}\] pass .* fdt /\d+ ", proc.stdout, re.M)


@pytest.mark.qemu
@requires_qemu
def test_fuzz_under_qemu(tmp_path):
    """`--run qemu`: the generated networks also run as Cortex-M4 firmware (the int8 kernels there use
    the DSP instructions the host build only emulates) and match the reference; seed 5's first cases
    cover int8, int16 and float, a gather, a tiled plan and padded windows."""
    proc = _fuzz(tmp_path, 4, 5, "--run", "qemu", "--jobs", "1")
    assert re.search(r"^4 cases, 0 mismatches$", proc.stdout, re.M), proc.stdout + proc.stderr
    assert len(re.findall(r"^\[\s*\d+/4\] pass ", proc.stdout, re.M)) == 4


@pytest.mark.qemu
@requires_qemu
def test_fuzz_under_qemu_on_the_m55(tmp_path):
    """`--target cortex-m55 --run qemu`: the Helium kernels (vector steps, 8-channel depthwise blocks) run
    as firmware on the M55 board and match the reference."""
    proc = _fuzz(tmp_path, 3, 7, "--run", "qemu", "--target", "cortex-m55", "--jobs", "1")
    assert re.search(r"^3 cases, 0 mismatches$", proc.stdout, re.M), proc.stdout + proc.stderr


@pytest.mark.qemu
@requires_qemu
def test_fuzz_with_streamed_inputs_under_qemu(tmp_path):
    """`--method stream --stream-input --run qemu`: each case's path starts at the layers reading the input, which
    the firmware's row callback delivers a row at a time (int8 and float, a stride, a pooling, a residual later);
    the second case's plan cannot stream its input and is refused by name."""
    proc = _fuzz(tmp_path, 4, 7, "--method", "stream", "--stream-input", "--run", "qemu", "--jobs", "1")
    assert re.search(r"^4 cases, 0 mismatches$", proc.stdout, re.M), proc.stdout + proc.stderr
    assert len(re.findall(r"^\[\s*\d+/4\] pass .* stream rows \w+_0,dw_1", proc.stdout, re.M)) == 3, proc.stdout
    assert re.search(r"^\[\s*2/4\] skip .*\n\s+--stream-input: the plan cannot stream input", proc.stdout, re.M), \
        proc.stdout
    refused = subprocess.run([*CLI, "fuzz", "--cases", "1", "--stream-input"], capture_output=True, text=True)
    assert refused.returncode == 1 and "add --run qemu" in refused.stderr


@pytest.mark.slow
def test_fuzz_long_run(tmp_path):
    proc = _fuzz(tmp_path, 300, 11)
    assert re.search(r"^300 cases, 0 mismatches$", proc.stdout, re.M), proc.stdout + proc.stderr


# -- reproducers of bugs the fuzzer found ---------------------------------------------------------------------
def _regressions() -> list:
    params = []
    for directory in sorted(p for p in REGRESSIONS.iterdir() if (p / "spec.json").exists()):
        marks = [pytest.mark.xfail(strict=True, reason=OPEN_BUGS[directory.name])] if directory.name in OPEN_BUGS \
            else []
        params.append(pytest.param(directory, marks=marks, id=directory.name))
    return params


@pytest.mark.parametrize("directory", _regressions())
def test_fuzz_regression(tmp_path, directory):
    """Each reproducer compiles and matches its reference (xfail while its bug is open: remove it
    from open_bugs.json with the fix)."""
    from mlir_fdt.fuzz.runner import run_case
    spec = CaseSpec.loads((directory / "spec.json").read_text())
    if spec.stream_input and not have_firmware_tools():
        pytest.skip("a streamed input runs under QEMU only (qemu-system-arm and arm-none-eabi-gcc are missing)")
    result = run_case(spec, tmp_path / "case", run="qemu" if spec.stream_input else "host")
    assert result.status in (PASS, SKIP), result.message
