"""Layers of a linalg program: each reduction (convolution, dense, pooling) with its elementwise
epilogue (bias, requantization, clamp, residual add), the op initialising its accumulator and
the `tensor.pad` in front of it.

Layers get stable names, `<kind>_<index>` in program order (`conv_0`, `dw_1`, `pw_2`, ...):
the import is deterministic, so the same model always gives the same names, and tiling plans
refer to layers by them. Two reductions whose epilogues meet (a residual add of two
convolutions) form one layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ir import entry_function, ir, walk_ops
from .linalg_util import defining_op, has_reduction, indexing_maps, is_all_parallel, iterator_kinds, num_inputs


@dataclass
class Layer:
    """One fused unit of the network."""

    name: str
    kind: str
    anchor: ir.Operation                  # the op producing the layer's result
    members: list[ir.Operation]           # every op of the layer but the anchor and the pads
    reductions: list[ir.Operation]
    rank: int                             # parallel dims of the result (3 for HxWxC)
    pads: list[ir.Operation] = field(default_factory=list)  # single-use tensor.pads feeding a reduction

    @property
    def result(self) -> ir.Value:
        return self.anchor.results[0]

    @property
    def shape(self) -> list[int]:
        return list(ir.RankedTensorType(self.result.type).shape)

    @property
    def ops(self) -> list[ir.Operation]:
        """Every op of the layer (pads, inits, reductions, epilogue) in program order."""
        ops = {*self.pads, *self.members, self.anchor}
        for r in self.reductions:
            init = accumulator_init(r)
            if init is not None:
                ops.add(init)
        return [op.operation for op in self.anchor.block.operations if op.operation in ops]


def single_user(op: ir.Operation) -> ir.Operation | None:
    if len(op.results) != 1:
        return None
    uses = list(op.results[0].uses)
    if len(uses) != 1:
        return None
    return uses[0].owner.operation


def is_elementwise_continuation(producer: ir.Operation, user: ir.Operation, rank: int) -> bool:
    """`user` is an all-parallel generic of the same rank reading `producer` element for element."""
    if user.name != "linalg.generic" or not is_all_parallel(user) or len(iterator_kinds(user)) != rank:
        return False
    if user.parent != producer.parent or len(user.results) != 1:
        return False
    n_in = num_inputs(user)
    maps = indexing_maps(user)
    for i, v in enumerate(list(user.operands)[:n_in]):
        if v == producer.results[0]:
            return maps[i].is_permutation and all(
                isinstance(e, ir.AffineDimExpr) and e.position == k for k, e in enumerate(maps[i].results))
    return False


def accumulator_init(reduction: ir.Operation) -> ir.Operation | None:
    """The all-parallel generic filling/broadcasting into `reduction`'s accumulator, if any."""
    init = defining_op(reduction.operands[num_inputs(reduction)])
    if init is None or init.name != "linalg.generic" or not is_all_parallel(init) or len(init.results) != 1:
        return None
    if not all(_constant_data(v) for v in init.operands):
        return None  # initialised from computed data: not a pure fill/broadcast
    return init


def _constant_data(value: ir.Value) -> bool:
    """A constant, an empty tensor, or a slice of a constant (a channel partition's bias)."""
    op = defining_op(value)
    if op is not None and op.name == "tensor.extract_slice":
        op = defining_op(op.operands[0])
    return op is not None and op.name in ("arith.constant", "tensor.empty")


def layer_kind(reduction: ir.Operation) -> str:
    maps = indexing_maps(reduction)
    n_in = num_inputs(reduction)
    windowed = any(not isinstance(e, ir.AffineDimExpr) for e in maps[0].results)
    weights = [v for v in list(reduction.operands)[1:n_in] if isinstance(v.type, ir.RankedTensorType)
               and defining_op(v) is not None and defining_op(v).name == "arith.constant"]
    parallel = sum(1 for k in iterator_kinds(reduction) if k == "parallel")
    if windowed:
        if not weights:
            return "pool"
        # depthwise: the input is read at the output channel (the last parallel loop)
        out_channel = [e.position for e in maps[-1].results][-1]
        reads_out_channel = any(isinstance(e, ir.AffineDimExpr) and e.position == out_channel
                                for e in maps[0].results)
        return "dw" if reads_out_channel else "conv"
    if weights and parallel >= 3:
        return "pw"
    if weights:
        return "dense"
    return "pool"


