"""Streamed paths (`"method": "stream"`, transforms/stream_rows.py): layers run depth first a row at a
time, each map inside the path a window of a few rows. Bit-exact with TFLite Micro, nothing recomputed,
and the arenas of issue 14."""

from __future__ import annotations

import json

import pytest

from conftest import model_path, requires_qemu
from mlir_fdt.compiler import CompileOptions, compile_model
from mlir_fdt.errors import FdtError

RESNET_ALL = ["conv_0", "conv_1", "conv_2", "conv_3", "conv_4", "conv_5", "conv_6", "pool_7"]
KWS_ALL = ["conv_0", "dw_1", "pw_2", "dw_3", "pw_4", "dw_5", "pw_6", "dw_7", "pw_8", "pool_9"]


def _compile(tmp_path, model: str, layers: list[str], run: str = "host") -> dict:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"paths": [{"layers": layers, "method": "stream"}]}))
    return compile_model(model_path(model), tmp_path / "out",
                         CompileOptions(plan=str(plan), run=run, seed=3)).to_json()


@requires_qemu
@pytest.mark.qemu
def test_resnet8_streamed_through_strides_residuals_and_pooling_under_qemu(tmp_path):
    """Every convolution of ResNet-8 (stride-2 blocks, 1x1 skip convolutions, residual adds) and the global
    pooling in one streamed path: no 32x32x16 map is ever whole, and the windows first written late (the second
    block's, the last row, the pooled sums) take the input rows already consumed: <= 14,000 B (issue 14; untiled
    32,768 B; FFMT with +11.8 % MACs 22,528 B; TinyTS 14,272 B)."""
    report = _compile(tmp_path, "ic_resnet8_int8", RESNET_ALL, run="qemu")
    assert report["qemu_max_abs_diff"] == 0 and report["max_abs_diff"] == 0
    assert report["mac_overhead"] == 0
    assert report["arena_bytes"] <= 14_000, report["arena_bytes"]
    assert any(a["dying_label"] == "input" for a in report["shifted_aliases"])


def test_kws_streamed_whole_is_under_the_issue_target(tmp_path):
    """KWS's ten layers (the 10x4 stride-2 first convolution on the HxW input, depthwise and 1x1 layers, the
    global pooling) streamed: <= 7,000 B (issue 14; untiled 11,840 B, TinyTS 9,920 B), and below its direction
    beyond, 6,000 B: each depthwise layer's row, which the 1x1 layer after it reads at the step that makes it, is a
    row of the step (6,164 B when each was a window carried through the loop), and lies in the top row of another
    layer's window, dead from its consumer's read to the next shift (`memory/dead_rows.py`; 5,204 B in a slot of
    their own)."""
    report = _compile(tmp_path, "kws_int8", KWS_ALL)
    assert report["max_abs_diff"] == 0 and report["reference"] == "tflite-micro"
    assert report["mac_overhead"] == 0
    assert report["arena_bytes"] <= 4_600, report["arena_bytes"]
    windows = {b["offset"] for b in report["buffers"] if b["label"] in ("conv_0 out", "pw_2 out", "pw_4 out",
                                                                         "pw_6 out")}
    depthwise_rows = {b["offset"] for b in report["buffers"] if b["label"] in ("dw_1 tile", "dw_3 tile", "dw_5 tile")}
    assert depthwise_rows <= windows, report["buffers"]


def test_the_default_objective_streams(compiled):
    """min-ram (no flag) finds the streamed paths: nothing is recomputed, so they are its candidates."""
    report, _ = compiled("ic_resnet8_int8", run=None, objective="min-ram")
    assert report["arena_bytes"] <= 14_000 and report["mac_overhead"] == 0
    assert any(p["method"] == "stream" for p in report["tiling_plan"]["paths"])


def test_window_depths_follow_kernels_strides_and_skips():
    """The schedule of ResNet-8's first two blocks: a 3x3 stride-1 consumer keeps 3 rows of its input; a map
    read by a stride-2 block's main path and its 1x1 skip keeps 5 (the skip waits for the main path's two
    convolutions); a layer after a stride-2 layer runs every second step."""
    from mlir_fdt.analysis.layers import layers_by_name
    from mlir_fdt.importers import import_model
    from mlir_fdt.ir import new_context
    from mlir_fdt.pipeline import prepare_tensor_program
    from mlir_fdt.transforms.stream_rows import StreamedPath
    with new_context() as context:
        module = import_model(model_path("ic_resnet8_int8"), context)
        prepare_tensor_program(module)
        layers = layers_by_name(module)
        path = StreamedPath([layers[n] for n in ["conv_0", "conv_1", "conv_2", "conv_3", "conv_4"]])
        nodes = {n.layer.name: n for n in path.units}
        assert [nodes[n].period for n in ("conv_0", "conv_2", "conv_3", "conv_4")] == [1, 1, 2, 2]
        assert nodes["conv_0"].depth == 3 and nodes["conv_1"].depth == 3
        assert nodes["conv_2"].depth == 5 and nodes["conv_3"].depth == 3
        assert nodes["conv_1"].offset == nodes["conv_0"].offset + 1  # one row of lookahead for a 3x3 window
        assert path.steps == 15 * 2 + nodes["conv_4"].offset + 1
        # read 3 rows at a time, or 5: windows; ResNet-8 has no two rows read only where they are made
        assert not any(path._step_local(n) for n in path.nodes.values())


