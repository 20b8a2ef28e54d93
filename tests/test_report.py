"""report.html (`--report`): buffers named by their layers, the page's content, and the page in a real
browser (headless Chromium: loads without console errors, shows the arena figure)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import model_path

# KWS with two tiled layers: dw_1 in channel partitions, pw_2 in row tiles (both in place, no extra MACs)
KWS_PLAN = {"version": 1, "paths": [{"layers": ["dw_1"], "method": "fdt", "partitions": 64},
                                    {"layers": ["pw_2"], "method": "ffmt", "tiles": [25, 1]}]}

# A search's pareto.json in miniature: untiled, one cheaper-in-RAM plan (chosen) and one that costs MACs
PARETO = {"objective": "max-overhead 0.25", "macs": 1000, "rounds": 1, "seconds": 1.0,
          "untiled": {"plan": {"version": 1, "paths": []}, "arena_bytes": 3000, "executed_macs": 1000,
                      "estimated_instructions": 9000, "error": None, "mac_overhead": 0.0},
          "chosen": {"plan": KWS_PLAN, "arena_bytes": 2000, "executed_macs": 1100, "estimated_instructions": 9900,
                     "error": None, "mac_overhead": 0.1},
          "pareto_front": [], "evaluated": []}
PARETO["pareto_front"] = [PARETO["chosen"], PARETO["untiled"]]
PARETO["evaluated"] = [PARETO["untiled"], PARETO["chosen"],
                       {"plan": KWS_PLAN, "arena_bytes": 2500, "executed_macs": 1300, "estimated_instructions": 9990,
                        "error": None, "mac_overhead": 0.3}]


@pytest.fixture(scope="module")
def kws_report(tmp_path_factory):
    """KWS compiled with KWS_PLAN and --report, and once more without it (the program must not change)."""
    from mlir_fdt.compiler import CompileOptions, compile_model
    model = model_path("kws_int8")
    root = tmp_path_factory.mktemp("report")
    plan = root / "plan.json"
    plan.write_text(json.dumps(KWS_PLAN))
    with_report = compile_model(model, root / "with", CompileOptions(plan=str(plan), report_html=True)).to_json()
    compile_model(model, root / "without", CompileOptions(plan=str(plan))).to_json()
    return root, with_report


def test_buffers_are_named_by_the_layer_that_writes_them(kws_report):
    _, report = kws_report
    labels = {b["name"]: b["label"] for b in report["buffers"]}
    # hand-checked against the lowered IR: conv_0's output is overwritten in place by dw_1 (partition by
    # partition) and pw_2 (row by row); dw_1 reads a copy of one channel of its input, pw_2 a copy of one row
    assert labels["input0"] == "input"
    assert "conv_0…pw_2 out (3 layers in place)" in labels.values()
    assert [b["label"] for b in report["buffers"] if b["kind"] == "tile"] == ["dw_1 input tile", "pw_2 input tile"]
    for name in ("dw_3", "pw_4", "dw_5", "pw_6", "dw_7", "pw_8", "pool_9", "dense_10"):
        assert f"{name} out" in labels.values()
    assert labels["output0"] == "output (after_dense_10)"  # the softmax is no layer: named after the one before it
    assert not [label for label in labels.values() if re.search(r"alloc", label)]
    in_place = next(b for b in report["buffers"] if b["label"].startswith("conv_0"))
    assert in_place["writers"] == ["conv_0", "dw_1", "pw_2"] and in_place["layer"] == "conv_0"
    assert {"dying_label": "dw_7 out", "born_label": "pw_8 out"}.items() <= report["shifted_aliases"][5].items()


def test_report_does_not_change_the_program(kws_report):
    root, _ = kws_report
    assert (root / "with" / "fdt_model.mlir").read_text() == (root / "without" / "fdt_model.mlir").read_text()
    assert not (root / "without" / "report.html").exists()
    assert "layers" not in json.loads((root / "without" / "report.json").read_text())


def test_layers_carry_their_tflite_operators_and_sizes(kws_report):
    _, report = kws_report
    layers = {layer["name"]: layer for layer in report["layers"]}
    assert layers["conv_0"] == {"name": "conv_0", "kind": "conv", "operators": [{"index": 0, "name": "CONV_2D"}],
                                "input_shapes": [[49, 10]], "output_shape": [25, 5, 64], "dtype": "i8",
                                "macs": 25 * 5 * 64 * 10 * 4, "output_bytes": 8000}
    assert layers["dw_1"]["operators"] == [{"index": 1, "name": "DEPTHWISE_CONV_2D"}]
    assert layers["pool_9"]["input_shapes"] == [[25, 5, 64]]  # the pooling window (a shape only) is not data
    # every MAC but the softmax's two reductions over 12 classes (max, then sum), which belong to no layer
    assert sum(layer["macs"] for layer in report["layers"]) == report["macs"] - 2 * 12
    assert report["tflite_micro_arena_bytes"] == 16000  # ../shared/models/README.md
    assert report["untiled_plan"]["arena_bytes"] > report["arena_bytes"]


def test_page_content(kws_report):
    from mlir_fdt.report.html import render_report_html
    root, report = kws_report
    page = (root / "with" / "report.html").read_text()
    assert page == render_report_html(report)  # the page is a function of report.json
    # self-contained: no address the browser would fetch
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page) and "<link" not in page
    assert "0.68x TFLite Micro's arena of 16,000 B" in page  # 10,880 / 16,000
    assert "dw_1: computed in 64 channel partitions (FDT" in page and "pw_2: computed in 25x1 spatial tiles" in page
    assert "the plan saves 960 B" in page  # untiled 11,840 B
    peak = re.search(r"The peak is set by <b>([^<]*)</b>", page)[1]
    # each later depthwise layer holds its input and its output, shifted by two rows (640 B): 8,640 B
    assert peak == "dw_3, dw_5, dw_7" and ("8,640 B live (conv_0…pw_2 out (3 layers in place), read by dw_3; "
                                                 "dw_3 out, read by pw_4)") in page
    assert "#1 DEPTHWISE_CONV_2D" in page and "conv_0…pw_2 out (3 layers in place)" in page
    assert page.count("<rect class='buf'") == len(report["buffers"]) + len(report["untiled_plan"]["buffers"])


def test_arena_png_names_buffers_and_layers(kws_report, tmp_path):
    from mlir_fdt.memory.plot import layer_columns, plot_arena, step_ranks
    _, report = kws_report
    ranks, columns = step_ranks(report["buffers"], report["layer_steps"])
    spans = layer_columns(ranks, report["layer_steps"])
    # the x axis runs to the last column and no further; every layer gets at least one column, in order
    assert columns == len(ranks) and max(hi for _, hi in spans.values()) <= columns
    assert all(hi > lo for lo, hi in spans.values()) and list(spans) == list(report["layer_steps"])
    assert plot_arena(report["buffers"], report["arena_bytes"], tmp_path / "arena.png", "kws",
                      report["layer_steps"]).stat().st_size > 10000


def test_live_bytes_are_the_union_of_live_address_ranges():
    from mlir_fdt.report.layers import live_bytes_by_layer, occupied_bytes
    buffers = [{"name": "a", "offset": 0, "bytes": 100, "first": 0, "last": 2},
               {"name": "b", "offset": 60, "bytes": 100, "first": 2, "last": 4},  # a shifted alias of a: 40 B shared
               {"name": "c", "offset": 200, "bytes": 10, "first": 4, "last": 4}]
    assert occupied_bytes(buffers) == [100, 100, 160, 100, 110]
    by_layer = live_bytes_by_layer(buffers, {"x": [0, 1], "y": [2, 3], "z": [4, 4]})
    assert by_layer == {"x": {"live_bytes": 100, "buffers": ["a"]}, "y": {"live_bytes": 160, "buffers": ["a", "b"]},
                        "z": {"live_bytes": 110, "buffers": ["b", "c"]}}


def test_a_streamed_plan_in_words(kws_report):
    """The default objective streams (ResNet-8, KWS, VWW): the page names a streamed path as such (it stopped
    `--report` and `--plot` with an internal error, KeyError 'tiles')."""
    from mlir_fdt.report.html import render_report_html
    _, report = kws_report
    streamed = {"version": 1, "paths": [{"layers": ["conv_0", "dw_1", "pw_2"], "method": "stream"}]}
    pareto = {**PARETO, "chosen": {**PARETO["chosen"], "plan": streamed}}
    pareto["evaluated"] = [*PARETO["evaluated"], pareto["chosen"]]
    page = render_report_html({**report, "tiling_plan": streamed}, pareto)
    assert "conv_0, dw_1, pw_2: streamed, depth first a row at a time" in page
    assert "conv_0+dw_1+pw_2: streamed a row at a time" in page


def test_pareto_figure_marks_the_chosen_plan(kws_report):
    from mlir_fdt.report.html import render_report_html
    _, report = kws_report
    page = render_report_html(report, PARETO)
    figure = page[page.index("<svg id='pareto'"):]
    assert figure.count("<title>scored plan:") == 3 and figure.count("<title>Pareto front:") == 2
    assert "<title>chosen: arena 2,000 B, 1,100 MACs (+10.0%)" in figure
    assert "3 plans scored in 1 round(s)" in page


def chromium() -> str:
    """The browser; without it, a failure under scripts/test.sh (the CI command, which installs it) or CI, a
    skip elsewhere."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("MLIR_FDT_REQUIRE_BROWSER") or os.environ.get("CI"):
        pytest.fail("chromium is not installed; scripts/test.sh installs it (apt package chromium)")
    pytest.skip("chromium is not installed (bash scripts/test.sh installs it)")


