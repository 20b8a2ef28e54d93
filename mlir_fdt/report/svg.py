"""The figures of report.html as inline SVG (no script, no network): the arena over the schedule, values
per layer, the search's Pareto front. Hovering an element shows its details (an SVG <title>)."""

from __future__ import annotations

import math
from html import escape

from ..memory.plot import KIND_COLOURS, layer_columns, rectangles, step_ranks
from .words import path_in_words


def _svg(width: int, height: int, body: list[str], ident: str) -> str:
    return (f"<svg id='{ident}' xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
            f"viewBox='0 0 {width} {height}'>{''.join(body)}</svg>")


def arena_svg(buffers: list[dict], arena_bytes: int, shifted: list[dict], layer_steps: dict[str, list[int]],
              ident: str = "arena") -> str:
    """Every buffer as a rectangle (schedule steps x arena bytes), named by its layer; hover for details."""
    width, height, left, top, bottom = 1150, 460, 70, 50, 30
    ranks, n = step_ranks(buffers, layer_steps)
    plot_w, plot_h = width - left - 20, height - top - bottom
    scale_x = plot_w / max(n, 1)
    scale_y = plot_h / max(arena_bytes, 1)
    shifted_names = {s[k] for s in shifted for k in ("dying", "born")}
    body = [f"<line class='axis' x1='{left}' y1='{top + plot_h}' x2='{left + plot_w}' y2='{top + plot_h}'/>",
            f"<line class='axis' x1='{left}' y1='{top}' x2='{left}' y2='{top + plot_h}'/>",
            f"<text x='{left - 6}' y='{top + 4}' text-anchor='end'>{arena_bytes:,}</text>",
            f"<text x='{left - 6}' y='{top + plot_h}' text-anchor='end'>0</text>",
            f"<text x='{left + plot_w / 2}' y='{height - 6}' text-anchor='middle'>schedule (steps where a buffer "
            f"starts or ends) → ; layers running above</text>"]
    for k, (name, (lo, hi)) in enumerate(layer_columns(ranks, layer_steps).items()):  # which layer runs where
        x, y = left + lo * scale_x, top - 30 + 13 * (k % 2)  # alternate rows: neighbours' names do not collide
        first, last = layer_steps[name]
        body.append(f"<rect x='{x:.1f}' y='{y}' width='{max((hi - lo) * scale_x - 1, 1):.1f}' height='12' "
                    f"fill='{'#e4e4e4' if k % 2 else '#f0f0f0'}'><title>{escape(name)}: steps {first}–{last}"
                    f"</title></rect><line x1='{x:.1f}' y1='{y + 12}' x2='{x:.1f}' y2='{top + plot_h}' "
                    f"stroke='#ddd'/><text x='{x + 2:.1f}' y='{y + 10}' pointer-events='none'>{escape(name)}</text>")
    for b in buffers:
        x = left + ranks[b["first"]] * scale_x
        w = (ranks[b["last"]] - ranks[b["first"]] + 1) * scale_x
        y = top + plot_h - (b["offset"] + b["bytes"]) * scale_y
        h = max(b["bytes"] * scale_y, 1)
        label = b.get("label", b["name"])
        alias = b["name"] in shifted_names
        details = [f"{label}", f"{b['kind']} buffer {b['name']}: {b['bytes']:,} B at offset {b['offset']:,}",
                   f"live steps {b['first']}–{b['last']}"]
        if b.get("writers"):
            details.append("written by " + ", ".join(b["writers"]))
        if b.get("readers"):
            details.append("read by " + ", ".join(b["readers"]))
        details += [f"shares bytes with {s['born_label'] if s['dying'] == b['name'] else s['dying_label']} "
                    f"(shift {s['shift']} B)" for s in shifted if b["name"] in (s["dying"], s["born"])]
        style = (" stroke-dasharray='4 2' stroke='#000' stroke-width='1.2'" if alias
                 else " stroke='#333' stroke-width='0.5'")
        for offset, size, first, last in rectangles(b):  # a buffer in pieces: each (memory/dead_rows.py)
            px, pw = left + ranks[first] * scale_x, (ranks[last] - ranks[first] + 1) * scale_x
            py, ph = top + plot_h - (offset + size) * scale_y, max(size * scale_y, 1)
            body.append(f"<rect class='buf' x='{px:.1f}' y='{py:.1f}' width='{max(pw - 1, 1):.1f}' "
                        f"height='{ph:.1f}' fill='{KIND_COLOURS.get(b['kind'], '#8172b3')}' opacity='0.85'{style}>"
                        f"<title>{escape(chr(10).join(details))}</title></rect>")
        if h >= 12 and w >= 6 * min(len(label), 40):
            body.append(f"<text x='{x + 3:.1f}' y='{y + h / 2 + 4:.1f}' pointer-events='none'>"
                        f"{escape(label[:40])}</text>")
    return _svg(width, height, body, ident)


