"""The search: objectives on real models, the RAM-budget mode both ways, candidate rules."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import model_path
from mlir_fdt.analysis.macs import count_macs
from mlir_fdt.importers import import_model
from mlir_fdt.ir import new_context
from mlir_fdt.pipeline import prepare_tensor_program
from mlir_fdt.plan import FusedPath, TilingPlan
from mlir_fdt.search.candidates import candidate_paths, fdt_partitions, ffmt_allowed
from mlir_fdt.search.driver import search
from mlir_fdt.search.graph import build_graph
from mlir_fdt.search.objectives import Objective, parse_bytes


def _prepared(name):
    ctx = new_context()
    module = import_model(model_path(name), ctx)
    prepare_tensor_program(module)
    return module


def test_parse_bytes():
    assert parse_bytes("64KiB") == 65536 == parse_bytes("64 KB") == parse_bytes("65536")
    assert parse_bytes("0.5MiB") == 524288
    with pytest.raises(Exception, match="cannot read the RAM budget"):
        parse_bytes("lots")


def test_candidate_rules_on_vww():
    module = _prepared("vww_int8")
    with module.context:
        graph = build_graph(module)
    index = {layer.name: layer.index for layer in graph.layers}
    assert fdt_partitions(graph, index["pw_2"], index["dw_3"]) == 16    # mixing op, then depthwise
    # closed by a channel-mixing op: partial sums over dw_1's 8 channels
    assert fdt_partitions(graph, index["dw_1"], index["pw_2"]) == 8
    assert fdt_partitions(graph, index["conv_0"], index["pw_2"]) == 8   # through the depthwise dw_1
    assert not fdt_partitions(graph, index["conv_0"], index["dw_3"])    # pw_2 inside mixes channels
    # the closing layer keeps its whole int32 accumulator (48x48x16) live, and the path's input
    # (conv_0's 48x48x8 map, read by every partition): the cost model sees the partial sums
    # outweigh the 18432 B map they replace
    psum = TilingPlan((FusedPath(("dw_1", "pw_2"), "fdt", partitions=4),))
    internal_only = graph.live_bytes({index["dw_1"]})
    assert graph.partial_sums(psum) == {index["pw_2"]: index["dw_1"]}
    assert graph.plan_live_bytes(psum)[index["pw_2"]] == internal_only[index["pw_2"]] + 4 * 48 * 48 * 16 + 18432
    assert max(graph.plan_live_bytes(psum)) > max(graph.live_bytes())
    assert ffmt_allowed(graph, index["conv_0"], index["dw_7"])
    assert not ffmt_allowed(graph, index["pw_26"], index["dense_28"])
    # 18432 + 36864 live at pw_2, 36864 + 9216 at dw_3, each pair less what a shifted alias saves
    assert graph.critical_layers() == [index["pw_2"], index["dw_3"]]
    assert graph.live_bytes()[index["pw_2"]] < 18432 + 36864
    paths = candidate_paths(graph, graph.critical_layers())
    assert any(p.method == "fdt" for p in paths) and any(p.method == "ffmt" for p in paths)


def test_min_ram_recomputes_nothing_and_beats_untiled_on_vww():
    module = _prepared("vww_int8")
    result = search(module, count_macs(module), Objective("min-ram"), time_budget_s=120, progress=False)
    assert result.chosen.executed_macs == result.macs
    assert result.chosen.arena_bytes < result.untiled.arena_bytes
    assert all(p.recomputes_nothing for p in result.chosen.plan.paths)


def test_min_ram_tiles_kws_in_place():
    """No split of KWS's whole maps saves memory without recomputation, but its depthwise and 1x1
    layers can each write over their dying input, one tile apart."""
    module = _prepared("kws_int8")
    with module.context:
        graph = build_graph(module)
    index = {layer.name: layer.index for layer in graph.layers}
    assert graph.can_tile_in_place(index["dw_1"]) and graph.can_tile_in_place(index["pw_2"])
    assert not graph.can_tile_in_place(index["conv_0"])   # its input is the model's (49x10x1)
    assert not graph.can_tile_in_place(index["dense_10"])
    result = search(module, count_macs(module), Objective("min-ram"), time_budget_s=120, progress=False)
    assert result.chosen.executed_macs == result.macs
    # untiled, the 1x1 and depthwise outputs trail their inputs by a row or two (shifted aliases)
    # but drift down the arena layer after layer; in place they stay put
    assert result.chosen.arena_bytes < min(8600, result.untiled.arena_bytes)
    assert all(p.recomputes_nothing for p in result.chosen.plan.paths)


@pytest.mark.slow  # a whole --max-overhead search of ResNet-8 (~30 s)
def test_max_overhead_on_resnet8_keeps_the_cheaper_cut():
    """The search stops once batches stop finding better plans, then tries the chosen plan's paths cut
    into fewer pieces: on ResNet-8 (+25 % allowed) 8x1 then 4x1 FFMT tiles of the second block keep the
    22,528 B arena with fewer recomputed halo rows (+11.8 % MACs; 8x1 twice was +16.5 %)."""
    module = _prepared("ic_resnet8_int8")
    result = search(module, count_macs(module), Objective("max-overhead", max_overhead=0.25), progress=False)
    assert result.chosen.arena_bytes <= 22528
    assert result.overhead(result.chosen) < 0.12
    assert result.seconds < 120


@pytest.mark.slow  # a whole --max-overhead search of a MobileNetV1 (~10 s)
def test_max_overhead_is_not_worse_than_min_ram_when_its_plan_is_fast_enough():
    """--max-overhead allows every plan min-ram may choose (nothing recomputed) whose estimated instructions are
    within the bound: mlonmcu_mobilenet_v1's stream of dw_1..dw_3 (198,656 B, 1.006x the untiled estimate).
    Its search started from an FFMT cut (202,816 B) and never scored that stream before its first round took
    the plans recomputing nothing only."""
    from conftest import CORPUS
    module = import_model(CORPUS / "mlonmcu_mobilenet_v1_0_25_128.tflite", new_context())
    prepare_tensor_program(module)
    macs = count_macs(module)
    min_ram = search(module, macs, Objective("min-ram"), progress=False)
    max_overhead = search(module, macs, Objective("max-overhead", max_overhead=0.25), progress=False)
    assert min_ram.chosen.estimated_instructions <= max_overhead.instruction_limit
    assert max_overhead.chosen.arena_bytes <= min_ram.chosen.arena_bytes == 198656


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "mlir_fdt.tools.cli", *args], capture_output=True, text=True,
                          timeout=900)


def test_ram_budget_that_fits(tmp_path):
    proc = _cli("compile", str(model_path("kws_int8")), "--ram-budget", "12KiB", "--search-time", "5",
                "-o", str(tmp_path / "fit"))
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "fit" / "report.json").read_text())
    assert report["arena_bytes"] <= 12 * 1024
    pareto = json.loads((tmp_path / "fit" / "pareto.json").read_text())
    assert pareto["chosen"]["arena_bytes"] == report["arena_bytes"]
    assert pareto["pareto_front"]
    # scoring skips code generation; the untiled and chosen plans and the front's plans that fit are
    # estimated afterwards, for the target's kernels (the Cortex-M4's SIMD32): the chosen one as the
    # compile itself estimates it. The chosen plan is the fastest estimated that fits (KWS streamed, 6,292 B, is
    # estimated faster than the untiled program, 11,840 B: under QEMU it is, 9.83M against 10.30M instructions).
    fits = [e for e in [pareto["untiled"], *pareto["pareto_front"]] if e["arena_bytes"] <= 12 * 1024]
    assert all(e["estimated_instructions"] for e in [pareto["untiled"], pareto["chosen"], *fits])
    assert pareto["chosen"]["estimated_instructions"] == report["estimated_instructions"]
    assert report["estimated_instructions"] == min(e["estimated_instructions"] for e in fits)


def test_ram_budget_that_cannot_fit(tmp_path):
    proc = _cli("compile", str(model_path("ad_int8")), "--ram-budget", "100", "--search-time", "60",
                "-o", str(tmp_path / "nofit"))
    assert proc.returncode == 1
    assert "no plan found fits the RAM budget of 100 bytes: the smallest arena found is 768 bytes" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_min_ram_finds_fdt_through_a_dense_layer_on_micro_speech():
    """micro_speech: conv_0's 25x20x8 map feeds one dense layer; no spatial tile can close there,
    but partitioning conv_0's channels and closing dense_1 with 4 int32 partial sums keeps one
    25x20x1 slice instead of the map, with no extra MAC."""
    from conftest import corpus_path
    ctx = new_context()
    module = import_model(corpus_path("mlonmcu_micro_speech.tflite"), ctx)
    prepare_tensor_program(module)
    result = search(module, count_macs(module), Objective("min-ram"), time_budget_s=120, progress=False)
    assert result.chosen.executed_macs == result.macs
    assert [(p.layers, p.method) for p in result.chosen.plan.paths] == [(("conv_0", "dense_1"), "fdt")]
    assert result.chosen.arena_bytes < 0.6 * result.untiled.arena_bytes


# -- choosing by the instruction estimate ----------------------------------------------------------------------
def _evaluation(arena: int, macs: int, instructions: int | None, tiles: int):
    from mlir_fdt.search.evaluate import Evaluation
    plan = TilingPlan((FusedPath(("conv_0",), "ffmt", tiles=(tiles, 1)),)) if tiles else TilingPlan()
    return Evaluation(plan, arena, macs, estimated_instructions=instructions)


def _result(objective, evaluations, chosen):
    from mlir_fdt.search.driver import SearchResult
    return SearchResult(objective, evaluations[0], chosen, 1000, list(evaluations))


def test_ram_budget_chooses_the_fewest_estimated_instructions_not_the_fewest_macs():
    """Two plans fit 10 kB: 1,100 MACs estimated at 9,000 instructions and 1,050 MACs at 9,500 (more
    tile loops): the budget mode takes the faster one, as MAFAT ranks by predicted latency."""
    from concurrent.futures import ThreadPoolExecutor
    from mlir_fdt.search.driver import _choose_by_estimate
    untiled = _evaluation(20000, 1000, 8000, 0)
    fewer_macs, faster = _evaluation(9000, 1050, 9500, 8), _evaluation(8000, 1100, 9000, 2)
    result = _result(Objective("ram-budget", ram_budget=10000), [untiled, fewer_macs, faster], fewer_macs)
    with ThreadPoolExecutor(1) as pool:
        _choose_by_estimate(result, lambda e: pytest.fail("all front plans are estimated"), pool)
    assert result.chosen is faster


def test_max_overhead_ranks_plans_of_the_least_arena_by_their_estimate():
    from concurrent.futures import ThreadPoolExecutor
    from dataclasses import replace
    from mlir_fdt.search.driver import _choose_by_estimate
    untiled = _evaluation(20000, 1000, 8000, 0)
    a, b = _evaluation(9000, 1100, None, 8), _evaluation(9000, 1150, None, 2)
    estimates = {a.plan: 9900, b.plan: 9400}  # b recomputes more MACs but runs fewer tile loops
    result = _result(Objective("max-overhead", max_overhead=0.25), [untiled, a, b], a)
    with ThreadPoolExecutor(1) as pool:
        _choose_by_estimate(result, lambda e: replace(e, estimated_instructions=estimates[e.plan]), pool)
    assert result.chosen is b and a.estimated_instructions == 9900



def test_max_overhead_bounds_the_estimated_instructions_too():
    """--max-overhead 0.25: the least arena (9,000 B) is within 25 % MACs but estimated at 2x the untiled
    program's instructions; the next arena within both is chosen, and the untiled program when none is."""
    from concurrent.futures import ThreadPoolExecutor
    from mlir_fdt.search.driver import _choose_by_estimate
    untiled = _evaluation(20000, 1000, 8000, 0)
    small_slow, larger_fast = _evaluation(9000, 1200, 16000, 8), _evaluation(9500, 1100, 9500, 2)
    result = _result(Objective("max-overhead", max_overhead=0.25), [untiled, small_slow, larger_fast], small_slow)
    result.instruction_limit = 1.25 * 8000  # as the search sets it from the untiled program's estimate
    with ThreadPoolExecutor(1) as pool:
        _choose_by_estimate(result, lambda e: pytest.fail("all plans are estimated"), pool)
    assert result.chosen is larger_fast
    larger_fast.estimated_instructions = 10001  # over 1.25 x 8000
    with ThreadPoolExecutor(1) as pool:
        _choose_by_estimate(result, lambda e: pytest.fail("all plans are estimated"), pool)
    assert result.chosen is untiled


