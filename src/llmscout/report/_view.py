"""The report's content as plain records, built once from a result and laid out by both renderers.

``build_view(result, kind)`` turns a recommendation (``Recommendation.to_dict()``) or a trial
(``TrialResult.to_dict()``) into sections of tables, bullets, charts and a code snippet. Every
figure is formatted here (``_format``), so the HTML and the Markdown file show the same strings,
and every column of figures says whether it is estimated or measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from llmscout.errors import InvalidValueError
from llmscout.report import _format as f

ReportKind = Literal["trial", "recommend"]
REPORT_KINDS: tuple[str, ...] = ("trial", "recommend")

Cell = str | list[str]  # a list is shown as bullets (reasons)


@dataclass(frozen=True, slots=True)
class Column:
    label: str
    basis: f.Basis = ""  # "estimated" or "measured": shown next to the heading
    gloss: bool = False  # link glossary terms in this column's cells
    numeric: bool = False  # right-aligned
    text: bool = False  # user or model text: kept verbatim, wrapped, never linked


@dataclass(slots=True)
class Table:
    columns: list[Column]
    rows: list[list[Cell]]
    caption: str = ""
    collapsed: bool = False  # long lists: folded in the HTML (the caption opens them)


@dataclass(frozen=True, slots=True)
class Snippet:
    language: str
    code: str
    notes: tuple[str, ...] = ()
    title: str = ""


@dataclass(slots=True)
class Section:
    id: str
    title: str
    paragraphs: list[str] = field(default_factory=list)  # glossary terms linked
    bullets: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    chart: str | None = None  # key into View.charts
    chart_note: str = ""
    snippet: Snippet | None = None


@dataclass(slots=True)
class View:
    kind: str
    title: str
    subtitle: str
    meta: list[tuple[str, str]]
    sections: list[Section]
    charts: dict[str, dict[str, Any]]  # chart id -> {"type": ..., "rows": [...], ...}


def _kv_table(rows: list[tuple[str, str]], caption: str = "") -> Table:
    cells: list[list[Cell]] = [[k.replace("_", " "), v] for k, v in rows]
    return Table([Column("Field"), Column("Value", gloss=True)], cells, caption)


def _dict_list_table(items: list[Any], gloss: bool = True) -> Table:
    """A table of a list of mappings: one column per key, in first-seen order."""
    keys: list[str] = []
    for it in items:
        for k in (it if isinstance(it, dict) else {"value": it}):
            if k not in keys:
                keys.append(str(k))
    rows: list[list[Cell]] = [[f.scalar(k, (it if isinstance(it, dict) else {"value": it}).get(k)) for k in keys]
            for it in items]
    return Table([Column(k.replace("_", " "), gloss=gloss) for k in keys], rows)


def _prose(value: Any) -> str:
    """One item of a list of reasons or advice: its message when it is a mapping."""
    if isinstance(value, dict):
        for key in ("message", "text", "what", "reason"):
            if isinstance(value.get(key), str):
                return value[key]
        return f.compact(value)
    return f.compact(value) if isinstance(value, list) else str(value)


def _as_list(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, list | tuple):
        return [_prose(v) for v in value]
    return [_prose(value)]


def _text(value: Any) -> str:
    """User or model text (a string or chat messages) as one string."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "\n".join(f"{m.get('role', '?')}: {m.get('content', '')}" if isinstance(m, dict) else str(m)
                         for m in value)
    return str(value)


def _model_id(item: Any) -> str:
    if isinstance(item, str):
        return item
    if not isinstance(item, dict):
        return str(item)
    m = item.get("model") or item.get("model_key") or item.get("key") or item.get("id")
    if isinstance(m, dict):
        return str(m.get("id") or m.get("name") or f.compact(m))
    if m is None and isinstance(item.get("estimate"), dict):
        return _model_id(item["estimate"])
    return str(m) if m is not None else f.DASH