def test_rows_read_only_where_they_are_made_are_rows_of_the_step():
    """A depthwise layer's row read by the 1x1 layer after it at the same step is no window carried through the
    loop; the 1x1 layers' outputs, read three rows at a time by the next depthwise layer, are."""
    from mlir_fdt.analysis.layers import layers_by_name
    from mlir_fdt.importers import import_model
    from mlir_fdt.ir import new_context
    from mlir_fdt.pipeline import prepare_tensor_program
    from mlir_fdt.transforms.stream_rows import StreamedPath
    with new_context() as context:
        module = import_model(model_path("kws_int8"), context)
        prepare_tensor_program(module)
        layers = layers_by_name(module)
        path = StreamedPath([layers[n] for n in KWS_ALL])
        local = {n.layer.name for n in path.units if path._step_local(n)}
        assert local == {"dw_1", "dw_3", "dw_5", "dw_7", "pw_8"}, local


VWW_PATH = ["conv_0", "dw_1", "pw_2", "dw_3", "pw_4", "dw_5", "pw_6", "dw_7"]


def _vww_path(interleave: bool):
    from mlir_fdt.analysis.layers import layers_by_name
    from mlir_fdt.importers import import_model
    from mlir_fdt.ir import new_context
    from mlir_fdt.pipeline import prepare_tensor_program
    from mlir_fdt.transforms.stream_rows import StreamedPath
    context = new_context()
    with context:
        module = import_model(model_path("vww_int8"), context)
        prepare_tensor_program(module)
        layers = layers_by_name(module)
        return context, module, StreamedPath([layers[n] for n in VWW_PATH], interleave)


def test_an_input_read_by_a_stride_2_layer_is_copied_two_rows_at_its_steps():
    """VWW's first layer (3x3, stride 2, no top padding) runs every second input row: the input's rows are copied at
    its steps, two at a time (three at the first), so that only the last row, which the next step reads again,
    is kept from step to step (`_batch`); a layer's own map is written a row a beat."""
    context, _, path = _vww_path(False)
    with context:
        (source,) = [n for n in path.nodes.values() if n.layer is None]
        assert source.batch == 2 and source.depth == 3 and path._first_written(source) == 2
        assert all(n.batch == 1 for n in path.units)


def test_interleaved_windows_take_rows_1_3_and_7_rows_apart():
    """With `interleave`, the maps kept as three rows from step to step that have one row size (pw_2: 48x16,
    pw_4 and pw_6: 24x32, 768 B each) get rows 1, 3 and 7 rows long in production order (`row_strides`): rows k *
    stride meet only at row 0; the depthwise rows (rows of the step) and the conv_0 window (384 B) keep theirs."""
    context, _, path = _vww_path(True)
    with context:
        columns = {n.layer.name: n.columns // n.shape[1] for n in path.units if n.layer.name != "dw_7"
                   and not path._step_local(n)}
        assert columns == {"conv_0": 1, "pw_2": 1, "pw_4": 3, "pw_6": 7}, columns
    context, _, plain = _vww_path(False)
    with context:
        assert all(n.columns in (0, n.shape[1]) for n in plain.nodes.values())


def test_interleave_is_an_option_of_streams_only():
    from mlir_fdt.plan import TilingPlan
    plan = TilingPlan.from_json({"paths": [{"layers": ["a", "b"], "method": "stream", "interleave": True}]})
    assert plan.paths[0].interleave and TilingPlan.from_json(plan.to_json()) == plan
    with pytest.raises(FdtError, match="interleave is an option of stream paths"):
        TilingPlan.from_json({"paths": [{"layers": ["a"], "method": "ffmt", "tiles": [2, 1], "interleave": True}]})


def test_a_dense_layer_cannot_stream(tmp_path):
    with pytest.raises(FdtError, match="stream needs layers with an HxWxC output"):
        _compile(tmp_path, "kws_int8", ["pool_9", "dense_10"])
