"""The pass interface: a frozen dataclass with a kebab-case `name`, typed options and `apply`."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar

from .ir import ir


@dataclass(frozen=True)
class ModulePass:
    """A transformation of a whole module, in place."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""

    def apply(self, module: ir.Module) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    @classmethod
    def option_names(cls) -> list[str]:
        return [f.name.replace("_", "-") for f in fields(cls)]
