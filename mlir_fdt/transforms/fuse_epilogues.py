"""fdt-fuse-epilogues: convolutions, dense layers and poolings are computed one output element
at a time together with their bias, requantization and clamp.

Quantized layers import as an int32 reduction followed by elementwise `linalg.generic`s. Left
alone, the int32 tensor is materialised whole (4x the int8 output). This pass finds each
reduction and the chain of single-use elementwise consumers after it, tiles the last one to
one element with `transform.structured.tile_using_for`, and fuses the chain, the reduction and
its accumulator initialisation into that loop nest (`fuse_into_containing_op`, named sequences
in `passes/fdt_spine.mlir`). The accumulator becomes a one-element tile.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..ir import entry_function, ir
from .linalg_util import defining_op, has_reduction, indexing_maps, is_all_parallel, iterator_kinds, num_inputs
from .pass_base import ModulePass
from .transform_library import run_transform_script

ANCHOR_ATTR = "fdt.epilogue_anchor"
PRODUCER_ATTR = "fdt.epilogue_member"


@dataclass
class EpilogueGroup:
    """A reduction, its elementwise epilogue chain and the op initialising its accumulator."""

    anchor: ir.Operation
    producers: list[ir.Operation]
    rank: int


def _single_user(op: ir.Operation) -> ir.Operation | None:
    if len(op.results) != 1:
        return None
    uses = list(op.results[0].uses)
    if len(uses) != 1:
        return None
    return uses[0].owner.operation


def _is_elementwise_continuation(producer: ir.Operation, user: ir.Operation, rank: int) -> bool:
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


def _private_init(reduction: ir.Operation) -> ir.Operation | None:
    """The all-parallel generic initialising `reduction`'s accumulator, cloned if CSE shared it."""
    out_index = num_inputs(reduction)
    init = defining_op(reduction.operands[out_index])
    if init is None or init.name != "linalg.generic" or not is_all_parallel(init) or len(init.results) != 1:
        return None
    if any(defining_op(v) is None or defining_op(v).name not in ("arith.constant", "tensor.empty")
           for v in init.operands):
        return None  # initialised from computed data: not a pure fill/broadcast
    if len(list(init.results[0].uses)) > 1:
        clone = init.clone(ir.InsertionPoint(reduction))
        reduction.operands[out_index] = clone.results[0]
        return clone.operation
    return init


def _absorb_elementwise_producers(group: list[ir.Operation], rank: int, owner: dict) -> None:
    """Add single-use elementwise producers of the group's inputs (the requantization of a
    residual skip input, say): they are cheap per element and would otherwise be materialised."""
    work = list(group)
    while work:
        member = work.pop()
        for v in list(member.operands)[:num_inputs(member)]:
            producer = defining_op(v)
            if (producer is None or producer in owner or producer.name != "linalg.generic"
                    or not is_all_parallel(producer) or len(iterator_kinds(producer)) != rank
                    or _single_user(producer) != member or not _is_elementwise_continuation(producer, member, rank)):
                continue
            owner[producer] = owner[member]
            group.append(producer)
            work.append(producer)


def find_epilogue_groups(fn) -> list[EpilogueGroup]:
    """One group per reduction; groups whose epilogues meet (a residual add of two convolution
    outputs) are merged, so both reductions are computed per output element of the add.

    A group's anchor is the end of its chain: when a later reduction's chain runs into an op
    an earlier chain owns, the earlier chain went on from there to its own end, which stays
    the anchor of the merged group."""
    block_ops = [op.operation for op in fn.regions[0].blocks[0].operations]
    members: list[list[ir.Operation]] = []
    anchors: list[ir.Operation] = []
    ranks: list[int] = []
    owner: dict = {}
    for op in block_ops:
        if op.name != "linalg.generic" or not has_reduction(op) or len(op.results) != 1:
            continue
        rank = sum(1 for k in iterator_kinds(op) if k == "parallel")
        out_rank = len(ir.RankedTensorType(op.results[0].type).shape)
        if rank == 0 or rank != out_rank or rank > 4:
            continue
        chain, cur, merged_into = [], op, None
        while (user := _single_user(cur)) is not None and _is_elementwise_continuation(cur, user, rank):
            if user in owner:
                merged_into = owner[user]
                break
            chain.append(user)
            cur = user
        group = [op] + chain
        if merged_into is not None and ranks[merged_into] == rank:
            index = merged_into
            members[index].extend(group)
        else:
            index = len(members)
            members.append(group)
            anchors.append(chain[-1] if chain else op)
            ranks.append(rank)
        for m in group:
            owner[m] = index
    for group, rank in zip(members, ranks):
        _absorb_elementwise_producers(group, rank, owner)
    # Inits last: cloning a shared init mutates the IR, so it must not happen mid-analysis.
    # A reduction that is its own anchor (no epilogue) accumulates straight into its result:
    # its init stays outside the loop nest as the destination, which costs no extra buffer.
    for group, anchor in zip(members, anchors):
        for reduction in [m for m in group if has_reduction(m)]:
            init = _private_init(reduction)  # cloned even when not fused: no shared, copied fill
            if init is not None and reduction != anchor:
                group.append(init)
    return [EpilogueGroup(anchor, [m for m in group if m != anchor], rank)
            for group, anchor, rank in zip(members, anchors, ranks)]


@dataclass(frozen=True)
class FuseEpilogues(ModulePass):
    """Tile each reduction's epilogue to one element and fuse the reduction into it."""

    name = "fdt-fuse-epilogues"
    summary = "compute conv/dense/pool + bias + requantize + clamp one output element at a time"

    def apply(self, module: ir.Module) -> None:
        with module.context:
            fn = entry_function(module)
            groups = find_epilogue_groups(fn)
            if not groups:
                return
            lines = []
            i64 = ir.IntegerType.get_signless(64)
            for i, g in enumerate(groups):
                g.anchor.attributes[ANCHOR_ATTR] = ir.IntegerAttr.get(i64, i)
                for p in g.producers:
                    p.attributes[PRODUCER_ATTR] = ir.IntegerAttr.get(i64, i)
                lines.append(
                    f"    %a{i} = transform.structured.match attributes {{{ANCHOR_ATTR} = {i} : i64}} in %root"
                    " : (!transform.any_op) -> !transform.any_op\n"
                    f"    %p{i} = transform.structured.match attributes {{{PRODUCER_ATTR} = {i} : i64}} in %root"
                    " : (!transform.any_op) -> !transform.any_op\n"
                    f"    transform.include @fdt_tile_and_fuse_epilogue_{g.rank}d failures(propagate) (%a{i}, %p{i})"
                    " : (!transform.any_op, !transform.any_op) -> ()")
            lines.append("    %funcs = transform.structured.match ops{[\"func.func\"]} in %root"
                         " : (!transform.any_op) -> !transform.any_op\n"
                         "    transform.include @fdt_cleanup failures(propagate) (%funcs) : (!transform.any_op) -> ()")
            run_transform_script(module, ["fdt_spine"], "\n".join(lines))
            strip_attributes(module, (ANCHOR_ATTR, PRODUCER_ATTR))


def strip_attributes(module: ir.Module, names: tuple[str, ...]) -> None:
    from ..ir import walk_ops
    for op in walk_ops(module.operation):
        for n in names:
            if n in op.attributes:
                del op.attributes[n]