# -- what the search stops scoring early, and what counts as a move ------------------------------------------
def test_a_plan_recomputing_more_than_allowed_is_not_laid_out(tmp_path):
    """The search passes the objective's MAC limit: a plan over it is scored up to its MAC count (the
    tiling, a fifth of an evaluation) and gets no arena; it is not `ok`, so no objective chooses it."""
    from mlir_fdt.search.evaluate import Evaluation, score_plan
    module = _prepared("kws_int8")
    prepared = tmp_path / "prepared.mlirbc"
    with open(prepared, "wb") as f:
        module.operation.write_bytecode(f)
    macs = count_macs(module)
    plan = TilingPlan((FusedPath(("conv_0", "dw_1", "pw_2"), "ffmt", tiles=(5, 1)),)).to_json()
    scored = score_plan(str(prepared), plan, "greedy", 16)
    assert scored["executed_macs"] > macs and scored["arena_bytes"] > 0  # halos recomputed
    limit = Objective("max-overhead", max_overhead=0.0).max_macs(macs)
    assert limit == macs and Objective("ram-budget", ram_budget=1).max_macs(macs) is None
    stopped = score_plan(str(prepared), plan, "greedy", 16, max_macs=limit)
    assert stopped == {"arena_bytes": None, "executed_macs": scored["executed_macs"]}
    assert not Evaluation(TilingPlan.from_json(plan), None, stopped["executed_macs"], over_macs=True).ok



