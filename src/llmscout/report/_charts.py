"""Plotly figures for the report: memory bars, Pareto scatter, the ladder, estimate vs measured.

Figures are built with ``plotly.graph_objects`` (which checks every attribute name) and drawn
in the page by the plotly.js bundle that the ``plotly`` package ships, embedded once. Plotly
renders a small HTML subset in labels and hover text, so every string that comes from a model,
a file or the catalog is HTML-escaped before it enters a figure (Plotly shows ``&lt;`` as ``<``).
"""

from __future__ import annotations

import html
import json
from typing import Any

from llmscout.report import _format as f

_COLORS = {"weights": "#4e79a7", "kv": "#f28e2b", "buffers": "#76b7b2", "overhead": "#bab0ac",
           "accept": "#2e7d32", "reject": "#c62828", "continue": "#757575", "pick": "#d62728",
           "point": "#4e79a7", "front": "#59a14f", "estimated": "#9ecae1", "measured": "#08519c"}
_FONT = {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12}


def _t(text: Any) -> str:
    """Text for a figure: HTML-escaped, because Plotly interprets tags in labels and hover text."""
    return html.escape(str(text), quote=True)


def _layout(title: str, height: int, **kw: Any) -> dict[str, Any]:
    return {"title": {"text": _t(title)}, "height": height, "font": _FONT, "margin": {"l": 10, "r": 10, "t": 60, "b": 40},
            "legend": {"orientation": "h", "y": -0.15}, "plot_bgcolor": "#ffffff", **kw}


def memory_figure(rows: list[dict[str, Any]]) -> Any:
    import plotly.graph_objects as go

    labels = [_t(r["label"]) for r in rows]
    fig = go.Figure()
    parts = (("weights", "weights"), ("kv", "KV cache"), ("buffers", "compute buffers"), ("overhead", "overhead"))
    for key, name in parts:
        fig.add_trace(go.Bar(
            y=labels, x=[r[key] / f.GIB for r in rows], name=f"{name} (estimated)", orientation="h",
            marker={"color": _COLORS[key]}, hovertemplate="%{y}<br>" + name + ": %{x:.2f} GiB<extra></extra>"))
    usable = [(lab, r["usable"] / f.GIB) for lab, r in zip(labels, rows, strict=True) if f.is_number(r["usable"])]
    if usable:
        fig.add_trace(go.Scatter(
            y=[u[0] for u in usable], x=[u[1] for u in usable], mode="markers", name="usable memory",
            marker={"symbol": "line-ns", "size": 26, "line": {"width": 3, "color": "#000000"}},
            hovertemplate="%{y}<br>usable: %{x:.2f} GiB<extra></extra>"))
    measured = [(lab, r["measured"] / f.GIB) for lab, r in zip(labels, rows, strict=True) if r.get("measured")]
    if measured:
        fig.add_trace(go.Scatter(
            y=[m[0] for m in measured], x=[m[1] for m in measured], mode="markers", name="peak (measured)",
            marker={"symbol": "diamond", "size": 11, "color": _COLORS["pick"]},
            hovertemplate="%{y}<br>measured peak: %{x:.2f} GiB<extra></extra>"))
    fig.update_layout(**_layout("Memory per configuration (GiB)", 140 + 36 * len(rows), barmode="stack",
                                xaxis={"title": {"text": "GiB"}, "gridcolor": "#eeeeee", "rangemode": "tozero"},
                                yaxis={"autorange": "reversed", "automargin": True}))
    return fig


def _axis_type(values: list[Any]) -> str:
    nums = [v for v in values if f.is_number(v) and v > 0]
    return "log" if nums and len(nums) == len([v for v in values if f.is_number(v)]) \
        and max(nums) / min(nums) > 100 else "linear"


_PARETO_AXES = (("latency", "latency per request (s)"), ("energy", "energy per request (Wh)"),
                ("cost", "cost per month (USD)"))


