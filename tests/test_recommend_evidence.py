"""Quality evidence: benchmark matching, normalisation, weighting, confidence, priors, domain fit."""

from __future__ import annotations

from datetime import date

import pytest

from llmscout.catalog.spec import ModelSpec
from llmscout.recommend.evidence import (
    canonical_benchmark,
    domain_fit,
    elo_to_score,
    normalize_score,
    quality_evidence,
    size_prior,
)
from llmscout.recommend.profile import TaskProfile

AS_OF = date(2026, 1, 1)


def model(benchmarks=(), *, params=7_000_000_000, released="2025-06-01", tuning=("instruct",),
          specializations=(), kind="open", active=None) -> ModelSpec:
    raw = {"id": "test/m", "name": "M", "family": "m", "developer": "test", "kind": kind, "tuning": list(tuning),
           "license": "apache-2.0", "sources": {"identity": "https://example.org"}, "params": params,
           "active_params": active, "released": released, "specializations": list(specializations),
           "benchmarks": [dict(b) for b in benchmarks]}
    if kind == "cloud":
        raw["cloud"] = {"provider": "x", "input_per_mtok": 1, "output_per_mtok": 2, "price_date": "2026-01-01",
                        "source": "https://example.org"}
    return ModelSpec.from_dict(raw)


def bench(name, score, kind="self-reported", when="2025-06-01"):
    return {"name": name, "score": score, "kind": kind, "date": when, "source": "https://example.org/card"}


def profile(*tasks, **kw) -> TaskProfile:
    return TaskProfile(tasks=tasks or ("chat",), **kw)


# -- names and scales -----------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "canon"), [
    ("HumanEval", "HumanEval"), ("humaneval", "HumanEval"), ("HumanEval+", "HumanEval+"),
    ("humaneval_plus", "HumanEval+"), ("HumanEval Plus", "HumanEval+"), ("MBPP+", "MBPP+"),
    ("MMLU-Pro", "MMLU-Pro"), ("mmlu_pro", "MMLU-Pro"), ("MMLU (5-shot)", "MMLU"),
    ("Multilingual MMLU", "MMMLU"), ("GPQA Diamond", "GPQA"), ("AIME 2025", "AIME"),
    ("MATH-500", "MATH-500"), ("math", "MATH"), ("Arena Elo", "Arena Elo"), ("LMArena", "Arena Elo"),
    ("MT-Bench", "MT-Bench"), ("ifeval", "IFEval"), ("FLORES-200", "FLORES"),
])
def test_benchmark_names_match_case_insensitively_with_aliases(name, canon):
    assert canonical_benchmark(name) == canon


def test_unknown_benchmark_has_no_canonical_name():
    assert canonical_benchmark("OSWorld") is None


def test_elo_maps_to_win_chance_against_a_1000_rated_model():
    assert elo_to_score(1000) == pytest.approx(50.0)
    assert elo_to_score(1200) == pytest.approx(75.97, abs=0.01)
    assert elo_to_score(1400) == pytest.approx(90.91, abs=0.01)


@pytest.mark.parametrize(("name", "raw", "expected"), [
    ("MMLU", 0.87, 87.0), ("MMLU", 87.0, 87.0), ("MT-Bench", 8.5, 85.0), ("Arena Elo", 1000, 50.0),
    ("HumanEval", 150, None),
])
def test_scores_are_normalised_to_0_100(name, raw, expected):
    got = normalize_score(name, raw)
    assert got == (pytest.approx(expected) if expected is not None else None)


# -- weighting --------------------------------------------------------------------------------------

def test_a_code_task_uses_code_benchmarks_not_knowledge_ones():
    m = model([bench("HumanEval", 70), bench("MMLU", 40)])
    ev = quality_evidence(m, profile("code"), as_of=AS_OF)
    assert ev.score == pytest.approx(70.0)
    assert [u.canonical for u in ev.used] == ["HumanEval"]


def test_self_reported_counts_less_than_independent():
    m = model([bench("HumanEval", 80, kind="independent"), bench("HumanEval", 60, kind="self-reported")])
    ev = quality_evidence(m, profile("code"), as_of=AS_OF)
    assert ev.score == pytest.approx((1.0 * 80 + 0.8 * 60) / 1.8, abs=0.01)


def test_older_evidence_counts_slightly_less():
    m = model([bench("HumanEval", 80, when="2025-06-01"), bench("HumanEval", 60, when="2021-06-01")])
    ev = quality_evidence(m, profile("code"), as_of=AS_OF)
    old = next(u for u in ev.used if u.date == "2021-06-01")
    new = next(u for u in ev.used if u.date == "2025-06-01")
    assert old.weight < new.weight
    assert 70 < ev.score < 80


def test_chat_prefers_arena_and_maps_elo():
    m = model([bench("Arena Elo", 1200, kind="independent")])
    ev = quality_evidence(m, profile("chat"), as_of=AS_OF)
    assert ev.score == pytest.approx(75.97, abs=0.01)
    assert ev.basis == "benchmarks"


