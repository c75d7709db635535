"""Knowledge of models: the record type, the bundled catalog and other sources of models."""

from __future__ import annotations

from llmscout.catalog._catalog import Catalog, bundled_catalog, load_catalog
from llmscout.catalog.spec import Architecture, Artifact, Benchmark, CloudOffer, Experts, ModelSpec

__all__ = [
    "Architecture", "Artifact", "Benchmark", "Catalog", "CloudOffer", "Experts", "ModelSpec",
    "bundled_catalog", "get_model", "load_catalog",
]


def get_model(model_id: str) -> ModelSpec:
    """A catalog model by id, short id or alias (see ``resolve_model`` for paths and the Hub)."""
    return load_catalog().get(model_id)