# Appended to a copy of the page: after load, the browser writes what it drew into the DOM it dumps.
PROBE = """<script>window.addEventListener('load', () => {
  const visible = [...document.querySelectorAll('#arena rect.buf')].filter(r => {
    const b = r.getBoundingClientRect(); return b.width > 0 && b.height > 0; });
  const svg = document.getElementById('arena').getBoundingClientRect();
  document.body.setAttribute('data-probe', JSON.stringify({buffers: visible.length,
    width: Math.round(svg.width), height: Math.round(svg.height)}));
});</script>"""


def render_in_chromium(page: str, tmp_path) -> tuple[dict, list[str]]:
    """(what the probe saw, the console messages) of `page` loaded in headless Chromium."""
    path = tmp_path / "page.html"
    path.write_text(page.replace("</body>", PROBE + "</body>"))
    proc = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
                           "--v=0", "--virtual-time-budget=5000", "--dump-dom", path.as_uri()],
                          capture_output=True, text=True, timeout=120)
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    probe = re.search(r'data-probe="([^"]*)"', proc.stdout)
    assert probe, f"the page did not finish loading in chromium: {proc.stderr[-2000:]}"
    return json.loads(probe[1].replace("&quot;", '"')), console


def test_chromium_sees_console_errors(tmp_path):
    """The check below can fail: a page that logs an error is caught."""
    page = ("<!DOCTYPE html><html><body><svg id='arena'><rect class='buf' width='5' height='5'/></svg>"
            "<script>console.error('broken')</script></body></html>")
    probe, console = render_in_chromium(page, tmp_path)
    assert probe["buffers"] == 1 and any("broken" in line for line in console)


def test_report_in_chromium(kws_report, tmp_path):
    from mlir_fdt.report.html import render_report_html
    _, report = kws_report
    probe, console = render_in_chromium(render_report_html(report, PARETO), tmp_path)
    assert console == []
    assert probe["buffers"] == len(report["buffers"]) and probe["width"] > 800 and probe["height"] > 300
