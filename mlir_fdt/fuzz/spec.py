"""What a fuzz case is: a network description plus how to compile it, as plain data.

The network is a list of layer descriptions whose parameters are relative to their input
(output channels, kernel, stride, padding mode), never absolute shapes: dropping a layer or
shrinking the input keeps the rest meaningful, which is what the shrinker needs. Weights and
quantization parameters are drawn at render time from `(weight_seed, uid)`, so a layer keeps
its weights when its neighbours change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

DTYPES = ("f32", "i8", "i16")  # i16: int16 activations, int8 weights (TFLite 16x8)


def _tuples(value: Any) -> Any:
    """JSON lists back to the (nested) tuples the generator draws."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


@dataclass(frozen=True)
class LayerSpec:
    """One layer (or a block with branches: `residual` has one, `concat` two)."""

    kind: str
    uid: int
    params: dict[str, Any] = field(default_factory=dict)
    branches: tuple[tuple[LayerSpec, ...], ...] = ()

    def with_params(self, **changes: Any) -> LayerSpec:
        return replace(self, params={**self.params, **changes})

    def count(self) -> int:
        """Layers in this block, itself included."""
        return 1 + sum(layer.count() for branch in self.branches for layer in branch)

    def to_json(self) -> dict:
        d: dict[str, Any] = {"kind": self.kind, "uid": self.uid, "params": self.params}
        if self.branches:
            d["branches"] = [[layer.to_json() for layer in b] for b in self.branches]
        return d

    @staticmethod
    def from_json(d: dict) -> LayerSpec:
        params = {k: _tuples(v) for k, v in d.get("params", {}).items()}
        branches = tuple(tuple(LayerSpec.from_json(x) for x in b) for b in d.get("branches", []))
        return LayerSpec(d["kind"], int(d["uid"]), params, branches)


PLAN_METHODS = ("ffmt", "fdt", "in-place", "stream")  # what a PlanSpec's `method` may be


@dataclass(frozen=True)
class PlanSpec:
    """A tiling plan relative to whatever layers the network has: start at the `start`-th
    layer the method can start from (modulo their number), follow the data flow for up to
    `length` layers the method can carry, and cut the last one into `tiles` (ffmt: its map,
    clipped to its size) or `partitions` (fdt: its channels, or the input channels it sums
    over, clipped); `in-place` ignores the rest and tiles every layer that can write over its
    input. Stays applicable while the shrinker changes the network, unlike a plan
    naming layers."""

    start: int
    length: int
    tiles: tuple[int, int]
    method: str = "ffmt"
    partitions: int = 2
    interleave: bool = False  # stream: the windows' rows interleaved

    def to_json(self) -> dict:
        d = {"start": self.start, "length": self.length, "tiles": list(self.tiles), "method": self.method}
        if self.method == "fdt":
            d["partitions"] = self.partitions
        if self.interleave:
            d["interleave"] = True
        return d

    @staticmethod
    def from_json(d: dict) -> PlanSpec:
        return PlanSpec(int(d["start"]), int(d["length"]), (int(d["tiles"][0]), int(d["tiles"][1])),
                        d.get("method", "ffmt"), int(d.get("partitions", 2)), bool(d.get("interleave", False)))


@dataclass(frozen=True)
class CaseSpec:
    """A network (input `[1, H, W, C]` of `dtype`, then `layers`) and how to compile and run it."""

    dtype: str
    input_shape: tuple[int, int, int]
    input_zp: int
    layers: tuple[LayerSpec, ...]
    weight_seed: int
    plan: PlanSpec | None = None
    planner: str = "best"
    alignment: int = 16
    input_seed: int = 0
    stream_input: bool = False  # the input delivered a row at a time (mlir-fdt --stream-input; QEMU only)

    def size(self) -> tuple[int, int]:
        """What the shrinker minimises: number of layers first, then the input's elements."""
        h, w, c = self.input_shape
        return sum(layer.count() for layer in self.layers), h * w * c

    def to_json(self) -> dict:
        return {"dtype": self.dtype, "input_shape": list(self.input_shape), "input_zp": self.input_zp,
                "layers": [layer.to_json() for layer in self.layers], "weight_seed": self.weight_seed,
                "plan": self.plan.to_json() if self.plan else None, "planner": self.planner,
                "alignment": self.alignment, "input_seed": self.input_seed,
                **({"stream_input": True} if self.stream_input else {})}

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=1) + "\n"

    @staticmethod
    def from_json(d: dict) -> CaseSpec:
        h, w, c = d["input_shape"]
        return CaseSpec(d["dtype"], (int(h), int(w), int(c)), int(d["input_zp"]),
                        tuple(LayerSpec.from_json(x) for x in d["layers"]), int(d["weight_seed"]),
                        PlanSpec.from_json(d["plan"]) if d.get("plan") else None, d.get("planner", "best"),
                        int(d.get("alignment", 16)), int(d.get("input_seed", 0)), bool(d.get("stream_input", False)))

    @staticmethod
    def loads(text: str) -> CaseSpec:
        return CaseSpec.from_json(json.loads(text))

    def summary(self) -> str:
        """One short line for progress output: dtype, input shape, layer kinds."""
        def kinds(layers: tuple[LayerSpec, ...]) -> str:
            parts = []
            for layer in layers:
                inner = "|".join(kinds(b) or "id" for b in layer.branches)
                parts.append(f"{layer.kind}({inner})" if layer.branches else layer.kind)
            return ",".join(parts)
        h, w, c = self.input_shape
        return f"{self.dtype} {h}x{w}x{c} [{kinds(self.layers)}]"
