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

Common scales. Raw scores on different benchmarks are not comparable: a model scoring 85 on
HumanEval scores about 15 on LiveCodeBench, and one scoring 88 on MMLU about 50 on GPQA. So each
task expresses its figure on the scale of one *reference* benchmark (``TASK_REFERENCE``: HumanEval
for code, MATH for reasoning, MMLU for knowledge tasks and the broad fallback, IFEval for
instruction following, Arena Elo for chat and creative writing), and every other benchmark is
put on that scale, before averaging, by a *link* fitted on the bundled catalog itself:

- pairs: the catalog models that report both the benchmark and the reference (a model reporting
  one several times counts once, with its mean). Pairs compare each model with itself, which
  percentiles or z-scores over all reporters of a benchmark would not: who reports a benchmark is
  not random (LiveCodeBench and GPQA come mostly from recent, large models), so a percentile
  among reporters would rank a small model low for the company it keeps;
- log-odds: each score becomes ``ln(p / (1 - p))`` of the share ``p`` of the range above chance
  it covers (``CHANCE``: 25 on four-option MMLU and GPQA, 10 on ten-option MMLU-Pro, else 0),
  clipped to 2-98%, so bounded scores are not squeezed at the top and guessing counts as nothing;
- linear equating of the paired log-odds: the link ``y = a + b x`` gives the pairs the same mean
  and standard deviation on both benchmarks, ``b = sd(y) / sd(x)``, ``a = mean(y) - b mean(x)``
  (https://metricgate.com/docs/linear-equating; textbook: Kolen & Brennan 2004, "Test Equating,
  Scaling, and Linking"). It is strictly increasing, so the order within one benchmark is kept,
  and symmetric: unlike a regression it does not pull scores towards the average;
- few pairs: the slope is shrunk towards 1 as if ``SLOPE_PRIOR_PAIRS`` (5) more models sat on a
  pure shift, ``b = (n b_fit + 5) / (n + 5)``, kept within 0.25-4. Below ``MIN_PAIRS`` (4) models
  the link is chained through the intermediate benchmark with the most models on both legs
  ("chain" linear equating through an anchor test: von Davier & Kong, ETS RR-03-31, read at
  https://vdocuments.mx/document/a-unified-approach-to-linear-equating-for-the-nonequivalent-groups-design.html);
  without one, the score stays on its own scale, says so, and counts half (``UNLINKED_WEIGHT``);
- equating error grows towards the extremes, so a score more than 5 points outside the scores
  the link was fitted on is still mapped (keeping the order) but counts half
  (``EXTRAPOLATED_WEIGHT``): e.g. reasoning models' LiveCodeBench scores, measured with long
  thinking, lie above those of the instruct models the code link is fitted on;
- ``SAME_SCALE``: MATH-500 is a random sample of MATH's problems, so it is read as MATH.

The links use only the bundled catalog (user additions do not move them), are fitted once per
catalog object (``catalog_scales``; about 5 ms, then each link on first use), and are
deterministic: they depend on the set of scores, not their order. Every rescaled score says so in
the explanation, e.g. "LiveCodeBench 30 ≈ 87 on the HumanEval scale (fitted on 9 models that
report both)", and ``describe_scales()`` lists every link a task uses, with sample points.

Without a usable benchmark, a *size prior* stands in: an MMLU-like figure from the (active)
parameter count and the release year, clearly labelled "prior from size, no benchmark" and
given low confidence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
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

# task -> the benchmark whose scale its figure is expressed on: its most direct, most reported
# benchmark; MMLU rather than MMLU-Pro so knowledge figures sit on the size prior's scale
TASK_REFERENCE: dict[str, str] = {
    "code": "HumanEval", "reasoning": "MATH", "qa": "MMLU", "rag": "MMLU", "extraction": "IFEval",
    "classification": "MMLU", "chat": "Arena Elo", "summarization": "IFEval", "translation": "MMLU",
    "creative": "Arena Elo", "tool-calling": "IFEval", "vision": "MMMU",
}
GENERAL_REFERENCE = "MMLU"
MIN_PAIRS = 4  # models reporting both benchmarks, fewer: link through an intermediate benchmark
SLOPE_PRIOR_PAIRS = 5.0  # the fitted slope is shrunk towards 1 as if this many more models agreed
UNLINKED_WEIGHT = 0.5  # a score that cannot be put on the task's scale counts half
EXTRAPOLATED_WEIGHT = 0.5  # so does one outside the scores its link was fitted on ...
EXTRAPOLATION_MARGIN = 5.0  # ... by more than this many points
_SLOPE_RANGE = (0.25, 4.0)
_CLIP = 0.02  # share of the range above chance; log-odds of 0 and 1 are infinite, and scores at
# chance or at the ceiling are mostly noise
# random guessing scores this on multiple-choice benchmarks: four options on MMLU and GPQA, ten on
# MMLU-Pro (https://huggingface.co/datasets/TIGER-Lab/MMLU-Pro README, "What's the difference";
# GPQA's A-D prompt: https://ukgovernmentbeis.github.io/inspect_evals/evals/knowledge/gpqa/index.html)
CHANCE: dict[str, float] = {"MMLU": 25.0, "GPQA": 25.0, "MMLU-Pro": 10.0}
# benchmarks that are a random sample of another's problems, so share its scale: MATH-500 is 500
# problems drawn uniformly at random from the MATH test set (Lightman et al. 2023, "Let's Verify
# Step by Step"; read at https://aiwiki.ai/wiki/math_500)
SAME_SCALE: dict[str, str] = {"MATH-500": "MATH"}

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
    score: float  # 0-100 on the reference's scale (what is averaged)
    directness: float
    weight: float  # directness x provenance x age (x 0.5 when unlinked or extrapolated)
    kind: str
    date: str | None
    source: str
    native: float | None = None  # 0-100 on its own scale; None: same as ``score``
    reference: str | None = None  # the scale ``score`` is on
    link: str | None = None  # how it was put there, or why it was not

    def explain(self) -> str:
        when = self.date or "undated"
        own = self.score if self.native is None else self.native
        raw = f"{self.raw_score:g}" + ("" if self.raw_score == own else f" -> {own:.1f}")
        how = "direct" if self.directness >= 0.9 else "partial" if self.directness >= 0.5 else "indirect"
        if self.native is not None:
            raw += f" ≈ {self.score:.0f} on the {self.reference} scale ({self.link})"
        elif self.link:
            raw += f" ({self.link})"
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


# -- common scales (see the module docstring) ------------------------------------------------------

def _logit(score: float, bench: str) -> float:
    """Log-odds of the share of the range above chance that ``score`` covers."""
    floor = CHANCE.get(bench, 0.0)
    p = min(1.0 - _CLIP, max(_CLIP, (score - floor) / (100.0 - floor)))
    return math.log(p / (1.0 - p))


def _expit(x: float, bench: str) -> float:
    floor = CHANCE.get(bench, 0.0)
    return floor + (100.0 - floor) / (1.0 + math.exp(-x))


@dataclass(frozen=True, slots=True)
class ScaleLink:
    """How scores on ``benchmark`` read on ``reference``'s scale: a straight line in log-odds."""

    benchmark: str
    reference: str
    slope: float
    intercept: float
    pairs: tuple[int, ...]  # models that report both, one count per leg
    via: str | None = None  # intermediate benchmark of a two-leg link
    span: tuple[float, float] = (0.0, 100.0)  # lowest and highest ``benchmark`` score fitted on

    def covers(self, score: float) -> bool:
        """Whether ``score`` lies within the fitted scores (give or take EXTRAPOLATION_MARGIN)."""
        return self.span[0] - EXTRAPOLATION_MARGIN <= score <= self.span[1] + EXTRAPOLATION_MARGIN

    def apply(self, score: float) -> float:
        """A 0-100 score on ``benchmark`` expressed on the reference's 0-100 scale."""
        if not self.pairs:  # the same scale
            return score
        return round(_expit(self.intercept + self.slope * _logit(score, self.benchmark), self.reference), 2)

    def then(self, other: ScaleLink) -> ScaleLink:
        """This link followed by ``other`` (whose benchmark is this link's reference)."""
        return ScaleLink(self.benchmark, other.reference, self.slope * other.slope,
                         other.intercept + other.slope * self.intercept, self.pairs + other.pairs,
                         self.reference, self.span)

    def describe(self) -> str:
        if not self.pairs:
            return f"a random sample of {self.reference}'s problems: the same scale"
        if self.via is None:
            return f"fitted on {self.pairs[0]} models that report both"
        return (f"linked through {self.via}: fitted on {self.pairs[0]} models that report "
                f"{self.benchmark} and {self.via}, {self.pairs[1]} that report {self.via} and {self.reference}")


class BenchmarkScales:
    """Links between benchmark scales fitted on a set of models (computed on demand, then kept).

    >>> from llmscout.catalog import bundled_catalog
    >>> link = BenchmarkScales(bundled_catalog()).link("LiveCodeBench", "HumanEval")
    >>> link.apply(30) > 70
    True
    """

    def __init__(self, models: Iterable[ModelSpec]) -> None:
        table: dict[str, dict[str, float]] = {}  # benchmark -> model id -> mean log-odds
        for m in models:
            per: dict[str, list[float]] = {}
            for b in m.benchmarks:
                canon, score = canonical_benchmark(b.name), normalize_score(b.name, b.score)
                if canon is not None and score is not None:
                    canon = SAME_SCALE.get(canon, canon)
                    per.setdefault(canon, []).append(_logit(score, canon))
            for canon, values in per.items():
                table.setdefault(canon, {})[m.id] = math.fsum(values) / len(values)
        self._table = table
        self._links: dict[tuple[str, str], ScaleLink | None] = {}

    @property
    def benchmarks(self) -> tuple[str, ...]:
        return tuple(sorted(self._table))

    def pairs(self, a: str, b: str) -> int:
        """How many models report both benchmarks."""
        a, b = SAME_SCALE.get(a, a), SAME_SCALE.get(b, b)
        return len(self._table.get(a, {}).keys() & self._table.get(b, {}).keys())

    def link(self, benchmark: str, reference: str) -> ScaleLink | None:
        """The link from ``benchmark`` to ``reference`` (None: the same one, or no link possible)."""
        key = (benchmark, reference)
        if key not in self._links:
            self._links[key] = self._find(benchmark, reference)
        return self._links[key]

    def _find(self, benchmark: str, reference: str) -> ScaleLink | None:
        if benchmark == reference:
            return None
        source, target = SAME_SCALE.get(benchmark, benchmark), SAME_SCALE.get(reference, reference)
        if source == target:
            return ScaleLink(benchmark, reference, 1.0, 0.0, ())
        link = self._fit(source, target)
        if link is None:
            best: tuple[int, str] | None = None
            for via in sorted(self._table):
                n = min(self.pairs(source, via), self.pairs(via, target))
                if via not in (source, target) and n >= MIN_PAIRS and (best is None or n > best[0]):
                    best = (n, via)
            first = second = None
            if best is not None:
                first, second = self._fit(source, best[1]), self._fit(best[1], target)
            link = first.then(second) if first is not None and second is not None else None
        return None if link is None else replace(link, benchmark=benchmark, reference=reference)

    def _fit(self, benchmark: str, reference: str) -> ScaleLink | None:
        xs_by, ys_by = self._table.get(benchmark, {}), self._table.get(reference, {})
        common = sorted(xs_by.keys() & ys_by.keys())
        n = len(common)
        if n < MIN_PAIRS:
            return None
        xs, ys = [xs_by[k] for k in common], [ys_by[k] for k in common]
        mx, my = math.fsum(xs) / n, math.fsum(ys) / n
        sx = math.sqrt(math.fsum((x - mx) ** 2 for x in xs) / n)
        sy = math.sqrt(math.fsum((y - my) ** 2 for y in ys) / n)
        fitted = sy / sx if sx > 1e-9 and sy > 1e-9 else 1.0
        slope = (n * fitted + SLOPE_PRIOR_PAIRS) / (n + SLOPE_PRIOR_PAIRS)
        slope = min(_SLOPE_RANGE[1], max(_SLOPE_RANGE[0], slope))
        intercept = my - slope * mx
        span = (round(_expit(min(xs), benchmark), 1), round(_expit(max(xs), benchmark), 1))
        return ScaleLink(benchmark, reference, round(slope, 6), round(intercept, 6), (n,), span=span)


_CATALOG_SCALES: list[tuple[object, BenchmarkScales]] = []


def catalog_scales() -> BenchmarkScales:
    """Links fitted on the bundled catalog, computed once per catalog object."""
    from llmscout.catalog import bundled_catalog

    catalog = bundled_catalog()
    if not _CATALOG_SCALES or _CATALOG_SCALES[0][0] is not catalog:
        _CATALOG_SCALES[:] = [(catalog, BenchmarkScales(catalog))]
    return _CATALOG_SCALES[0][1]


def describe_scales(scales: BenchmarkScales | None = None) -> list[str]:
    """One line per benchmark and task reference: how its scores are read on that scale."""
    scales = scales or catalog_scales()
    received: dict[str, set[str]] = {GENERAL_REFERENCE: set(GENERAL_BENCHMARKS)}
    for task, reference in TASK_REFERENCE.items():
        received.setdefault(reference, set()).update(TASK_BENCHMARKS[task], MULTILINGUAL_BENCHMARKS)
    lines = []
    for reference in sorted(received):
        for bench in sorted(received[reference] - {reference}):
            link = scales.link(bench, reference)
            if link is None:
                lines.append(f"{bench} -> {reference}: not linked (fewer than {MIN_PAIRS} models report both, "
                             "directly or through another benchmark)")
                continue
            marks = ", ".join(f"{x} ≈ {link.apply(x):.0f}" for x in (20, 50, 80))
            lines.append(f"{bench} -> {reference}: {marks} ({link.describe()})")
    return lines


# -- the evidence ---------------------------------------------------------------------------

def _task_map(task: str, profile: TaskProfile) -> dict[str, float]:
    mapping = dict(TASK_BENCHMARKS.get(task, {}))
    if any(lang.lower() not in ("en", "english") for lang in profile.languages):
        for bench, direct in MULTILINGUAL_BENCHMARKS.items():
            scaled = direct if task == "translation" else direct * 0.7
            mapping[bench] = max(mapping.get(bench, 0.0), scaled)
    return mapping


def _uses(model: ModelSpec, task: str, mapping: Mapping[str, float], as_of: date,
          reference: str | None, scales: BenchmarkScales) -> list[BenchmarkUse]:
    out: list[BenchmarkUse] = []
    for b in model.benchmarks:
        canon = canonical_benchmark(b.name)
        if canon is None or canon not in mapping:
            continue
        score = normalize_score(b.name, b.score)
        if score is None:
            continue
        weight = mapping[canon] * KIND_WEIGHT.get(b.kind, 0.8) * _age_weight(b.date, as_of)
        out.append(_use(b, canon, task, score, mapping[canon], weight, reference, scales))
    return out


def _use(b: Benchmark, canon: str, task: str, score: float, directness: float, weight: float,
         reference: str | None, scales: BenchmarkScales) -> BenchmarkUse:
    native, note = None, None
    if reference is not None and canon != reference:
        link = scales.link(canon, reference)
        if link is None:
            weight *= UNLINKED_WEIGHT
            note = (f"not on the {reference} scale: too few models report both, "
                    f"so it counts {UNLINKED_WEIGHT:g}x")
        else:
            native, score, note = score, link.apply(score), link.describe()
            if not link.covers(native):
                weight *= EXTRAPOLATED_WEIGHT
                note += (f"; {native:g} lies outside the {link.span[0]:g}-{link.span[1]:g} it was fitted on, "
                         f"so it counts {EXTRAPOLATED_WEIGHT:g}x")
    return BenchmarkUse(name=b.name, canonical=canon, task=task, raw_score=float(b.score), score=score,
                        directness=directness, weight=round(weight, 4), kind=b.kind, date=b.date,
                        source=b.source, native=native, reference=reference, link=note)


def _strength(total_weight: float) -> float:
    return 1.0 - math.exp(-total_weight / _STRENGTH_SCALE)


def quality_evidence(model: ModelSpec, profile: TaskProfile, *, as_of: date | None = None,
                     scales: BenchmarkScales | None = None) -> QualityEvidence:
    """Expected quality (0-100) of ``model`` for ``profile``'s tasks, with confidence and sources.

    Each task's figure is on its reference benchmark's scale (``TASK_REFERENCE``).

    Args:
        model: the catalog record (its ``benchmarks`` are the evidence).
        profile: tasks and languages decide which benchmarks count and how much.
        as_of: date used to age the evidence (default: today).
        scales: links between benchmark scales (default: fitted on the bundled catalog).

    Example:
        >>> from llmscout.catalog import ModelSpec, Benchmark
        >>> m = ModelSpec(id="x/y", name="Y", family="y", developer="x", kind="open",
        ...               tuning=("instruct",), license="mit", sources={"id": "u"}, params=7_000_000_000,
        ...               benchmarks=(Benchmark("HumanEval", 60.0, "u", "2025-01-01", "independent"),))
        >>> quality_evidence(m, TaskProfile(tasks=("code",)), as_of=date(2025, 6, 1)).score
        60.0
    """
    as_of = as_of or date.today()
    scales = scales or catalog_scales()
    per_task: dict[str, float] = {}
    used: list[BenchmarkUse] = []
    strengths: list[float] = []
    missing: list[str] = []
    for task in profile.tasks:
        uses = _uses(model, task, _task_map(task, profile), as_of, TASK_REFERENCE.get(task), scales)
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
    general = _general_evidence(model, profile, as_of, notes, scales)
    return general if general is not None else _prior(model, profile, notes)


def _general_evidence(model: ModelSpec, profile: TaskProfile, as_of: date, notes: tuple[str, ...],
                      scales: BenchmarkScales) -> QualityEvidence | None:
    mapping = {name: GENERAL_DIRECTNESS for name in GENERAL_BENCHMARKS}
    uses = _uses(model, "general ability", mapping, as_of, GENERAL_REFERENCE, scales)
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
