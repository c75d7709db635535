"""The sections of a recommendation report (``Recommendation.to_dict()``)."""

from __future__ import annotations

from typing import Any

from llmscout.report import _format as f
from llmscout.report._view import (
    Cell,
    Column,
    Section,
    Table,
    View,
    _as_list,
    _hardware_name,
    _kv_table,
    _model_id,
    energy_cell,
    energy_wh,
    generic_section,
    hardware_section,
    latency_s,
    local_vs_cloud_section,
    memory_row,
    memory_section,
    pareto_points,
    pareto_section,
    snippet_section,
)


def _score(c: dict[str, Any]) -> tuple[float | None, dict[str, Any]]:
    """(0-100 score, components) whether ``score`` is a number or a mapping."""
    s = c.get("score")
    comps = c.get("components") or {}
    if isinstance(s, dict):
        comps = s.get("components") or comps
        s = s.get("score", s.get("total"))
    return (s if f.is_number(s) else None), comps if isinstance(comps, dict) else {}


def _quality(c: dict[str, Any]) -> float | None:
    """Quality points (0-100) of a candidate: its own figure, else its quality component."""
    for key in ("quality_points", "quality"):
        if f.is_number(c.get(key)):
            return float(c[key])
        if isinstance(c.get(key), dict):
            for sub in ("points", "score"):
                if f.is_number(c[key].get(sub)):
                    return float(c[key][sub])
    _, comps = _score(c)
    q = comps.get("quality")
    return 100.0 * q if f.is_number(q) else None


def label(c: dict[str, Any]) -> str:
    est = c.get("estimate") or {}
    quant = c.get("quant") or est.get("quant")
    return f"{_model_id(c)} {quant}" if quant else _model_id(c)


def _candidate_row(rank: int, c: dict[str, Any]) -> list[Cell]:
    est = c.get("estimate") or {}
    mem = est.get("memory") or {}
    sp = est.get("speed") or {}
    cost = est.get("cost") or {}
    score, _ = _score(c)
    need = (f"{f.gib(mem.get('total_bytes'))} of {f.gib(mem.get('usable_bytes'))}"
            if mem else f"none ({est.get('placement') or 'hosted'})")
    decode = f.num(sp.get("decode_tokens_per_s"))
    if sp.get("basis") and sp.get("basis") != "formula":
        decode += f" ({sp['basis']})"
    cost_text = f.money(cost.get("per_month"), cost.get("currency"))
    if cost.get("kind") == "cloud" and cost.get("price_date"):
        cost_text += f" (prices of {cost['price_date']})"
    return [str(rank), _model_id(c), str(c.get("quant") or est.get("quant") or f.DASH),
            str(c.get("engine") or est.get("engine") or f.DASH), f.num(score), f.num(_quality(c)), need,
            decode, f.seconds(sp.get("ttft_s")), energy_cell(est), cost_text, _as_list(c.get("reasons"))]


def candidates_section(cands: list[dict[str, Any]]) -> Section:
    cols = [Column("#", numeric=True), Column("Model"), Column("Quant", gloss=True), Column("Engine", gloss=True),
            Column("Score (0-100)", numeric=True), Column("Quality (points)", "estimated", numeric=True),
            Column("Memory needed / usable", "estimated", numeric=True),
            Column("Decode tok/s", "estimated", gloss=True, numeric=True),
            Column("Time to first token", "estimated", gloss=True, numeric=True),
            Column("Energy per request", numeric=True), Column("Cost per month", "estimated", numeric=True),
            Column("Reasons", gloss=True)]
    rows = [_candidate_row(i, c) for i, c in enumerate(cands, 1)]
    sec = Section("candidates", "Ranked candidates", tables=[Table(cols, rows)])
    sec.paragraphs.append("Every figure here is an estimate from the catalog and the hardware "
                          "(nothing was run); energy says its basis on each row. A trial measures them.")
    if not cands:
        sec.paragraphs = ["No candidate meets the constraints (see the excluded models and contradictions)."]
    return sec


def excluded_section(items: list[Any], notable: list[Any]) -> Section | None:
    if not items and not notable:
        return None

    def table(rows_from: list[Any], caption: str, collapsed: bool = False) -> Table:
        rows: list[list[Cell]] = []
        for it in rows_from:
            if isinstance(it, dict):
                q = it.get("quality")
                rows.append([_model_id(it), f.num(q) if f.is_number(q) else f.DASH,
                             _as_list(it.get("reasons") or it.get("reason") or it.get("why"))])
            else:
                rows.append([str(it), f.DASH, []])
        return Table([Column("Model"), Column("Expected quality (points)", "estimated", numeric=True),
                      Column("Reasons", gloss=True)], rows, caption, collapsed)

    sec = Section("excluded", "Excluded models", paragraphs=[
        f"{len(items)} models were left out, each for the reasons listed; the best-known ones first."])
    if notable:
        sec.tables.append(table(notable, "The best-known models that were left out"))
    if items:
        sec.tables.append(table(items, f"Every excluded model ({len(items)})", collapsed=len(items) > 10))
    return sec


_FRONT_KEYS = {"latency": ("quality_vs_latency", "latency_s"), "energy": ("quality_vs_energy", "energy_wh_per_request"),
               "cost": ("quality_vs_cost", "cost_per_month")}


def _point(c: dict[str, Any], pick: bool) -> dict[str, Any]:
    est = c.get("estimate") or {}
    wh, basis = energy_wh(est)
    cost = c.get("cost_per_month", (est.get("cost") or {}).get("per_month"))
    lat = c.get("latency_s") if "latency_s" in c else latency_s(est)
    energy = c.get("energy_wh_per_request") if "energy_wh_per_request" in c else wh
    return {"label": label(c), "model": _model_id(c), "quality": _quality(c), "latency": lat,
            "energy": energy, "energy_basis": basis, "cost": cost, "pick": pick}


