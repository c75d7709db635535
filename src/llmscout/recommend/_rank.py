"""Ranking: one 0-100 score per configuration from quality, speed, cost, energy and fit.

Each criterion is scored 0-1 and the profile's weights (normalised) combine them; every number
that enters is also said in words in the candidate's reasons. The scales are llmscout's choices,
stated here so they can be argued with:

- quality: the task evidence (``evidence.quality_evidence``, 0-100), blended with the size prior
  in proportion to their confidences (evidence c / (c + 0.15), the prior's confidence in
  evidence.py), so one indirect benchmark cannot outrank solid evidence; plus the domain fit, minus
  the quantization's loss, minus 10 points for a base model on an instruction task and 10 for
  a language the model does not list. Quantization loss: 4 points per unit of perplexity added
  on Llama-3-8B as llama.cpp's quantize tool lists it (capped at 15 points).
- speed: estimated decode speed and time to first token against the targets (the profile's, or
  10 tokens/s and 2 s for interactive use, 5 tokens/s and 10 s otherwise); a ratio r scores
  r / (r + 0.25), so meeting a target scores 0.8 and going faster still counts a little.
- cost: ``1 / (1 + USD per month / 10)``, or the share of the budget left when one is given.
- energy: ``1 / (1 + Wh per request / 0.3)``; 0.3 Wh is Epoch AI's estimate for a typical
  GPT-4o query (https://epoch.ai/gradient-updates/how-much-energy-does-chatgpt-use).
- fit: memory headroom (full marks at 30% free) and context headroom (full marks at twice the
  tokens needed); partial offload to system RAM halves it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from llmscout.catalog.spec import ModelSpec
from llmscout.estimate import Estimate
from llmscout.recommend.evidence import (
    PRIOR_CONFIDENCE,
    DomainFit,
    QualityEvidence,
    domain_fit,
    quality_evidence,
    size_prior,
)
from llmscout.recommend.profile import TaskProfile

# Perplexity added on Llama-3-8B per llama.cpp file type, as `llama-quantize --help` lists it
# (QUANT_OPTIONS in https://github.com/ggml-org/llama.cpp/blob/master/tools/quantize/quantize.cpp).
QUANT_PPL_DELTA: dict[str, float] = {
    "F32": 0.0, "F16": 0.0, "BF16": 0.0, "Q8_0": 0.0026, "Q6_K": 0.0217, "Q5_K_M": 0.0569,
    "Q5_K_S": 0.1049, "Q5_1": 0.1062, "Q5_0": 0.1316, "Q4_K_M": 0.1754, "Q4_K_S": 0.2689,
    "Q4_1": 0.4511, "Q4_0": 0.4685, "Q3_K_L": 0.5562, "Q3_K_M": 0.6569, "Q3_K_S": 1.6321,
    "Q2_K": 3.5199,
}
# Other formats by analogy (an assumption): 4-bit group-wise formats like Q4_0 (blocks of 32 with
# one scale), 8-bit like Q8_0, MLC 3-bit like Q3_K_S, unquantized none.
QUANT_ANALOGY = {"q4f16_1": "Q4_0", "q4f32_1": "Q4_0", "awq": "Q4_0", "gptq": "Q4_0", "nf4": "Q4_0",
                 "q3f16_1": "Q3_K_S", "fp8": "Q8_0", "int8": "Q8_0", "q0f16": "F16", "q0f32": "F32",
                 "bf16": "BF16", "fp16": "F16", "fp32": "F32", "MXFP4_MOE": "Q4_0"}
POINTS_PER_PPL = 4.0
MAX_QUANT_PENALTY = 15.0
BASE_PENALTY = 10.0
LANGUAGE_PENALTY = 10.0
UNKNOWN_QUALITY = 40.0  # no benchmark and no size: counted as this, and said so
COST_REFERENCE_USD = 10.0
ENERGY_REFERENCE_WH = 0.3
CLOUD_SPEED_SCORE = 0.5  # hosted APIs: speed not estimated, counted as neutral
SPEED_TARGETS = {True: (10.0, 2.0), False: (5.0, 10.0)}  # interactive -> (tokens/s, TTFT s)
_INSTRUCTION_TASKS = frozenset({"chat", "extraction", "summarization", "rag", "creative",
                                "tool-calling", "qa"})


@dataclass(frozen=True, slots=True)
class ModelQuality:
    """Quality of one model for the profile before quantization: evidence, domain and penalties."""

    evidence: QualityEvidence
    domain: DomainFit
    points: float  # 0-100, before the quantization loss
    reasons: tuple[str, ...]
    blended: float | None = None  # evidence blended with the size prior (None: evidence used as is)


def quant_penalty(quant: str | None) -> float:
    """Quality points lost to ``quant`` (0 for unquantized weights and hosted APIs)."""
    if quant is None:
        return 0.0
    key = QUANT_ANALOGY.get(quant, quant)
    delta = QUANT_PPL_DELTA.get(key)
    if delta is None:
        return 2.0  # an unlisted quant (IQ*, ...): assume a little loss
    return min(MAX_QUANT_PENALTY, POINTS_PER_PPL * delta)


def _speaks(model: ModelSpec, language: str) -> bool | None:
    langs = {x.lower() for x in model.languages}
    if not langs:
        return None
    if "multilingual" in langs or "multilingual" in {s.lower() for s in model.specializations}:
        return True
    return language.lower() in langs


def model_quality(model: ModelSpec, profile: TaskProfile) -> ModelQuality:
    """Evidence and domain fit combined into one figure, with its reasons in words."""
    ev = quality_evidence(model, profile)
    dom = domain_fit(model, profile)
    reasons = []
    base = ev.score if ev.score is not None else UNKNOWN_QUALITY
    tasks = ", ".join(profile.tasks)
    prior = size_prior(model) if ev.basis in ("benchmarks", "general-benchmarks") else None
    blended = None
    if ev.score is None:
        reasons.append(f"quality unknown (no benchmark, no size): counted as {UNKNOWN_QUALITY:.0f}/100")
    else:
        reasons.append(f"expected quality for {tasks}: {ev.score:.0f}/100 ({ev.label}, "
                       f"confidence {ev.confidence:.2f})")
    if ev.score is not None and prior is not None:
        w = ev.confidence / (ev.confidence + PRIOR_CONFIDENCE)
        blended = base = w * ev.score + (1 - w) * prior
        reasons.append(f"blended with the size prior {prior:.0f} by confidence: {blended:.0f}/100")
    points = base + dom.adjustment
    if dom.adjustment:
        reasons.append(f"{dom.reason} ({dom.adjustment:+.0f} points)")
    if model.is_base and _INSTRUCTION_TASKS & set(profile.tasks):
        points -= BASE_PENALTY
        reasons.append(f"base model: needs few-shot prompting for instruction tasks (-{BASE_PENALTY:.0f} points)")
    missing = [lang for lang in profile.languages if lang.lower() not in ("en", "english")
               and _speaks(model, lang) is False]
    if missing:
        points -= LANGUAGE_PENALTY
        reasons.append(f"does not list {', '.join(missing)} among its languages (-{LANGUAGE_PENALTY:.0f} points)")
    return ModelQuality(ev, dom, max(0.0, min(100.0, points)), tuple(reasons), blended)


# -- the criteria --------------------------------------------------------------------------------

def _ratio_score(r: float) -> float:
    return r / (r + 0.25) if r > 0 else 0.0


def speed_targets(profile: TaskProfile, interactive: bool) -> tuple[float, float]:
    """(tokens/s, TTFT seconds) to judge speed against: the profile's, else the defaults."""
    tps, ttft = SPEED_TARGETS[interactive]
    return (profile.min_tokens_per_s or tps, profile.max_ttft_s or ttft)


