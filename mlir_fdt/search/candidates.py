"""Path discovery: candidate fused paths around the layers that set the peak.

A tensor stops being whole in RAM when a fused path holds its producer and all its consumers.
From each critical layer the search grows paths upward and downward one layer at a time; what
a path may contain depends on the split kind (a table of rules per kind, below):

- FFMT (spatial tiles, halos recomputed): layers with HxWxC outputs, optionally closed by a
  global pooling whose sums accumulate across tiles.
- FDT (channel partitions, nothing recomputed): a first layer of any kind, then only layers that
  keep channels apart (depthwise, pooling), the last one with an HxWxC output -- or closed by a
  layer that sums over the partitioned channels (a dense or 1x1 layer: the first layer's output
  features partitioned, the closing layer's partial sums accumulated in its accumulator width).
  The graph counts that whole accumulator at the closing layer, so a path whose int32 partial
  sums outweigh the map they replace is estimated worse and never scored.
- Streamed (nothing recomputed): layers with HxWxC outputs, optionally closed by a global pooling,
  run depth first a row at a time; each map inside the path is a window of a few rows
  (`transforms/stream_rows.py`).
- In place (nothing recomputed): one layer whose tiles read their input only where they write
  (a stride-1 depthwise layer by channels, a 1x1 layer by rows) writes over the input that dies
  there, one tile apart (fdt-reuse-dying-inputs); proposed all together (`with_in_place`).
"""

from __future__ import annotations

import math

from ..plan import FusedPath, TilingPlan
from .graph import LayerGraph

MAX_PATH_LAYERS = 12
FFMT_GRIDS = [(2, 1), (4, 1), (8, 1), (2, 2), (3, 3), (4, 4), (6, 6), (8, 8)]
FDT_PARTITIONS = [2, 4, 8, 16, 32, 64]
PER_CHANNEL = {"dw", "pool"}
STREAM_KINDS = {"conv", "dw", "pw", "pool"}


def is_chain(graph: LayerGraph, a: int, b: int) -> bool:
    """Layers a..b in program order form a path: each one after the first consumes an earlier
    one of the path, and no layer's output leaves the path except the last one's."""
    for k in range(a + 1, b + 1):
        if not any(graph.connected(p, k) for p in range(a, k)):
            return False
    return all(c <= b for k in range(a, b) for c in graph.layers[k].consumers)


def ffmt_allowed(graph: LayerGraph, a: int, b: int) -> bool:
    layers = graph.layers[a:b + 1]
    if any(layer.rank != 3 for layer in layers[:-1]):
        return False
    return layers[-1].rank == 3 or layers[-1].global_pool


def stream_allowed(graph: LayerGraph, a: int, b: int) -> bool:
    """Layers a..b (two or more) can stream: maps with rows all along, a global pooling at most last, each map
    but the last read by layers themselves (no reshape or concat between: a row window cannot follow them) and
    each layer after the first reading an earlier one."""
    layers = graph.layers[a:b + 1]
    if b <= a or any(layer.kind not in STREAM_KINDS for layer in layers):
        return False
    # rows all along: HxWxC maps, or TxC ones (a Conv1D model's, its unit height folded)
    if any(layer.rank not in (2, 3) for layer in layers[:-1]) or \
            not (layers[-1].rank in (2, 3) or layers[-1].global_pool):
        return False
    if any(layer.direct_consumers is None for layer in layers[:-1]):
        return False
    return all(any(k in graph.layers[p].direct_consumers for p in range(a, k)) for k in range(a + 1, b + 1))


def fdt_partitions(graph: LayerGraph, a: int, b: int) -> int:
    """Most channel partitions an fdt path over layers a..b can have (0: no fdt path): the
    closing layer's channels, or the input channels it sums over (partial sums)."""
    layers = graph.layers[a:b + 1]
    cut = layers[-1].fdt_cut
    if len(layers) < 2 or cut is None or not all(layer.kind in PER_CHANNEL for layer in layers[1:-1]):
        return 0
    return cut[1]


def ffmt_grids(graph: LayerGraph, b: int) -> list[tuple[int, int]]:
    """The FFMT grids (tile rows, tile columns) a path ending at layer b can be cut in."""
    shape = graph.layers[b].shape
    if graph.layers[b].global_pool:  # tiles of the pooled map: its producer's output
        shape = graph.layers[b - 1].shape if b > 0 else shape
    if len(shape) != 3:
        return []
    return [(r, c) for r, c in FFMT_GRIDS if r <= shape[0] and c <= shape[1]]


def paths_covering(graph: LayerGraph, layer: int) -> list[tuple[int, int]]:
    """(a, b) ranges that make the tensors live at `layer` internal: the range holds a producer of
    one of them and all that producer's consumers."""
    ranges = set()
    n = len(graph.layers)
    producers = [p for p in range(0, layer + 1)
                 if graph.layers[p].consumers and max(graph.layers[p].consumers) >= layer]
    for p in producers:
        last_use = max(graph.layers[p].consumers)
        for a in range(max(0, p - MAX_PATH_LAYERS), p + 1):
            for b in range(last_use, min(n, a + MAX_PATH_LAYERS)):
                if is_chain(graph, a, b):
                    ranges.add((a, b))
    return sorted(ranges)


