"""report.html: one self-contained page (inline CSS and SVG, no network) that answers "why does it need
this much RAM, and what did the plan do about it": the summary in words, a table by layer, the arena over
the schedule with buffers named by their layers, live bytes by layer untiled vs planned, the Pareto front.

Everything shown is read from report.json (and the search's pareto.json); nothing is computed twice."""

from __future__ import annotations

from html import escape
from pathlib import Path

from ..memory.plot import KIND_COLOURS
from .layers import live_bytes_by_layer
from .svg import arena_svg, line_chart, pareto_svg
from .words import fmt_bytes as _b
from .words import fmt_count as _n
from .words import cut_in_words, path_in_words

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


def _path_of(plan: dict) -> dict[str, str]:
    out = {}
    for p in plan.get("paths", []):
        how = cut_in_words(p)
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
        # both estimates from the search (the compiled program's own may use other kernels than it scored)
        searched = [(pareto or {}).get(k, {}).get("estimated_instructions") for k in ("chosen", "untiled")]
        if all(searched):
            ratio = searched[0] / searched[1] - 1
            cost += f" and {ratio:+.1%} instructions by the search's estimate"
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
            n = len(pareto["evaluated"])
            words.append(f"The search scored {n} plan{'s' if n != 1 else ''}: none within the objective beat "
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
                  + "</p>", line_chart(series, names, levels, "live", "bytes live")]
    parts += ["<h2>Layers</h2>", "<p class='note'>Red row: the layers that set the peak. Instructions per layer are "
              "not measured yet (no per-layer profile); the total is above.</p>", _layer_table(r, by_layer,
                                                                                            untiled_by_layer)]
    if pareto and len(pareto["evaluated"]) > 1:
        parts += ["<h2>Search: the Pareto front</h2>",
                  f"<p class='note'>{len(pareto['evaluated'])} plans scored in {pareto['rounds']} round(s). Hover a "
                  "point for its plan.</p>", pareto_svg(pareto)]
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_report_html(r: dict, pareto: dict | None, path: Path) -> Path:
    path.write_text(render_report_html(r, pareto))
    return path
