"""Tiling plans: which fused paths of layers are tiled, how, and into how many pieces.

A plan is what the search produces and what `--plan plan.json` / `--fdt-apply-plan=plan=...`
apply. JSON form:

    {"version": 1,
     "paths": [{"layers": ["conv_0", "dw_1", "pw_2"], "method": "ffmt", "tiles": [4, 1]},
               {"layers": ["pw_4", "dw_5", "pw_6"], "method": "fdt", "partitions": 4}]}

Layers are named by `mlir_fdt.analysis.layers` (`<kind>_<index>` in program order). For
`ffmt` the path's layers are tiled spatially into `tiles` = [rows, cols] of the last layer's
output, halos recomputed. For `stream` the path's layers run depth first a row at a time, each
intermediate map kept as a window of the rows its consumers still need (nothing recomputed; see
`transforms/stream_rows.py`); with `"interleave": true` the windows of one row size are laid out with
longer rows, so the memory plan can put the rows dead within a step of each at one place and other buffers in
between. For `fdt` the last layer must reduce over channels (a 1x1 convolution or dense layer): the path is split
into `partitions` channel groups of that reduction, whose partial sums accumulate (int32 for int8 models) and are
requantized once after the loop.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .errors import FdtError

METHODS = ("ffmt", "fdt", "stream")


@dataclass(frozen=True)
class FusedPath:
    layers: tuple[str, ...]
    method: str
    tiles: tuple[int, int] = (1, 1)
    partitions: int = 1
    interleave: bool = False  # stream: windows' rows interleaved (`transforms/stream_rows.py`, `row_strides`)

    @property
    def pieces(self) -> int:
        """Tiles (ffmt) or channel partitions (fdt) the path's last layer is cut into."""
        if self.method == "stream":
            return 1
        return self.tiles[0] * self.tiles[1] if self.method == "ffmt" else self.partitions

    @property
    def recomputes_nothing(self) -> bool:
        """FDT never recomputes; FFMT only recomputes halos of fused producers, so a one-layer
        path reads its halo from the whole input and recomputes nothing."""
        return self.method in ("fdt", "stream") or len(self.layers) == 1

    def validate(self) -> None:
        if self.method not in METHODS:
            raise FdtError(f"plan: unknown method '{self.method}' (use one of: {', '.join(METHODS)})")
        if not self.layers:
            raise FdtError("plan: a path needs at least one layer")
        if self.method == "ffmt" and (len(self.tiles) != 2 or min(self.tiles) < 1):
            raise FdtError(f"plan: ffmt tiles must be [rows, cols] >= 1, got {list(self.tiles)}")
        if self.method == "fdt" and self.partitions < 2:
            raise FdtError(f"plan: fdt needs at least 2 partitions, got {self.partitions}")
        if self.interleave and self.method != "stream":
            raise FdtError(f"plan: interleave is an option of stream paths, not of {self.method}")

    def to_json(self) -> dict:
        d = {"layers": list(self.layers), "method": self.method}
        if self.method == "ffmt":
            d["tiles"] = list(self.tiles)
        elif self.method == "fdt":
            d["partitions"] = self.partitions
        if self.interleave:
            d["interleave"] = True
        return d


@dataclass(frozen=True)
class TilingPlan:
    paths: tuple[FusedPath, ...] = field(default_factory=tuple)

    @property
    def is_untiled(self) -> bool:
        return not self.paths

    def to_json(self) -> dict:
        return {"version": 1, "paths": [p.to_json() for p in self.paths]}

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2) + "\n"

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.dumps())

    @staticmethod
    def from_json(data: dict, source: str = "plan") -> "TilingPlan":
        if not isinstance(data, dict) or not isinstance(data.get("paths"), list):
            raise FdtError(f"{source}: expected a JSON object with a 'paths' list")
        paths = []
        for i, p in enumerate(data["paths"]):
            try:
                path = FusedPath(tuple(p["layers"]), p["method"], tuple(p.get("tiles", (1, 1))),
                                 int(p.get("partitions", 1)), bool(p.get("interleave", False)))
            except (KeyError, TypeError, ValueError) as e:
                raise FdtError(f"{source}: path {i} is malformed ({e}); expected layers, method and "
                               "tiles or partitions") from None
            path.validate()
            paths.append(path)
        seen: set[str] = set()
        for p in paths:
            dup = seen.intersection(p.layers)
            if dup:
                raise FdtError(f"{source}: layer(s) {', '.join(sorted(dup))} appear in more than one path")
            seen.update(p.layers)
        return TilingPlan(tuple(paths))

    @staticmethod
    def load(path: str | Path) -> "TilingPlan":
        path = Path(path)
        if not path.exists():
            raise FdtError(f"{path}: no such plan file")
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as e:
            raise FdtError(f"{path}: not valid JSON: {e}") from None
        return TilingPlan.from_json(data, str(path))
