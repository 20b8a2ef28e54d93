"""fdt-apply-plan: apply a tiling plan's fused paths with the transform-dialect strategies of
`library/fdt_tiling.mlir` (FFMT: spatial tiles with halos; FDT: channel partitions with partial
sums). Runs on normalized linalg before pads are folded and epilogues fused; the later passes
then work inside each tile."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..analysis.layers import (PER_CHANNEL_KINDS, Layer, accumulator_init, channel_reduction_dim, fdt_cut,
                               is_global_pool, layers_by_name)
from ..analysis.linalg_util import defining_op, iterator_kinds
from ..errors import FdtError
from ..ir import entry_function, ir, replace_module_body, strip_attributes
from ..plan import FusedPath, TilingPlan
from ..passes import ModulePass
from .fuse_epilogues import privatize_inits
from .stream_rows import StreamedPath
from .transform_library import TransformScript

ANCHOR_ATTR = "fdt.path_anchor"
MEMBER_ATTR = "fdt.path_member"


def _check_chain(path: FusedPath, layers: dict[str, Layer]) -> list[Layer]:
    missing = [n for n in path.layers if n not in layers]
    if missing:
        known = ", ".join(layers)
        raise FdtError(f"plan: unknown layer(s) {', '.join(missing)}; this model's layers: {known}")
    chain = [layers[n] for n in path.layers]
    inside = {op for layer in chain for op in [*layer.members, *layer.pads, layer.anchor]}
    for k, (prev, nxt) in enumerate(zip(chain, chain[1:]), 1):
        consumers = {use.owner.operation for use in prev.result.uses}
        if path.method == "stream":  # a residual block's layers need not consume each other in turn
            reads = {defining_op(v) for op in [*nxt.members, *nxt.pads, nxt.anchor] for v in op.operands}
            if not reads & {p.anchor for p in chain[:k]}:
                raise FdtError(f"plan: layer {nxt.name} reads no earlier layer of the path; a path must follow "
                               "the data flow")
        elif not consumers & (set(nxt.members) | set(nxt.pads) | {nxt.anchor}):
            raise FdtError(f"plan: layer {nxt.name} does not consume the output of {prev.name}; "
                           "a path must follow the data flow")
        if not consumers <= inside:
            twice = "" if path.method == "stream" else " (it would be computed twice)"
            raise FdtError(f"plan: the output of {prev.name} is also used outside the path{twice}; end the path at "
                           f"{prev.name} or extend it to that use")
    return chain


def _fuse_members(script: TransformScript, i: int, loop: ir.Value) -> None:
    """Fuse path `i`'s member ops (tagged MEMBER_ATTR) into the tile loop of its last op."""
    script.include("fdt_fuse_producers", [script.match_attribute(MEMBER_ATTR, i), loop], results=1)


