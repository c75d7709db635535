"""``recommend`` and ``compare``: from a task profile and hardware to a ranked, explained shortlist.

How a model is judged:
1. hard filters that need no estimate (``_filters.cheap_reasons``): hosting, privacy, offline,
   context, licence, gating, base models for interactive use, images, the runtime the target
   needs, size caps for browsers and phones, the minimum quality;
2. its configurations (engine x quant from its artifacts) are estimated with
   ``llmscout.estimate.estimate``: first the engine's usual default (Q4_K_M, q4f16_1, bf16),
   then smaller ones if that fails; configurations whose weights alone cannot fit are skipped
   without estimating. A configuration passes when it fits with 5% of the memory to spare and
   meets the hard limits (speed targets at the optimistic end of the band, energy, budget);
3. passing models are scored (``_rank.score``); the best-scored ones then have every
   configuration estimated and keep the best-scoring one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from llmscout.catalog import Catalog, ModelSpec, load_catalog
from llmscout.errors import InvalidValueError, LlmscoutError
from llmscout.estimate import Estimate, estimate
from llmscout.hardware.spec import GIB, Hardware
from llmscout.recommend import _advice, _rank
from llmscout.recommend._filters import (
    HEADROOM_FRACTION,
    PREFERRED,
    Config,
    Reason,
    Setting,
    bound_reason,
    cheap_reasons,
    fits_bound,
    make_setting,
    prepared_configs,
    resolve_target_hardware,
)
from llmscout.recommend._types import Candidate, Exclusion, runtime_for
from llmscout.recommend.profile import TaskProfile, contradictions, profile_from_dict

REFINE_EXTRA = 5  # beyond `top`, how many leading candidates get every configuration estimated
NOTABLE_EXCLUDED = 5


# -- evaluating one model --------------------------------------------------------------------------

_QUALITY: dict[tuple[Any, ...], tuple[object, dict[str, _rank.ModelQuality]]] = {}


def _qualities(catalog: object, models: Sequence[ModelSpec], profile: TaskProfile) -> dict[str, _rank.ModelQuality]:
    """Quality per model for the profile's tasks, languages and domain (cached per catalog and day)."""
    key = (id(catalog), profile.tasks, profile.languages, profile.domain, date.today())
    hit = _QUALITY.get(key)
    if hit is not None and hit[0] is catalog:
        return hit[1]
    table = {m.id: _rank.model_quality(m, profile) for m in models}
    if len(_QUALITY) > 32:
        _QUALITY.clear()
    _QUALITY[key] = (catalog, table)
    return table


def _problem(e: Estimate, s: Setting) -> Reason | None:
    """Why an estimated configuration fails a hard limit, or None when it passes."""
    p, hw = s.profile, s.hardware
    mem = e.memory
    if mem is not None and not mem.fits:
        return Reason("memory", f"does not fit: {e.quant} on {e.engine} needs {mem.total_bytes / GIB:.1f} GiB "
                                f"at a {e.context:,}-token context, and {hw.name} offers "
                                f"{mem.usable_bytes / GIB:.1f} GiB usable", mem.total_bytes)
    if mem is not None and mem.headroom_bytes < HEADROOM_FRACTION * mem.usable_bytes:
        return Reason("memory", f"fits only without headroom: {e.quant} needs {mem.total_bytes / GIB:.1f} of "
                                f"{mem.usable_bytes / GIB:.1f} GiB usable (llmscout keeps "
                                f"{HEADROOM_FRACTION:.0%} free)", mem.total_bytes)
    sp = e.speed
    if sp is not None and p.min_tokens_per_s and sp.decode_high < p.min_tokens_per_s:
        return Reason("speed", f"too slow: about {sp.decode_tokens_per_s:.1f} tokens/s with {e.quant} (at best "
                               f"{sp.decode_high:.1f}), you need {p.min_tokens_per_s:g}")
    if sp is not None and p.max_ttft_s:
        best_ttft = sp.ttft_s * sp.prefill_tokens_per_s / max(sp.prefill_high, 1e-9)
        if best_ttft > p.max_ttft_s:
            return Reason("speed", f"first token too late: about {sp.ttft_s:.2g} s with {e.quant} (at best "
                                   f"{best_ttft:.2g} s), you need {p.max_ttft_s:g} s")
    return _budget_problem(e, s)