def latency_s(e: Estimate) -> float | None:
    """Seconds for one request: time to first token plus the output at decode speed."""
    if e.speed is None:
        return None
    return e.speed.ttft_s + e.output_tokens / max(e.speed.decode_tokens_per_s, 1e-9)


def speed_score(e: Estimate, profile: TaskProfile, interactive: bool) -> float:
    if e.speed is None:
        return CLOUD_SPEED_SCORE
    tps, ttft = speed_targets(profile, interactive)
    s = (_ratio_score(e.speed.decode_tokens_per_s / tps) + _ratio_score(ttft / max(e.speed.ttft_s, 1e-6))) / 2
    busy = (latency_s(e) or 0.0) * profile.requests_per_day
    return s * 0.5 if busy > 86_400 else s  # the volume needs more than one such machine


def energy_wh(e: Estimate) -> float | None:
    """Wh per request: estimated locally, the geometric middle of published figures for APIs."""
    if e.energy is not None:
        return e.energy.wh_per_request
    if e.cloud_energy is not None:
        return math.sqrt(e.cloud_energy["wh_per_request_low"] * e.cloud_energy["wh_per_request_high"])
    return None


def cost_score(e: Estimate, profile: TaskProfile) -> float:
    month = e.cost.per_month
    if profile.budget_per_month:
        return max(0.0, 1.0 - month / profile.budget_per_month)
    return 1.0 / (1.0 + month / COST_REFERENCE_USD)


