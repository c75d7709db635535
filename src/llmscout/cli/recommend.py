"""``llmscout recommend`` and ``llmscout compare``: a ranked, explained shortlist for a task."""

from __future__ import annotations

import argparse
from typing import Any

from llmscout.cli import _output as out

_EXAMPLES = """examples:
  llmscout recommend --task code --hardware "RTX 4060"
  llmscout recommend --task chat --target browser
  llmscout recommend --task extraction --privacy local --context 32k --memory-gb 8 --device-kind gpu
  llmscout recommend --task summarization --volume 100000 --budget 500 --hardware-price 1600
  llmscout recommend --profile task.yaml --weights quality=0.6,speed=0.2 --top 5 --json

Every figure is an estimate before running anything; 'llmscout trial' verifies on your examples.
JSON keys: docs/json-recommend.md."""

_COMPARE_EXAMPLES = """examples:
  llmscout compare Qwen/Qwen2.5-Coder-7B-Instruct Qwen/Qwen2.5-7B-Instruct --task code --hardware "RTX 4060"
  llmscout compare llama-3.2-3b-instruct openai/gpt-4o-mini --task chat --volume 5000 --json"""

_TARGETS = ("local", "browser", "phone", "server", "cloud", "any")


def _profile_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("task")
    g.add_argument("--task", dest="tasks", action="append", metavar="TASK",
                   help="chat, summarization, qa, rag, extraction, classification, translation, code, "
                        "reasoning, creative, tool-calling, vision (repeatable)")
    g.add_argument("--domain", help="general, medical, legal, finance, code, science")
    g.add_argument("--language", dest="languages", action="append", metavar="LANG", help="e.g. en, de (repeatable)")
    g.add_argument("--context", dest="context_tokens", metavar="TOKENS", help="context needed, e.g. 8k, 100k")
    g.add_argument("--input-tokens", metavar="TOKENS", help="tokens per request in (default 500)")
    g.add_argument("--output-tokens", metavar="TOKENS", help="tokens per request out (default 250)")
    g.add_argument("--interactive", action="store_true", default=None, help="a person waits for each answer")
    g.add_argument("--max-ttft", dest="max_ttft_s", type=float, metavar="S", help="longest wait for the first token")
    g.add_argument("--min-tps", dest="min_tokens_per_s", type=float, metavar="N", help="slowest tokens/s acceptable")
    g.add_argument("--volume", dest="requests_per_day", type=float, metavar="REQ_PER_DAY", help="requests a day")
    g.add_argument("--budget", dest="budget_per_month", type=float, metavar="USD_PER_MONTH")
    g.add_argument("--energy-budget", dest="energy_budget_wh_per_day", type=float, metavar="WH_PER_DAY")
    g.add_argument("--min-quality", type=float, metavar="0-100")
    c = p.add_argument_group("constraints")
    c.add_argument("--target", choices=_TARGETS, help="where it runs (default any)")
    c.add_argument("--privacy", choices=("any", "local"), help="local: data never leaves your device")
    c.add_argument("--offline", action="store_true", default=None, help="must work without a network")
    c.add_argument("--no-cloud", dest="cloud_allowed", action="store_false", default=None, help="no hosted APIs")
    c.add_argument("--commercial", dest="commercial_use", action="store_true", default=None,
                   help="the licence must allow commercial use")
    c.add_argument("--no-gated", dest="allow_gated", action="store_false", default=None,
                   help="no models that need an access request")
    c.add_argument("--profile", metavar="FILE", help="a YAML/JSON task profile; options override its fields")
    c.add_argument("--weights", metavar="K=V,...", help="ranking weights, e.g. quality=0.5,speed=0.2,cost=0.1")
    from llmscout.cli._hwargs import add_hardware_args

    h = add_hardware_args(p)
    h.add_argument("--count", type=int, help="identical devices")
    h.add_argument("--hardware-price", type=float, metavar="USD", help="count the purchase in local cost")
    h.add_argument("--amortisation-months", type=int, metavar="N", help="months to spread it over (default 36)")