def _hardware_name(hw: Any) -> str:
    if isinstance(hw, dict):
        for k in ("name", "id", "cpu_model"):
            if hw.get(k):
                return str(hw[k])
        for v in hw.values():
            if isinstance(v, dict) and _hardware_name(v) != "unknown hardware":
                return _hardware_name(v)
    return "unknown hardware"


# --------------------------------------------------------------------------- estimates (shared)


def latency_s(est: dict[str, Any]) -> float | None:
    """Seconds per request from an estimate: time to first token + output at decode speed."""
    sp = est.get("speed") or {}
    tps, ttft = sp.get("decode_tokens_per_s"), sp.get("ttft_s")
    if not (f.is_number(tps) and f.is_number(ttft)) or tps <= 0:
        return None
    return ttft + (est.get("output_tokens") or 0) / tps


def energy_wh(est: dict[str, Any]) -> tuple[float | None, str]:
    """(Wh per request, basis text); hosted APIs: the geometric middle of the published range."""
    en = est.get("energy") or {}
    if f.is_number(en.get("wh_per_request")):
        return en["wh_per_request"], str(en.get("basis") or "estimated")
    lo, hi = en.get("wh_per_request_low"), en.get("wh_per_request_high")
    if f.is_number(lo) and f.is_number(hi) and lo > 0:
        return (lo * hi) ** 0.5, str(en.get("basis") or "published estimate")
    return None, ""


def energy_cell(est: dict[str, Any]) -> str:
    en = est.get("energy") or {}
    wh, basis = energy_wh(est)
    if wh is None:
        return f.DASH
    if not f.is_number(en.get("wh_per_request")):
        lo, hi = en["wh_per_request_low"], en["wh_per_request_high"]
        return f"{f.sig(lo)}-{f.sig(hi)} Wh ({basis})"
    return f"{f.sig(wh)} Wh ({basis})"


def memory_row(label: str, est: dict[str, Any], measured_bytes: Any = None) -> dict[str, Any] | None:
    mem = est.get("memory") if isinstance(est, dict) else None
    if not isinstance(mem, dict) or not f.is_number(mem.get("total_bytes")):
        return None
    return {"label": label, "weights": mem.get("weights_bytes") or 0, "kv": mem.get("kv_cache_bytes") or 0,
            "buffers": mem.get("compute_buffer_bytes") or 0, "overhead": mem.get("overhead_bytes") or 0,
            "total": mem["total_bytes"], "usable": mem.get("usable_bytes"),
            "measured": measured_bytes if f.is_number(measured_bytes) else None,
            "placement": est.get("placement") or mem.get("placement")}


def memory_section(rows: list[dict[str, Any]], who: str) -> Section:
    has_measured = any(r["measured"] is not None for r in rows)
    cols = [Column(who), Column("Weights", "estimated", numeric=True),
            Column("KV cache", "estimated", gloss=True, numeric=True),
            Column("Compute buffers", "estimated", numeric=True), Column("Overhead", "estimated", numeric=True),
            Column("Total", "estimated", numeric=True), Column("Usable memory", numeric=True),
            Column("Placement", gloss=True)]
    if has_measured:
        cols.append(Column("Peak memory", "measured", numeric=True))
    table_rows: list[list[Cell]] = []
    for r in rows:
        row: list[Cell] = [r["label"], f.gib(r["weights"]), f.gib(r["kv"]), f.gib(r["buffers"]),
                           f.gib(r["overhead"]), f.gib(r["total"]), f.gib(r["usable"]),
                           str(r["placement"] or f.DASH)]
        if has_measured:
            row.append(f.gib(r["measured"]))
        table_rows.append(row)
    return Section("memory", "Memory", paragraphs=[
        "Estimated memory of each configuration: weights, KV cache, compute buffers and runtime "
        "overhead, stacked against the memory usable on this hardware (the black mark). Hosted APIs "
        "use no memory here and have no bar."], tables=[Table(cols, table_rows)], chart="memory")


PARETO_AXES = ("latency", "energy", "cost")


