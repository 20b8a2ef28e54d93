"""A picture of the arena over time: each buffer a rectangle (lifetime x address range),
like TFLite Micro's PrintMemoryPlan or the FDT paper's figures."""

from __future__ import annotations

from pathlib import Path


def plot_arena(buffers: list[dict], arena_bytes: int, path: Path, title: str = "") -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    colours = {"input": "#4c72b0", "output": "#dd8452", "tensor": "#55a868", "tile": "#c44e52"}
    fig, ax = plt.subplots(figsize=(10, 4.5))
    # x axis: only the steps where some buffer starts or ends (constants etc. take no room)
    steps = sorted({b["first"] for b in buffers} | {b["last"] for b in buffers})
    rank = {s: i for i, s in enumerate(steps)}
    first, last = 0, max(len(steps) - 1, 0)
    for b in buffers:
        ax.add_patch(Rectangle((rank[b["first"]], b["offset"]), rank[b["last"]] - rank[b["first"]] + 1, b["bytes"],
                               facecolor=colours.get(b["kind"], "#8172b3"), edgecolor="black", linewidth=0.4,
                               alpha=0.85))
        if b["bytes"] > arena_bytes * 0.06:
            ax.text(rank[b["first"]] + 0.2, b["offset"] + b["bytes"] / 2, b["name"], fontsize=6, va="center")
    ax.axhline(arena_bytes, color="black", linestyle="--", linewidth=0.8)
    ax.set_xlim(first - 0.5, last + 1.5)
    ax.set_ylim(0, arena_bytes * 1.05 + 1)
    ax.set_xlabel("schedule step (steps where a buffer starts or ends)")
    ax.set_ylabel("arena offset (bytes)")
    handles = [Rectangle((0, 0), 1, 1, facecolor=c) for c in colours.values()]
    ax.legend(handles, list(colours), loc="upper right", fontsize=7)
    ax.set_title(title or f"arena {arena_bytes} bytes")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path
