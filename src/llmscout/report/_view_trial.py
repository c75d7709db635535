"""The sections of a trial report (``TrialResult.to_dict()``, as the store keeps it)."""

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
    _model_id,
    _text,
    generic_section,
    hardware_section,
    local_vs_cloud_section,
    memory_row,
    memory_section,
    pareto_points,
    pareto_section,
    snippet_section,
)


def _first(d: Any, *keys: str) -> Any:
    """The first of ``keys`` that ``d`` has a value for."""
    if not isinstance(d, dict):
        return None
    for k in keys:
        if d.get(k) not in (None, "", {}):
            return d[k]
    return None


def _bar(result: dict[str, Any]) -> tuple[float | None, float | None]:
    """(bar, confidence) from the ladder, else from the task."""
    lad, task = result.get("ladder") or {}, result.get("task") or {}
    bar, conf = _first(lad, "bar"), _first(lad, "confidence")
    tbar = task.get("bar") if isinstance(task, dict) else None
    if isinstance(tbar, dict):
        bar, conf = bar if bar is not None else tbar.get("pass_rate"), conf or tbar.get("confidence")
    elif bar is None:
        bar = tbar
    conf = conf if conf is not None else _first(task, "confidence")
    return (bar if f.is_number(bar) else None), (conf if f.is_number(conf) else None)


def rung_label(r: dict[str, Any]) -> str:
    text = f"{_model_id(r)} / {r.get('shots', 0)}-shot"
    return text + (f" / prompt {r['system_prompt_idx']}" if r.get("system_prompt_idx") else "")


def _verdict_section(result: dict[str, Any]) -> Section:
    v: dict[str, Any] = result["verdict"] if isinstance(result.get("verdict"), dict) else {}
    bar, conf = _bar(result)
    sec = Section("verdict", "Verdict")
    win, best = v.get("winner"), v.get("best")
    if isinstance(win, dict):
        sec.paragraphs.append(
            f"Winner: {_model_id(win)} with {win.get('shots', 0)}-shot prompting passed "
            f"{f.pct(win.get('pass_rate'))} of {win.get('n', '?')} examples (measured; interval "
            f"{f.interval(win.get('interval'))}); the bar is {f.pct(bar)} at {f.pct(conf, 0)} confidence.")
    else:
        sec.paragraphs.append(f"No configuration met the bar of {f.pct(bar)} at {f.pct(conf, 0)} confidence.")
        if isinstance(best, dict) and not v.get("message"):
            sec.paragraphs.append(
                f"Best: {_model_id(best)} with {best.get('shots', 0)}-shot prompting passed "
                f"{f.pct(best.get('pass_rate'))} of {best.get('n', '?')} examples (measured; interval "
                f"{f.interval(best.get('interval'))}).")
    if v.get("message"):
        sec.paragraphs.append(str(v["message"]))
    sec.bullets.extend(_as_list(v.get("advice")))
    if result.get("status") not in (None, "done"):
        sec.paragraphs.insert(0, f"This trial is {result['status']}: the figures cover what ran so far.")
    return sec


def _ladder(result: dict[str, Any]) -> tuple[Section | None, dict[str, Any] | None]:
    lad = result.get("ladder") or {}
    rungs = [r for r in (lad.get("rungs") if isinstance(lad, dict) else lad) or [] if isinstance(r, dict)]
    if not rungs:
        return None, None
    bar, conf = _bar(result)
    rows: list[list[Cell]] = []
    chart_rows = []
    for r in rungs:
        rate = r.get("pass_rate")
        if rate is None and r.get("n"):
            rate = r.get("passes", 0) / r["n"]
        rows.append([rung_label(r), str(r.get("n", 0)), str(r.get("passes", 0)), f.pct(rate),
                     f.interval(r.get("interval")), str(r.get("decision") or f.DASH), str(r.get("basis") or "")])
        if r.get("n"):
            chart_rows.append({"label": rung_label(r), "rate": rate, "interval": r.get("interval"),
                               "decision": r.get("decision"), "n": r.get("n")})
    cols = [Column("Rung (model / shots)", gloss=True), Column("Examples run", numeric=True),
            Column("Passed", "measured", numeric=True), Column("Pass rate", "measured", numeric=True),
            Column("Interval", "measured", numeric=True), Column("Decision"), Column("Decided by")]
    sec = Section("ladder", "The ladder as it was climbed", tables=[Table(cols, rows)], chart="ladder")
    sec.paragraphs.append(
        f"Smallest configuration first; each rung stops as soon as the evidence is decisive. The bar "
        f"is {f.pct(bar)} at {f.pct(conf, 0)} confidence; intervals are always-valid bounds "
        f"(measured on {lad.get('calls_used', '?') if isinstance(lad, dict) else '?'} calls).")
    chart = {"type": "ladder", "rows": chart_rows, "bar": bar} if chart_rows else None
    if chart is None:
        sec.chart = None
    return sec, chart