def line_chart(series: list[tuple[str, str, list[float | None]]], names: list[str],
                levels: list[tuple[str, str, float]], ident: str, y_label: str) -> str:
    """Values per layer (x: layer names) as lines with points, and horizontal reference lines."""
    width, height, left, top, bottom = 1150, 340, 70, 20, 90
    plot_w, plot_h = width - left - 160, height - top - bottom
    top_value = max([v for _, _, vals in series for v in vals if v is not None] + [lv for _, _, lv in levels] + [1])
    step = plot_w / max(len(names), 1)
    sy = plot_h / (top_value * 1.05)
    body = [f"<line class='axis' x1='{left}' y1='{top + plot_h}' x2='{left + plot_w}' y2='{top + plot_h}'/>",
            f"<text x='12' y='{top + plot_h / 2}' transform='rotate(-90 12 {top + plot_h / 2})' "
            f"text-anchor='middle'>{escape(y_label)}</text>"]
    for k in range(5):
        v = top_value * k / 4
        y = top + plot_h - v * sy
        body.append(f"<line x1='{left}' y1='{y:.1f}' x2='{left + plot_w}' y2='{y:.1f}' stroke='#eee'/>"
                    f"<text x='{left - 6}' y='{y + 4:.1f}' text-anchor='end'>{int(v):,}</text>")
    for i, name in enumerate(names):
        x = left + (i + 0.5) * step
        body.append(f"<text x='{x:.1f}' y='{top + plot_h + 10}' transform='rotate(45 {x:.1f} {top + plot_h + 10})'"
                    f">{escape(name)}</text>")
    for k, (label, colour, value) in enumerate(levels):
        y = top + plot_h - value * sy
        body.append(f"<line x1='{left}' y1='{y:.1f}' x2='{left + plot_w}' y2='{y:.1f}' stroke='{colour}' "
                    f"stroke-dasharray='6 3'><title>{escape(label)}: {value:,.0f}</title></line>"
                    f"<text x='{left + plot_w + 6}' y='{y + 4:.1f}' fill='{colour}'>{escape(label)}</text>")
    for k, (label, colour, values) in enumerate(series):
        points = [(left + (i + 0.5) * step, top + plot_h - v * sy, v, names[i]) for i, v in enumerate(values)
                  if v is not None]
        body.append(f"<polyline fill='none' stroke='{colour}' stroke-width='2' points='"
                    + " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points) + "'/>")
        body += [f"<circle cx='{x:.1f}' cy='{y:.1f}' r='4' fill='{colour}'><title>{escape(name)} ({escape(label)}): "
                 f"{v:,.0f}</title></circle>" for x, y, v, name in points]
    return _svg(width, height, body, ident)


def pareto_svg(pareto: dict, ident: str = "pareto") -> str:
    """Every plan the search scored: arena bytes against executed MACs; the front joined, the chosen starred."""
    width, height, left, top, bottom = 760, 380, 80, 20, 50
    plot_w, plot_h = width - left - 20, height - top - bottom
    ok = [e for e in pareto["evaluated"] if e.get("error") is None and e.get("arena_bytes") is not None]
    marked = [pareto["untiled"], pareto["chosen"]]
    # x: executed MACs (what the front is over); when every plan executes the same MACs, the estimated
    # instructions, in which they still differ (the search estimates the front, untiled and chosen
    # plans: the others are left out then)
    same = len({e["executed_macs"] for e in ok + marked}) == 1
    key = "estimated_instructions" if same and all(e.get("estimated_instructions") for e in marked) \
        else "executed_macs"
    ok = [e for e in ok if e.get(key)]
    xs = [e[key] for e in ok + marked]
    ys = [e["arena_bytes"] for e in ok + marked]
    x0, x1 = min(xs), max(xs)
    y0, y1 = 0, max(ys)
    pad = (x1 - x0) * 0.05 or max(x0 * 0.05, 1)

    def px(v: float) -> float:
        return left + (v - x0 + pad) / (x1 - x0 + 2 * pad) * plot_w

    def py(v: float) -> float:
        return top + plot_h - (v - y0) / ((y1 - y0) * 1.08 or 1) * plot_h

    def tip(e: dict, what: str) -> str:
        paths = "; ".join(path_in_words(p) for p in e["plan"]["paths"]) or "untiled"
        return escape(f"{what}: arena {e['arena_bytes']:,} B, {e['executed_macs']:,} MACs "
                      f"({e.get('mac_overhead', 0):+.1%}), {e.get('estimated_instructions') or 0:,} instructions "
                      f"(estimate)\n{paths}")

    body = [f"<line class='axis' x1='{left}' y1='{top + plot_h}' x2='{left + plot_w}' y2='{top + plot_h}'/>",
            f"<line class='axis' x1='{left}' y1='{top}' x2='{left}' y2='{top + plot_h}'/>",
            f"<text x='{left + plot_w / 2}' y='{height - 8}' text-anchor='middle'>{key.replace('_', ' ')}</text>",
            f"<text x='{left - 6}' y='{py(y1) + 4:.1f}' text-anchor='end'>{y1:,} B</text>",
            f"<text x='{left - 6}' y='{top + plot_h}' text-anchor='end'>0</text>",
            f"<text x='{px(x0):.1f}' y='{top + plot_h + 16}' text-anchor='middle'>{x0:,}</text>",
            f"<text x='{px(x1):.1f}' y='{top + plot_h + 16}' text-anchor='middle'>{x1:,}</text>"]
    body += [f"<circle cx='{px(e[key]):.1f}' cy='{py(e['arena_bytes']):.1f}' r='3' fill='#999'>"
             f"<title>{tip(e, 'scored plan')}</title></circle>" for e in ok]
    front = pareto["pareto_front"]
    body.append("<polyline fill='none' stroke='#c44e52' stroke-width='1.5' points='" +
                " ".join(f"{px(e[key]):.1f},{py(e['arena_bytes']):.1f}" for e in front) + "'/>")
    body += [f"<circle cx='{px(e[key]):.1f}' cy='{py(e['arena_bytes']):.1f}' r='4' fill='#c44e52'>"
             f"<title>{tip(e, 'Pareto front')}</title></circle>" for e in front]
    u, c = pareto["untiled"], pareto["chosen"]
    body.append(f"<rect x='{px(u[key]) - 6:.1f}' y='{py(u['arena_bytes']) - 6:.1f}' width='12' "
                f"height='12' fill='#4c72b0'><title>{tip(u, 'untiled')}</title></rect>")
    cx, cy = px(c[key]), py(c["arena_bytes"])
    radii = [(9 if k % 2 == 0 else 4, math.pi * k / 5) for k in range(10)]  # a five-pointed star
    star = " ".join(f"{cx + r * math.sin(t):.1f},{cy - r * math.cos(t):.1f}" for r, t in radii)
    body.append(f"<polygon points='{star}' fill='#55a868' stroke='#000'><title>{tip(c, 'chosen')}</title></polygon>")
    legend = [("#999", "scored plan"), ("#c44e52", "Pareto front"), ("#4c72b0", "untiled"), ("#55a868", "chosen")]
    for k, (colour, text) in enumerate(legend):
        body.append(f"<rect x='{left + plot_w - 120}' y='{top + 8 + 16 * k}' width='10' height='10' fill='{colour}'/>"
                    f"<text x='{left + plot_w - 105}' y='{top + 17 + 16 * k}'>{text}</text>")
    return _svg(width, height, body, ident)