def candidate_paths(graph: LayerGraph, critical: list[int]) -> list[FusedPath]:
    out: list[FusedPath] = []
    seen = set()
    for layer in critical:
        for a, b in paths_covering(graph, layer):
            names = tuple(graph.layers[k].name for k in range(a, b + 1))
            if channels := fdt_partitions(graph, a, b):
                for parts in FDT_PARTITIONS:
                    if parts <= channels and (names, "fdt", parts) not in seen:
                        seen.add((names, "fdt", parts))
                        out.append(FusedPath(names, "fdt", partitions=parts))
            if stream_allowed(graph, a, b) and (names, "stream") not in seen:
                seen.add((names, "stream"))
                out += stream_variants(graph, a, b)
            if ffmt_allowed(graph, a, b):
                for grid in ffmt_grids(graph, b):
                    if (names, "ffmt", grid) not in seen:
                        seen.add((names, "ffmt", grid))
                        out.append(FusedPath(names, "ffmt", tiles=grid))
    return out


def input_stream_paths(graph: LayerGraph) -> list[FusedPath]:
    """With the input delivered a row at a time (`graph.stream_input`): the streamed paths from the first layer
    reading the input that hold every layer reading it, whatever the peak (the input leaves the arena only so)."""
    if not graph.stream_input or not graph.input_consumers:
        return []
    a, last = min(graph.input_consumers), max(graph.input_consumers)
    return [path for b in range(max(a + 1, last), min(len(graph.layers), a + MAX_PATH_LAYERS))
            if is_chain(graph, a, b) and stream_allowed(graph, a, b) for path in stream_variants(graph, a, b)]


def stream_variants(graph: LayerGraph, a: int, b: int) -> list[FusedPath]:
    """The streamed path of layers a..b; and, when two or more of its maps but the last have rows of one size and
    are not depthwise rows (which the 1x1 layer after them reads at once: rows of the step), the same path with
    those windows' rows interleaved (`transforms/stream_rows.row_strides`), which the memory plan may lay out
    smaller or not: scored, both."""
    names = tuple(graph.layers[k].name for k in range(a, b + 1))
    rows = [math.prod(graph.layers[k].shape[1:]) for k in range(a, b) if graph.layers[k].kind != "dw"
            and len(graph.layers[k].shape) == 3]
    plain = FusedPath(names, "stream")
    return [plain, FusedPath(names, "stream", interleave=True)] if len(rows) > len(set(rows)) else [plain]


def in_place_path(graph: LayerGraph, layer: int) -> FusedPath | None:
    """The one-layer path that lets `layer` write over its input, if it can: a depthwise layer in
    one-channel partitions, a 1x1 layer in rows (the smallest tiles that need no halo)."""
    if not graph.can_tile_in_place(layer):
        return None
    info = graph.layers[layer]
    rows, _, channels = info.shape
    if info.kind == "dw":
        return FusedPath((info.name,), "fdt", partitions=channels) if channels >= 2 else None
    return FusedPath((info.name,), "ffmt", tiles=(rows, 1))


def in_place_plan(graph: LayerGraph) -> TilingPlan:
    """Every layer that can write over its input, tiled so."""
    return _plan_of([p for i in range(len(graph.layers)) if (p := in_place_path(graph, i))])


def _plan_of(paths: list[FusedPath]) -> TilingPlan:
    """The plan of `paths` in one order (by layer names), so that the search sees a plan it has scored as
    scored whichever way it was put together."""
    return TilingPlan(tuple(sorted(paths, key=lambda p: p.layers)))


def with_in_place(plan: TilingPlan, in_place: TilingPlan) -> TilingPlan:
    """`plan` plus the in-place paths of layers no path of `plan` holds. In-place paths pay off
    together (a peak at every layer of a depthwise/1x1 stack), so the search proposes them as one
    candidate rather than one plateau move per layer."""
    held = {name for path in plan.paths for name in path.layers}
    extra = [p for p in in_place.paths if p.layers[0] not in held]
    return _plan_of([*plan.paths, *extra])


def with_path(plan: TilingPlan, path: FusedPath) -> TilingPlan:
    """`plan` plus `path`, dropping the plan's paths that share a layer with it."""
    keep = [p for p in plan.paths if not set(p.layers) & set(path.layers)]
    return _plan_of([*keep, path])


def estimate_arena(graph: LayerGraph, plan: TilingPlan) -> int:
    """A fast estimate to order candidates before the real planner scores them: the untiled live
    bytes with path-internal tensors removed, plus the two largest internal tensors divided by
    the number of tiles or partitions (halos ignored)."""
    internal = graph.internal_layers(plan)
    tiles = sorted((graph.layers[i].out_bytes // n for i, n in internal.items()), reverse=True)[:2]
    return max(graph.plan_live_bytes(plan), default=0) + sum(tiles)