def _models(result: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    raw = result.get("models") or {}
    if isinstance(raw, dict):
        return [(str(k), v) for k, v in raw.items() if isinstance(v, dict)]
    return [(_model_id(m), m) for m in raw if isinstance(m, dict)]


def _parts(m: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(load info, measured medians, the estimator's prediction) of one model's entry."""
    load = _first(m, "load", "load_info") or {}
    meas = _first(m, "measured", "medians", "measurement") or {}
    est = _first(m, "predicted", "prediction", "estimate", "estimated") or {}
    return (load if isinstance(load, dict) else {}, meas if isinstance(meas, dict) else {},
            est if isinstance(est, dict) else {})


def _measured_memory(load: dict[str, Any], meas: dict[str, Any]) -> Any:
    return _first(meas, "peak_memory_bytes", "memory_bytes") or _first(load, "memory_bytes")


def _predicted(est: dict[str, Any], key: str, group: str, nested_key: str) -> Any:
    """A predicted figure: flat (the runner's ``predicted``) or in the estimator's JSON."""
    if f.is_number(est.get(key)):
        return est[key]
    return (est.get(group) or {}).get(nested_key) if isinstance(est.get(group), dict) else None


def _energy_cell(joules: Any, basis: Any) -> str:
    return f"{f.sig(joules)} J ({basis or 'basis unknown'})" if f.is_number(joules) else f.DASH


# (label, measured keys, predicted key, estimator JSON group and key, formatter)
_QUANTITIES = (
    ("decode tok/s", ("decode_tokens_per_s", "decode_tps"), "decode_tokens_per_s", ("speed", "decode_tokens_per_s"), f.num),
    ("prefill tok/s", ("prefill_tokens_per_s", "prefill_tps"), "prefill_tokens_per_s",
     ("speed", "prefill_tokens_per_s"), f.num),
    ("time to first token", ("ttft_s",), "ttft_s", ("speed", "ttft_s"), f.seconds),
    ("memory", ("peak_memory_bytes", "memory_bytes"), "memory_bytes", ("memory", "total_bytes"), f.gib),
)


def _evm_rows(key: str, m: dict[str, Any]) -> tuple[list[list[Cell]], list[dict[str, Any]]]:
    load, meas, est = _parts(m)
    rows: list[list[Cell]] = []
    chart: list[dict[str, Any]] = []
    for name, mkeys, pkey, (group, ekey), fmt in _QUANTITIES:
        measured = _measured_memory(load, meas) if name == "memory" else _first(meas, *mkeys)
        estimated = _predicted(est, pkey, group, ekey)
        if measured is None and estimated is None:
            continue
        ratio = (f"{measured / estimated:.2f}x" if f.is_number(measured) and f.is_number(estimated)
                 and estimated else f.DASH)
        rows.append([key, name, fmt(estimated), fmt(measured), ratio])
        chart.append({"model": key, "quantity": name, "estimated": estimated, "measured": measured})
    ej, mj = _predicted(est, "energy_j", "energy", "joules"), _first(meas, "energy_j")
    if ej is not None or mj is not None:
        ratio = f"{mj / ej:.2f}x" if f.is_number(mj) and f.is_number(ej) and ej else f.DASH
        rows.append([key, "energy per call", _energy_cell(ej, est.get("energy_basis") or "estimated"),
                     _energy_cell(mj, meas.get("energy_basis")), ratio])
    return rows, chart


def _est_vs_measured(models: list[tuple[str, dict[str, Any]]]) -> tuple[Section | None, dict[str, Any] | None]:
    rows: list[list[Cell]] = []
    chart_rows: list[dict[str, Any]] = []
    missing = []
    for key, m in models:
        r, c = _evm_rows(key, m)
        rows += r
        chart_rows += c
        est = _parts(m)[2]
        if est.get("available") is False:
            missing.append(f"{key}: no prediction ({est.get('why') or 'not available'})")
    if not rows:
        return None, None
    cols = [Column("Model"), Column("Quantity", gloss=True), Column("Estimator", "estimated", numeric=True),
            Column("This trial", "measured", numeric=True), Column("Measured / estimated", numeric=True)]
    sec = Section("estimate-vs-measured", "Estimate against measurement", tables=[Table(cols, rows)],
                  chart="estimate_vs_measured", bullets=missing, paragraphs=[
                      "What the estimator predicts for each model at the prompt and answer lengths of "
                      "this trial, next to the medians measured on this machine (peak memory: the "
                      "largest seen). Energy names its basis: without a power meter (RAPL/NVML) even "
                      "the 'measured' energy is estimated from the measured time."])
    return sec, {"type": "estimate_vs_measured", "rows": chart_rows}


def _prompt_cost(m: dict[str, Any]) -> str:
    costs = _first(m, "prompt_cost", "shot_tokens", "shot_token_cost")
    if not isinstance(costs, list):
        return f.scalar("prompt_cost", costs) if costs is not None else f.DASH
    parts = []
    for c in costs:
        if isinstance(c, dict):
            exact = "" if c.get("exact", True) else ", estimated"
            parts.append(f"{c.get('shots', '?')}-shot: {f.scalar('', c.get('total_tokens'))} tokens "
                         f"({f.scalar('', c.get('shots_tokens'))} in shots{exact})")
    return "; ".join(parts) or f.DASH


def _models_section(models: list[tuple[str, dict[str, Any]]]) -> Section | None:
    if not models:
        return None
    rows: list[list[Cell]] = []
    for key, m in models:
        load, meas, _ = _parts(m)
        status = "loaded" if load.get("ok", True) else f"did not load: {load.get('error') or '?'}"
        calls = (f"{meas.get('calls', '?')} ({meas.get('calls_cached', 0)} cached, "
                 f"{meas.get('calls_failed', 0)} failed)") if meas else f.DASH
        rows.append([key, str(m.get("backend") or load.get("backend") or f.DASH), status,
                     f.seconds(load.get("load_s")), calls, f.seconds(_first(meas, "latency_s")),
                     _energy_cell(_first(meas, "energy_j"), meas.get("energy_basis")), _prompt_cost(m)])
    cols = [Column("Model"), Column("Backend", gloss=True), Column("Load"), Column("Load time", "measured", numeric=True),
            Column("Calls"), Column("Median latency per call", "measured", gloss=True, numeric=True),
            Column("Median energy per call", numeric=True), Column("Prompt tokens per shot count", gloss=True)]
    return Section("models", "Models", tables=[Table(cols, rows)], paragraphs=[
        "Measured while the trial ran (cached answers and failed calls are left out of the medians); "
        "energy names its basis: measured-rapl/measured-nvml from a power meter, estimated from a power "
        "model and the measured time, or unavailable."])


def _scores_cell(scores: Any) -> str:
    if isinstance(scores, dict):
        return "; ".join(f"{k}: {f.scalar(k, v)}" for k, v in scores.items())
    parts = []
    for s in scores or []:
        if isinstance(s, dict):
            txt = f"{s.get('metric', '?')}: {f.sig(s.get('score'))}"
            parts.append(txt + (f" ({s['detail']})" if s.get("detail") else ""))
        else:
            parts.append(str(s))
    return "; ".join(parts) or f.DASH


def _passed(e: dict[str, Any]) -> str:
    p = e.get("pass", e.get("passed"))
    if e.get("error"):
        return f"error: {e['error']}"
    return f.DASH if p is None else ("pass" if p else "FAIL")


def _latency_cell(e: dict[str, Any]) -> str:
    if e.get("cached"):
        return "cached"
    return f.seconds(e.get("latency_s"))


def examples_section(examples: Any) -> Section | None:
    items = [e for e in examples or [] if isinstance(e, dict)]
    if not items:
        return None
    rows: list[list[Cell]] = [[
        _model_id(e), str(e.get("shots", f.DASH)), str(_first(e, "example_id", "id", "key") or f.DASH),
        _text(_first(e, "input", "prompt")), _text(_first(e, "output", "text", "answer")),
        _text(_first(e, "reference", "expected")), _scores_cell(e.get("scores")), _passed(e), _latency_cell(e),
    ] for e in items]
    cols = [Column("Model"), Column("Shots", numeric=True), Column("Example"), Column("Input", text=True),
            Column("Output", text=True), Column("Expected", text=True), Column("Scores"),
            Column("Pass", "measured"), Column("Latency", "measured", numeric=True)]
    passes = sum(1 for r in rows if r[7] == "pass")
    return Section("examples", "Per-example results", tables=[Table(cols, rows)], paragraphs=[
        f"{len(rows)} calls, {passes} passed. Inputs and outputs are shown exactly as text; "
        "'cached' answers were not timed in this run."])


def _candidates_section(cands: Any) -> Section | None:
    items = [c for c in cands or [] if isinstance(c, dict)]
    if not items:
        return generic_section("candidates", "Candidates", cands)
    rows: list[list[Cell]] = []
    for c in items:
        tried, loaded = (f.DASH if c.get(k) is None else ("yes" if c[k] else "no") for k in ("tried", "loaded"))
        rows.append([_model_id(c), str(c.get("backend") or f.DASH), str(c.get("kind") or f.DASH),
                     f.scalar("params", c.get("params")), str(c.get("catalog_id") or f.DASH), tried, loaded])
    cols = [Column("Model"), Column("Backend", gloss=True), Column("Kind"), Column("Parameters", numeric=True),
            Column("Catalog id"), Column("Tried"), Column("Loaded")]
    return Section("candidates", "Candidates", tables=[Table(cols, rows)], paragraphs=[
        "The models the trial could climb, smallest first; later ones are tried only when the "
        "earlier ones fall short."])


def _pareto(result: dict[str, Any], models: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    lad = result.get("ladder") or {}
    rungs = [r for r in (lad.get("rungs") if isinstance(lad, dict) else []) or [] if isinstance(r, dict)]
    v: dict[str, Any] = result["verdict"] if isinstance(result.get("verdict"), dict) else {}
    pick = v.get("winner") or {}
    points = []
    for key, m in models:
        rates = [r["pass_rate"] for r in rungs if _model_id(r) == key and f.is_number(r.get("pass_rate"))]
        _, meas, _ = _parts(m)
        joules, basis = _first(meas, "energy_j"), _first(meas, "energy_basis") or ""
        points.append({"label": key, "model": key, "quality": max(rates) if rates else None,
                       "latency": _first(meas, "latency_s"),
                       "energy": joules / 3600 if f.is_number(joules) else None, "energy_basis": basis,
                       "cost": None, "pick": bool(pick) and _model_id(pick) == key})
    return pareto_points(points)


def _cost_title(cost: Any) -> str:
    compared = isinstance(cost, dict) and cost.get("cloud_comparison")
    return "Cost at your volume, local against cloud" if compared else "Cost at your volume"


def _meta(result: dict[str, Any], task: Any) -> list[tuple[str, str]]:
    meta = []
    if isinstance(task, dict) and task.get("fingerprint"):
        meta.append(("task fingerprint", str(task["fingerprint"])))
    return meta


def trial_view(result: dict[str, Any]) -> View:
    task = result.get("task") or {}
    hw = result.get("hardware")
    models = _models(result)
    ladder_sec, ladder_chart = _ladder(result)
    evm_sec, evm_chart = _est_vs_measured(models)
    mem_rows = [r for r in (memory_row(k, _parts(m)[2], _measured_memory(*_parts(m)[:2])) for k, m in models) if r]
    points = _pareto(result, models)
    usable = [p for p in points if f.is_number(p["quality"]) and f.is_number(p["latency"])]
    sections: list[Section | None] = [
        _verdict_section(result), hardware_section(hw), generic_section("task", "Task", task),
        _candidates_section(result.get("candidates")),
        ladder_sec, _models_section(models), evm_sec,
        memory_section(mem_rows, "Model") if mem_rows else None,
        pareto_section(points, "Best pass rate", "measured", f.pct) if len(usable) > 1 else None,
        generic_section("cost-at-volume", _cost_title(result.get("cost_at_volume")), result.get("cost_at_volume"),
                        "What the winner costs per month at the volume given, from the energy each request "
                        "took here (its basis is named) or the API price list."),
        local_vs_cloud_section(result.get("local_vs_cloud")),
        snippet_section(result.get("next_step")),
        examples_section(result.get("examples")),
    ]
    charts: dict[str, dict[str, Any]] = {}
    if ladder_chart:
        charts["ladder"] = ladder_chart
    if evm_chart:
        charts["estimate_vs_measured"] = evm_chart
    if mem_rows:
        charts["memory"] = {"type": "memory", "rows": mem_rows}
    if len(usable) > 1:
        charts["pareto"] = {"type": "pareto", "points": points, "quality_label": "best pass rate (measured)",
                            "quality_is_rate": True}
    name = task.get("name") if isinstance(task, dict) else None
    return View("trial", "llmscout trial", f"{name or 'task'} on {_hardware_name(hw)}", _meta(result, task),
                [s for s in sections if s is not None], charts)