def _pareto(result: dict[str, Any], cands: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Points of the shown candidates, plus front members ranked lower; fronts from the result."""
    points = [_point(c, i == 0) for i, c in enumerate(cands)]
    pareto: dict[str, Any] = result["pareto"] if isinstance(result.get("pareto"), dict) else {}
    fronts: dict[str, set[str]] = {}
    extra: dict[str, dict[str, Any]] = {}
    shown = {p["model"] for p in points}
    for axis, (key, value_key) in _FRONT_KEYS.items():
        rows = pareto.get(key)
        if not isinstance(rows, list):
            continue
        fronts[axis] = {str(r.get("model")) for r in rows if isinstance(r, dict)}
        for r in rows:
            if isinstance(r, dict) and r.get("model") not in shown:
                pt = extra.setdefault(str(r["model"]), {"label": str(r["model"]), "model": str(r["model"]),
                                                        "quality": r.get("quality"), "latency": None,
                                                        "energy": None, "energy_basis": "estimated",
                                                        "cost": None, "pick": False, "extra": True})
                pt[axis] = r.get(value_key)
    return pareto_points(points + list(extra.values()), fronts or None)


def _summary(result: dict[str, Any], cands: list[dict[str, Any]]) -> Section:
    sec = Section("summary", "Summary")
    total = result.get("candidates_total", len(cands))
    if cands:
        top = cands[0]
        score, _ = _score(top)
        engine = top.get("engine") or (top.get("estimate") or {}).get("engine")
        sec.paragraphs.append(f"Pick: {label(top)} on {engine} (score {f.num(score)} of 100), the best of "
                              f"{total} candidates that fit; the top {len(cands)} are shown.")
    if result.get("target"):
        sec.paragraphs.append(f"Target: {result['target']}.")
    for text in _as_list(result.get("contradictions")):
        sec.bullets.append(f"Contradiction: {text}")
    sec.bullets.extend(_as_list(result.get("notes")))
    return sec


def _weights_section(result: dict[str, Any]) -> Section | None:
    w = result.get("weights")
    if not isinstance(w, dict) or not w:
        return None
    return Section("weights", "Ranking weights", tables=[_kv_table(f.flatten(w))],
                   paragraphs=["How much each criterion counted in the score (normalised)."])


def _adaptation_section(value: Any) -> Section | None:
    if not isinstance(value, dict) or not isinstance(value.get("steps"), list):
        return generic_section("adaptation", "Adapting the model", value)
    sec = Section("adaptation", "Adapting the model")
    if "recommended" in value:
        sec.paragraphs.append("Adapting a small model is worth trying." if value["recommended"]
                              else "Adapting is not needed first: prompting is the next step.")
    sec.bullets.extend(_as_list(value.get("why")))
    rows: list[list[Cell]] = []
    for step in value["steps"]:
        if isinstance(step, dict):
            rest = {k: v for k, v in step.items() if k not in ("step", "what")}
            rows.append([str(step.get("step", f.DASH)), str(step.get("what", "")),
                         "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in f.flatten(rest, depth=1))])
    sec.tables.append(Table([Column("Step", gloss=True), Column("What", gloss=True),
                             Column("Details (estimated)", gloss=True)], rows))
    return sec


_SHOWN = {"profile", "hardware", "candidates", "excluded", "notable_excluded", "ladder", "local_vs_cloud",
          "pareto", "adaptation", "next_step", "contradictions", "weights", "schema_version", "target",
          "candidates_total", "notes", "stats"}


def recommend_view(result: dict[str, Any]) -> View:
    cands = [c for c in result.get("candidates") or [] if isinstance(c, dict)]
    hw = result.get("hardware")
    profile = result.get("profile") or {}
    tasks = ", ".join(_as_list(profile.get("tasks"))) if isinstance(profile, dict) else ""
    mem_rows = [r for r in (memory_row(label(c), c.get("estimate") or {}) for c in cands) if r]
    points = _pareto(result, cands)
    pareto_notes = _as_list((result.get("pareto") or {}).get("notes")) if isinstance(result.get("pareto"), dict) else []
    sections: list[Section | None] = [
        _summary(result, cands), hardware_section(hw),
        generic_section("profile", "Task profile", profile),
        candidates_section(cands),
        memory_section(mem_rows, "Configuration") if mem_rows else None,
        pareto_section(points, "Quality (points)", "estimated", f.num, pareto_notes) if points else None,
        local_vs_cloud_section(result.get("local_vs_cloud")),
        generic_section("ladder", "Ladder to try", result.get("ladder"),
                        "The models a trial would try, in this order: the smallest that may meet the bar first."),
        excluded_section(result.get("excluded") or [], result.get("notable_excluded") or []),
        snippet_section(result.get("next_step")),
        _adaptation_section(result.get("adaptation")),
        _weights_section(result),
        generic_section("stats", "How much was estimated", result.get("stats")),
    ]
    for key, value in result.items():  # anything newer than this report still shows
        if key not in _SHOWN:
            sections.append(generic_section(key.replace("_", "-"), key.replace("_", " ").capitalize(), value))
    charts: dict[str, dict[str, Any]] = {}
    if mem_rows:
        charts["memory"] = {"type": "memory", "rows": mem_rows}
    if any(f.is_number(p["quality"]) for p in points):
        charts["pareto"] = {"type": "pareto", "points": points, "quality_label": "quality (points, estimated)",
                            "quality_is_rate": False}
    return View("recommend", "llmscout recommendation",
                f"{tasks or 'your task'} on {_hardware_name(hw)}", [],
                [s for s in sections if s is not None], charts)
