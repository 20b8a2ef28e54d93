"""Turn a `PlanSpec` into a concrete tiling plan for one module, from the layers mlir-fdt finds.

An ffmt path starts at a tileable layer (an HxWxC output, or a global pooling) and follows the
data flow while the next layer is the single consumer of the previous one's output. An fdt path
starts at any layer, follows per-channel layers (depthwise, pooling, global pooling) and may close
with a layer that sums over channels (partial sums: a 1x1 or dense layer, so a dense chain's first
layer's output features are partitioned). An in-place plan tiles every layer that can write over
its dying input so (the plan `--objective min-ram` starts from). A stream path is a range of layers in
program order that holds every consumer of its maps but the last one's (residual branches included).
So most drawn plans are ones mlir-fdt should accept; those it rejects still count, as skips.
"""

from __future__ import annotations

from ..analysis.layers import Layer
from ..ir import ir
from ..plan import FusedPath, TilingPlan
from ..search.candidates import is_chain, in_place_plan, stream_allowed
from ..search.graph import build_graph
from ..analysis.layers import fdt_cut, is_global_pool, layers_by_name
from .spec import PlanSpec


def _tileable(layer: Layer) -> bool:
    return layer.rank == 3 or is_global_pool(layer)


def _map_size(layer: Layer) -> tuple[int, int]:
    """Rows and columns the ffmt tiles cut: the output map, or a global pooling's input map."""
    if is_global_pool(layer):
        shape = ir.RankedTensorType(layer.reductions[0].operands[0].type).shape
        return shape[0], shape[1]
    return layer.shape[0], layer.shape[1]


def _next_layer(layer: Layer, layers: list[Layer]) -> Layer | None:
    """The layer that consumes `layer`'s output, if exactly one does and nothing else."""
    consumers = {use.owner.operation for use in layer.result.uses}
    owners = []
    for other in layers:
        ops = {*other.members, *other.pads, other.anchor}
        if consumers & ops:
            owners.append(other)
    if len(owners) != 1 or not consumers <= {*owners[0].members, *owners[0].pads, owners[0].anchor}:
        return None
    return owners[0]


def _fdt_plan(layers: list[Layer], spec: PlanSpec) -> TilingPlan | None:
    """Start at the `start`-th layer, carry its channels through per-channel layers, stop at the
    first layer that sums over channels (partial sums), after `length` layers, or where the
    data flow branches."""
    def carries(layer: Layer | None) -> bool:
        return layer is not None and fdt_cut(layer) is not None

    starts = layers
    if spec.length > 1:  # a fused path where the network has one: the interesting case
        starts = [layer for layer in layers if carries(_next_layer(layer, layers))] or layers
    chain = [starts[spec.start % len(starts)]]
    while len(chain) < spec.length and not (len(chain) > 1 and fdt_cut(chain[-1])[0] == "psum"):
        nxt = _next_layer(chain[-1], layers)
        if not carries(nxt):
            break
        chain.append(nxt)
    cut = fdt_cut(chain[-1])
    if cut is None or cut[1] < 2:
        return None
    channels = cut[1]
    return TilingPlan((FusedPath(tuple(layer.name for layer in chain), "fdt",
                                 partitions=min(spec.partitions, channels)),))


def _stream_plan(graph, spec: PlanSpec, from_input: bool = False) -> TilingPlan | None:
    """Layers a..b in program order that can stream (residual branches included: a range holding a
    producer and all its consumers), from the `start`-th layer that begins one, up to `length` layers.
    `from_input`: from the first layer reading the model input, holding every layer that reads it (a plan that
    can take the input a row at a time)."""
    n = len(graph.layers)
    readers = graph.input_consumers if from_input else []
    ranges = {a: [b for b in range(a + 1, min(n, a + max(spec.length, len(readers) and max(readers) - a + 1)))
                  if is_chain(graph, a, b) and stream_allowed(graph, a, b) and b >= max(readers, default=0)]
              for a in range(n)}
    starts = [a for a in range(n) if ranges[a] and (not from_input or a == min(readers, default=-1))]
    if not starts:
        return None
    a = starts[spec.start % len(starts)]
    b = max(ranges[a])
    return TilingPlan((FusedPath(tuple(graph.layers[k].name for k in range(a, b + 1)), "stream",
                                 interleave=spec.interleave),))


def concrete_plan(module: ir.Module, spec: PlanSpec, stream_input: bool = False) -> TilingPlan | None:
    """The plan `spec` describes for `module` (normalized, see `prepare_tensor_program`); None when
    the module has no layer the plan's method can cut. `stream_input`: a stream plan starts at the input."""
    with module.context:
        layers = list(layers_by_name(module).values())
        if spec.method == "fdt":
            return _fdt_plan(layers, spec) if layers else None
        if spec.method == "in-place":
            plan = in_place_plan(build_graph(module))
            return plan if plan.paths else None
        if spec.method == "stream":
            return _stream_plan(build_graph(module), spec, stream_input)
        starts = [layer for layer in layers if _tileable(layer)]
        if not starts:
            return None
        if spec.length > 1:  # a fused path where the network has one: the interesting case for FFMT
            fusable = [layer for layer in starts if (nxt := _next_layer(layer, layers)) is not None and _tileable(nxt)]
            starts = fusable or starts
        chain = [starts[spec.start % len(starts)]]
        while len(chain) < spec.length and not is_global_pool(chain[-1]):
            nxt = _next_layer(chain[-1], layers)
            if nxt is None or not _tileable(nxt):
                break
            chain.append(nxt)
        rows, cols = _map_size(chain[-1])
        tiles = (min(spec.tiles[0], rows), min(spec.tiles[1], cols))
        return TilingPlan((FusedPath(tuple(layer.name for layer in chain), "ffmt", tiles),))