def _budget_problem(e: Estimate, s: Setting) -> Reason | None:
    p = s.profile
    if p.energy_budget_wh_per_day is not None:
        wh = e.energy.wh_per_request if e.energy else (e.cloud_energy or {}).get("wh_per_request_low")
        if wh is not None and wh * p.requests_per_day > p.energy_budget_wh_per_day:
            return Reason("energy", f"uses about {wh * p.requests_per_day:,.1f} Wh a day at your volume, over your "
                                    f"budget of {p.energy_budget_wh_per_day:g} Wh")
    if p.budget_per_month is not None and e.cost.per_month > p.budget_per_month:
        return Reason("budget", f"costs about {e.cost.per_month:,.2f} USD a month at your volume, over your "
                                f"budget of {p.budget_per_month:g} USD")
    return None


class _Evaluator:
    """Judges models for one setting; counts the estimates it runs."""

    def __init__(self, s: Setting, configs: dict[str, dict[str, tuple[Config, ...]]],
                 qualities: dict[str, _rank.ModelQuality]) -> None:
        self.s = s
        self.configs = configs
        self.qualities = qualities
        self.estimates = 0

    def _estimate(self, model: ModelSpec, cfg: Config | None) -> Estimate:
        s, p = self.s, self.s.profile
        self.estimates += 1
        kw: dict[str, Any] = dict(prompt_tokens=p.input_tokens, output_tokens=p.output_tokens,
                                  requests_per_month=s.requests_per_month, context=s.context)
        if cfg is None:
            return estimate(model, s.hardware, **kw)
        return estimate(model, s.hardware, quant=cfg.quant, engine=cfg.engine, calibration=s.calibration,
                        hardware_price=s.hardware_price, amortisation_months=s.amortisation_months, **kw)

    def _candidate(self, model: ModelSpec, e: Estimate, tried: int) -> Candidate:
        s, q = self.s, self.qualities[model.id]
        sc = _rank.score(e, q, s.profile, s.interactive, s.context)
        reasons = q.reasons + tuple(_rank.config_reasons(e, s.profile, s.interactive, q))
        cfg = next((c for c in self.configs.get(e.engine, {}).get(model.id, ()) if c.quant == e.quant), None)
        if cfg is not None and cfg.assumed_from:
            reasons += (f"the catalog lists {cfg.assumed_from} without naming its files: {e.quant} assumed "
                        "(check the repo's file list)",)
        return Candidate(model, e, sc.score, sc.components, q, sc.quality_points,
                         runtime_for(e.engine, s.target), reasons, tried)

    def evaluate(self, model: ModelSpec, full: bool = False) -> Candidate | Exclusion:
        """The model's best passing configuration (every one when ``full``), or why none passes."""
        s = self.s
        q = self.qualities[model.id]
        configs = {e: self.configs.get(e, {}).get(model.id, ()) for e in s.engines}
        reasons = cheap_reasons(model, s, configs)
        if not reasons and q.points < s.profile.min_quality:
            reasons.append(Reason("quality", f"expected quality {q.points:.0f}/100 is below your minimum "
                                             f"{s.profile.min_quality:g}"))
        if reasons:
            return Exclusion(model, tuple(reasons), q.points)
        if model.kind == "cloud":
            return self._cloud(model)
        flat = [c for e in s.engines for c in configs[e]]
        return self._all(model, flat) if full else self._first(model, flat)

    def _cloud(self, model: ModelSpec) -> Candidate | Exclusion:
        try:
            e = self._estimate(model, None)
        except LlmscoutError as exc:
            return Exclusion(model, (Reason("estimate", str(exc)),), self.qualities[model.id].points)
        problem = _budget_problem(e, self.s)
        if problem is not None:
            return Exclusion(model, (problem,), self.qualities[model.id].points)
        return self._candidate(model, e, 1)

    def _try(self, model: ModelSpec, cfg: Config, fails: list[Reason]) -> Estimate | None:
        if not fits_bound(cfg, self.s):
            fails.append(bound_reason(cfg, self.s))
            return None
        try:
            e = self._estimate(model, cfg)
        except LlmscoutError as exc:
            fails.append(Reason("estimate", f"{cfg.quant} on {cfg.engine}: {exc}"))
            return None
        problem = _problem(e, self.s)
        if problem is not None:
            fails.append(problem)
            return None
        return e

    def _first(self, model: ModelSpec, flat: list[Config]) -> Candidate | Exclusion:
        """The engine's default quant, else the largest smaller one that passes."""
        preferred = next((c for e in self.s.engines for name in PREFERRED[e] for c in flat
                          if c.engine == e and c.quant == name), None)
        rest = sorted((c for c in flat if c is not preferred), key=lambda c: -c.min_bytes)
        order = ([preferred] if preferred else []) + rest
        fails: list[Reason] = []
        ceiling = float("inf")
        tried = 0
        for cfg in order:
            if cfg.min_bytes >= ceiling:
                continue
            tried += 1
            e = self._try(model, cfg, fails)
            if e is not None:
                return self._candidate(model, e, tried)
            ceiling = cfg.min_bytes  # anything larger is slower, dearer and needs more memory
        return self._excluded(model, fails)

    def _all(self, model: ModelSpec, flat: list[Config]) -> Candidate | Exclusion:
        fails: list[Reason] = []
        found = [c for c in (self._try(model, cfg, fails) for cfg in flat) if c is not None]
        if not found:
            return self._excluded(model, fails)
        best = max((self._candidate(model, e, len(flat)) for e in found), key=lambda c: c.score)
        return best

    def _excluded(self, model: ModelSpec, fails: list[Reason]) -> Exclusion:
        last: dict[str, Reason] = {}
        if not fails:
            fails = [Reason("estimate", "no configuration of this model could be estimated")]
        for r in fails:  # the smallest configuration tried comes last: its reason is the telling one
            last[r.code] = r
        return Exclusion(model, tuple(last.values()), self.qualities[model.id].points)


