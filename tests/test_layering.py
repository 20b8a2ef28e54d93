"""The import picture of `mlir_fdt`: no package imports one that imports it back (directly or around a
cycle), and the shared analyses (`analysis/`: layer kinds, cut rules, linalg helpers) and the search
never reach into the transforms. Imports inside functions count: a lazy import is still an arrow."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "mlir_fdt"


def import_graph() -> dict[str, set[str]]:
    """Top-level unit (a subpackage, or a module of mlir_fdt itself) -> the units it imports."""
    edges: dict[str, set[str]] = {}
    for file in PACKAGE.rglob("*.py"):
        parts = file.relative_to(PACKAGE).parts
        unit = parts[0] if len(parts) > 1 else parts[0][:-3]
        here = list(parts[:-1])
        for node in ast.walk(ast.parse(file.read_text())):
            targets = []
            if isinstance(node, ast.ImportFrom) and node.level:
                base = here[:len(here) - node.level + 1]
                module = [m for m in (node.module or "").split(".") if m]
                targets = [(base + module)[0]] if base + module else [a.name for a in node.names]
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                targets = [n.split(".")[1] for n in names if n and n.startswith("mlir_fdt.")]
            edges.setdefault(unit, set()).update(t for t in targets if t != unit)
    return edges


def test_no_import_cycles():
    edges = import_graph()
    state: dict[str, str] = {}

    def visit(unit: str, path: list[str]) -> None:
        state[unit] = "open"
        for nxt in sorted(edges.get(unit, ())):
            assert state.get(nxt) != "open", f"import cycle: {' -> '.join(path + [unit, nxt])}"
            if nxt not in state:
                visit(nxt, path + [unit])
        state[unit] = "done"

    for unit in sorted(edges):
        if unit not in state:
            visit(unit, [])


def test_shared_knowledge_does_not_reach_into_the_transforms():
    edges = import_graph()
    assert edges["analysis"] <= {"ir", "errors", "plan"}, edges["analysis"]
    for unit in ("analysis", "search", "memory", "kernels", "fuzz"):
        assert "transforms" not in edges.get(unit, set()), f"{unit} imports transforms"
