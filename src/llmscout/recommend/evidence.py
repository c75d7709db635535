"""How good is a model likely to be at *this* task? Published scores turned into one 0-100 figure.

Every task maps to the benchmarks that speak to it, each with a *directness* weight (1.0 = the
benchmark measures the task itself, 0.3 = it only hints at it). A model's scores are normalised
to 0-100, weighted by directness x provenance (independent 1.0, self-reported 0.8) x age
(full weight for a year, then 0.1 less per year, at least 0.7), and averaged per task; the task
figures are averaged. ``confidence`` (0-1) grows with the total weight of evidence and falls
for tasks without any.

Normalisation:
- percentages stay as they are (fractions such as 0.87 become 87);
- MT-Bench (0-10) is multiplied by 10;
- Arena Elo becomes the chance, in %, that the model's answer is preferred over that of a model
  rated 1000 under the Elo model: ``100 / (1 + 10 ** ((1000 - elo) / 400))`` (1000 -> 50,
  1200 -> 76, 1400 -> 91). Arena ratings are relative: compare only ratings of one snapshot.
  Chatbot Arena ranks models from crowdsourced pairwise votes (arXiv 2403.04132, read at
  https://hf.zsm.im/papers/2403.04132.md).

Caveat: benchmarks differ in difficulty (a model scoring 88 on MMLU may score 50 on GPQA), so
averages over different benchmark sets are only roughly comparable; confidence says how much
evidence there is, not how comparable it is.

Without a usable benchmark, a *size prior* stands in: an MMLU-like figure from the (active)
parameter count and the release year, clearly labelled "prior from size, no benchmark" and
given low confidence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from llmscout.catalog.spec import Benchmark, ModelSpec
from llmscout.recommend.profile import TaskProfile

EvidenceBasis = Literal["benchmarks", "general-benchmarks", "prior", "none"]

KIND_WEIGHT = {"independent": 1.0, "self-reported": 0.8}
UNDATED_WEIGHT = 0.9
PRIOR_CONFIDENCE = 0.15
GENERAL_DIRECTNESS = 0.3  # a broad benchmark used when no task-specific one exists
ELO_REFERENCE = 1000.0  # the rating a new player starts with in Elo; 50 on the 0-100 scale
_STRENGTH_SCALE = 1.5  # total weight at which confidence reaches ~63% (1 - 1/e)
_MAX_CONFIDENCE = 0.95

# canonical name -> how its scores are expressed
_SCALE: dict[str, str] = {"Arena Elo": "elo", "MT-Bench": "ten"}

# canonical name -> normalised spellings (lowercase, only letters, digits and '+')
_ALIASES: dict[str, tuple[str, ...]] = {
    "HumanEval": ("humaneval",),
    "HumanEval+": ("humaneval+", "humanevalplus"),
    "MBPP": ("mbpp",),
    "MBPP+": ("mbpp+", "mbppplus"),
    "LiveCodeBench": ("livecodebench", "lcb"),
    "SWE-bench Verified": ("swebenchverified", "swebench"),
    "Aider Polyglot": ("aiderpolyglot", "aider"),
    "GSM8K": ("gsm8k",),
    "MATH": ("math", "hendrycksmath"),
    "MATH-500": ("math500",),
    "AIME": ("aime",),
    "GPQA": ("gpqa", "gpqadiamond"),
    "MMLU-Pro": ("mmlupro",),
    "MMLU": ("mmlu",),
    "MMMLU": ("mmmlu", "multilingualmmlu"),
    "MGSM": ("mgsm",),
    "FLORES": ("flores", "flores200", "flores101"),
    "IFEval": ("ifeval",),
    "Arena Elo": ("arenaelo", "arena", "lmarena", "chatbotarena", "lmsysarena", "lmarenaelo"),
    "Arena-Hard": ("arenahard", "arenahardauto"),
    "MT-Bench": ("mtbench",),
    "BFCL": ("bfcl", "berkeleyfunctioncalling", "berkeleyfunctioncallingleaderboard"),
    "HellaSwag": ("hellaswag",),
    "ARC-Challenge": ("arcchallenge", "arcc"),
    "MMMU": ("mmmu",),
    "MMBench": ("mmbench",),
    "TextVQA": ("textvqa",),
}
_PREFIXES = (("aime", "AIME"), ("gpqa", "GPQA"), ("livecodebench", "LiveCodeBench"),
             ("flores", "FLORES"), ("mmlupro", "MMLU-Pro"), ("swebench", "SWE-bench Verified"),
             ("arenahard", "Arena-Hard"), ("humanevalplus", "HumanEval+"))
_BY_KEY = {alias: canon for canon, keys in _ALIASES.items() for alias in keys}

# task -> {benchmark: directness}
TASK_BENCHMARKS: dict[str, dict[str, float]] = {
    "code": {"HumanEval": 1.0, "HumanEval+": 1.0, "MBPP": 0.9, "MBPP+": 0.9, "LiveCodeBench": 1.0,
             "SWE-bench Verified": 0.7, "Aider Polyglot": 0.7},
    "reasoning": {"MATH": 1.0, "MATH-500": 1.0, "AIME": 0.9, "GPQA": 0.9, "GSM8K": 0.8,
                  "MMLU-Pro": 0.6},
    "qa": {"MMLU-Pro": 1.0, "MMLU": 0.9, "GPQA": 0.7, "Arena Elo": 0.4, "HellaSwag": 0.3,
           "ARC-Challenge": 0.4},
    "rag": {"MMLU-Pro": 0.6, "MMLU": 0.6, "IFEval": 0.6, "Arena Elo": 0.5},
    "extraction": {"IFEval": 1.0, "Arena Elo": 0.4, "MMLU": 0.3},
    "classification": {"MMLU": 0.6, "MMLU-Pro": 0.6, "IFEval": 0.5, "HellaSwag": 0.3},
    "chat": {"Arena Elo": 1.0, "MT-Bench": 0.9, "Arena-Hard": 0.9, "IFEval": 0.8, "MMLU": 0.3},
    "summarization": {"IFEval": 0.5, "Arena Elo": 0.5, "MT-Bench": 0.4, "Arena-Hard": 0.4},
    "translation": {"FLORES": 1.0, "MMMLU": 0.7, "MGSM": 0.6},
    "creative": {"Arena Elo": 0.8, "MT-Bench": 0.7, "Arena-Hard": 0.6},
    "tool-calling": {"BFCL": 1.0, "IFEval": 0.6},
    "vision": {"MMMU": 1.0, "MMBench": 0.9, "TextVQA": 0.8},
}
# added (scaled) to every task when the profile needs a language other than English
MULTILINGUAL_BENCHMARKS: dict[str, float] = {"MMMLU": 0.7, "MGSM": 0.6, "FLORES": 0.6}
# broad ability: knowledge, reasoning, instruction following (code benchmarks say too little here)
GENERAL_BENCHMARKS: tuple[str, ...] = ("MMLU-Pro", "MMLU", "Arena Elo", "IFEval", "GPQA", "MATH",
                                       "GSM8K", "HellaSwag", "ARC-Challenge")

# Size prior: score = intercept(release year) + 22 * log10(billions of parameters), clamped to
# 25..90 (25 = chance on four-way multiple choice). A rough curve set by eye through the
# self-reported MMLU of the Gemma and Phi models in the bundled catalog (e.g. Gemma 2 2B 51.3,
# Gemma 2 9B 71.3, Gemma 2 27B 75.2, Phi-3-medium 78.0); newer generations get more out of the
# same size. It is a fallback, not a prediction to rely on.
_PRIOR_SLOPE = 22.0
_PRIOR_INTERCEPT = {2022: 30.0, 2023: 38.0, 2024: 45.0, 2025: 50.0}
_PRIOR_UNKNOWN_YEAR = 40.0

_DOMAIN_SPECS = {"medical", "legal", "finance", "science", "math", "code"}
_SPEC_DOMAIN = {"math": "science"}


@dataclass(frozen=True, slots=True)
class BenchmarkUse:
    """One published score and how much it counted."""

    name: str  # as published
    canonical: str
    task: str
    raw_score: float
    score: float  # 0-100
    directness: float
    weight: float  # directness x provenance x age
    kind: str
    date: str | None
    source: str

    def explain(self) -> str:
        when = self.date or "undated"
        raw = f"{self.raw_score:g}" + ("" if self.raw_score == self.score else f" -> {self.score:.1f}")
        how = "direct" if self.directness >= 0.9 else "partial" if self.directness >= 0.5 else "indirect"
        return (f"{self.name} {raw} ({self.kind}, {when}): {how} evidence for {self.task}, "
                f"weight {self.weight:.2f}")


@dataclass(frozen=True, slots=True)
class QualityEvidence:
    """Expected quality for a task profile, with what it rests on."""

    score: float | None  # 0-100
    confidence: float  # 0-1
    basis: EvidenceBasis
    used: tuple[BenchmarkUse, ...] = ()
    per_task: Mapping[str, float] = field(default_factory=dict)
    missing_tasks: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        if self.basis == "prior":
            return "prior from size, no benchmark"
        if self.basis == "none":
            return "no benchmark and no size known"
        n = len({u.canonical for u in self.used})
        kind = "general benchmark" if self.basis == "general-benchmarks" else "benchmark"
        return f"from {n} {kind}{'s' if n != 1 else ''}"

    def explain(self) -> list[str]:
        """Plain-sentence lines for reports: the figure, then each score used."""
        head = "quality unknown" if self.score is None else f"quality {self.score:.0f}/100"
        lines = [f"{head} ({self.label}, confidence {self.confidence:.2f})"]
        lines += [u.explain() for u in self.used]
        if self.missing_tasks:
            lines.append("no benchmark for: " + ", ".join(self.missing_tasks))
        return lines + list(self.notes)


@dataclass(frozen=True, slots=True)
class DomainFit:
    """Adjustment, in points of the 0-100 quality scale, for a model's specialisation."""

    adjustment: float
    reason: str


