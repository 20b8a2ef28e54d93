"""fdt-fuse-epilogues: convolutions, dense layers and poolings are computed one output element
at a time together with their bias, requantization and clamp.

Quantized layers import as an int32 reduction followed by elementwise `linalg.generic`s. Left
alone, the int32 tensor is materialised whole (4x the int8 output). This pass finds each
reduction and the chain of single-use elementwise consumers after it, tiles the last one to
one element with `transform.structured.tile_using_for`, and fuses the chain, the reduction and
its accumulator initialisation into that loop nest (`fuse_into_containing_op`, named sequences
in `library/fdt_spine.mlir`). The accumulator becomes a one-element tile.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..ir import copy_of, entry_function, ir, strip_attributes, walk_ops
from ..analysis.layers import LAYER_ATTR, accumulator_init, find_layers, is_elementwise_continuation, single_user
from ..analysis.linalg_util import has_reduction, is_all_parallel, iterator_kinds, num_inputs
from ..passes import ModulePass
from .transform_library import TransformScript

ANCHOR_ATTR = "fdt.epilogue_anchor"
PRODUCER_ATTR = "fdt.epilogue_member"


def privatize_inits(block: ir.Block) -> None:
    """Give every reduction in `block` its own accumulator initialisation: CSE merges identical
    fills, but a fill shared by several layers cannot be fused into any one of them."""
    for op in [o.operation for o in block.operations]:
        if op.name != "linalg.generic" or not has_reduction(op):
            continue
        init = accumulator_init(op)
        if init is not None and len(list(init.results[0].uses)) > 1:
            clone = init.clone(ir.InsertionPoint(op))
            op.operands[num_inputs(op)] = clone.results[0]


def copy_out_lone_reductions(layers: list, body: ir.Block) -> None:
    """Give a layer that is its reduction alone (a max pooling keeping its input's quantization: no bias, no
    requantization) a copy into a fresh tensor as its epilogue, the layer's anchor from then on. Tiled, the copy's
    loop takes the reduction and its accumulator fill with it, as an epilogue does: the accumulator is one element.
    Without it the fill stayed a nest of its own over the whole output, before the reduction's (a pass over the
    output, and the output born apart from the input it dies with: no shifted alias). Only for layers of the
    function's `body`: inside a tile or a streamed row (a loop's body) the fill is a tile's, and the copy made the
    transform interpreter crash on an FFMT tile of two poolings (fuzz seed 11, a segmentation fault)."""
    for layer in layers:
        anchor = layer.anchor
        if anchor not in layer.reductions or accumulator_init(anchor) is None or anchor.block != body:
            continue
        result = anchor.results[0]
        with ir.InsertionPoint.after(anchor), anchor.location:
            copy = copy_of(result)
        if LAYER_ATTR in anchor.attributes:
            copy.attributes[LAYER_ATTR] = anchor.attributes[LAYER_ATTR]
        result.replace_all_uses_except(copy.results[0], copy)
        layer.members.append(anchor)
        layer.members.append(accumulator_init(anchor))
        layer.anchor = copy


def blocks_with_reductions(fn) -> list[ir.Block]:
    """The function body and every loop body (e.g. a spatial tile) that holds a reduction."""
    blocks = []
    for op in [fn, *walk_ops(fn)]:
        for region in op.regions:
            for block in region.blocks:
                if any(o.operation.name == "linalg.generic" and has_reduction(o.operation)
                       for o in block.operations):
                    blocks.append(block)
    return blocks


def elementwise_chains(block: ir.Block, owned: set) -> list[tuple[ir.Operation, list[ir.Operation], int]]:
    """(last op, the ops before it, rank) of each chain of element-wise generics in `block` that no
    layer owns. Element-wise chains are fused before generalization; these appear later, when
    folding unit dims turns a reduction over one element (a dense layer with one input feature)
    into an element-wise op, whose int32 result would otherwise be a whole tensor."""
    chains = []
    for op in [o.operation for o in block.operations]:
        if op in owned or op.name != "linalg.generic" or not is_all_parallel(op) or len(op.results) != 1:
            continue
        rank = len(iterator_kinds(op))
        if not 1 <= rank <= 4:
            continue
        chain, cur = [op], op
        while (user := single_user(cur)) is not None and user not in owned \
                and is_elementwise_continuation(cur, user, rank):
            chain.append(user)
            cur = user
        if len(chain) > 1:
            owned.update(chain)
            chains.append((chain[-1], chain[:-1], rank))
    return chains


@dataclass(frozen=True)
class FuseEpilogues(ModulePass):
    """Tile each reduction's epilogue to one element and fuse the reduction into it."""

    name = "fdt-fuse-epilogues"
    summary = "compute conv/dense/pool + bias + requantize + clamp one output element at a time"

    def apply(self, module: ir.Module) -> None:
        with module.context:
            fn = entry_function(module)
            blocks = blocks_with_reductions(fn)
            for block in blocks:
                privatize_inits(block)
            layers = [layer for block in blocks for layer in find_layers(block)]
            with ir.Location.unknown():
                copy_out_lone_reductions(layers, fn.regions[0].blocks[0])
            groups = [(layer.anchor, layer.members, layer.rank) for layer in layers]
            owned = {op for layer in layers for op in [layer.anchor, *layer.members]}
            for block in dict.fromkeys([fn.regions[0].blocks[0], *blocks]):
                groups += elementwise_chains(block, owned)
            if not groups:
                return
            script = TransformScript(module.context, ["fdt_spine"])
            i64 = ir.IntegerType.get_signless(64)
            for i, (anchor, members, rank) in enumerate(groups):
                anchor.attributes[ANCHOR_ATTR] = ir.IntegerAttr.get(i64, i)
                for p in members:
                    p.attributes[PRODUCER_ATTR] = ir.IntegerAttr.get(i64, i)
                script.include(f"fdt_tile_and_fuse_epilogue_{rank}d",
                               [script.match_attribute(ANCHOR_ATTR, i), script.match_attribute(PRODUCER_ATTR, i)])
            script.include("fdt_cleanup", [script.match_ops(["func.func"])])
            script.apply(module)
            strip_attributes(module, (ANCHOR_ATTR, PRODUCER_ATTR))
