"""Which model for this task on this hardware: profile, evidence, filters, ranking and advice.

``recommend(profile, hardware)`` ranks the catalog with reasons for every candidate and every
exclusion, the start-small ladder, Pareto fronts, local vs cloud, adaptation advice and a
ready-to-run snippet; ``compare(ids, profile, hardware)`` puts chosen models side by side.

Names load on first use, so ``from llmscout.recommend.profile import ...`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmscout.recommend._filters import Reason, resolve_target_hardware
    from llmscout.recommend._recommend import (
        Comparison,
        Recommendation,
        build_profile,
        compare,
        recommend,
    )
    from llmscout.recommend._types import Candidate, Exclusion
    from llmscout.recommend.profile import (
        RankingWeights,
        TaskProfile,
        contradictions,
        load_profile,
        profile_from_dict,
    )

_WHERE = {
    "Reason": "_filters", "resolve_target_hardware": "_filters",
    "Comparison": "_recommend", "Recommendation": "_recommend", "build_profile": "_recommend",
    "compare": "_recommend", "recommend": "_recommend", "save_recommendation": "_recommend",
    "Candidate": "_types", "Exclusion": "_types",
    "RankingWeights": "profile", "TaskProfile": "profile", "contradictions": "profile",
    "load_profile": "profile", "profile_from_dict": "profile",
}

__all__ = [
    "Candidate", "Comparison", "Exclusion", "RankingWeights", "Reason", "Recommendation",
    "TaskProfile", "build_profile", "compare", "contradictions", "load_profile", "profile_from_dict",
    "recommend", "resolve_target_hardware", "save_recommendation",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'llmscout.recommend' has no attribute '{name}'")
    value = getattr(importlib.import_module(f"llmscout.recommend.{module}"), name)
    globals()[name] = value
    return value