def _pareto_traces(fig: Any, points: list[dict[str, Any]], axis: str, col: int, legend: set[str]) -> None:
    import plotly.graph_objects as go

    def first(group: str) -> bool:  # one legend entry per group across the three panels
        new = group not in legend
        legend.add(group)
        return new

    pts = [p for p in points if f.is_number(p.get("quality")) and f.is_number(p.get(axis))]
    hover = "%{text}<br>" + axis + ": %{x:.4g}<br>quality: %{y:.3g}<extra></extra>"
    others = [p for p in pts if not p["pick"] and not p.get("extra")]
    fig.add_trace(go.Scatter(
        x=[p[axis] for p in others], y=[p["quality"] for p in others], text=[_t(p["label"]) for p in others],
        mode="markers", name="candidate", legendgroup="points", showlegend=first("points"),
        marker={"color": _COLORS["point"], "size": 9, "opacity": 0.8}, hovertemplate=hover), row=1, col=col)
    extra = [p for p in pts if p.get("extra")]
    if extra:
        fig.add_trace(go.Scatter(
            x=[p[axis] for p in extra], y=[p["quality"] for p in extra], text=[_t(p["label"]) for p in extra],
            mode="markers", name="on the front, ranked lower", legendgroup="extra", showlegend=first("extra"),
            marker={"color": _COLORS["front"], "size": 9, "symbol": "circle-open", "line": {"width": 2}},
            hovertemplate=hover), row=1, col=col)
    front = sorted((p for p in pts if p.get(f"front_{axis}")), key=lambda p: p[axis])
    if len(front) > 1:
        fig.add_trace(go.Scatter(
            x=[p[axis] for p in front], y=[p["quality"] for p in front], mode="lines", name="Pareto front",
            legendgroup="front", showlegend=first("front"), line={"color": _COLORS["front"], "dash": "dot"},
            hoverinfo="skip"), row=1, col=col)
    pick = [p for p in pts if p["pick"]]
    fig.add_trace(go.Scatter(
        x=[p[axis] for p in pick], y=[p["quality"] for p in pick], text=[_t(p["label"]) for p in pick],
        mode="markers", name="pick", legendgroup="pick",
        showlegend=first("pick"), marker={"color": _COLORS["pick"], "size": 16, "symbol": "star"},
        hovertemplate=hover), row=1, col=col)
    fig.update_xaxes(type=_axis_type([p[axis] for p in pts]), gridcolor="#eeeeee", row=1, col=col)


def pareto_figure(points: list[dict[str, Any]], quality_label: str, quality_is_rate: bool) -> Any:
    from plotly.subplots import make_subplots

    titles = [_t(label) for _, label in _PARETO_AXES]
    fig = make_subplots(rows=1, cols=3, shared_yaxes=True, subplot_titles=titles, horizontal_spacing=0.05)
    legend: set[str] = set()
    for col, (axis, _) in enumerate(_PARETO_AXES, 1):
        _pareto_traces(fig, points, axis, col, legend)
    fig.update_yaxes(title_text=_t(quality_label), row=1, col=1)
    fig.update_yaxes(gridcolor="#eeeeee", tickformat=".0%" if quality_is_rate else None)
    fig.update_layout(**_layout("Quality against latency, energy and cost (the pick is the star)", 420))
    return fig