# -- the results -------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Recommendation:
    """A ranked, explained shortlist for one profile on one device (``to_dict``: docs/json-recommend.md)."""

    profile: TaskProfile
    hardware: Hardware
    target: str
    ranked: tuple[Candidate, ...]  # every candidate, best first
    excluded: tuple[Exclusion, ...]  # best expected quality first
    top: int
    ladder: tuple[str, ...]
    pareto: dict[str, Any]
    local_vs_cloud: dict[str, Any]
    adaptation: dict[str, Any]
    next_step: dict[str, Any] | None
    contradictions: tuple[str, ...]
    weights: dict[str, float]
    notes: tuple[str, ...] = ()
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def candidates(self) -> tuple[Candidate, ...]:
        return self.ranked[:self.top]

    @property
    def pick(self) -> Candidate | None:
        return self.ranked[0] if self.ranked else None

    @property
    def notable_excluded(self) -> tuple[Exclusion, ...]:
        """The excluded models with the best expected quality: why the obvious choices are not here."""
        return self.excluded[:NOTABLE_EXCLUDED]

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile.to_dict(), "hardware": self.hardware.to_dict(), "target": self.target,
            "weights": dict(self.weights), "contradictions": list(self.contradictions),
            "candidates": [c.to_dict() for c in self.candidates], "candidates_total": len(self.ranked),
            "excluded": [x.to_dict() for x in self.excluded],
            "notable_excluded": [x.to_dict() for x in self.notable_excluded],
            "ladder": list(self.ladder), "pareto": self.pareto, "local_vs_cloud": self.local_vs_cloud,
            "adaptation": self.adaptation, "next_step": self.next_step, "notes": list(self.notes),
            "stats": dict(self.stats),
        }


@dataclass(frozen=True, slots=True)
class Comparison:
    """Chosen models side by side on one device and task; candidates by score, then the excluded."""

    profile: TaskProfile
    hardware: Hardware
    target: str
    rows: tuple[Candidate | Exclusion, ...]
    local_vs_cloud: dict[str, Any]
    contradictions: tuple[str, ...]
    weights: dict[str, float]
    notes: tuple[str, ...] = ()

    @property
    def winner(self) -> Candidate | None:
        first = self.rows[0] if self.rows else None
        return first if isinstance(first, Candidate) else None

    def to_dict(self) -> dict[str, Any]:
        models = []
        for i, row in enumerate(self.rows, 1):
            d = row.to_dict()
            d["status"] = "candidate" if isinstance(row, Candidate) else "excluded"
            d["rank"] = i if isinstance(row, Candidate) else None
            models.append(d)
        return {"profile": self.profile.to_dict(), "hardware": self.hardware.to_dict(), "target": self.target,
                "weights": dict(self.weights), "contradictions": list(self.contradictions),
                "models": models, "winner": self.winner.id if self.winner else None,
                "local_vs_cloud": self.local_vs_cloud, "notes": list(self.notes)}


