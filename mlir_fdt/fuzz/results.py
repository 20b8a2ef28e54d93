"""Outcome of one case, and when two failures count as the same one (for the shrinker)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PASS, MISMATCH, CRASH, SKIP = "pass", "mismatch", "crash", "skip"
FAILURES = (MISMATCH, CRASH)


@dataclass(frozen=True)
class CaseResult:
    status: str                 # pass | mismatch | crash | skip
    message: str = ""
    error_type: str | None = None
    where: str | None = None    # compiler file:function that raised (crashes)
    plan: dict | None = None    # the concrete plan the case was compiled with
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)  # max_abs_diff, tolerance, arena_bytes, while_drawing_plan

    @property
    def failed(self) -> bool:
        return self.status in FAILURES

    @property
    def headline(self) -> str:
        """The message's first line, without the command lines tools errors carry."""
        return self.message.strip().splitlines()[0] if self.message.strip() else ""

    def signature(self) -> str:
        """What must stay the same while shrinking: the status, the error type, where it was raised
        and the message's first line with numbers (shapes, sizes, exit codes) and SSA names blurred."""
        line = re.sub(r"(/[^\s:'\"]+)+", "<path>", self.headline)  # temporary directories differ per run
        line = re.sub(r"%[\w.#]+", "%", re.sub(r"-?\d+(\.\d+)?(e-?\d+)?", "N", line))
        if self.status == MISMATCH:
            line = ""
        return f"{self.status}:{self.error_type}:{self.where}:{line[:60]}"

    @staticmethod
    def from_json(d: dict) -> CaseResult:
        extra = {k: d[k] for k in ("max_abs_diff", "tolerance", "arena_bytes", "while_drawing_plan") if k in d}
        return CaseResult(d["status"], d.get("message", ""), d.get("error_type"), d.get("where"), d.get("plan"),
                          float(d.get("seconds", 0.0)), extra)