# -- names and scales ---------------------------------------------------------------------

def _key(name: str) -> str:
    text = re.sub(r"\(.*?\)", "", name.lower())
    return re.sub(r"[^a-z0-9+]", "", text.replace("plus", "+") if "humaneval" in text or "mbpp" in text
                  else text)


def canonical_benchmark(name: str) -> str | None:
    """The canonical name of a benchmark, matched case-insensitively with aliases.

    >>> canonical_benchmark("humaneval_plus"), canonical_benchmark("GPQA Diamond")
    ('HumanEval+', 'GPQA')
    """
    key = _key(name)
    if key in _BY_KEY:
        return _BY_KEY[key]
    for prefix, canon in _PREFIXES:
        if key.startswith(prefix):
            return canon
    return None


def elo_to_score(elo: float) -> float:
    """Arena Elo -> % chance of being preferred over a model rated 1000 (see module docstring)."""
    return 100.0 / (1.0 + 10.0 ** ((ELO_REFERENCE - elo) / 400.0))


def normalize_score(name: str, score: float) -> float | None:
    """A published score on the 0-100 scale, or None when it cannot be one."""
    canon = canonical_benchmark(name)
    scale = _SCALE.get(canon or "", "percent")
    if not isinstance(score, int | float) or isinstance(score, bool) or not math.isfinite(score):
        return None
    if scale == "elo":
        return elo_to_score(float(score))
    if scale == "ten":
        value = score * 10.0 if score <= 10 else float(score)
    else:
        value = score * 100.0 if 0 < score <= 1 else float(score)
    return value if 0 <= value <= 100 else None