# -- the entry points ----------------------------------------------------------------------------------

def _catalog(catalog: Catalog | Iterable[ModelSpec] | None) -> tuple[object, list[ModelSpec]]:
    if catalog is None:
        catalog = load_catalog()
    if isinstance(catalog, Catalog):
        return catalog, list(catalog)
    models = list(catalog)
    return tuple(m.id for m in models), models


def _setting(profile: TaskProfile, hardware: Hardware | None, kw: dict[str, Any]) -> Setting:
    if not isinstance(profile, TaskProfile):
        raise InvalidValueError("profile", type(profile).__name__, "a TaskProfile (see load_profile)")
    hw = hardware if hardware is not None else resolve_target_hardware(profile)
    return make_setting(profile, hw, **kw)


def _pareto(ranked: list[Candidate]) -> dict[str, Any]:
    def rows(value: str, pick: Any) -> list[dict[str, Any]]:
        items = [(c.id, c.quality_points, pick(c)) for c in ranked if pick(c) is not None]
        return [{"model": i, "quality": q, value: v} for i, q, v in _rank.pareto_front(items)]

    return {"quality_vs_cost": rows("cost_per_month", lambda c: c.cost_per_month),
            "quality_vs_latency": rows("latency_s", lambda c: c.latency_s),
            "quality_vs_energy": rows("energy_wh_per_request", lambda c: c.energy_wh),
            "notes": ["hosted APIs are left out of the latency front (their speed is not estimated)",
                      "local energy is estimated; hosted energy is the geometric middle of published estimates"]}


def recommend(profile: TaskProfile, hardware: Hardware | None = None,
              catalog: Catalog | Iterable[ModelSpec] | None = None, top: int = 10, *,
              calibration: Any = None, hardware_price: float | None = None,
              amortisation_months: int | None = None) -> Recommendation:
    """Rank the catalog for ``profile`` on ``hardware``, with reasons for every candidate and exclusion.

    Args:
        profile: the task, its size, constraints and ranking weights (``load_profile``).
        hardware: the device; None resolves ``profile.hardware`` ("auto": this machine, or the
            default device of a browser/phone target, none for a cloud target).
        catalog: a ``Catalog`` or models (default: the bundled catalog plus the user's models).
        top: how many candidates ``candidates`` holds (all are ranked).
        calibration: this machine's speed calibration (``estimate.service.load_calibration``).
        hardware_price / amortisation_months: count the hardware's purchase in local cost
            (and so in the break-even volume); default: electricity only.

    Raises:
        InvalidValueError: ``top`` not a positive whole number, or not a TaskProfile.

    Example:
        >>> from llmscout.hardware import lookup_hardware
        >>> r = recommend(TaskProfile(tasks=("code",)), lookup_hardware("rtx 4060"), top=3)
        >>> len(r.candidates) <= 3
        True
    """
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise InvalidValueError("top", top, "a whole number of candidates, at least 1")
    s = _setting(profile, hardware, dict(calibration=calibration, hardware_price=hardware_price,
                                         amortisation_months=amortisation_months))
    key, models = _catalog(catalog)
    ev = _Evaluator(s, prepared_configs(key, models, s.engines), _qualities(key, models, profile))
    results = [ev.evaluate(m) for m in models]
    ranked = sorted((r for r in results if isinstance(r, Candidate)), key=lambda c: (-c.score, c.id))
    refined = [ev.evaluate(c.model, full=True) for c in ranked[:top + REFINE_EXTRA]]
    ranked = sorted([r for r in refined if isinstance(r, Candidate)] + ranked[top + REFINE_EXTRA:],
                    key=lambda c: (-c.score, c.id))
    excluded = sorted((r for r in results if isinstance(r, Exclusion)),
                      key=lambda x: (-(x.quality_points or 0.0), x.id))
    cloud_blocked = _advice.cloud_blockers(s)
    return Recommendation(
        profile=profile, hardware=s.hardware, target=s.target, ranked=tuple(ranked), excluded=tuple(excluded),
        top=top, ladder=tuple(_advice.build_ladder(ranked, s)), pareto=_pareto(ranked),
        local_vs_cloud=_advice.local_vs_cloud(ranked, s, cloud_blocked),
        adaptation=_advice.adaptation(ranked, s), next_step=_advice.next_step(ranked[0] if ranked else None, s),
        contradictions=tuple(contradictions(profile) + _advice.explain(ranked, excluded, s)),
        weights=profile.weights.normalized(), notes=s.notes,
        stats={"models": len(models), "candidates": len(ranked), "excluded": len(excluded),
               "estimates": ev.estimates, "engines": list(s.engines)})


