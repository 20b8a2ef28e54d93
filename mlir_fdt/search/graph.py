"""The layer graph the search works on: layers with their output sizes, consumers and the
untiled live bytes at each layer (which tensors set the peak)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..analysis.layers import Layer, find_layers
from ..ir import entry_function, ir
from ..memory.liveness import element_bytes

IN_PLACE_KINDS = {"dw", "pw"}  # layers whose tiles read their input only where they write
STREAMING_KINDS = {"conv", "dw", "pw", "pool"}  # row after row: the output may trail the dying input


@dataclass
class LayerInfo:
    index: int
    name: str
    kind: str
    rank: int
    shape: list[int]
    out_bytes: int
    consumers: list[int] = field(default_factory=list)   # indices of consuming layers
    global_pool: bool = False
    elementwise_reads: set[int] = field(default_factory=set)  # producers read element for element
    fdt_cut: tuple[str, int] | None = None  # how an fdt path ending here is cut (apply_plan.fdt_cut)
    accumulator_bytes: int = 0  # its reduction's whole accumulator: what partial sums keep live
    direct_consumers: list[int] | None = None  # consumers reading its output itself (None: something else
    #                                            reads it too: a reshape, a concat, a pad of its own)


@dataclass
class LayerGraph:
    layers: list[LayerInfo]
    input_bytes: int
    input_consumers: list[int]
    input_rows: int = 1
    stream_input: bool = False  # the program takes its input a row at a time where a plan streams it

    def live_bytes(self, internal: set[int] = frozenset(), tiled_in_place: dict[int, int] | None = None,
                   partial_sums: dict[int, int] | None = None, input_streamed: bool = False) -> list[int]:
        """Bytes of layer outputs (and the model input) live while each layer runs; outputs of
        `internal` layers (inside a fused path) are tiles and do not count; a layer of
        `tiled_in_place` (index -> pieces) writes its tiles over its dying input and needs one
        tile more; a layer of `partial_sums` (closing layer -> the path's first layer) closes an
        fdt path: its whole accumulator (int32 for int8 models) is live across the partitions,
        together with the path's inputs, which every partition reads again. An `input_streamed` model input
        arrives a row at a time (memory/stream_input.py): a window of about three rows."""
        tiled_in_place = tiled_in_place or {}
        input_live = self.input_bytes * 3 // max(3, self.input_rows) if input_streamed else self.input_bytes
        partial_sums = partial_sums or {}
        out = []
        for i, layer in enumerate(self.layers):
            live = 0 if i in internal or self._writes_in_place(i) else layer.out_bytes
            if i in partial_sums:
                live += layer.accumulator_bytes + self._path_input_bytes(partial_sums[i], i, internal)
            if i in tiled_in_place:
                live = -(-layer.out_bytes // tiled_in_place[i])
            if self.input_consumers and min(self.input_consumers) <= i <= max(self.input_consumers):
                live += input_live
            for p in self.layers[:i]:
                if p.consumers and max(p.consumers) >= i and p.index not in internal:
                    live += p.out_bytes
            if i not in internal and not self._writes_in_place(i) and i not in tiled_in_place:
                live -= self._shifted_alias_saving(i, internal)
            out.append(live)
        return out

    def _path_input_bytes(self, first: int, i: int, internal: set[int]) -> int:
        """Bytes of the inputs of a path starting at layer `first` that the live bytes at layer i
        (after them) do not already count: they live until the path's last partition."""
        extra = self.input_bytes if first in self.input_consumers and max(self.input_consumers) < i else 0
        return extra + sum(self.layers[p].out_bytes for p in self.producers(first)
                           if p not in internal and max(self.layers[p].consumers) < i)

    def _shifted_alias_saving(self, i: int, internal: set[int]) -> int:
        """Bytes the memory planner's shifted aliases (`memory.overlap`) save at layer i: a layer
        computed row after row whose only input dies there may write its output over the rows of
        the input already consumed; the pair then needs about the larger of the two plus two rows."""
        layer = self.layers[i]
        producers = self.producers(i)
        if layer.kind not in STREAMING_KINDS or layer.rank != 3 or layer.global_pool:
            return 0
        if producers == [] and self.input_consumers == [i]:
            dying, rows = self.input_bytes, self.input_rows
        elif len(producers) == 1 and i not in self.input_consumers and self.layers[producers[0]].consumers == [i] \
                and producers[0] not in internal and self.layers[producers[0]].rank == 3:
            dying, rows = self.layers[producers[0]].out_bytes, self.layers[producers[0]].shape[0]
        else:
            return 0
        union = max(dying, layer.out_bytes) + 2 * max(dying // rows, layer.out_bytes // layer.shape[0])
        return max(0, dying + layer.out_bytes - union)

    def _writes_in_place(self, i: int) -> bool:
        """A residual add may write over a same-sized input that dies there (fdt-reuse-dying-inputs)."""
        layer = self.layers[i]
        return any(self.layers[p].out_bytes == layer.out_bytes and max(self.layers[p].consumers) == i
                   for p in layer.elementwise_reads)

    def producers(self, i: int) -> list[int]:
        return [p.index for p in self.layers if i in p.consumers]

    def can_tile_in_place(self, i: int) -> bool:
        """Whether layer i, cut into tiles that each read only the input tile at the position they
        write (a stride-1 depthwise layer by channels, a 1x1 layer with as many outputs as inputs by
        rows), can write over its input: one producer, of the same shape, used by nothing else."""
        layer = self.layers[i]
        producers = self.producers(i)
        if layer.kind not in IN_PLACE_KINDS or layer.rank != 3 or i in self.input_consumers or len(producers) != 1:
            return False
        producer = self.layers[producers[0]]
        return producer.shape == layer.shape and producer.consumers == [i]

    def tiled_in_place(self, plan) -> dict[int, int]:
        """Single-layer paths of `plan` on layers that can be tiled in place -> number of pieces."""
        index = {layer.name: layer.index for layer in self.layers}
        return {index[path.layers[0]]: path.pieces for path in plan.paths
                if len(path.layers) == 1 and self.can_tile_in_place(index[path.layers[0]])}

    def plan_live_bytes(self, plan) -> list[int]:
        """`live_bytes` once `plan` is applied."""
        return self.live_bytes(set(self.internal_layers(plan)), self.tiled_in_place(plan), self.partial_sums(plan),
                               self.streams_input(plan))

    def streams_input(self, plan) -> bool:
        """Whether `plan` lets the input arrive a row at a time: it is asked for (`stream_input`) and a streamed
        path holds every layer reading it."""
        names = {self.layers[i].name for i in self.input_consumers}
        return self.stream_input and bool(names) and any(
            path.method == "stream" and names <= set(path.layers) for path in plan.paths)

    def partial_sums(self, plan) -> dict[int, int]:
        """Last layers of the plan's fdt paths that close them with partial sums -> the paths'
        first layers."""
        index = {layer.name: layer.index for layer in self.layers}
        ends = {index[path.layers[-1]]: index[path.layers[0]] for path in plan.paths
                if path.method == "fdt" and len(path.layers) > 1}
        return {i: a for i, a in ends.items()
                if self.layers[i].fdt_cut is not None and self.layers[i].fdt_cut[0] == "psum"}

    def internal_layers(self, plan) -> dict[int, int]:
        """Layers whose outputs a plan keeps inside a fused path -> number of tiles/partitions."""
        index = {layer.name: layer.index for layer in self.layers}
        internal: dict[int, int] = {}
        for path in plan.paths:
            for name in path.layers[:-1]:
                layer = self.layers[index[name]]
                # a streamed map is a window of about three rows
                internal[index[name]] = max(1, layer.shape[0] // 3) if path.method == "stream" else path.pieces
        return internal

    def critical_layers(self) -> list[int]:
        live = self.live_bytes()
        peak = max(live) if live else 0
        return [i for i, v in enumerate(live) if v == peak]

    def connected(self, a: int, b: int) -> bool:
        return b in self.layers[a].consumers


def _layer_bytes(layer: Layer) -> int:
    t = ir.RankedTensorType(layer.result.type)
    return int(np.prod(t.shape)) * element_bytes(t.element_type)


def _accumulator_bytes(layer: Layer) -> int:
    t = ir.RankedTensorType(layer.reductions[0].results[0].type)
    return int(np.prod(t.shape)) * element_bytes(t.element_type)


def build_graph(module: ir.Module) -> LayerGraph:
    from ..analysis.layers import fdt_cut, is_global_pool
    fn = entry_function(module)
    layers = find_layers(fn.regions[0].blocks[0])
    owner = {}
    for i, layer in enumerate(layers):
        for op in [*layer.members, *layer.pads, layer.anchor]:
            owner[op] = i
    infos = [LayerInfo(i, l.name, l.kind, l.rank, l.shape, _layer_bytes(l), global_pool=is_global_pool(l),
                       fdt_cut=fdt_cut(l), accumulator_bytes=_accumulator_bytes(l))
             for i, l in enumerate(layers)]

    from ..analysis.linalg_util import has_reduction

    def consumers_of(value: ir.Value, producer: int | None = None) -> list[int]:
        found, work, seen = set(), [value], set()
        while work:
            v = work.pop()
            for use in v.uses:
                op = use.owner.operation
                if op in owner:
                    found.add(owner[op])
                    if producer is not None and op.name == "linalg.generic" and not has_reduction(op):
                        infos[owner[op]].elementwise_reads.add(producer)
                elif op.name.startswith("tensor.") and op not in seen:  # reshapes/slices between layers
                    seen.add(op)
                    work.extend(op.results)
        return sorted(found)

    for i, layer in enumerate(layers):
        infos[i].consumers = [c for c in consumers_of(layer.result, i) if c != i]
        users = [use.owner.operation for use in layer.result.uses]
        if all(u in owner for u in users):
            infos[i].direct_consumers = sorted({owner[u] for u in users} - {i})
    arg = fn.regions[0].blocks[0].arguments[0]
    t = ir.RankedTensorType(arg.type)
    rows = t.shape[1] if t.rank == 4 else 1  # NHWC
    from ..memory.stream_input import STREAM_ATTR
    return LayerGraph(infos, int(np.prod(t.shape)) * element_bytes(t.element_type), consumers_of(arg), rows,
                      STREAM_ATTR in fn.attributes)
