"""Figures and plans in words, for report.html."""

from __future__ import annotations


def fmt_bytes(n: int | None) -> str:
    return "–" if n is None else f"{n:,} B"


def fmt_count(n: int | None) -> str:
    return "–" if n is None else f"{n:,}"


def cut_in_words(path: dict) -> str:
    """How one path of a tiling plan is cut, in a few words."""
    if path["method"] == "fdt":
        return f"FDT {path['partitions']} partitions"
    if path["method"] == "stream":
        return "streamed a row at a time"
    return f"FFMT {path['tiles'][0]}x{path['tiles'][1]}"


def path_in_words(path: dict) -> str:
    """One path of a tiling plan as a sentence."""
    layers = ", ".join(path["layers"])
    if path["method"] == "fdt":
        return (f"{layers}: computed in {path['partitions']} channel partitions (FDT: the whole map is never "
                "held at once; nothing is recomputed)")
    if path["method"] == "stream":
        return (f"{layers}: streamed, depth first a row at a time (each map a window of the rows its consumers "
                "still need; nothing is recomputed)")
    rows, cols = path["tiles"]
    fused = (" fused: each tile of the last layer computes the rows of the earlier layers it needs (halos "
             "recomputed)") if len(path["layers"]) > 1 else ": its input rows are freed as the tiles advance"
    return f"{layers}: computed in {rows}x{cols} spatial tiles (FFMT){fused}"