def compare(model_ids: Sequence[str], profile: TaskProfile, hardware: Hardware | None = None,
            catalog: Catalog | Iterable[ModelSpec] | None = None, *, calibration: Any = None,
            hardware_price: float | None = None, amortisation_months: int | None = None) -> Comparison:
    """The given models side by side on the same hardware and task, every configuration estimated.

    Raises:
        UnknownModelError: an id no catalog model has (with suggestions).
        InvalidValueError: no model ids given.
    """
    if isinstance(model_ids, str) or not model_ids:
        raise InvalidValueError("model_ids", model_ids, "a list of one or more catalog model ids")
    s = _setting(profile, hardware, dict(calibration=calibration, hardware_price=hardware_price,
                                         amortisation_months=amortisation_months))
    key, models = _catalog(catalog)
    cat = catalog if isinstance(catalog, Catalog) else Catalog(models)
    chosen = list({m.id: m for m in (cat.get(i) for i in model_ids)}.values())
    ev = _Evaluator(s, prepared_configs(key, models, s.engines), _qualities(key, models, profile))
    results = [ev.evaluate(m, full=True) for m in chosen]
    cands = sorted((r for r in results if isinstance(r, Candidate)), key=lambda c: (-c.score, c.id))
    excl = [r for r in results if isinstance(r, Exclusion)]
    rows: list[Candidate | Exclusion] = [*cands, *excl]
    return Comparison(profile=profile, hardware=s.hardware, target=s.target, rows=tuple(rows),
                      local_vs_cloud=_advice.local_vs_cloud(cands, s, _advice.cloud_blockers(s)),
                      contradictions=tuple(contradictions(profile)), weights=profile.weights.normalized(),
                      notes=s.notes)



def build_profile(path: str | Path | None = None, **overrides: Any) -> TaskProfile:
    """A profile from a YAML/JSON file (optional) with fields overridden, e.g. by CLI options.

    Overrides that are None are ignored; ``weights`` overrides merge into the file's weights.
    A bad override is reported by its field alone; a bad file value names the file and line.

    Raises:
        InvalidValueError: a bad override (names the field and the allowed values).
        InvalidFileError / MissingFileError: a bad or missing profile file.
    """
    from llmscout.catalog._load import read_document
    from llmscout.errors import InvalidFileError, MissingFileError
    from llmscout.recommend.profile import _key_lines

    given = {k: v for k, v in overrides.items() if v is not None}
    profile_from_dict(given)  # validate the overrides on their own, so errors name them, not the file
    if path is None:
        return profile_from_dict(given)
    p = Path(path).expanduser()
    if not p.is_file():
        raise MissingFileError(p, "give a YAML or JSON task profile")
    doc = read_document(p)
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise InvalidFileError(p, "expected a mapping of profile fields, got " + type(doc).__name__)
    merged = {**doc, **given}
    if isinstance(doc.get("weights"), dict) and "weights" in given:
        merged["weights"] = {**doc["weights"], **given["weights"]}
    return profile_from_dict(merged, source=p, base_dir=p.parent, lines=_key_lines(p))


def save_recommendation(rec: Recommendation, store: Any = None) -> str:
    """Keep a recommendation in the run store (kind ``recommend``) so that reports, the web app
    and ``llmscout runs`` can show it later; returns the run id."""
    from llmscout.store import Store

    st = store or Store()
    data = rec.to_dict()
    run_id = st.create_run("recommend", config={"profile": data.get("profile")}, hardware=data.get("hardware"))
    st.update_run(run_id, status="done", result=data)
    return run_id
