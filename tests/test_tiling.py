"""Tiling plans (FFMT spatial tiles, FDT channel partitions): applied to the reference models,
the tiled programs equal TFLite Micro bit for bit on the host and lower the arena; bad plans are
clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import model_path
from mlir_fdt.compiler import CompileOptions, compile_model
from mlir_fdt.errors import FdtError
from mlir_fdt.plan import FusedPath, TilingPlan

VWW_FFMT = {"paths": [{"layers": ["conv_0", "dw_1", "pw_2", "dw_3", "pw_4", "dw_5", "pw_6", "dw_7"],
                       "method": "ffmt", "tiles": [4, 4]}]}
CASES = {
    # case: (model, plan)
    "vww_ffmt": ("vww_int8", VWW_FFMT),
    "vww_fdt": ("vww_int8", {"paths": [{"layers": ["pw_2", "dw_3"], "method": "fdt", "partitions": 16}]}),
    "kws_ffmt_pool": ("kws_int8", {"paths": [{"layers": ["conv_0", "dw_1", "pw_2", "dw_3", "pw_4", "dw_5", "pw_6",
                                                          "dw_7", "pw_8", "pool_9"], "method": "ffmt",
                                               "tiles": [2, 1]}]}),
    "resnet_ffmt": ("ic_resnet8_int8", {"paths": [{"layers": ["conv_3", "conv_4"], "method": "ffmt",
                                                   "tiles": [4, 4]}]}),
    "ad_fdt_psum": ("ad_int8", {"paths": [{"layers": ["dense_0", "dense_1"], "method": "fdt", "partitions": 4}]}),
    # FDT closed by the global pooling (each partition pools its own channels), and through it to
    # the dense layer (partial sums over the pooled channels)
    "kws_fdt_pool": ("kws_int8", {"paths": [{"layers": ["pw_8", "pool_9"], "method": "fdt", "partitions": 8}]}),
    "kws_fdt_pool_dense": ("kws_int8", {"paths": [{"layers": ["pw_8", "pool_9", "dense_10"], "method": "fdt",
                                                   "partitions": 8}]}),
    # every depthwise layer in one-channel partitions, every 1x1 layer in rows: each writes over
    # its dying input (fdt-reuse-dying-inputs), one tile apart
    "kws_in_place": ("kws_int8", {"paths": [
        *({"layers": [f"dw_{i}"], "method": "fdt", "partitions": 64} for i in (1, 3, 5, 7)),
        *({"layers": [f"pw_{i}"], "method": "ffmt", "tiles": [25, 1]} for i in (2, 4, 6, 8))]}),
}


@pytest.fixture(scope="module")
def tiled(tmp_path_factory):
    cache = {}

    def get(case):
        if case not in cache:
            model, plan = CASES[case]
            out = tmp_path_factory.mktemp(case)
            (out / "plan.json").write_text(json.dumps(plan))
            report = compile_model(model_path(model), out / "build",
                                   CompileOptions(plan=str(out / "plan.json"), run="host", seed=4)).to_json()
            cache[case] = (report, out / "build")
        return cache[case][0]
    get.out_dir = lambda case: cache[case][1]
    return get


@pytest.mark.parametrize("case", list(CASES))
def test_tiled_program_is_bit_exact(tiled, case):
    report = tiled(case)
    assert report["reference"] == "tflite-micro"
    assert report["max_abs_diff"] == 0, report["max_abs_diff"]
    assert report["tiling_plan"]["paths"] == CASES[case][1]["paths"]


def test_2d_tiles_keep_the_fast_kernels(tiled, compiled):
    """A 2-d FFMT grid's tiles (row stride read at run time) get the untiled program's peeled, SIMD32,
    channel-blocked windows: ResNet-8's conv_3+conv_4 in 4x4 tiles recompute 8.4 % MACs and are estimated
    at 1.08x the untiled program's instructions (1.83x with every MAC of a tile clamped and selected)."""
    untiled, _ = compiled("ic_resnet8_int8")
    report = tiled("resnet_ffmt")
    assert report["mac_overhead"] < 0.1
    assert report["estimated_instructions"] < 1.15 * untiled["estimated_instructions"]


def test_vww_ffmt_meets_the_issue_target(tiled):
    report = tiled("vww_ffmt")
    assert report["arena_bytes"] <= 44236  # 0.6 x TFLite Micro's 73728
    assert 0 < report["mac_overhead"] < 0.25


def test_fdt_recomputes_nothing_and_lowers_vww(tiled, compiled):
    untiled, _ = compiled("vww_int8")
    report = tiled("vww_fdt")
    assert report["mac_overhead"] == 0
    assert report["arena_bytes"] < untiled["arena_bytes"]


def test_ffmt_through_global_pool_lowers_kws(tiled, compiled):
    untiled, _ = compiled("kws_int8")
    report = tiled("kws_ffmt_pool")
    assert report["arena_bytes"] < untiled["arena_bytes"]
    assert report["mac_overhead"] > 0  # halos are recomputed


def test_in_place_tiles_lower_kws_with_no_overhead(tiled, compiled):
    untiled, _ = compiled("kws_int8")
    report = tiled("kws_in_place")
    assert report["mac_overhead"] == 0
    assert len(report["in_place_reuses"]) == 8  # the eight tiled layers
    # the peak is left where nothing overlaps: conv_0's input (490 B) and output (8000 B)
    assert report["arena_bytes"] < 8600 < untiled["arena_bytes"]


def test_psum_fdt_is_exact_with_no_overhead(tiled):
    report = tiled("ad_fdt_psum")
    assert report["mac_overhead"] == 0


