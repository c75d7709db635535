"""The records of a recommendation: a scored candidate and an excluded model, each with reasons."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from llmscout.catalog.spec import ModelSpec
from llmscout.estimate import Estimate
from llmscout.recommend._filters import Reason
from llmscout.recommend._rank import ModelQuality, energy_wh, latency_s


def runtime_for(engine: str, target: str) -> str:
    """The snippet runtime for an engine: WebLLM in a browser, OpenAI client for hosted APIs."""
    if engine == "cloud":
        return "openai"
    if engine == "mlc":
        return "webllm" if target == "browser" else "mlc"
    return engine


@dataclass(frozen=True, slots=True)
class Candidate:
    """A model that passes every hard filter, in its best configuration on this hardware."""

    model: ModelSpec
    estimate: Estimate
    score: float  # 0-100
    components: dict[str, float]  # criterion -> 0-1, before weighting
    quality: ModelQuality
    quality_points: float  # 0-100 after the quantization loss
    runtime: str
    reasons: tuple[str, ...]
    configs_tried: int = 1

    @property
    def id(self) -> str:
        return self.model.id

    @property
    def quant(self) -> str | None:
        return self.estimate.quant

    @property
    def engine(self) -> str:
        return self.estimate.engine

    @property
    def is_cloud(self) -> bool:
        return self.model.kind == "cloud"

    @property
    def cost_per_month(self) -> float:
        return self.estimate.cost.per_month

    @property
    def latency_s(self) -> float | None:
        return latency_s(self.estimate)

    @property
    def energy_wh(self) -> float | None:
        return energy_wh(self.estimate)

    def to_dict(self) -> dict[str, Any]:
        m, ev = self.model, self.quality.evidence
        return {
            "model": m.id, "name": m.name, "kind": m.kind, "params": m.params,
            "active_params": m.active_params, "tuning": list(m.tuning), "license": m.license,
            "gated": m.gated, "quant": self.quant, "engine": self.engine, "runtime": self.runtime,
            "score": self.score, "components": dict(self.components),
            "quality": {"points": self.quality_points, "before_quantization": round(self.quality.points, 2),
                        "evidence_score": ev.score, "confidence": ev.confidence, "basis": ev.basis,
                        "label": ev.label, "domain_adjustment": self.quality.domain.adjustment,
                        "explain": ev.explain()},
            "cost_per_month": self.cost_per_month, "latency_s": self.latency_s,
            "energy_wh_per_request": self.energy_wh, "reasons": list(self.reasons),
            "estimate": self.estimate.to_dict(explain=False),
        }


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A model left out, with every reason found."""

    model: ModelSpec
    reasons: tuple[Reason, ...]
    quality_points: float | None = None

    @property
    def id(self) -> str:
        return self.model.id

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.code for r in self.reasons))

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model.id, "kind": self.model.kind, "params": self.model.params,
                "quality": None if self.quality_points is None else round(self.quality_points, 2),
                "reasons": [r.text for r in self.reasons], "codes": list(self.codes)}