def pareto_points(points: list[dict[str, Any]],
                  fronts: dict[str, set[str]] | None = None) -> list[dict[str, Any]]:
    """Mark, per axis, the points on the Pareto front: the given fronts (model ids per axis),
    else the points that no other point beats on quality and on that axis."""
    for axis in PARETO_AXES:
        for p in points:
            q, v = p.get("quality"), p.get(axis)
            if not (f.is_number(q) and f.is_number(v)):
                p[f"front_{axis}"] = False
            elif fronts is not None and axis in fronts:
                p[f"front_{axis}"] = p.get("model", p["label"]) in fronts[axis]
            else:
                p[f"front_{axis}"] = not any(
                    f.is_number(o.get("quality")) and f.is_number(o.get(axis)) and o is not p
                    and o["quality"] >= q and o[axis] <= v and (o["quality"] > q or o[axis] < v)
                    for o in points)
    return points


def pareto_section(points: list[dict[str, Any]], quality_label: str, basis: f.Basis,
                   fmt_quality: Any, notes: list[str] | None = None) -> Section:
    rows: list[list[Cell]] = []
    for p in points:
        fronts = [a for a in PARETO_AXES if p.get(f"front_{a}")]
        name = p["label"] + (" (ranked lower, not among the candidates above)" if p.get("extra") else "")
        rows.append([name, fmt_quality(p.get("quality")), f.seconds(p.get("latency")),
                     f"{f.sig(p.get('energy'))} Wh ({p.get('energy_basis') or 'n/a'})"
                     if f.is_number(p.get("energy")) else f.DASH,
                     f.money(p.get("cost")), ", ".join(fronts) or "none", "pick" if p.get("pick") else ""])
    cols = [Column("Configuration"), Column(quality_label, basis, numeric=True),
            Column("Latency per request", basis, gloss=True, numeric=True),
            Column("Energy per request", numeric=True), Column("Cost per month", "estimated", numeric=True),
            Column("On the Pareto front of"), Column("Pick")]
    return Section("pareto", "Quality against latency, energy and cost", paragraphs=[
        "Each point is one configuration; a point is on the Pareto front when no other point is at "
        "least as good in quality and at least as low in latency, energy or cost (better in one). "
        "The pick is highlighted. Energy shows its basis for every point."],
        bullets=list(notes or []), tables=[Table(cols, rows)], chart="pareto")


# ----------------------------------------------------------------------------------- the view


def build_view(result: dict[str, Any], kind: str, run: dict[str, Any] | None = None) -> View:
    """The report of ``result`` (a recommend or trial result as JSON data).

    Raises:
        InvalidValueError: ``kind`` is not "trial" or "recommend", or ``result`` is not a mapping.
    """
    if kind not in REPORT_KINDS:
        raise InvalidValueError("kind", kind, "one of " + ", ".join(REPORT_KINDS))
    if not isinstance(result, dict):
        raise InvalidValueError("result", type(result).__name__, f"the JSON object of a {kind} result")
    if kind == "recommend":
        from llmscout.report._view_recommend import recommend_view

        view = recommend_view(result)
    else:
        from llmscout.report._view_trial import trial_view

        view = trial_view(result)
    view.meta = [(k, f.scalar(k, v)) for k, v in (run or {}).items() if v not in (None, "")] + view.meta
    return view


def hardware_section(hw: Any) -> Section:
    rows = f.flatten(hw if isinstance(hw, dict) else {"hardware": hw}, depth=1)
    return Section("hardware", "Hardware", tables=[_kv_table(rows)] if rows else [],
                   paragraphs=[] if rows else ["No hardware was recorded with this run."])


def generic_section(sid: str, title: str, value: Any, intro: str = "") -> Section | None:
    """A section for data whose shape the report does not know in detail: shown as it is."""
    if value in (None, "", [], {}):
        return None
    sec = Section(sid, title, paragraphs=[intro] if intro else [])
    if isinstance(value, str):
        sec.paragraphs.append(value)
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        sec.bullets.extend(value)
    elif isinstance(value, list):
        sec.tables.append(_dict_list_table(value))
    elif isinstance(value, dict):
        _mapping_into(sec, value)
    else:
        sec.paragraphs.append(f.compact(value))
    return sec