def fit_score(e: Estimate, context: int) -> float:
    ctx_limit = e.context_limit or e.max_context or context
    ctx = min(1.0, max(0.0, (ctx_limit / max(context, 1) - 1.0)))
    if e.memory is None:
        return 0.5 + 0.5 * ctx
    p = e.memory
    mem = min(1.0, max(0.0, p.headroom_bytes / max(p.usable_bytes, 1) / 0.3))
    s = 0.7 * mem + 0.3 * ctx
    return s * 0.5 if p.placement == "partial-offload" else s


@dataclass(frozen=True, slots=True)
class Scored:
    score: float  # 0-100
    components: dict[str, float]  # criterion -> 0-1
    quality_points: float  # after the quantization loss


def score(e: Estimate, q: ModelQuality, profile: TaskProfile, interactive: bool, context: int) -> Scored:
    """The weighted 0-100 score of one configuration (see the module docstring)."""
    qp = max(0.0, q.points - quant_penalty(e.quant))
    comp = {"quality": qp / 100.0, "speed": speed_score(e, profile, interactive),
            "cost": cost_score(e, profile), "energy": 1.0 / (1.0 + (energy_wh(e) or 0.0) / ENERGY_REFERENCE_WH),
            "fit": fit_score(e, context)}
    w = profile.weights.normalized()
    total = 100.0 * sum(w[k] * comp[k] for k in comp)
    return Scored(round(total, 2), {k: round(v, 4) for k, v in comp.items()}, round(qp, 2))


# -- reasons in words -----------------------------------------------------------------------------

def _gb(n: float) -> str:
    return f"{n / 1024**3:.1f} GiB"


def _money(x: float) -> str:
    return f"${x:,.2f}" if x >= 0.01 or x == 0 else f"${x:.4f}"


def config_reasons(e: Estimate, profile: TaskProfile, interactive: bool, q: ModelQuality) -> list[str]:
    """What the estimate says about this configuration, in plain words."""
    out = []
    pen = quant_penalty(e.quant)
    if e.memory is not None:
        p = e.memory
        where = {"partial-offload": "partly offloaded to system RAM (slower)",
                 "cpu": "on the CPU"}.get(p.placement, f"on the {p.placement}")
        out.append(f"{e.quant} on {e.engine}, {where}: needs {_gb(p.total_bytes)} of {_gb(p.usable_bytes)} "
                   f"usable ({_gb(max(p.headroom_bytes, 0))} headroom)")
        if pen >= 0.5:
            out.append(f"{e.quant} loses about {pen:.1f} quality points to quantization")
    else:
        out.append("hosted API: runs on the provider's hardware")
    out.extend(_speed_words(e, profile, interactive))
    per = "per month at your volume" if profile.requests_per_day else "per month"
    if e.cost.kind == "cloud":
        out.append(f"{_money(e.cost.per_month)} {per} ({_money(e.cost.per_request)} per request, prices "
                   f"of {e.cost.price_date})")
    else:
        hw_part = " incl. hardware" if e.cost.hardware_per_month else " (electricity only)"
        out.append(f"{_money(e.cost.per_month)} {per}{hw_part}, estimated")
    wh = energy_wh(e)
    if e.energy is not None and wh is not None:
        out.append(f"about {wh:.3g} Wh per request (estimated)")
    elif e.cloud_energy is not None:
        out.append(f"{e.cloud_energy['wh_per_request_low']:g}-{e.cloud_energy['wh_per_request_high']:g} Wh per "
                   "request (range of published estimates)")
    return out


def _speed_words(e: Estimate, profile: TaskProfile, interactive: bool) -> list[str]:
    if e.speed is None:
        return ["speed of hosted APIs is not estimated (it depends on the provider's load)"]
    sp = e.speed
    tps, ttft = speed_targets(profile, interactive)
    met = sp.decode_tokens_per_s >= tps and sp.ttft_s <= ttft
    verdict = "meets" if met else "misses"
    out = [f"about {sp.decode_tokens_per_s:.0f} tokens/s, first token after {sp.ttft_s:.2g} s "
           f"(estimated; {verdict} the target of {tps:g} tokens/s and {ttft:g} s)"]
    busy = (latency_s(e) or 0.0) * profile.requests_per_day
    if busy > 86_400:
        out.append(f"{profile.requests_per_day:,.0f} requests a day need about {busy / 3600:,.0f} hours of "
                   "generation a day at batch 1: batch requests or add machines")
    return out


# -- Pareto fronts and the ladder -----------------------------------------------------------------

def pareto_front(items: list[tuple[str, float, float]]) -> list[tuple[str, float, float]]:
    """Items (id, quality, value) not beaten by another with quality >= and value <= (one strictly)."""
    ordered = sorted(items, key=lambda t: (t[2], -t[1], t[0]))
    front: list[tuple[str, float, float]] = []
    best = -math.inf
    for item in ordered:
        if item[1] > best:
            front.append(item)
            best = item[1]
    return front