def _add_ffmt(script: TransformScript, i: int, path: FusedPath, chain: list[Layer]) -> None:
    last = chain[-1]
    rows, cols = path.tiles
    if is_global_pool(last):
        height, width = ir.RankedTensorType(last.reductions[0].operands[0].type).shape[:2]
        sequence = "fdt_ffmt_reduce_tile"
    elif last.rank == 3:
        height, width = last.shape[0], last.shape[1]
        sequence = "fdt_ffmt_tile"
    else:
        raise FdtError(f"plan: ffmt needs a path ending in a layer with an HxWxC output or in a global pooling; "
                       f"{last.name} has shape {last.shape}")
    if rows > height or cols > width:
        raise FdtError(f"plan: {rows}x{cols} tiles do not fit the {height}x{width} map of {last.name}")
    tile_h, tile_w = -(-height // rows), -(-width // cols)
    loop = script.include(sequence, [script.match_attribute(ANCHOR_ATTR, i), script.param(tile_h),
                                     script.param(tile_w)], results=1)[0]
    _fuse_members(script, i, loop)


def _add_fdt(script: TransformScript, i: int, path: FusedPath, chain: list[Layer]) -> str:
    """Add the path's transform ops; the mode: `channel` tiles the last op's channels (no partial sums);
    `psum` tiles the closing reduction's input channels, accumulating partial sums."""
    for layer in chain[1:-1]:
        if layer.kind not in PER_CHANNEL_KINDS:
            raise FdtError(f"plan: fdt path {', '.join(path.layers)}: {layer.name} mixes channels; only the first "
                           "and the last layer of an fdt path may (the others must be depthwise or pooling)")
    last = chain[-1]
    cut = fdt_cut(last)
    if cut is None:
        raise FdtError(f"plan: fdt path must end in a depthwise/pooling layer, a global pooling or in a layer that "
                       f"reduces over "
                       f"channels; {last.name} does neither")
    mode, channels = cut
    if mode == "channel":
        if path.partitions > channels:
            raise FdtError(f"plan: {path.partitions} partitions exceed the {channels} channels of {last.name}")
        size = -(-channels // path.partitions)
        sequence = "fdt_fdt_channel_tile" if last.rank == 3 else "fdt_fdt_pooled_channel_tile"
        loop = script.include(sequence, [script.match_attribute(ANCHOR_ATTR, i), script.param(size)], results=1)[0]
        _fuse_members(script, i, loop)
        return "channel"
    red = last.reductions[0]
    dim = channel_reduction_dim(red)
    if path.partitions > channels:
        raise FdtError(f"plan: {path.partitions} partitions exceed the {channels} input channels of {last.name}")
    sizes = [0] * len(iterator_kinds(red))
    sizes[dim] = -(-channels // path.partitions)
    # the tile sizes depend on the reduction's loop count, so the tile op is built here; the
    # fusion is the library's
    _, (loop,) = script.tile_using_for(script.match_attribute(ANCHOR_ATTR, i), sizes)
    _fuse_members(script, i, loop)
    return "psum"


def _tag(i: int, anchor: ir.Operation, members: list[ir.Operation]) -> None:
    i64 = ir.IntegerType.get_signless(64)
    anchor.attributes[ANCHOR_ATTR] = ir.IntegerAttr.get(i64, i)
    for m in members:
        m.attributes[MEMBER_ATTR] = ir.IntegerAttr.get(i64, i)


def _clone_layer_for(layer: Layer, use) -> list[ir.Operation]:
    """Clone `layer`'s ops right before its anchor's consumer `use` and let that use read the clone:
    a producer with one consumer per copy is what tile-and-fuse handles (a residual skip is then
    recomputed per element inside the tile instead of being computed whole outside it)."""
    user = use.owner.operation
    mapping: dict = {}
    clones = []
    for op in layer.ops:
        clone = op.clone(ir.InsertionPoint(user))
        for k, v in enumerate(clone.operands):
            if v in mapping:
                clone.operands[k] = mapping[v]
        for old, new in zip(op.results, clone.results):
            mapping[old] = new
        clones.append(clone.operation)
    user.operands[use.operand_number] = mapping[layer.result]
    return clones


def _split_fanout(chain: list[Layer], members: list[ir.Operation]) -> list[ir.Operation]:
    """Give every in-path consumer of a path layer's output its own copy of that layer (latest
    layers first, since cloning a layer adds a use of the layer before it)."""
    added: list[ir.Operation] = []
    for layer in reversed(chain[:-1]):
        inside = {*members, *added, *(op for other in chain for op in other.ops)}
        uses = [u for u in layer.result.uses if u.owner.operation in inside]
        for use in uses[1:]:
            added += _clone_layer_for(layer, use)
    return added


def _check_single_fanout(path: FusedPath, members: list[ir.Operation]) -> None:
    """The transform interpreter (IREE 3.13) crashes when more than one fused producer has
    several consumers in the tile; _split_fanout leaves none, this guards that it did."""
    inside = set(members)
    fanout = [m for m in members if sum(1 for u in m.results[0].uses if u.owner.operation in inside
                                        or u.owner.operation.name != "tensor.pad") > 1]
    if len(fanout) > 1:
        raise FdtError(f"plan: path {', '.join(path.layers)} holds {len(fanout)} layer outputs with several "
                       "consumers (residual skips); at most one is supported per path; split the path")


@dataclass(frozen=True)
class ApplyPlan(ModulePass):
    """Tile the fused paths of a plan (JSON file `plan`)."""

    name = "fdt-apply-plan"
    summary = "tile fused paths of layers as a plan says (FFMT spatial tiles, FDT channel partitions)"
    plan: str = ""

    def apply(self, module: ir.Module) -> None:
        if not self.plan:
            raise FdtError("fdt-apply-plan needs plan=<file.json>")
        self.apply_plan(module, TilingPlan.load(self.plan))

    @staticmethod
    def apply_plan(module: ir.Module, plan: TilingPlan) -> None:
        """Apply `plan` in a child process (`mlir_fdt.child`): the transform interpreter can crash (not
        raise) on some fusion patterns, and a crash must become a clear error, not the end of the compiler."""
        if plan.is_untiled:
            return
        import tempfile
        from pathlib import Path
        from ..child import ChildDied, call_in_child
        with tempfile.TemporaryDirectory(prefix="mlir-fdt-plan-") as tmp:
            src, dst = Path(tmp) / "in.mlirbc", Path(tmp) / "out.mlirbc"
            with open(src, "wb") as f:
                module.operation.write_bytecode(f)
            try:
                call_in_child("mlir_fdt.transforms.apply_plan:apply_plan_to_bytecode", str(src), plan.to_json(),
                              str(dst))
            except ChildDied as e:
                raise FdtError(f"applying the tiling plan crashed the MLIR transform interpreter ({e}) on "
                               f"{json.dumps(plan.to_json())}; this plan cannot be applied, "
                               "try other paths or tiles") from None
            replacement = ir.Module.parse(dst.read_bytes(), context=module.context)
        replace_module_body(module, replacement)

    @staticmethod
    def apply_plan_in_process(module: ir.Module, plan: TilingPlan) -> None:
        with module.context:
            block = entry_function(module).regions[0].blocks[0]
            privatize_inits(block)
            layers = layers_by_name(module)
            script = TransformScript(module.context, ["fdt_spine", "fdt_tiling"])
            for i, path in enumerate(plan.paths):
                chain = _check_chain(path, layers)
                if path.method == "stream":
                    StreamedPath(chain, path.interleave).rewrite()
                    continue
                members = [m for layer in chain for m in layer.members] + \
                          [p for layer in chain for p in layer.pads] + [layer.anchor for layer in chain[:-1]]
                # a layer without epilogue accumulates into its init: inside a path that init is a
                # slice like any producer (only the op the plan tiles keeps its init outside)
                members += [init for layer in chain[:-1] for r in layer.reductions
                            if (init := accumulator_init(r)) is not None and init not in members]
                members += _split_fanout(chain, members)
                if path.method == "ffmt" and is_global_pool(chain[-1]):
                    # tile the pooling reduction itself; its init and epilogue stay outside the loop
                    pool = chain[-1]
                    inner = [m for m in members if m not in pool.members and m != pool.anchor]
                    _check_single_fanout(path, inner)
                    _tag(i, pool.reductions[0], inner)
                    _add_ffmt(script, i, path, chain)
                elif path.method == "ffmt":
                    _check_single_fanout(path, members + [chain[-1].anchor])
                    _tag(i, chain[-1].anchor, members)
                    _add_ffmt(script, i, path, chain)
                else:
                    mode = _add_fdt(script, i, path, chain)
                    if mode == "channel":
                        _check_single_fanout(path, members + [chain[-1].anchor])
                        _tag(i, chain[-1].anchor, members)
                    else:  # the closing reduction is tiled; its init and epilogue stay outside
                        inner = [m for m in members if m not in chain[-1].members and m != chain[-1].anchor]
                        _check_single_fanout(path, inner)
                        _tag(i, chain[-1].reductions[0], inner)
            script.include("fdt_cleanup", [script.match_ops(["func.func"])])
            script.apply(module)
            strip_attributes(module, (ANCHOR_ATTR, MEMBER_ATTR))


def apply_plan_to_bytecode(src: str, plan: dict, dst: str) -> None:
    """In a child process (`ApplyPlan.apply_plan`): read `src`, apply `plan`, write `dst` (bytecode)."""
    from ..ir import new_context
    with new_context():
        module = ir.Module.parse(open(src, "rb").read())
        ApplyPlan.apply_plan_in_process(module, TilingPlan.from_json(plan))
        with open(dst, "wb") as f:
            module.operation.write_bytecode(f)