def test_several_tasks_are_averaged_per_task():
    m = model([bench("HumanEval", 80), bench("MATH", 40)])
    ev = quality_evidence(m, profile("code", "reasoning"), as_of=AS_OF)
    assert ev.per_task == {"code": 80.0, "reasoning": 40.0}
    assert ev.score == pytest.approx(60.0)


def test_a_non_english_profile_counts_multilingual_benchmarks():
    m = model([bench("MMLU", 70), bench("MGSM", 30)])
    english = quality_evidence(m, profile("qa"), as_of=AS_OF)
    german = quality_evidence(m, profile("qa", languages=("de",)), as_of=AS_OF)
    assert english.score == pytest.approx(70.0)
    assert german.score < english.score
    assert "MGSM" in {u.canonical for u in german.used}


# -- confidence --------------------------------------------------------------------------------------

def test_more_direct_independent_evidence_gives_more_confidence():
    one = quality_evidence(model([bench("HumanEval", 70)]), profile("code"), as_of=AS_OF)
    three = quality_evidence(model([bench("HumanEval", 70, "independent"), bench("MBPP", 70, "independent"),
                                    bench("LiveCodeBench", 70, "independent")]), profile("code"), as_of=AS_OF)
    indirect = quality_evidence(model([bench("MMLU", 70)]), profile("chat"), as_of=AS_OF)
    assert indirect.confidence < one.confidence < three.confidence <= 0.95


def test_a_task_without_evidence_lowers_confidence_and_is_listed():
    m = model([bench("HumanEval", 70)])
    alone = quality_evidence(m, profile("code"), as_of=AS_OF)
    both = quality_evidence(m, profile("code", "translation"), as_of=AS_OF)
    assert both.missing_tasks == ("translation",)
    assert both.confidence == pytest.approx(alone.confidence / 2, abs=0.002)
    assert both.score == alone.score


def test_without_task_benchmarks_broad_ones_stand_in_with_low_confidence():
    ev = quality_evidence(model([bench("MMLU", 70)]), profile("vision"), as_of=AS_OF)
    assert ev.basis == "general-benchmarks"
    assert ev.score == pytest.approx(70.0)
    assert ev.confidence < 0.15


# -- size prior -------------------------------------------------------------------------------------

def test_no_benchmark_falls_back_to_a_labelled_size_prior():
    ev = quality_evidence(model([]), profile("code"), as_of=AS_OF)
    assert ev.basis == "prior"
    assert ev.label == "prior from size, no benchmark"
    assert ev.confidence == 0.15
    assert ev.score == size_prior(model([]))
    assert any("prior from size, no benchmark" in line for line in ev.explain())


def test_prior_grows_with_size_and_generation():
    small, big = size_prior(model(params=1_000_000_000)), size_prior(model(params=30_000_000_000))
    old, new = size_prior(model(released="2023-05-01")), size_prior(model(released="2025-05-01"))
    assert small < big and old < new


def test_prior_is_clamped_at_chance_for_tiny_models():
    assert size_prior(model(params=10_000_000)) == 25.0


def test_moe_prior_sits_between_active_and_total_size():
    moe = size_prior(model(params=40_000_000_000, active=4_000_000_000))
    assert size_prior(model(params=4_000_000_000)) < moe < size_prior(model(params=40_000_000_000))


def test_cloud_model_without_benchmarks_has_unknown_quality():
    ev = quality_evidence(model([], kind="cloud", params=None), profile("chat"), as_of=AS_OF)
    assert (ev.score, ev.confidence, ev.basis) == (None, 0.0, "none")


# -- explanations and notes -----------------------------------------------------------------------

def test_explanation_names_each_benchmark_and_its_provenance():
    ev = quality_evidence(model([bench("HumanEval", 70, kind="independent")]), profile("code"), as_of=AS_OF)
    text = "\n".join(ev.explain())
    assert "HumanEval 70 (independent, 2025-06-01): direct evidence for code" in text


def test_base_model_gets_a_note_for_instruction_tasks():
    ev = quality_evidence(model([bench("MMLU", 60)], tuning=("base",)), profile("chat"), as_of=AS_OF)
    assert any("base model" in n for n in ev.notes)


# -- domain fit --------------------------------------------------------------------------------------

def test_specialist_in_its_domain_gets_a_bonus():
    fit = domain_fit(model(specializations=["medical"]), profile("qa", domain="medical"))
    assert fit.adjustment > 0 and "medical" in fit.reason


def test_specialist_outside_its_domain_gets_a_penalty():
    assert domain_fit(model(specializations=["legal"]), profile("chat")).adjustment < 0


def test_code_model_fits_code_tasks_and_not_others():
    coder = model(tuning=("instruct", "code"))
    assert domain_fit(coder, profile("code")).adjustment > 0
    assert domain_fit(coder, profile("summarization")).adjustment < 0


def test_general_model_with_listed_strengths_is_not_penalised():
    assert domain_fit(model(specializations=["math", "code"]), profile("chat")).adjustment == 0
    assert domain_fit(model(), profile("qa", domain="legal")).adjustment == 0


def test_code_scores_do_not_stand_in_for_general_ability():
    ev = quality_evidence(model([bench("HumanEval", 92)]), profile("chat"), as_of=AS_OF)
    assert ev.basis == "prior"