def test_a_plan_is_the_same_plan_however_it_was_put_together():
    """The in-place start plan and that plan rebuilt by `with_in_place` compare equal (MobileNetV2 224's
    dw_7 sorted after dw_49 in one and before dw_13 in the other: the same plan scored twice)."""
    from mlir_fdt.search.candidates import in_place_plan, with_in_place, with_path
    module = _prepared("kws_int8")
    with module.context:
        graph = build_graph(module)
    start = in_place_plan(graph)
    assert len(start.paths) > 1
    assert with_in_place(TilingPlan(), start) == start
    assert with_path(TilingPlan(tuple(reversed(start.paths[1:]))), start.paths[0]) == start


def test_paths_that_did_not_improve_the_plan_are_not_proposed_again():
    """`_made_worse`: a path whose plan had a larger arena than the current plan, or the same arena without
    less memory at the measured peak (the most bytes live at once, then at how many steps), is remembered;
    one that improved, or failed to compile, is not."""
    from mlir_fdt.search.driver import _made_worse
    from mlir_fdt.search.evaluate import Evaluation
    current = Evaluation(TilingPlan(), 16000, 100, lower_bound_bytes=15000, peak_places=3)
    worse, better, failed = (FusedPath(("dw_1",), "fdt", partitions=64), FusedPath(("pw_2",), "ffmt", tiles=(25, 1)),
                             FusedPath(("dw_3",), "fdt", partitions=64))
    scored = [Evaluation(TilingPlan((worse,)), 16016, 100, lower_bound_bytes=15000, peak_places=1),
              Evaluation(TilingPlan((better,)), 12000, 100, lower_bound_bytes=12000, peak_places=5),
              Evaluation(TilingPlan((failed,)), None, None, error="error: no")]
    assert _made_worse(scored, current) == {worse}
    # the same arena: kept for later rounds when the program peaks at fewer steps, or lower (a plateau move)
    for bound, steps in ((15000, 2), (14000, 9)):
        plateau = Evaluation(TilingPlan((better,)), 16000, 100, lower_bound_bytes=bound, peak_places=steps)
        assert _made_worse([plateau], current) == set()
    # and not kept when it leaves the peak as it was (a path away from it)
    on_plateau = Evaluation(TilingPlan((better,)), 16000, 100, lower_bound_bytes=15000, peak_places=2)
    aside = FusedPath(("conv_0",), "ffmt", tiles=(5, 1))
    again = Evaluation(TilingPlan((better, aside)), 16000, 100, lower_bound_bytes=15000, peak_places=2)
    assert _made_worse([again], on_plateau) == {aside}


def test_paths_are_proposed_where_the_memory_plan_measured_the_peak():
    """`_critical_layers`: the layers running where the memory plan of the current plan peaks (a streamed
    path's, whose loop the layer graph does not model); the layer graph's estimate when none is known."""
    from mlir_fdt.search.driver import _critical_layers
    from mlir_fdt.search.evaluate import Evaluation
    module = _prepared("kws_int8")
    with module.context:
        graph = build_graph(module)
    index = {layer.name: layer.index for layer in graph.layers}
    measured = Evaluation(TilingPlan(), 8000, 100, lower_bound_bytes=7000, peak_places=1,
                          peak_layers=["pw_4", "dw_3", "after_input"])  # a name of no layer is left out
    assert _critical_layers(graph, measured) == [index["dw_3"], index["pw_4"]]
    estimated = Evaluation(TilingPlan(), 8000, 100)
    live = graph.plan_live_bytes(TilingPlan())
    assert _critical_layers(graph, estimated) == [i for i, v in enumerate(live) if v in sorted(set(live))[-2:]]
