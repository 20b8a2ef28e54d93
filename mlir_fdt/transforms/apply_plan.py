"""fdt-apply-plan: apply a tiling plan's fused paths with the transform-dialect strategies of
`passes/fdt_tiling.mlir` (FFMT: spatial tiles with halos; FDT: channel partitions with partial
sums). Runs on normalized linalg before pads are folded and epilogues fused; the later passes
then work inside each tile."""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis.layers import Layer, find_layers
from ..errors import FdtError
from ..ir import entry_function, ir
from ..plan import FusedPath, TilingPlan
from .fuse_epilogues import privatize_inits, strip_attributes
from .linalg_util import defining_op, iterator_kinds, num_inputs
from .pass_base import ModulePass
from .transform_library import run_transform_script

ANCHOR_ATTR = "fdt.path_anchor"
MEMBER_ATTR = "fdt.path_member"


def layers_by_name(module: ir.Module) -> dict[str, Layer]:
    fn = entry_function(module)
    return {layer.name: layer for layer in find_layers(fn.regions[0].blocks[0])}


def _check_chain(path: FusedPath, layers: dict[str, Layer]) -> list[Layer]:
    missing = [n for n in path.layers if n not in layers]
    if missing:
        known = ", ".join(layers)
        raise FdtError(f"plan: unknown layer(s) {', '.join(missing)}; this model's layers: {known}")
    chain = [layers[n] for n in path.layers]
    for prev, nxt in zip(chain, chain[1:]):
        consumers = {use.owner.operation for use in prev.result.uses}
        reached = set(nxt.members) | set(nxt.pads) | {nxt.anchor}
        if not consumers & reached:
            raise FdtError(f"plan: layer {nxt.name} does not consume the output of {prev.name}; "
                           "a path must follow the data flow")
        if len(consumers) > 1:
            raise FdtError(f"plan: the output of {prev.name} is used outside the path as well "
                           "(it would be computed twice); end the path at {prev.name}")
    return chain


def _ffmt_lines(i: int, path: FusedPath, chain: list[Layer]) -> str:
    last = chain[-1]
    if last.rank != 3:
        raise FdtError(f"plan: ffmt needs layers with HxWxC outputs; {last.name} has shape {last.shape}")
    rows, cols = path.tiles
    height, width = last.shape[0], last.shape[1]
    if rows > height or cols > width:
        raise FdtError(f"plan: {rows}x{cols} tiles do not fit the {height}x{width} output of {last.name}")
    tile_h, tile_w = -(-height // rows), -(-width // cols)
    return (f"    %a{i} = transform.structured.match attributes {{{ANCHOR_ATTR} = {i} : i64}} in %root"
            " : (!transform.any_op) -> !transform.any_op\n"
            f"    %p{i} = transform.structured.match attributes {{{MEMBER_ATTR} = {i} : i64}} in %root"
            " : (!transform.any_op) -> !transform.any_op\n"
            f"    %th{i} = transform.param.constant {tile_h} : i64 -> !transform.param<i64>\n"
            f"    %tw{i} = transform.param.constant {tile_w} : i64 -> !transform.param<i64>\n"
            f"    transform.include @fdt_ffmt_tile_and_fuse failures(propagate) (%a{i}, %p{i}, %th{i}, %tw{i})"
            " : (!transform.any_op, !transform.any_op, !transform.param<i64>, !transform.param<i64>) -> ()")


def _tag(i: int, anchor: ir.Operation, members: list[ir.Operation]) -> None:
    i64 = ir.IntegerType.get_signless(64)
    anchor.attributes[ANCHOR_ATTR] = ir.IntegerAttr.get(i64, i)
    for m in members:
        m.attributes[MEMBER_ATTR] = ir.IntegerAttr.get(i64, i)


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
        if plan.is_untiled:
            return
        with module.context:
            privatize_inits(entry_function(module).regions[0].blocks[0])
            layers = layers_by_name(module)
            lines = []
            for i, path in enumerate(plan.paths):
                chain = _check_chain(path, layers)
                members = [m for layer in chain for m in layer.members] + \
                          [p for layer in chain for p in layer.pads] + [layer.anchor for layer in chain[:-1]]
                if path.method == "ffmt":
                    _tag(i, chain[-1].anchor, members)
                    lines.append(_ffmt_lines(i, path, chain))
                else:
                    raise FdtError("plan: fdt paths are not supported yet")
            lines.append("    %funcs = transform.structured.match ops{[\"func.func\"]} in %root"
                         " : (!transform.any_op) -> !transform.any_op\n"
                         "    transform.include @fdt_cleanup failures(propagate) (%funcs) : (!transform.any_op) -> ()")
            run_transform_script(module, ["fdt_spine", "fdt_tiling"], "\n".join(lines))
            strip_attributes(module, (ANCHOR_ATTR, MEMBER_ATTR))
