"""A picture of the arena over time: each buffer a rectangle (lifetime x address range),
like TFLite Micro's PrintMemoryPlan or the FDT paper's figures. Buffers carry the names
`memory/buffer_labels.py` gives them (`dw_1 out`, `pw_2 tile`); report.html draws the same."""

from __future__ import annotations

from pathlib import Path

KIND_COLOURS = {"input": "#4c72b0", "output": "#dd8452", "tensor": "#55a868", "tile": "#c44e52"}


def rectangles(b: dict) -> list[tuple[int, int, int, int]]:
    """(offset, bytes, first step, last step) of what a buffer occupies: itself, or each of its pieces (a streamed
    window's rows, some dead part of the loop, with other buffers between them: `memory/dead_rows.py`)."""
    if b.get("pieces"):
        return [(b["offset"] + lo, hi - lo, first, last) for lo, hi, first, last in b["pieces"]]
    return [(b["offset"], b["bytes"], b["first"], b["last"])]


def step_ranks(buffers: list[dict], layer_steps: dict[str, list[int]] | None = None) -> tuple[dict[int, int], int]:
    """The x axis: only the steps where some buffer starts or ends or a layer starts (constants etc. take
    no room), as {step: column}, and the number of columns."""
    steps = sorted({t for b in buffers for _, _, first, last in rectangles(b) for t in (first, last)}
                   | {span[0] for span in (layer_steps or {}).values()})
    return {s: i for i, s in enumerate(steps)}, len(steps)


def layer_columns(ranks: dict[int, int], layer_steps: dict[str, list[int]]) -> dict[str, tuple[int, int]]:
    """Per layer, the first column it runs in and the column after its last step."""
    steps = sorted(ranks)
    out = {}
    for name, (first, last) in layer_steps.items():
        end = next((ranks[s] for s in steps if s > last), len(steps))
        out[name] = (ranks[first], max(end, ranks[first] + 1))
    return out


def plot_arena(buffers: list[dict], arena_bytes: int, path: Path, title: str = "",
               layer_steps: dict[str, list[int]] | None = None) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    fig, ax = plt.subplots(figsize=(10, 4.5))
    rank, columns = step_ranks(buffers, layer_steps)
    for b in buffers:
        width = rank[b["last"]] - rank[b["first"]] + 1
        for offset, size, first, last in rectangles(b):
            ax.add_patch(Rectangle((rank[first], offset), rank[last] - rank[first] + 1, size,
                                   facecolor=KIND_COLOURS.get(b["kind"], "#8172b3"), edgecolor="black",
                                   linewidth=0.4, alpha=0.85))
        label = b.get("label", b["name"])
        # a name only where it fits: tall enough, and wide enough for its characters
        if b["bytes"] > arena_bytes * 0.06 and width >= max(columns, 1) * len(label) / 140:
            ax.text(rank[b["first"]] + 0.2, b["offset"] + b["bytes"] / 2, label, fontsize=6, va="center",
                    clip_on=True)
    for name, (lo, hi) in layer_columns(rank, layer_steps or {}).items():  # which layer runs where
        ax.axvline(lo, color="#bbbbbb", linewidth=0.4, zorder=0)
        ax.text(lo + 0.1, arena_bytes * 1.06, name, fontsize=6, rotation=45, va="bottom", clip_on=False)
    ax.axhline(arena_bytes, color="black", linestyle="--", linewidth=0.8)
    ax.set_xlim(0, max(columns, 1))
    ax.set_ylim(0, arena_bytes * 1.05 + 1)
    ax.set_xlabel("schedule (steps where a buffer starts or ends or a layer starts); layers along the top")
    ax.set_ylabel("arena offset (bytes)")
    handles = [Rectangle((0, 0), 1, 1, facecolor=c) for c in KIND_COLOURS.values()]
    ax.legend(handles, list(KIND_COLOURS), loc="upper right", fontsize=7)
    ax.set_title(title or f"arena {arena_bytes} bytes", pad=40 if layer_steps else 6)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path
