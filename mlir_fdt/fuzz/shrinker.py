"""Shrink a failing case: greedily take the first simpler variant that still fails the same way.

Simpler means: no plan, a shorter path or fewer tiles, a layer dropped, a block replaced by
its branch, a smaller input, fewer channels, a smaller channel multiplier, a 1x1 kernel, stride 1,
a slice from the origin, no activation, an uncropped transpose conv, a nearest unaligned resize,
integer gather ids and fewer of them, default planner and alignment. Every step strictly
simplifies (kernels, strides and multipliers only go down, padding only goes explicit -> same ->
valid, a slice's start only to the origin), so the search ends; a budget of compiles bounds its
time. Variants that do not render are skipped without compiling.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from .generator import renders
from .results import CaseResult
from .spec import CaseSpec, LayerSpec

log = logging.getLogger(__name__)

Path_ = tuple[int, ...]  # (index, branch, index, branch, index, ...) of a layer in nested branches


def _walk(layers: tuple[LayerSpec, ...], prefix: Path_ = ()) -> Iterator[tuple[Path_, LayerSpec]]:
    for i, layer in enumerate(layers):
        yield (*prefix, i), layer
        for b, branch in enumerate(layer.branches):
            yield from _walk(branch, (*prefix, i, b))


def _edit(layers: tuple[LayerSpec, ...], path: Path_,
          fn: Callable[[LayerSpec], tuple[LayerSpec, ...]]) -> tuple[LayerSpec, ...]:
    """`layers` with the layer at `path` replaced by `fn(layer)` (zero, one or several layers)."""
    i = path[0]
    if len(path) == 1:
        return layers[:i] + fn(layers[i]) + layers[i + 1:]
    b = path[1]
    layer = layers[i]
    branches = list(layer.branches)
    branches[b] = _edit(branches[b], path[2:], fn)
    return layers[:i] + (replace(layer, branches=tuple(branches)),) + layers[i + 1:]


def _simpler_params(layer: LayerSpec) -> Iterator[LayerSpec]:
    p = layer.params
    if p.get("out") and p["out"] > 1:
        yield layer.with_params(out=max(1, p["out"] // 2))
    if p.get("mult", 1) > 1:
        yield layer.with_params(mult=1)
        if p["mult"] > 2:
            yield layer.with_params(mult=p["mult"] // 2)
    if "crop" in p and (p["crop"][0] or p["crop"][2]):  # the same size, from the origin
        top, bottom, left, right = p["crop"]
        yield layer.with_params(crop=(0, top + bottom, 0, left + right))
    if "kernel" in p and max(p["kernel"]) > 1:
        yield layer.with_params(kernel=(1, 1))
        yield layer.with_params(kernel=tuple(max(1, k - 1) for k in p["kernel"]))
    if "stride" in p and max(p["stride"]) > 1:
        yield layer.with_params(stride=(1, 1))
    if p.get("dilation", 1) > 1:
        yield layer.with_params(dilation=1)
    if p.get("padding") == "explicit":
        yield layer.with_params(padding="same")
    if p.get("padding") == "same":
        yield layer.with_params(padding="valid")
    if p.get("act", "none") != "none" and layer.kind != "clamp":
        yield layer.with_params(act="none")
    if any(p.get("begin", (0, 0))):  # a strided slice from the origin
        yield layer.with_params(begin=(0, 0))
    if layer.kind == "tconv" and any(p.get("crop", (0,))):
        yield layer.with_params(crop=(0, 0, 0, 0))
    if p.get("mode") == "bilinear":
        yield layer.with_params(mode="nearest")
    if p.get("align", "none") != "none":
        yield layer.with_params(align="none")
    if p.get("index") == "f32":  # integer ids, no cast
        yield layer.with_params(index="i32")
    if p.get("rows", (1, 1)) != (1, 1):
        yield layer.with_params(rows=(1, 1))
    if p.get("vocab", 2) > 2:
        yield layer.with_params(vocab=2)


def candidates(spec: CaseSpec) -> Iterator[CaseSpec]:
    """Simpler variants of `spec`, the biggest simplifications first."""
    if spec.plan is not None:
        yield replace(spec, plan=None)
        if spec.plan.length > 1:
            yield replace(spec, plan=replace(spec.plan, length=spec.plan.length - 1))
        if spec.plan.interleave:
            yield replace(spec, plan=replace(spec.plan, interleave=False))
        if spec.plan.method == "fdt":
            if spec.plan.partitions > 2:
                yield replace(spec, plan=replace(spec.plan, partitions=2))
        elif spec.plan.method == "ffmt":
            rows, cols = spec.plan.tiles
            for tiles in ((1, cols), (rows, 1), (max(1, rows // 2), cols), (rows, max(1, cols // 2))):
                if tiles != (rows, cols):
                    yield replace(spec, plan=replace(spec.plan, tiles=tiles))
    walk = list(_walk(spec.layers))
    for path, layer in reversed(walk):
        yield replace(spec, layers=_edit(spec.layers, path, lambda _: ()))
    for path, layer in walk:
        for branch in layer.branches:
            yield replace(spec, layers=_edit(spec.layers, path, lambda _, b=branch: b))
    h, w, c = spec.input_shape
    for shape in ((max(1, h // 2), w, c), (h, max(1, w // 2), c), (h, w, max(1, c // 2)), (h - 1, w, c), (h, w - 1, c)):
        if shape != spec.input_shape and min(shape) >= 1:
            yield replace(spec, input_shape=shape)
    for path, layer in walk:
        for simpler in _simpler_params(layer):
            yield replace(spec, layers=_edit(spec.layers, path, lambda _, s=simpler: (s,)))
    if spec.planner != "best":
        yield replace(spec, planner="best")
    if spec.alignment != 16:
        yield replace(spec, alignment=16)


@dataclass
class ShrinkResult:
    spec: CaseSpec
    result: CaseResult
    attempts: int
    steps: int


def shrink(spec: CaseSpec, result: CaseResult, run: Callable[[CaseSpec], CaseResult],
           max_attempts: int = 60, on_step: Callable[[CaseSpec, CaseResult], None] | None = None) -> ShrinkResult:
    """The smallest variant of `spec` found within `max_attempts` compiles that fails with the same
    signature as `result`."""
    target = result.signature()
    attempts = steps = 0
    progress = True
    while progress and attempts < max_attempts:
        progress = False
        for candidate in candidates(spec):
            if attempts >= max_attempts:
                break
            if renders(candidate) is None:
                continue
            attempts += 1
            outcome = run(candidate)
            if outcome.signature() == target:
                spec, result, progress = candidate, outcome, True
                steps += 1
                log.info("shrunk to %s (%d compiles)", spec.summary(), attempts)
                if on_step:
                    on_step(spec, result)
                break
    return ShrinkResult(spec, result, attempts, steps)
