"""What to do with the ranking: the start-small ladder, local vs cloud with the break-even volume,
adaptation advice (prompting, few-shot, LoRA/QLoRA, full fine-tuning), the next-step snippet,
and plain explanations when constraints leave nothing (or no local model) to recommend.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from llmscout.errors import LlmscoutError
from llmscout.estimate.cost import break_even_requests
from llmscout.hardware.spec import GIB
from llmscout.recommend._filters import REASON_CODES, Setting, context_limit
from llmscout.recommend._types import Candidate, Exclusion

LADDER_POOL = 8  # best-scored local candidates the ladder is built from
LADDER_MAX_LOCAL = 5
QUALITY_GAP = 10.0  # points of expected quality that outweigh cost and privacy-neutral factors
MAX_SHOTS = 6
WEAK_CONFIDENCE = 0.35
WEAK_QUALITY = 60.0
NARROW_TASKS = frozenset({"extraction", "classification"})
FULL_FT_TOKENS = 10_000_000  # assumed fine-tuning set: e.g. 5,000 examples of 2,000 tokens
FULL_FT_GPU = "h100-sxm"
DAYS_PER_MONTH = 30


# -- the ladder ----------------------------------------------------------------------------------

def build_ladder(ranked: list[Candidate], s: Setting) -> list[str]:
    """Model ids to try, smallest and cheapest first, each expected to beat the one before.

    Built from the best-scored local candidates (instruct/chat only for interactive tasks);
    the top local pick is always on it; the best hosted API comes last when cloud use is allowed.
    """
    local = [c for c in ranked if not c.is_cloud and not (s.interactive and c.model.is_base)]
    pool = sorted(local[:LADDER_POOL], key=lambda c: (c.model.params or 0, c.cost_per_month, -c.score))
    rungs: list[Candidate] = []
    best = -math.inf
    for c in pool:
        if c.quality_points > best + 0.5:
            rungs.append(c)
            best = c.quality_points
    if local:
        rungs = rungs[:LADDER_MAX_LOCAL]
        if local[0] not in rungs:
            rungs = rungs[:LADDER_MAX_LOCAL - 1] + [local[0]]
            rungs.sort(key=lambda c: (c.model.params or 0, c.cost_per_month))
    ids = [c.id for c in rungs]
    cloud = [c for c in ranked if c.is_cloud]
    if cloud and s.profile.cloud_permitted:
        ids.append(cloud[0].id)
    return ids


# -- local vs cloud ------------------------------------------------------------------------------

def _side(c: Candidate) -> dict[str, Any]:
    m, e = c.model, c.estimate
    d: dict[str, Any] = {"model": m.id, "quant": c.quant, "engine": c.engine, "score": c.score,
                         "quality": c.quality_points, "cost_per_month": e.cost.per_month,
                         "cost_per_request": e.cost.per_request}
    if c.is_cloud:
        provider = m.cloud.provider if m.cloud else "the provider"
        d.update(privacy=f"prompts and data are sent to {provider}", offline=False,
                 cost_basis=f"API prices of {e.cost.price_date} ({e.cost.price_source})",
                 latency={"basis": "not estimated (depends on the provider's load)"},
                 energy={"wh_per_request_low": e.cloud_energy["wh_per_request_low"] if e.cloud_energy else None,
                         "wh_per_request_high": e.cloud_energy["wh_per_request_high"] if e.cloud_energy else None,
                         "basis": "range of published estimates",
                         "sources": [x["url"] for x in (e.cloud_energy or {}).get("sources", [])]},
                 control="closed weights: the provider can change, re-price or retire the model",
                 dependence=f"depends on {provider}: account, prices, rate limits and availability")
        return d
    sp = e.speed
    d.update(privacy="data stays on your device", offline=True,
             cost_basis="electricity" + (" + amortised hardware" if e.cost.hardware_per_month else
                                         " only (the hardware you own is not counted)") + ", estimated",
             latency={"ttft_s": sp.ttft_s if sp else None,
                      "tokens_per_s": sp.decode_tokens_per_s if sp else None, "basis": "estimated"},
             energy={"wh_per_request": e.energy.wh_per_request if e.energy else None, "basis": "estimated"},
             control=f"open weights ({m.license}): you can inspect, fine-tune and pin the exact version",
             dependence="none once downloaded" + (" (gated: accept the licence once)" if m.gated else ""))
    return d


def _break_even(local: Candidate, cloud: Candidate, s: Setting) -> dict[str, Any]:
    lc, cc = local.estimate.cost, cloud.estimate.cost
    monthly = break_even_requests(lc, cc.per_request)
    return {
        "requests_per_month": monthly,
        "requests_per_day": None if monthly is None else math.ceil(monthly / DAYS_PER_MONTH),
        "local_per_request": lc.electricity_per_request or 0.0,
        "local_fixed_per_month": lc.hardware_per_month or 0.0,
        "cloud_per_request": cc.per_request,
        "your_requests_per_month": s.requests_per_month,
        "formula": "ceil(local fixed per month / (cloud per request - local electricity per request)); "
                   "none when the cloud request is cheaper than the local electricity",
    }


def _verdict(local: Candidate, cloud: Candidate, be: dict[str, Any], s: Setting) -> tuple[str, list[str]]:
    p = s.profile
    gap = cloud.quality_points - local.quality_points
    lm, cm = local.cost_per_month, cloud.cost_per_month
    why = [f"at {p.requests_per_day:,.0f} requests a day: local {lm:,.2f} USD/month, cloud {cm:,.2f} USD/month"]
    if be["requests_per_month"] is None:
        why.append("the cloud request costs less than the local electricity: local never breaks even")
    elif be["local_fixed_per_month"]:
        why.append(f"local breaks even above {be['requests_per_month']:,} requests a month "
                   f"({be['requests_per_day']:,} a day)")
    else:
        why.append("no hardware price given: local costs only electricity, so it is cheaper from the first "
                   "request (give hardware_price to count the purchase)")
    if gap > QUALITY_GAP:
        why.append(f"the cloud model's expected quality is {gap:.0f} points higher")
        return "cloud", why + ["local keeps your data on your device and works offline"]
    if gap < -QUALITY_GAP:
        why.append(f"the local model's expected quality is {-gap:.0f} points higher")
    if lm <= cm:
        return "local", why + ["similar or better expected quality, your data stays on your device, no provider"]
    if cm * 2 < lm:
        return "cloud", why + ["similar expected quality at less than half the monthly cost"]
    return "either", why + ["similar quality and cost: choose by privacy and control"]


def local_vs_cloud(ranked: list[Candidate], s: Setting, cloud_blocked: list[str]) -> dict[str, Any]:
    """The best local and the best hosted candidate side by side, with the break-even and a verdict."""
    local = next((c for c in ranked if not c.is_cloud), None)
    cloud = next((c for c in ranked if c.is_cloud), None)
    out: dict[str, Any] = {"local": _side(local) if local else None, "cloud": _side(cloud) if cloud else None,
                           "break_even": None}
    if local and cloud:
        out["break_even"] = _break_even(local, cloud, s)
        out["verdict"], out["reasons"] = _verdict(local, cloud, out["break_even"], s)
    elif local:
        out["verdict"] = "local"
        out["reasons"] = cloud_blocked or ["no hosted API passes your constraints"]
    elif cloud:
        out["verdict"] = "cloud"
        out["reasons"] = (["target 'cloud': hosted APIs only"] if s.target == "cloud" else
                          ["no model runs on this hardware under your constraints (see 'excluded')"])
    else:
        out["verdict"], out["reasons"] = "none", ["no candidate at all (see 'contradictions')"]
    return out


def cloud_blockers(s: Setting) -> list[str]:
    p = s.profile
    out = []
    if p.privacy == "local":
        out.append("privacy 'local': data may not leave your device, so no hosted API")
    if p.offline:
        out.append("offline use: hosted APIs need a network connection")
    if not p.cloud_allowed:
        out.append("cloud use is switched off")
    if not out and not p.cloud_permitted:
        out.append(f"target '{p.target}' runs on your own hardware")
    return out


# -- adaptation -----------------------------------------------------------------------------------

def _shots(c: Candidate, s: Setting) -> int:
    limit = context_limit(c.model) or s.context
    if c.estimate.memory is not None:
        limit = min(limit, c.estimate.max_context or limit)
    per_example = s.profile.input_tokens + s.profile.output_tokens
    return max(0, min(MAX_SHOTS, (limit - s.context) // max(per_example, 1)))


def _smallest_gpu(total_bytes: int) -> str | None:
    from llmscout.estimate.memory import usable_bytes
    from llmscout.hardware import list_hardware

    fitting = [h for h in list_hardware(kind="gpu") if h.target != "browser" and usable_bytes(h) >= total_bytes]
    if not fitting:
        return None
    best = min(fitting, key=lambda h: (h.memory_bytes, h.id))
    return f"{best.name} ({best.memory_bytes / GIB:.0f} GB)"


def _lora_steps(c: Candidate, s: Setting) -> list[dict[str, Any]]:
    from llmscout.estimate.finetune import finetune_memory

    hw = s.hardware if s.hardware.device_kind in ("gpu", "unified") and s.hardware.id != "none" else None
    seq = min(max(s.context, 256), 2048)
    out: list[dict[str, Any]] = []
    for method in ("qlora", "lora"):
        try:
            fm = finetune_memory(c.model, method, seq_len=seq, hardware=hw)
        except LlmscoutError as exc:
            out.append({"step": method, "model": c.id, "error": str(exc)})
            continue
        out.append({"step": method, "model": c.id, "memory_bytes": fm.total_bytes,
                    "trainable_params": fm.trainable_params, "seq_len": seq,
                    "fits_here": fm.fits, "smallest_gpu": _smallest_gpu(fm.total_bytes),
                    "what": f"{method.upper()} adapters (rank 16, attention) on {c.id}: about "
                            f"{fm.total_bytes / GIB:.1f} GiB of GPU memory at {seq} tokens per example"
                            + ("" if fm.fits is None else (" - fits your hardware" if fm.fits else
                                                           " - more than your hardware has"))})
    return out


def _full_step(c: Candidate) -> dict[str, Any]:
    from llmscout.estimate.finetune import finetune_memory, pretraining_cost
    from llmscout.estimate.service import DEFAULT_GPU_HOUR_PRICE
    from llmscout.hardware import lookup_hardware

    step: dict[str, Any] = {"step": "full-finetune", "model": c.id,
                            "when": "only when LoRA on a few thousand good examples is not enough: new "
                                    "knowledge, a new language or a large change of behaviour"}
    try:
        fm = finetune_memory(c.model, "full", seq_len=2048)
        gpu = lookup_hardware(FULL_FT_GPU)
        n_gpus = math.ceil(fm.total_bytes / (gpu.memory_bytes * 0.95))
        pc = pretraining_cost(c.model.params or fm.trainable_params, gpu, tokens=FULL_FT_TOKENS,
                              price_per_gpu_hour=DEFAULT_GPU_HOUR_PRICE)
    except LlmscoutError as exc:
        step["error"] = str(exc)
        return step
    step.update(memory_bytes=fm.total_bytes, gpus=n_gpus, gpu=gpu.name, tokens=FULL_FT_TOKENS,
                gpu_hours=round(pc.gpu_hours, 2), cost_usd=round(pc.cost or 0.0, 2),
                what=f"full fine-tuning needs about {fm.total_bytes / GIB:,.0f} GiB ({n_gpus} x {gpu.name}); "
                     f"{FULL_FT_TOKENS / 1e6:.0f}M training tokens take about {pc.gpu_hours:,.1f} GPU-hours "
                     f"(~{pc.cost or 0:,.0f} USD at {DEFAULT_GPU_HOUR_PRICE:g} USD per GPU-hour, assumed)")
    return step


def adaptation(ranked: list[Candidate], s: Setting) -> dict[str, Any]:
    """Prompting first, then few-shot, then LoRA/QLoRA, then (rarely) full fine-tuning."""
    p = s.profile
    pick = ranked[0] if ranked else None
    local = next((c for c in ranked if not c.is_cloud), None)
    narrow = bool(set(p.tasks) <= NARROW_TASKS) or p.domain != "general"
    why = []
    if narrow:
        why.append("the task is narrow (" + ", ".join(p.tasks) + (f", domain {p.domain}" if p.domain != "general"
                                                                    else "") + "): a small adapted model can match a big one")
    if pick is not None and (pick.quality.evidence.confidence < WEAK_CONFIDENCE or pick.quality_points < WEAK_QUALITY):
        why.append(f"the evidence for {pick.id} is weak (quality {pick.quality_points:.0f}/100, confidence "
                   f"{pick.quality.evidence.confidence:.2f}): verify on your own examples and adapt if needed")
    steps: list[dict[str, Any]] = [{"step": "system-prompt", "what": "state the task, the output format and "
                                    "one rule per mistake you see; measure on your examples (llmscout trial)"}]
    if pick is not None:
        n = _shots(pick, s)
        per = p.input_tokens + p.output_tokens
        steps.append({"step": "few-shot", "examples": n, "extra_input_tokens": n * per,
                      "what": (f"add up to {n} worked examples to the prompt (+{n * per:,} input tokens a request)"
                               if n else "no room in the context for worked examples: shorten them")})
    if local is not None:
        steps += _lora_steps(local, s)
        steps.append(_full_step(local))
    elif pick is not None:
        steps.append({"step": "lora", "what": "closed weights cannot be fine-tuned here; the provider may "
                                              "offer fine-tuning (not in the catalog)"})
    return {"recommended": bool(why), "why": why or ["the evidence is solid: check on your examples first; "
                                                     "adapt only if the trial falls short"], "steps": steps}


# -- next step -----------------------------------------------------------------------------------

def next_step(pick: Candidate | None, s: Setting) -> dict[str, Any] | None:
    """Ready-to-run code for the pick, where its weights come from, and whether a licence must be accepted."""
    from llmscout.recommend.snippets import next_step_snippet

    if pick is None:
        return None
    runtime = "transformers" if pick.runtime in ("vllm", "transformers") else pick.runtime
    quant = pick.quant if runtime in ("llamacpp", "webllm", "mlc") else None
    limit = context_limit(pick.model) or s.context
    n_ctx = max(s.context, min(limit, 4096))  # room for a system prompt and few-shot examples
    try:
        snip = next_step_snippet(pick.model, runtime, quant, context_tokens=n_ctx)  # type: ignore[arg-type]
    except LlmscoutError:
        snip = next_step_snippet(pick.model, runtime, None, context_tokens=n_ctx)  # type: ignore[arg-type]
    a = snip.artifact
    out: dict[str, Any] = {
        "model": pick.id, "runtime": snip.runtime, "language": snip.language, "code": snip.code,
        "notes": list(snip.notes), "licence": pick.model.license,
        "licence_acceptance_required": pick.model.gated,
        "weights": None if a is None else {"format": a.format, "quant": a.quant or a.precision, "repo": a.repo,
                                           "file": a.file, "url": a.url, "size_bytes": a.size_bytes},
    }
    if pick.runtime == "vllm" and a is not None and a.repo:
        out["serve"] = f"vllm serve {a.repo}"
    return out


# -- contradictions ---------------------------------------------------------------------------------

def _memory_sentence(excluded: list[Exclusion], s: Setting) -> str | None:
    only_memory = [x for x in excluded if x.codes == ("memory",)]
    if not only_memory:
        return None
    hw = s.hardware
    head = (f"No model in the catalog fits {hw.name} ({hw.memory_bytes / GIB:.0f} GB) with a "
            f"{s.context:,}-token context")
    estimated = [(r.need_bytes, x.id) for x in only_memory for r in x.reasons if r.need_bytes and not r.bound]
    bounds = [(r.need_bytes, x.id) for x in only_memory for r in x.reasons if r.need_bytes and r.bound]
    if not estimated and not bounds:
        return head + "."
    need, mid = min(estimated or bounds)
    how = "needs an estimated" if estimated else "needs at least"
    return (f"{head}: {len(only_memory)} models pass every other filter, and the least demanding, {mid}, "
            f"{how} {need / GIB:.1f} GiB of the {s.capacity_gib:.1f} GiB usable. Shorten the context, or use "
            "hardware with more memory.")


def explain(ranked: list[Candidate], excluded: list[Exclusion], s: Setting) -> list[str]:
    """Sentences for constraints that leave no candidate, or no local one where one was wanted."""
    out: list[str] = []
    if not ranked:
        tally = Counter(code for x in excluded for code in x.codes)
        parts = [f"{n} {REASON_CODES.get(code, code)}" for code, n in tally.most_common()]
        out.append(f"Every one of the {len(excluded)} models was excluded: " + "; ".join(parts)
                   + " (a model can count more than once; see 'excluded' for each model's reasons).")
        sentence = _memory_sentence(excluded, s)
        if sentence:
            out.append(sentence)
    elif s.target != "cloud" and all(c.is_cloud for c in ranked):
        sentence = _memory_sentence(excluded, s)
        out.append("No model runs on your hardware under these constraints; only hosted APIs are left."
                   + (f" {sentence}" if sentence else ""))
    return out