def _age_weight(when: str | None, as_of: date) -> float:
    if not when:
        return UNDATED_WEIGHT
    try:
        published = date.fromisoformat(str(when)[:10])
    except ValueError:
        try:
            published = date(int(str(when)[:4]), 6, 30)
        except ValueError:
            return UNDATED_WEIGHT
    years = max(0.0, (as_of - published).days / 365.25)
    return max(0.7, 1.0 - 0.1 * max(0.0, years - 1.0))


# -- the evidence ---------------------------------------------------------------------------

def _task_map(task: str, profile: TaskProfile) -> dict[str, float]:
    mapping = dict(TASK_BENCHMARKS.get(task, {}))
    if any(lang.lower() not in ("en", "english") for lang in profile.languages):
        for bench, direct in MULTILINGUAL_BENCHMARKS.items():
            scaled = direct if task == "translation" else direct * 0.7
            mapping[bench] = max(mapping.get(bench, 0.0), scaled)
    return mapping


def _uses(model: ModelSpec, task: str, mapping: Mapping[str, float], as_of: date) -> list[BenchmarkUse]:
    out: list[BenchmarkUse] = []
    for b in model.benchmarks:
        canon = canonical_benchmark(b.name)
        if canon is None or canon not in mapping:
            continue
        score = normalize_score(b.name, b.score)
        if score is None:
            continue
        weight = mapping[canon] * KIND_WEIGHT.get(b.kind, 0.8) * _age_weight(b.date, as_of)
        out.append(_use(b, canon, task, score, mapping[canon], weight))
    return out


