"""An independent check of a memory plan: no two buffers live at the same time share a byte,
every buffer lies inside the arena, every offset is aligned. Written apart from the planners
(a sweep over start times, not their placement loops) so a planner bug cannot hide itself."""

from __future__ import annotations

from ..errors import FdtError


USED_BYTES_ATTR = "fdt.used_bytes"  # on a view whose buffer's tail is never touched: the bytes it uses
# on a view whose buffer leaves bytes between its pieces untouched (a streamed window's longer rows,
# `memory/dead_rows.py`): [lo0, hi0, lo1, hi1, ...], the bytes it touches (read by the kernel passes' alias checks)
PIECES_ATTR = "fdt.pieces"


class PlanError(FdtError):
    """The memory plan is unsafe; this is a compiler bug, reported instead of a wrong program."""


def verify_plan(names: list[str], sizes: list[int], lifetimes: list[tuple[int, int]], offsets: list[int],
                arena_bytes: int, alignment: int, overlaps=()) -> None:
    """`overlaps` (`memory.overlap.Overlap`): pairs allowed to share bytes at an offset difference
    their analysis found safe; checked here against that difference."""
    allowed = {(p.dying, p.born): p for p in overlaps}
    n = len(sizes)
    if not (len(names) == len(lifetimes) == len(offsets) == n):
        raise PlanError("memory plan: inconsistent numbers of buffers, lifetimes and offsets")
    for i in range(n):
        if offsets[i] < 0 or offsets[i] + sizes[i] > arena_bytes:
            raise PlanError(f"memory plan: buffer {names[i]} [{offsets[i]}, {offsets[i] + sizes[i]}) "
                            f"lies outside the arena of {arena_bytes} bytes")
        if offsets[i] % alignment:
            raise PlanError(f"memory plan: buffer {names[i]} at offset {offsets[i]} is not {alignment}-byte aligned")
        if lifetimes[i][0] > lifetimes[i][1]:
            raise PlanError(f"memory plan: buffer {names[i]} has an empty lifetime {lifetimes[i]}")
    # Sweep buffers by first use; compare each with the still-live ones.
    order = sorted(range(n), key=lambda i: lifetimes[i][0])
    live: list[int] = []
    for i in order:
        live = [j for j in live if lifetimes[j][1] >= lifetimes[i][0]]
        for j in live:
            if sizes[i] and sizes[j] and offsets[i] < offsets[j] + sizes[j] and offsets[j] < offsets[i] + sizes[i]:
                pair = allowed.get((j, i)) or allowed.get((i, j))
                if pair is not None and pair.allows(offsets[pair.born] - offsets[pair.dying]):
                    continue
                raise PlanError(
                    f"memory plan: buffers {names[j]} [{offsets[j]}, {offsets[j] + sizes[j]}) live {lifetimes[j]} and "
                    f"{names[i]} [{offsets[i]}, {offsets[i] + sizes[i]}) live {lifetimes[i]} overlap")
        live.append(i)


def verify_views(fn, arena_bytes: int, alignment: int) -> None:
    """Check the rewritten IR itself: every `memref.view` of the arena argument is in bounds and
    aligned, and views whose buffers were planned apart do not overlap unless the plan said so.
    This reads offsets back from the IR, so a bug in the rewriting is caught too."""
    from ..ir import ir, walk_ops
    from .liveness import memref_bytes
    arena = fn.regions[0].blocks[0].arguments[0]
    for op in walk_ops(fn):
        if op.name != "memref.view" or op.operands[0] != arena:
            continue
        offset_op = op.operands[1].owner.operation
        if offset_op.name != "arith.constant":
            raise PlanError(f"memory plan: a view of the arena at {op.location} has a non-constant offset")
        offset = ir.IntegerAttr(offset_op.attributes["value"]).value
        if any(d < 0 for d in ir.MemRefType(op.results[0].type).shape):
            size = 0  # dynamically shaped tile: its bound was checked by verify_plan
        elif USED_BYTES_ATTR in op.attributes:
            size = ir.IntegerAttr(op.attributes[USED_BYTES_ATTR]).value
        else:
            size = memref_bytes(op.results[0].type)
        if offset < 0 or offset + size > arena_bytes:
            raise PlanError(f"memory plan: view [{offset}, {offset + size}) at {op.location} lies outside the "
                            f"{arena_bytes}-byte arena")
        if offset % alignment:
            raise PlanError(f"memory plan: view at offset {offset} ({op.location}) is not {alignment}-byte aligned")