_PROSE_KEYS = ("message", "summary", "verdict", "advice", "note", "why", "reasons", "notes")


def _mapping_into(sec: Section, value: dict[str, Any]) -> None:
    """Prose keys as paragraphs/bullets, lists of mappings as their own tables, the rest key/value."""
    rest: dict[str, Any] = {}
    for key, v in value.items():
        if key in _PROSE_KEYS and isinstance(v, str):
            sec.paragraphs.append(f"{key.capitalize()}: {v}" if key == "verdict" else v)
        elif key in _PROSE_KEYS and isinstance(v, list) and all(isinstance(x, str) for x in v):
            sec.bullets.extend(v)
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            table = _dict_list_table(v)
            table.caption = key.replace("_", " ")
            sec.tables.append(table)
        else:
            rest[key] = v
    rows = f.flatten(rest, depth=2)
    if rows:
        sec.tables.insert(0, _kv_table(rows))


def snippet_section(value: Any, title: str = "Next step") -> Section | None:
    if not value:
        return None
    if isinstance(value, str):
        snip = Snippet("text", value)
    elif isinstance(value, dict) and isinstance(value.get("code"), str):
        notes = _as_list(value.get("notes"))
        if value.get("licence"):
            must = " - accept it before use" if value.get("licence_acceptance_required") else ""
            notes.append(f"Licence: {value['licence']}{must}")
        head = ": ".join(str(value[k]) for k in ("runtime", "model") if value.get(k))
        snip = Snippet(str(value.get("language") or "text"), value["code"], tuple(notes), head)
    else:
        return generic_section("next-step", title, value)
    return Section("next-step", title, paragraphs=["Code to try the pick yourself; copy it as it is."],
                   snippet=snip)


def local_vs_cloud_section(value: Any) -> Section | None:
    """The local and the cloud option side by side, the verdict and its reasons."""
    if not isinstance(value, dict) or not (isinstance(value.get("local"), dict)
                                          or isinstance(value.get("cloud"), dict)):
        return generic_section("local-vs-cloud", "Local or cloud", value)
    sides = {k: dict(f.flatten(value[k], depth=1)) if isinstance(value.get(k), dict) else {}
             for k in ("local", "cloud")}
    keys = list(dict.fromkeys([*sides["local"], *sides["cloud"]]))
    table = Table([Column("Figure", gloss=True), Column("Local", gloss=True), Column("Cloud", gloss=True)],
                  [[k.replace("_", " "), sides["local"].get(k, f.DASH), sides["cloud"].get(k, f.DASH)]
                   for k in keys])
    sec = Section("local-vs-cloud", "Local or cloud")
    _mapping_into(sec, {k: v for k, v in value.items() if k not in ("local", "cloud")})
    for side in ("local", "cloud"):
        if not isinstance(value.get(side), dict):
            sec.paragraphs.append(f"No {side} option in this comparison.")
    sec.tables.insert(0, table)
    return sec


def glossed_texts(view: View) -> list[str]:
    """Every string of the view in which glossary terms are linked, in document order."""
    out: list[str] = []
    for s in view.sections:
        out.extend(s.paragraphs)
        out.extend(s.bullets)
        for t in s.tables:
            out.extend(c.label for c in t.columns)
            for row in t.rows:
                for cell, col in zip(row, t.columns, strict=False):
                    if col.gloss:
                        out.extend([cell] if isinstance(cell, str) else cell)
        if s.snippet:
            out.extend(s.snippet.notes)
    return out


def terms_used(view: View) -> list[f.Term]:
    """The glossary entries that the report mentions, in order of first mention."""
    seen: dict[str, f.Term] = {}
    for text in glossed_texts(view):
        for span in f.spans(text):
            if span.term and span.term.key not in seen:
                seen[span.term.key] = span.term
    return list(seen.values())