def _use(b: Benchmark, canon: str, task: str, score: float, directness: float, weight: float) -> BenchmarkUse:
    return BenchmarkUse(name=b.name, canonical=canon, task=task, raw_score=float(b.score), score=score,
                        directness=directness, weight=round(weight, 4), kind=b.kind, date=b.date,
                        source=b.source)


def _strength(total_weight: float) -> float:
    return 1.0 - math.exp(-total_weight / _STRENGTH_SCALE)


def quality_evidence(model: ModelSpec, profile: TaskProfile, *, as_of: date | None = None) -> QualityEvidence:
    """Expected quality (0-100) of ``model`` for ``profile``'s tasks, with confidence and sources.

    Args:
        model: the catalog record (its ``benchmarks`` are the evidence).
        profile: tasks and languages decide which benchmarks count and how much.
        as_of: date used to age the evidence (default: today).

    Example:
        >>> from llmscout.catalog import ModelSpec, Benchmark
        >>> m = ModelSpec(id="x/y", name="Y", family="y", developer="x", kind="open",
        ...               tuning=("instruct",), license="mit", sources={"id": "u"}, params=7_000_000_000,
        ...               benchmarks=(Benchmark("HumanEval", 60.0, "u", "2025-01-01", "independent"),))
        >>> quality_evidence(m, TaskProfile(tasks=("code",)), as_of=date(2025, 6, 1)).score
        60.0
    """
    as_of = as_of or date.today()
    per_task: dict[str, float] = {}
    used: list[BenchmarkUse] = []
    strengths: list[float] = []
    missing: list[str] = []
    for task in profile.tasks:
        uses = _uses(model, task, _task_map(task, profile), as_of)
        total = sum(u.weight for u in uses)
        if total <= 0:
            missing.append(task)
            strengths.append(0.0)
            continue
        per_task[task] = round(sum(u.weight * u.score for u in uses) / total, 2)
        strengths.append(_strength(total))
        used.extend(uses)
    notes = _notes(model, profile)
    if per_task:
        score = round(sum(per_task.values()) / len(per_task), 2)
        confidence = min(_MAX_CONFIDENCE, sum(strengths) / len(strengths))
        return QualityEvidence(score, round(confidence, 3), "benchmarks", tuple(used), per_task,
                               tuple(missing), notes)
    general = _general_evidence(model, profile, as_of, notes)
    return general if general is not None else _prior(model, profile, notes)


def _general_evidence(model: ModelSpec, profile: TaskProfile, as_of: date,
                      notes: tuple[str, ...]) -> QualityEvidence | None:
    mapping = {name: GENERAL_DIRECTNESS for name in GENERAL_BENCHMARKS}
    uses = _uses(model, "general ability", mapping, as_of)
    total = sum(u.weight for u in uses)
    if total <= 0:
        return None
    score = round(sum(u.weight * u.score for u in uses) / total, 2)
    note = ("no benchmark measures " + ", ".join(profile.tasks) + " for this model; "
            "broad benchmarks stand in, so confidence is low")
    confidence = min(_MAX_CONFIDENCE, _strength(total)) * 0.5
    return QualityEvidence(score, round(confidence, 3), "general-benchmarks", tuple(uses), {},
                           tuple(profile.tasks), (note, *notes))


