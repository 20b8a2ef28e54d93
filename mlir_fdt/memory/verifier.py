"""An independent check of a memory plan: no two buffers live at the same time share a byte,
every buffer lies inside the arena, every offset is aligned. Written apart from the planners
(a sweep over start times, not their placement loops) so a planner bug cannot hide itself."""

from __future__ import annotations

from ..errors import FdtError


class PlanError(FdtError):
    """The memory plan is unsafe; this is a compiler bug, reported instead of a wrong program."""


def verify_plan(names: list[str], sizes: list[int], lifetimes: list[tuple[int, int]], offsets: list[int],
                arena_bytes: int, alignment: int) -> None:
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
                raise PlanError(
                    f"memory plan: buffers {names[j]} [{offsets[j]}, {offsets[j] + sizes[j]}) live {lifetimes[j]} and "
                    f"{names[i]} [{offsets[i]}, {offsets[i] + sizes[i]}) live {lifetimes[i]} overlap")
        live.append(i)
