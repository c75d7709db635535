"""The bundled catalog is well-formed and its facts agree with each other."""

from __future__ import annotations

import pytest

from llmscout.catalog import bundled_catalog
from llmscout.catalog.params import count_params

CATALOG = bundled_catalog()
OPEN = [m for m in CATALOG if m.kind == "open"]
DENSE_DECODERS = [
    m for m in OPEN
    if m.architecture and m.architecture.kind == "decoder" and not m.architecture.experts
    and not m.architecture.kv_lora_rank
]


@pytest.mark.parametrize("model", DENSE_DECODERS, ids=lambda m: m.id)
def test_dense_decoder_param_count_matches_architecture(model):
    computed = count_params(model.architecture).total
    assert abs(computed - model.params) / model.params <= 0.03, (
        f"{model.id}: stated {model.params:,} vs architecture {computed:,}")


@pytest.mark.parametrize("model", [m for m in OPEN if m.is_moe], ids=lambda m: m.id)
def test_moe_total_and_active_params_match_architecture(model):
    pc = count_params(model.architecture)
    assert abs(pc.total - model.params) / model.params <= 0.05
    assert model.active_params, "MoE entries state active parameters"
    # Developers count active parameters with or without the input embedding table (OpenAI's
    # gpt-oss figures leave it out; Mixtral's and Qwen's keep it): accept either convention.
    a = model.architecture
    conventions = (pc.active, pc.active - a.vocab_size * a.hidden_size)
    assert min(abs(c - model.active_params) / model.active_params for c in conventions) <= 0.10


@pytest.mark.parametrize("model", list(CATALOG), ids=lambda m: m.id)
def test_every_fact_group_has_a_source(model):
    assert model.sources, model.id
    assert all(isinstance(v, str) and v.strip() for v in model.sources.values())
    if model.architecture:
        assert model.architecture.source.strip()
    for b in model.benchmarks:
        assert b.source.strip() and b.date, f"{model.id} {b.name}: benchmark needs source and date"
    if model.cloud:
        assert model.cloud.source.strip() and model.cloud.price_date


@pytest.mark.parametrize("model", OPEN, ids=lambda m: m.id)
def test_open_models_have_context_and_architecture(model):
    assert model.architecture is not None, model.id
    assert model.context_length and model.context_source
    assert model.params and (model.active_params or 0) <= model.params