def register(sub: argparse._SubParsersAction) -> None:
    from llmscout.cli import json_flag

    p = sub.add_parser("recommend", help="rank models for your task and hardware, with reasons",
                       epilog=_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    _profile_args(p)
    p.add_argument("--top", type=int, default=10, help="candidates to show (default 10)")
    p.add_argument("--report", metavar="OUT.html", help="also write an HTML report (and OUT.md)")
    json_flag(p)
    p.set_defaults(func=_recommend)
    c = sub.add_parser("compare", help="chosen models side by side on the same hardware and task",
                       epilog=_COMPARE_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("models", nargs="+", metavar="ID", help="catalog model ids or aliases")
    _profile_args(c)
    json_flag(c)
    c.set_defaults(func=_compare)


# -- turning options into library calls ---------------------------------------------------------------

def _weights(text: str | None) -> dict[str, float] | None:
    from llmscout.errors import InvalidValueError

    if text is None:
        return None
    out_: dict[str, float] = {}
    for part in filter(None, (x.strip() for x in text.split(","))):
        key, sep, value = part.partition("=")
        try:
            out_[key.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise InvalidValueError("--weights", text, "name=number pairs such as quality=0.5,speed=0.2 "
                                                        "(names: quality, speed, cost, energy, fit)")
    return out_


def _inputs(args: argparse.Namespace) -> tuple[Any, Any, dict[str, Any]]:
    """(profile, hardware, extra keyword arguments for recommend/compare)."""
    from llmscout.estimate.service import load_calibration
    from llmscout.recommend import build_profile, resolve_target_hardware

    fields = ("tasks", "domain", "languages", "context_tokens", "input_tokens", "output_tokens",
              "interactive", "max_ttft_s", "min_tokens_per_s", "requests_per_day", "budget_per_month",
              "energy_budget_wh_per_day", "min_quality", "target", "privacy", "offline", "cloud_allowed",
              "commercial_use", "allow_gated")
    overrides = {f: getattr(args, f) for f in fields}
    overrides["weights"] = _weights(args.weights)
    profile = build_profile(args.profile, **overrides)
    hw = resolve_target_hardware(profile, args.hardware, memory_gb=args.memory_gb,
                                 bandwidth_gbs=args.bandwidth_gbs, tflops=args.tflops, power_w=args.power_w,
                                 device_kind=args.device_kind, count=args.count)
    extra = {"calibration": load_calibration(), "hardware_price": args.hardware_price,
             "amortisation_months": args.amortisation_months}
    return profile, hw, extra


def _recommend(args: argparse.Namespace) -> int:
    from llmscout.recommend import recommend, save_recommendation

    profile, hw, extra = _inputs(args)
    rec = recommend(profile, hw, top=args.top, **extra)
    data = rec.to_dict()
    data["run_id"] = save_recommendation(rec)
    written = []
    if args.report:
        from llmscout.report import write_report

        written = [str(p) for p in write_report(data["run_id"], args.report)]
        data["report"] = written

    def render(con: Any) -> None:
        _render(con, rec)
        con.print(f"saved as run {data['run_id']}" + (f"; report: {', '.join(written)}" if written else ""))

    out.emit(args.json, data, render)
    return 0


def _compare(args: argparse.Namespace) -> int:
    from llmscout.recommend import compare

    profile, hw, extra = _inputs(args)
    cmp = compare(args.models, profile, hw, **extra)
    out.emit(args.json, cmp.to_dict(), lambda con: _render_compare(con, cmp))
    return 0


# -- human output ----------------------------------------------------------------------------------

def _row(i: int, c: Any) -> list[Any]:
    e = c.estimate
    sp, mem = e.speed, e.memory
    return [i, c.id, f"{c.quant or 'API'} {c.engine}", f"{c.score:.1f}", f"{c.quality_points:.0f}",
            f"{sp.decode_tokens_per_s:.0f}" if sp else "-", f"{sp.ttft_s:.2g}" if sp else "-",
            out.human_bytes(mem.total_bytes) if mem else "-", f"{e.cost.per_month:,.2f}"]


_COLUMNS = ["#", "model", "quant engine", "score", "quality", "tok/s", "TTFT s", "memory", "$/month"]


def _render(con: Any, rec: Any) -> None:
    p = rec.profile
    con.print(f"[bold]Recommendation[/] for {', '.join(p.tasks)} on {rec.hardware.name} (target {rec.target})")
    for line in rec.contradictions:
        con.print(f"[yellow]! {line}[/]")
    for line in rec.notes:
        con.print(f"note: {line}")
    if not rec.ranked:
        con.print("[bold]no candidates[/]: see the explanation above and the reasons below")
    else:
        con.print(out.table(f"{len(rec.ranked)} candidates, top {len(rec.candidates)}", _COLUMNS,
                            [_row(i, c) for i, c in enumerate(rec.candidates, 1)]))
    for i, c in enumerate(rec.candidates[:3], 1):
        con.print(f"[bold]{i}. {c.id}[/]")
        for reason in c.reasons:
            con.print(f"   - {reason}")
    if rec.notable_excluded:
        con.print(out.table("not recommended (best expected quality first)", ["model", "why not"],
                            [[x.id, "; ".join(r.text for r in x.reasons)] for x in rec.notable_excluded]))
    if rec.ladder:
        con.print("start-small ladder: " + " -> ".join(rec.ladder))
    if not rec.ranked:
        return
    _render_lvc(con, rec.local_vs_cloud)
    ad = rec.adaptation
    con.print(f"[bold]adaptation[/] ({'recommended' if ad['recommended'] else 'probably not needed'}): "
              + "; ".join(ad["why"]))
    for step in ad["steps"]:
        con.print(f"   - {step['step']}: {step.get('what') or step.get('error', '')}")
    if rec.next_step:
        ns = rec.next_step
        con.print(f"[bold]next step[/] ({ns['runtime']}, {ns['model']}):")
        con.print(ns["code"], markup=False, highlight=False)
        for note in ns["notes"]:
            con.print(f"   - {note}", markup=False)


def _render_lvc(con: Any, lvc: dict[str, Any]) -> None:
    local, cloud = lvc.get("local"), lvc.get("cloud")
    if local and cloud:
        keys = ["model", "quality", "cost_per_month", "privacy", "offline", "control", "dependence"]
        rows = [[k, _fmt(local.get(k)), _fmt(cloud.get(k))] for k in keys]
        be = lvc.get("break_even") or {}
        n = be.get("requests_per_month")
        rows.append(["local cheaper above", "", "never" if n is None else
                     "the first request (electricity only)" if n == 0 else f"{n:,} requests/month"])
        con.print(out.table("local vs cloud", ["", "local", "cloud"], rows))
    con.print(f"[bold]verdict[/]: {lvc.get('verdict')} - " + "; ".join(lvc.get("reasons", [])))


def _fmt(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def _render_compare(con: Any, cmp: Any) -> None:
    from llmscout.recommend import Candidate

    con.print(f"[bold]Comparison[/] for {', '.join(cmp.profile.tasks)} on {cmp.hardware.name}")
    for line in cmp.contradictions:
        con.print(f"[yellow]! {line}[/]")
    cands = [r for r in cmp.rows if isinstance(r, Candidate)]
    if cands:
        con.print(out.table("candidates", _COLUMNS, [_row(i, c) for i, c in enumerate(cands, 1)]))
    for row in cmp.rows:
        reasons = row.reasons if isinstance(row, Candidate) else [r.text for r in row.reasons]
        label = "" if isinstance(row, Candidate) else " [red](excluded)[/]"
        con.print(f"[bold]{row.id}[/]{label}")
        for reason in reasons:
            con.print(f"   - {reason}", markup=False)
    _render_lvc(con, cmp.local_vs_cloud)
