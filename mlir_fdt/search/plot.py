"""The Pareto front the search saw: arena bytes against executed MACs, every scored plan; the plans
with an instruction estimate (untiled, chosen, the front's eligible plans) labelled with it."""

from __future__ import annotations

from pathlib import Path


def plot_pareto(result, path: Path) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [e for e in result.evaluations if e.ok]
    front = result.pareto_front()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.scatter([e.executed_macs / 1e6 for e in ok], [e.arena_bytes for e in ok], s=14, color="#999999",
               label="scored plans")
    ax.plot([e.executed_macs / 1e6 for e in front], [e.arena_bytes for e in front], "o-", color="#c44e52",
            label="Pareto front")
    ax.scatter([result.untiled.executed_macs / 1e6], [result.untiled.arena_bytes], marker="s", s=50,
               color="#4c72b0", label="untiled", zorder=3)
    ax.scatter([result.chosen.executed_macs / 1e6], [result.chosen.arena_bytes], marker="*", s=160,
               color="#55a868", label=f"chosen ({result.objective.label})", zorder=4)
    labelled = {id(e): e for e in [result.untiled, result.chosen, *front] if e.estimated_instructions}
    for e in labelled.values():  # what the choice ranks by (search/driver.py _choose_by_estimate)
        ax.annotate(f"{e.estimated_instructions / 1e6:.1f}M instr.", (e.executed_macs / 1e6, e.arena_bytes),
                    textcoords="offset points", xytext=(6, 4), fontsize=7, color="#444444")
    ax.set_xlabel("executed MACs (millions)")
    ax.set_ylabel("arena (bytes)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path
