"""What the user asks the search for, and how a scored plan is ranked against it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import FdtError


def parse_bytes(text: str) -> int:
    """`64KiB`, `64 KB`, `65536`, `0.5MiB` -> bytes (KB/KiB both mean 1024: MCU datasheets do)."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kKmM]?)(i?[bB])?\s*", text)
    if not m:
        raise FdtError(f"cannot read the RAM budget '{text}'; write it like 65536, 64KiB or 0.5MiB")
    scale = {"": 1, "k": 1024, "m": 1024 * 1024}[m.group(2).lower()]
    return int(float(m.group(1)) * scale)


@dataclass(frozen=True)
class Objective:
    """min-ram: least arena, no extra MACs. max_overhead: least arena within that overhead in MACs and in
    estimated instructions (among plans of that arena, the fewest estimated instructions). ram_budget: the
    fewest estimated instructions among the plans that fit (search/driver.py `_choose_by_estimate`; MACs break
    ties)."""

    kind: str                      # "untiled" | "min-ram" | "max-overhead" | "ram-budget"
    max_overhead: float = 0.0
    ram_budget: int | None = None

    @property
    def label(self) -> str:
        if self.kind == "max-overhead":
            return f"max-overhead {self.max_overhead:g}"
        if self.kind == "ram-budget":
            return f"ram-budget {self.ram_budget}"
        return self.kind

    def allowed_overhead(self) -> float:
        if self.kind == "min-ram":
            return 0.0
        if self.kind == "max-overhead":
            return self.max_overhead
        return float("inf")  # ram-budget explores everything, then picks the cheapest that fits

    def max_macs(self, macs: int) -> int | None:
        """The most MACs (halo recomputation included) a plan of a `macs`-MAC model may execute; None: any."""
        allowed = self.allowed_overhead()
        return None if allowed == float("inf") else int(macs * (1.0 + allowed) + 1e-6)

    def search_key(self, arena: int, overhead: float, size: int) -> tuple:
        """Ranking while searching: least arena first (the budget mode also has to find a plan
        that fits); ties toward no recomputation, shorter paths and fewer pieces."""
        return (arena, round(overhead, 9), size)

    def final_key(self, arena: int, overhead: float, size: int) -> tuple:
        if self.kind == "ram-budget":
            return (round(overhead, 9), arena, size)
        return self.search_key(arena, overhead, size)