def size_prior(model: ModelSpec) -> float | None:
    """MMLU-like prior from the parameter count and release year (None without a size).

    Mixture-of-experts models use the geometric mean of active and total parameters.
    """
    total = model.params
    active = model.active_params or total
    if not total or not active:
        return None
    billions = math.sqrt(active * total) / 1e9  # = total for dense models
    year = int(model.released[:4]) if model.released and model.released[:4].isdigit() else None
    if year is None:
        intercept = _PRIOR_UNKNOWN_YEAR
    else:
        intercept = _PRIOR_INTERCEPT[min(max(year, 2022), 2025)]
    value = intercept + _PRIOR_SLOPE * math.log10(billions)
    return round(min(90.0, max(25.0, value)), 2)


def _prior(model: ModelSpec, profile: TaskProfile, notes: tuple[str, ...]) -> QualityEvidence:
    prior = size_prior(model)
    if prior is None:
        return QualityEvidence(None, 0.0, "none", (), {}, tuple(profile.tasks),
                               ("no benchmark and no parameter count: quality unknown", *notes))
    size = (model.active_params or model.params or 0) / 1e9
    note = (f"prior from size, no benchmark: {prior:.0f} on an MMLU-like scale for {size:.1f}B "
            f"(active) parameters, released {model.released or 'at an unknown date'}; a rough curve, "
            "verify on your own examples")
    return QualityEvidence(prior, PRIOR_CONFIDENCE, "prior", (), {}, tuple(profile.tasks), (note, *notes))


_INSTRUCTION_TASKS = {"chat", "extraction", "summarization", "rag", "creative", "tool-calling", "qa"}


def _notes(model: ModelSpec, profile: TaskProfile) -> tuple[str, ...]:
    notes: list[str] = []
    if model.is_base and _INSTRUCTION_TASKS & set(profile.tasks):
        notes.append("base model: it continues text and does not follow instructions; its scores come "
                     "from few-shot prompts, so use few-shot prompting or pick an instruct variant")
    return tuple(notes)


# -- domain -----------------------------------------------------------------------------------

def _domains_of(model: ModelSpec) -> set[str]:
    specs = {s.lower() for s in model.specializations} & _DOMAIN_SPECS
    if "code" in model.tuning:
        specs.add("code")
    return specs


_FIELD_SPECS = {"medical", "legal", "finance", "science"}


def _is_narrow(model: ModelSpec) -> bool:
    """Built for one domain: a code-tuned model, a medical/legal/finance/science fine-tune, or a
    maths-only model. Catalog ``specializations`` such as [math, code] on a general instruct model
    name strengths, not a narrow purpose, so they do not count."""
    if "code" in model.tuning:
        return True
    specs = {s.lower() for s in model.specializations}
    return bool(specs & _FIELD_SPECS) or specs == {"math"}


def domain_fit(model: ModelSpec, profile: TaskProfile) -> DomainFit:
    """Bonus for a model specialised in the profile's domain (or code for code tasks), penalty
    for a narrowly specialised model used outside its domain; 0 for general models.

    Points are added to the 0-100 quality figure: +8 in-domain, +5 code/maths model for code or
    reasoning tasks, -8 code-only model without code tasks, -10 other specialist out of domain.
    """
    specs = _domains_of(model)
    if not specs:
        return DomainFit(0.0, "general-purpose model")
    wanted = profile.domain
    served = {_SPEC_DOMAIN.get(s, s) for s in specs}
    names = ", ".join(sorted(specs))
    if wanted != "general" and wanted in served:
        return DomainFit(8.0, f"specialised for {wanted}, the domain of this task")
    if "code" in specs and "code" in profile.tasks:
        return DomainFit(5.0, "code model for a code task")
    if "math" in specs and "reasoning" in profile.tasks:
        return DomainFit(5.0, "maths model for a reasoning task")
    if not _is_narrow(model):
        return DomainFit(0.0, f"general model with strengths in {names}")
    if specs == {"code"}:
        return DomainFit(-8.0, "code model used for tasks without code")
    where = "" if wanted == "general" else f" (this task is {wanted})"
    return DomainFit(-10.0, f"specialised for {names}, used outside its domain{where}")