def ladder_figure(rows: list[dict[str, Any]], bar: float | None) -> Any:
    import plotly.graph_objects as go

    fig = go.Figure()
    for decision in ("accept", "reject", "continue"):
        sel = [r for r in rows if (r.get("decision") or "continue") == decision]
        if not sel:
            continue
        lo = [r["rate"] - r["interval"][0] if r.get("interval") else 0 for r in sel]
        hi = [r["interval"][1] - r["rate"] if r.get("interval") else 0 for r in sel]
        fig.add_trace(go.Scatter(
            x=[_t(r["label"]) for r in sel], y=[r["rate"] for r in sel], mode="markers",
            name={"accept": "met the bar", "reject": "fell short", "continue": "undecided"}[decision],
            error_y={"type": "data", "symmetric": False, "array": hi, "arrayminus": lo, "thickness": 2, "width": 8},
            marker={"color": _COLORS[decision], "size": 12}, customdata=[r["n"] for r in sel],
            hovertemplate="%{x}<br>pass rate %{y:.1%} on %{customdata} examples<extra></extra>"))
    shapes = []
    if f.is_number(bar):
        shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": bar, "y1": bar,
                       "line": {"color": "#000000", "dash": "dash", "width": 2}})
    order = [_t(r["label"]) for r in rows]
    fig.update_layout(**_layout(f"Pass rate per rung with its interval (bar {f.pct(bar)}, dashed)", 420,
                                shapes=shapes, yaxis={"range": [0, 1.02], "tickformat": ".0%", "gridcolor": "#eeeeee",
                                                      "title": {"text": "pass rate (measured)"}},
                                xaxis={"categoryorder": "array", "categoryarray": order, "automargin": True}))
    return fig


_EVM = (("decode tok/s", "decode tokens/s", 1.0), ("prefill tok/s", "prefill tokens/s", 1.0),
        ("memory", "memory (GiB)", 1.0 / f.GIB))


def estimate_vs_measured_figure(rows: list[dict[str, Any]]) -> Any:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    quantities = [q for q in _EVM if any(r["quantity"] == q[0] for r in rows)]
    fig = make_subplots(rows=1, cols=max(1, len(quantities)), subplot_titles=[_t(q[1]) for q in quantities])
    for col, (qty, _, scale) in enumerate(quantities, 1):
        sel = [r for r in rows if r["quantity"] == qty]
        for which in ("estimated", "measured"):
            fig.add_trace(go.Bar(
                x=[_t(r["model"]) for r in sel], y=[r[which] * scale if f.is_number(r[which]) else None for r in sel],
                name=which, legendgroup=which, showlegend=col == 1, marker={
                    "color": _COLORS[which], "pattern": {"shape": "/" if which == "estimated" else ""}},
                hovertemplate="%{x}<br>" + which + ": %{y:.4g}<extra></extra>"), row=1, col=col)
    fig.update_yaxes(gridcolor="#eeeeee", rangemode="tozero")
    fig.update_layout(**_layout("Estimate against measurement per model", 400, barmode="group"))
    return fig


def build_figures(charts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Chart id -> plotly Figure for each chart spec of a report view."""
    out = {}
    for cid, spec in charts.items():
        kind = spec["type"]
        if kind == "memory":
            out[cid] = memory_figure(spec["rows"])
        elif kind == "pareto":
            out[cid] = pareto_figure(spec["points"], spec["quality_label"], spec["quality_is_rate"])
        elif kind == "ladder":
            out[cid] = ladder_figure(spec["rows"], spec.get("bar"))
        elif kind == "estimate_vs_measured":
            out[cid] = estimate_vs_measured_figure(spec["rows"])
    return out


def script_json(data: Any) -> str:
    """JSON that is safe inside an HTML <script> element: no '<', '>' or '&' survives literally."""
    from plotly.utils import PlotlyJSONEncoder

    text = json.dumps(data, cls=PlotlyJSONEncoder, separators=(",", ":"), ensure_ascii=False)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def figures_json(charts: dict[str, dict[str, Any]]) -> str:
    """The report's figures as script-safe JSON: ``{chart id: {data, layout}}``."""
    figs = build_figures(charts)
    return script_json({cid: fig.to_plotly_json() for cid, fig in figs.items()})


def plotly_js() -> str:
    """The plotly.js bundle shipped inside the ``plotly`` package (no CDN, no network)."""
    from plotly.offline import get_plotlyjs

    js = get_plotlyjs()
    if "</script" in js.lower():  # would end the inline <script> element early
        raise RuntimeError("the plotly.js bundle contains '</script' and cannot be inlined")
    return js