@pytest.mark.parametrize("case", ["kws_fdt_pool", "kws_fdt_pool_dense"])
def test_fdt_through_global_pooling_lowers_kws_untiled(tiled, compiled, case):
    """pw_8's 25x5x64 map is never whole: each channel partition is pooled (and summed into
    dense_10's int32 accumulator) before the next."""
    untiled, _ = compiled("kws_int8")
    report = tiled(case)
    assert report["mac_overhead"] == 0
    assert report["arena_bytes"] < untiled["arena_bytes"]


@pytest.mark.parametrize("plan,message", [
    ({"paths": [{"layers": ["conv_9"], "method": "ffmt", "tiles": [2, 2]}]}, "unknown layer"),
    ({"paths": [{"layers": ["conv_0", "pw_2"], "method": "ffmt", "tiles": [2, 2]}]}, "does not consume"),
    ({"paths": [{"layers": ["conv_0"], "method": "magic"}]}, "unknown method"),
    ({"paths": [{"layers": ["dw_1", "pw_2", "dw_3"], "method": "fdt", "partitions": 4}]}, "mixes channels"),
    ({"paths": [{"layers": ["conv_0", "dw_1"], "method": "ffmt", "tiles": [99, 1]}]}, "do not fit"),
    ({"paths": {"layers": []}}, "expected a JSON object with a 'paths' list"),
])
def test_bad_plans_are_clear_errors(tmp_path, plan, message):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    with pytest.raises(FdtError, match=message):
        compile_model(model_path("vww_int8"), tmp_path / "out", CompileOptions(plan=str(path))).to_json()


def test_plan_round_trips_through_json(tmp_path):
    plan = TilingPlan((FusedPath(("a", "b"), "ffmt", tiles=(2, 3)), FusedPath(("c", "d"), "fdt", partitions=4)))
    plan.save(tmp_path / "p.json")
    assert TilingPlan.load(tmp_path / "p.json") == plan


def test_random_inputs_agree_on_tiled_vww(tiled):
    """Two more seeds through the tiled VWW program on the host, against TFLite Micro."""
    from mlir_fdt.reference.host import run_arena_program
    from mlir_fdt.reference.tflm import run_tflite_micro
    report = tiled("vww_ffmt")
    vmfb = tiled.out_dir("vww_ffmt") / "fdt_model.host.vmfb"
    spec_in, spec_out = report["inputs"][0], report["outputs"][0]
    for seed in (21, 22):
        x = np.random.default_rng(seed).integers(-128, 128, size=spec_in["shape"], dtype=np.int8)
        (expected,) = run_tflite_micro(model_path("vww_int8"), [x], 1)
        (raw,) = run_arena_program(vmfb, report["arena_bytes"], [(spec_in["offset"], x.tobytes())],
                                   [(spec_out["offset"], spec_out["bytes"])])
        np.testing.assert_array_equal(np.frombuffer(raw, np.int8), expected.reshape(-1))


# FDT through dense layers: the first layer's output features in partitions, the dense layer
# after it closed by partial sums (int32 for int8, float32 for float), compared with TFLite Micro
# and with the untiled program on the same inputs
DENSE_FDT = {
    # micro_speech: conv_0's 8 channels; dense_1 sums over the flattened 25x20x8 map (unflattened
    # by fdt-unflatten-dense-inputs), so it closes the path with 4 int32 partial sums
    "micro_speech": ("mlonmcu_micro_speech", {"paths": [{"layers": ["conv_0", "dense_1"], "method": "fdt",
                                                          "partitions": 8}]}),
    # AD float: dense_0's 128 features in 4 partitions, dense_1 closed by float32 partial sums
    "ad_fp32": ("ad_fp32", {"paths": [{"layers": ["dense_0", "dense_1"], "method": "fdt", "partitions": 4}]}),
}


def _dense_fdt_model(name):
    from conftest import corpus_path
    model = DENSE_FDT[name][0]
    return corpus_path(f"{model}.tflite") if model.startswith("mlonmcu_") else model_path(model)


@pytest.mark.parametrize("name", list(DENSE_FDT))
def test_fdt_through_dense_layers_equals_untiled_and_reference(tmp_path, name):
    from mlir_fdt.reference.host import run_arena_program
    model, plan = _dense_fdt_model(name), DENSE_FDT[name][1]
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    tiled = compile_model(model, tmp_path / "tiled",
                          CompileOptions(plan=str(tmp_path / "plan.json"), run="host")).to_json()
    untiled = compile_model(model, tmp_path / "untiled", CompileOptions(objective="untiled", run="host")).to_json()
    assert tiled["tiling_plan"]["paths"] == plan["paths"]
    assert tiled["reference"] == untiled["reference"] == "tflite-micro"
    assert tiled["max_abs_diff"] <= tiled.get("tolerance", 0)
    assert tiled["mac_overhead"] == 0 and tiled["executed_macs"] == untiled["macs"]
    spec_in, spec_out = tiled["inputs"][0], tiled["outputs"][0]
    rng = np.random.default_rng(5)
    for _ in range(2):
        if spec_in["dtype"] == "i8":
            x = rng.integers(-128, 128, size=spec_in["shape"], dtype=np.int8)
        else:
            x = rng.uniform(-1, 1, size=spec_in["shape"]).astype(np.float32)
        outs = [run_arena_program(d / "fdt_model.host.vmfb", r["arena_bytes"],
                                  [(r["inputs"][0]["offset"], x.tobytes())],
                                  [(r["outputs"][0]["offset"], spec_out["bytes"])])[0]
                for r, d in ((tiled, tmp_path / "tiled"), (untiled, tmp_path / "untiled"))]
        assert outs[0] == outs[1]  # the partial sums add the same products in the same order
    if name == "micro_speech":  # input 1960 B + one 25x20x1 partition + 4 int32 sums, against 4200 B
        assert tiled["arena_bytes"] <= 2500 < untiled["arena_bytes"] == 4200