def _elementwise_producers(group: list[ir.Operation], rank: int, owner: dict) -> None:
    """Add single-use elementwise producers of the group's inputs (the requantization of a
    residual skip input, say): cheap per element, and otherwise materialised whole."""
    work = list(group)
    while work:
        member = work.pop()
        for v in list(member.operands)[:num_inputs(member)]:
            producer = defining_op(v)
            if (producer is None or producer in owner or producer.name != "linalg.generic"
                    or not is_all_parallel(producer) or len(iterator_kinds(producer)) != rank
                    or (user := single_user(producer)) is None or user != member
                    or not is_elementwise_continuation(producer, member, rank)):
                continue
            owner[producer] = owner[member]
            group.append(producer)
            work.append(producer)


def find_layers(block: ir.Block) -> list[Layer]:
    """The layers of one block, in program order. Read-only: the IR is not changed.

    A later reduction whose epilogue chain runs into an op an earlier chain owns joins that
    layer; the earlier chain went on to its own end, which stays the layer's anchor."""
    ops = [op.operation for op in block.operations]
    groups: list[list[ir.Operation]] = []
    anchors: list[ir.Operation] = []
    ranks: list[int] = []
    reductions: list[list[ir.Operation]] = []
    owner: dict = {}
    for op in ops:
        if op.name != "linalg.generic" or not has_reduction(op) or len(op.results) != 1:
            continue
        rank = sum(1 for k in iterator_kinds(op) if k == "parallel")
        if rank == 0 or rank != len(ir.RankedTensorType(op.results[0].type).shape) or rank > 4:
            continue
        chain, cur, merged_into = [], op, None
        while (user := single_user(cur)) is not None and is_elementwise_continuation(cur, user, rank):
            if user in owner:
                merged_into = owner[user]
                break
            chain.append(user)
            cur = user
        group = [op] + chain
        if merged_into is not None and ranks[merged_into] == rank:
            index = merged_into
            groups[index].extend(group)
            reductions[index].append(op)
        else:
            index = len(groups)
            groups.append(group)
            anchors.append(chain[-1] if chain else op)
            ranks.append(rank)
            reductions.append([op])
        for m in group:
            owner[m] = index
    for group, rank in zip(groups, ranks):
        _elementwise_producers(group, rank, owner)
    layers = []
    for i, (group, anchor, rank, reds) in enumerate(zip(groups, anchors, ranks, reductions)):
        members = [m for m in group if m != anchor]
        for r in reds:
            init = accumulator_init(r)
            if init is not None and r != anchor and init not in members:
                members.append(init)
        pads = []
        for r in reds:
            src = defining_op(r.operands[0])
            if src is not None and src.name == "tensor.pad" and (user := single_user(src)) is not None \
                    and user == r:
                pads.append(src)
        kind = layer_kind(reds[0])
        layers.append(Layer(f"{kind}_{i}", kind, anchor, members, reds, rank, pads))
    return layers


def own_ops(layers: list[Layer]) -> list[list[ir.Operation]]:
    """Per layer, its ops that no other layer shares (CSE may leave one accumulator fill feeding several
    layers of the same shape: it belongs to none of them)."""
    count: dict = {}
    for layer in layers:
        for op in layer.ops:
            count[op] = count.get(op, 0) + 1
    return [[op for op in layer.ops if count[op] == 1] for layer in layers]


LAYER_ATTR = "fdt.layer"  # the name of the layer an op belongs to, carried through tiling and bufferization
NEST_LAYERS_ATTR = "fdt.nest_layers"  # the layers a top-level loop nest computes (name_nests), kept to the end


