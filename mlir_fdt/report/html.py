"""report.html: one self-contained page (inline CSS and SVG, no network) that answers "why does it need
this much RAM, and what did the plan do about it": the summary in words, a table by layer, the arena over
the schedule with buffers named by their layers, live bytes by layer untiled vs planned, the Pareto front.

Everything shown is read from report.json (and the search's pareto.json); nothing is computed twice."""

from __future__ import annotations

from html import escape
from pathlib import Path

from ..memory.plot import KIND_COLOURS, layer_columns, step_ranks
from .layers import live_bytes_by_layer

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px auto;max-width:1200px;
color:#222;line-height:1.45;padding:0 16px}
h1{font-size:1.5em;margin-bottom:0}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ddd}
.sub{color:#666;margin-top:2px}
table{border-collapse:collapse;font-size:13px}
td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}
th{background:#f4f4f4;position:sticky;top:0}td.l,th.l{text-align:left}td.w{white-space:normal;min-width:12em}
tr.peak td{background:#fde8e8;font-weight:600}tr:hover td{background:#eef4ff}
.kv td:first-child{text-align:left;color:#555}.kv td{text-align:left}
svg{font-size:11px;background:#fff}svg rect.buf:hover{stroke:#000;stroke-width:2;opacity:1}
svg .axis{stroke:#999}.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;
vertical-align:middle}
.words li{margin:3px 0}.note{color:#666;font-size:12px}
"""


def _b(n: int | None) -> str:
    return "–" if n is None else f"{n:,} B"


def _n(n: int | None) -> str:
    return "–" if n is None else f"{n:,}"


def path_in_words(path: dict) -> str:
    """One path of a tiling plan as a sentence."""
    layers = ", ".join(path["layers"])
    if path["method"] == "fdt":
        return (f"{layers}: computed in {path['partitions']} channel partitions (FDT: the whole map is never "
                "held at once; nothing is recomputed)")
    rows, cols = path["tiles"]
    fused = (" fused: each tile of the last layer computes the rows of the earlier layers it needs (halos "
             "recomputed)") if len(path["layers"]) > 1 else ": its input rows are freed as the tiles advance"
    return f"{layers}: computed in {rows}x{cols} spatial tiles (FFMT){fused}"


def _path_of(plan: dict) -> dict[str, str]:
    out = {}
    for p in plan.get("paths", []):
        how = f"FDT {p['partitions']} partitions" if p["method"] == "fdt" else f"FFMT {p['tiles'][0]}x{p['tiles'][1]}"
        for layer in p["layers"]:
            out[layer] = f"{'+'.join(p['layers'])}: {how}"
    return out


def _peak_layers(by_layer: dict[str, dict]) -> list[str]:
    if not by_layer:
        return []
    peak = max(v["live_bytes"] for v in by_layer.values())
    return [k for k, v in by_layer.items() if v["live_bytes"] == peak]


def _summary(r: dict, pareto: dict | None, by_layer: dict, untiled_by_layer: dict) -> str:
    arena, tflm, bound = r["arena_bytes"], r.get("tflite_micro_arena_bytes"), r["lower_bound_bytes"]
    words = []
    vs = f", {arena / tflm:.2f}x TFLite Micro's arena of {_b(tflm)}" if tflm else ""
    words.append(f"The arena holds every buffer (input and output included) in <b>{_b(arena)}</b>{vs}. "
                 f"No layout of this schedule can use less than {_b(bound)} (the most bytes live at once).")
    peak = _peak_layers(by_layer)
    if peak:
        live = by_layer[peak[0]]
        words.append(f"The peak is set by <b>{escape(', '.join(peak))}</b>: {_b(live['live_bytes'])} live "
                     f"({escape('; '.join(live['buffers']))}).")
    untiled = r.get("untiled_plan")
    paths = r["tiling_plan"].get("paths", [])
    if paths:
        words.append("The plan (objective " + escape(str(r["objective"])) + "):<ul>" +
                     "".join(f"<li>{escape(path_in_words(p))}</li>" for p in paths) + "</ul>")
        upeak = _peak_layers(untiled_by_layer)
        if untiled is not None:
            before = f" (its peak at {escape(', '.join(upeak))})" if upeak else ""
            most = max((v["live_bytes"] for v in untiled_by_layer.values()), default=0)
            gaps = (f", though at most {_b(most)} are live at once (the best layout the planner found leaves gaps)"
                    if most < untiled["arena_bytes"] else "")
            words.append(f"Untiled, the arena would be {_b(untiled['arena_bytes'])}{before}{gaps}; the plan saves "
                         f"{_b(untiled['arena_bytes'] - arena)}.")
        cost = f"It costs {r['mac_overhead']:+.1%} MACs ({_n(r['executed_macs'])} executed for {_n(r['macs'])})"
        if pareto and pareto["untiled"].get("estimated_instructions") and r.get("estimated_instructions"):
            ratio = r["estimated_instructions"] / pareto["untiled"]["estimated_instructions"] - 1
            cost += f" and {ratio:+.1%} estimated instructions"
        words.append(cost + ".")
    else:
        words.append(f"No layer is tiled (objective {escape(str(r['objective']))}): every layer computes its whole "
                     "output at once; epilogues are fused per element and dying inputs overwritten in place.")
        if pareto and pareto["pareto_front"]:
            least = pareto["pareto_front"][0]
            found = (f"the smallest arena it found is {_b(least['arena_bytes'])} at {least['mac_overhead']:+.1%} "
                     "MACs (see the Pareto front; <code>--max-overhead</code> allows extra MACs)"
                     if least["arena_bytes"] < arena else "none had a smaller arena")
            hint = (" <code>--max-overhead 0.25</code> lets the search trade MACs for RAM (FFMT spatial tiles "
                    "that recompute halos)." if r["objective"] == "min-ram" else "")
            words.append(f"The search scored {len(pareto['evaluated'])} plans: none within the objective beat "
                         f"untiled; {found}.{hint}")
    return "<ul class='words'>" + "".join(f"<li>{w}</li>" for w in words) + "</ul>"


def _facts(r: dict) -> str:
    diff = r.get("max_abs_diff")
    rows = [
        ("arena", _b(r["arena_bytes"])), ("TFLite Micro arena (head)", _b(r.get("tflite_micro_arena_bytes"))),
        ("lower bound", _b(r["lower_bound_bytes"])),
        ("untiled arena", _b((r.get("untiled_plan") or {}).get("arena_bytes", r["arena_bytes"]))),
        ("flash: code / weights", f"{_b(r['flash_code_bytes'])} / {_b(r['flash_weight_bytes'])}"),
        ("stack", _b(r.get("stack_bytes")) if r.get("stack_bytes") is not None else "– (run with --run qemu)"),
        ("instructions (QEMU)", _n(r.get("qemu_instructions")) if r.get("qemu_instructions") is not None
         else "– (run with --run qemu)"),
        ("instructions (estimate)", _n(r.get("estimated_instructions"))),
        ("MACs / executed", f"{_n(r['macs'])} / {_n(r['executed_macs'])} ({r['mac_overhead']:+.1%})"),
        ("reference / max |diff|", f"{r.get('reference') or '– (run with --run host or qemu)'} / "
                                   f"{'–' if diff is None else diff}"),
        ("objective / planner", f"{r['objective']} / {r['planner']}"),
        ("target", r["target"]),
    ]
    return "<table class='kv'>" + "".join(f"<tr><td>{escape(k)}</td><td>{escape(str(v))}</td></tr>"
                                          for k, v in rows) + "</table>"


def _layer_table(r: dict, by_layer: dict, untiled_by_layer: dict) -> str:
    paths = _path_of(r["tiling_plan"])
    peak = set(_peak_layers(by_layer))
    head = ("<tr><th class='l'>layer</th><th class='l'>TFLite operators</th><th class='l'>kind</th>"
            "<th class='l'>input → output</th><th>MACs</th><th>output</th><th>live (plan)</th>"
            "<th>live (untiled)</th><th class='l'>plan path</th></tr>")
    body = []
    for layer in r.get("layers") or []:
        name = layer["name"]
        ops = ", ".join(f"#{o['index']} {o['name']}" for o in layer["operators"]) or "–"
        shapes = " + ".join("x".join(map(str, s)) for s in layer["input_shapes"]) + " → " + \
            "x".join(map(str, layer["output_shape"])) + f" {layer['dtype']}"
        live = by_layer.get(name, {}).get("live_bytes")
        ulive = untiled_by_layer.get(name, {}).get("live_bytes", live)
        title = "; ".join(by_layer.get(name, {}).get("buffers", []))
        body.append(f"<tr class='{'peak' if name in peak else ''}' title='live at its peak: {escape(title)}'>"
                    f"<td class='l'>{escape(name)}</td><td class='l'>{escape(ops)}</td><td class='l'>"
                    f"{escape(layer['kind'])}</td><td class='l'>{escape(shapes)}</td><td>{_n(layer['macs'])}</td>"
                    f"<td>{_b(layer['output_bytes'])}</td><td>{_b(live)}</td><td>{_b(ulive)}</td>"
                    f"<td class='l w'>{escape(paths.get(name, 'untiled'))}</td></tr>")
    return f"<table id='layers'>{head}{''.join(body)}</table>"


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
        body.append(f"<rect class='buf' x='{x:.1f}' y='{y:.1f}' width='{max(w - 1, 1):.1f}' height='{h:.1f}' "
                    f"fill='{KIND_COLOURS.get(b['kind'], '#8172b3')}' opacity='0.85'{style}>"
                    f"<title>{escape(chr(10).join(details))}</title></rect>")
        if h >= 12 and w >= 6 * min(len(label), 40):
            body.append(f"<text x='{x + 3:.1f}' y='{y + h / 2 + 4:.1f}' pointer-events='none'>"
                        f"{escape(label[:40])}</text>")
    return _svg(width, height, body, ident)


def _line_chart(series: list[tuple[str, str, list[float | None]]], names: list[str],
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
    # instructions, in which they still differ
    same = len({e["executed_macs"] for e in ok + marked}) == 1
    key = "estimated_instructions" if same and all(e.get("estimated_instructions") for e in ok + marked) \
        else "executed_macs"
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
    star = " ".join(f"{cx + (9 if k % 2 == 0 else 4) * _sin(k):.1f},{cy - (9 if k % 2 == 0 else 4) * _cos(k):.1f}"
                    for k in range(10))
    body.append(f"<polygon points='{star}' fill='#55a868' stroke='#000'><title>{tip(c, 'chosen')}</title></polygon>")
    legend = [("#999", "scored plan"), ("#c44e52", "Pareto front"), ("#4c72b0", "untiled"), ("#55a868", "chosen")]
    for k, (colour, text) in enumerate(legend):
        body.append(f"<rect x='{left + plot_w - 120}' y='{top + 8 + 16 * k}' width='10' height='10' fill='{colour}'/>"
                    f"<text x='{left + plot_w - 105}' y='{top + 17 + 16 * k}'>{text}</text>")
    return _svg(width, height, body, ident)


def _sin(k: int) -> float:
    import math
    return math.sin(math.pi * k / 5)


def _cos(k: int) -> float:
    import math
    return math.cos(math.pi * k / 5)


def render_report_html(r: dict, pareto: dict | None = None) -> str:
    """The page, from report.json's dict (with its `layers` and `untiled_plan`) and pareto.json's."""
    by_layer = live_bytes_by_layer(r["buffers"], r.get("layer_steps") or {})
    untiled = r.get("untiled_plan")
    untiled_by_layer = live_bytes_by_layer(untiled["buffers"], untiled["layer_steps"]) if untiled else by_layer
    names = list(by_layer) if by_layer else []
    series = [("chosen plan", "#c44e52", [by_layer[n]["live_bytes"] for n in names])]
    if untiled:
        series.insert(0, ("untiled", "#4c72b0", [untiled_by_layer.get(n, {}).get("live_bytes") for n in names]))
    levels = [("arena", "#222", r["arena_bytes"])]
    if untiled:
        levels.append(("untiled arena", "#4c72b0", untiled["arena_bytes"]))
    if r.get("tflite_micro_arena_bytes"):
        levels.append(("TFLite Micro arena", "#dd8452", r["tflite_micro_arena_bytes"]))
    legend = "".join(f"<span style='background:{c}'></span>{k}" for k, c in KIND_COLOURS.items())
    model = Path(r["model"]).name
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>mlir-fdt report: {escape(model)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(model)} on {escape(r['target'])}</h1>",
        f"<p class='sub'>mlir-fdt compile report: arena {_b(r['arena_bytes'])}, objective "
        f"{escape(str(r['objective']))}</p>",
        "<h2>Summary</h2>", _summary(r, pareto, by_layer, untiled_by_layer), _facts(r),
        "<h2>Arena over the schedule</h2>",
        "<p class='note'>Each rectangle is a buffer: its width the steps it is live, its height its bytes at its "
        "offset. Named by the layer that writes it (<i>out</i>: a whole tensor; <i>tile</i>: a buffer inside a "
        "tile loop; <i>input tile</i>: a copy of a layer's input slice). Dashed outline: a shifted alias (shares "
        f"bytes with a buffer it replaces). Hover for details.</p><p class='legend'>{legend}</p>",
        arena_svg(r["buffers"], r["arena_bytes"], r.get("shifted_aliases") or [], r.get("layer_steps") or {}),
    ]
    if untiled:
        parts += ["<details><summary>the untiled arena, for comparison</summary>",
                  arena_svg(untiled["buffers"], untiled["arena_bytes"], [], untiled["layer_steps"], "arena_untiled"),
                  "</details>"]
    if names:
        parts += ["<h2>Live bytes by layer</h2>",
                  "<p class='note'>The most bytes live while each layer runs (buffers named in the table's tooltip)"
                  "; `after_X`: operators of no layer (softmax, a lone add) after layer X.</p>",
                  "<p class='legend'>" + "".join(f"<span style='background:{c}'></span>{k}" for k, c, _ in series)
                  + "</p>", _line_chart(series, names, levels, "live", "bytes live")]
    parts += ["<h2>Layers</h2>", "<p class='note'>Red row: the layers that set the peak. Instructions per layer are "
              "not measured yet (no per-layer profile); the total is above.</p>", _layer_table(r, by_layer,
                                                                                            untiled_by_layer)]
    if pareto and len(pareto["evaluated"]) > 1:
        parts += ["<h2>Search: the Pareto front</h2>",
                  f"<p class='note'>{len(pareto['evaluated'])} plans scored in {pareto['rounds']} rounds. Hover a "
                  "point for its plan.</p>", pareto_svg(pareto)]
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_report_html(r: dict, pareto: dict | None, path: Path) -> Path:
    path.write_text(render_report_html(r, pareto))
    return path