def tag_layers(block: ir.Block) -> list[Layer]:
    """Mark every op of every layer with its layer's name (`fdt.layer`), so that the memory planner can
    name a buffer after the layer that writes it (`dw_1 out`, `pw_2 tile`); tiling and bufferization
    clone ops with their attributes. The planner removes the marks: IREE sees the same program.
    Ops of no layer (a softmax, a lone ADD) are marked `after_<the layer before them>`."""
    layers = find_layers(block)
    for layer, ops in zip(layers, own_ops(layers)):
        name = ir.StringAttr.get(layer.name)
        for op in ops:
            op.attributes[LAYER_ATTR] = name
    in_layers = {op for layer in layers for op in layer.ops}
    previous = "input"
    for op in block.operations:
        op = op.operation
        if LAYER_ATTR in op.attributes:
            previous = ir.StringAttr(op.attributes[LAYER_ATTR]).value
        elif op.name.startswith("linalg.") and op not in in_layers:
            op.attributes[LAYER_ATTR] = ir.StringAttr.get(f"after_{previous}")
    return layers


# Facts about a layer that the tiling transforms, the search and the fuzzer share (one home).

def layers_by_name(module: ir.Module) -> dict[str, Layer]:
    fn = entry_function(module)
    return {layer.name: layer for layer in find_layers(fn.regions[0].blocks[0])}


def is_global_pool(layer: Layer) -> bool:
    """A layer reducing an HxWxC map to C values (global pooling): loops (channel, rows, cols)."""
    if layer.kind != "pool" or layer.rank != 1 or len(layer.reductions) != 1:
        return False
    red = layer.reductions[0]
    kinds = iterator_kinds(red)
    return kinds == ["parallel", "reduction", "reduction"] and \
        len(ir.RankedTensorType(red.operands[0].type).shape) == 3


PER_CHANNEL_KINDS = ("dw", "pool")


def channel_reduction_dim(reduction: ir.Operation) -> int | None:
    """The loop of `reduction` that sums over input channels: a reduction loop read alone as the
    last (channel) axis of the first input."""
    kinds = iterator_kinds(reduction)
    last = indexing_maps(reduction)[0].results[-1]
    if isinstance(last, ir.AffineDimExpr) and kinds[last.position] == "reduction":
        return last.position
    return None


def fdt_cut(layer: Layer) -> tuple[str, int] | None:
    """How an fdt path ending in `layer` is cut, and into at most how many partitions:
    (`channel`, its channels) for a depthwise/pooling layer with an HxWxC output or a global
    pooling (a reduction over rows and columns keeps channels apart), (`psum`, the
    input channels it sums over) for a layer that reduces over channels; None otherwise."""
    if layer.kind in PER_CHANNEL_KINDS and layer.rank == 3 or is_global_pool(layer):
        return "channel", layer.shape[-1]
    if len(layer.reductions) == 1 and channel_reduction_dim(layer.reductions[0]) is not None:
        return "psum", ir.RankedTensorType(layer.reductions[0].operands[0].type).shape[-1]
    return None


def top_level_nests(fn) -> list:
    """The top-level loop nests of a function (after the tensor passes: one layer each, its epilogue fused;
    a streamed path is one nest)."""
    return [op.operation for op in fn.regions[0].blocks[0].operations if op.operation.name == "scf.for"]


def name_nests(fn) -> None:
    """Record on each top-level loop nest the layers its ops belong to (`LAYER_ATTR`, which the memory
    plan strips): `--profile` names its figures with them."""
    for nest in top_level_nests(fn):
        names = []
        for op in walk_ops(nest):
            if LAYER_ATTR in op.attributes:
                name = ir.StringAttr(op.attributes[LAYER_ATTR]).value
                if name not in names:
                    names.append(name)
        if names:
            nest.attributes[NEST_LAYERS_ATTR] = ir.StringAttr.get(",".join(names))
