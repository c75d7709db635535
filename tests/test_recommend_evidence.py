"""Quality evidence: benchmark matching, normalisation, common scales, weighting, confidence, priors,
domain fit."""

from __future__ import annotations

import dataclasses
import math
import statistics
from datetime import date

import pytest

from llmscout.catalog import bundled_catalog
from llmscout.catalog.spec import ModelSpec
from llmscout.recommend.evidence import (
    EXTRAPOLATED_WEIGHT,
    UNLINKED_WEIGHT,
    BenchmarkScales,
    canonical_benchmark,
    catalog_scales,
    describe_scales,
    domain_fit,
    elo_to_score,
    normalize_score,
    quality_evidence,
    size_prior,
)
from llmscout.recommend.profile import TaskProfile

AS_OF = date(2026, 1, 1)


def model(benchmarks=(), *, params=7_000_000_000, released="2025-06-01", tuning=("instruct",),
          specializations=(), kind="open", active=None, mid="test/m") -> ModelSpec:
    raw = {"id": mid, "name": "M", "family": "m", "developer": "test", "kind": kind, "tuning": list(tuning),
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


# -- common scales ----------------------------------------------------------------------------------

def _log_odds(x: float) -> float:
    return math.log(x / (100 - x))


def _from_log_odds(t: float) -> float:
    return 100 / (1 + math.exp(-t))


def _lcb_of(humaneval: float) -> float:
    """LiveCodeBench score of a synthetic model: exactly 2 log-odds below its HumanEval."""
    return _from_log_odds(_log_odds(humaneval) - 2.0)


def _synthetic_code_catalog(humanevals=(40, 55, 65, 75, 85, 92)) -> list[ModelSpec]:
    return [model([bench("HumanEval", he), bench("LiveCodeBench", round(_lcb_of(he), 3))], mid=f"syn/m{i}")
            for i, he in enumerate(humanevals)]


def _only(m: ModelSpec, name: str) -> ModelSpec:
    return dataclasses.replace(m, benchmarks=tuple(b for b in m.benchmarks if canonical_benchmark(b.name) == name))


def test_equal_ability_on_different_benchmarks_gives_equal_quality():
    scales = BenchmarkScales(_synthetic_code_catalog())
    on_humaneval = quality_evidence(model([bench("HumanEval", 70)]), profile("code"), as_of=AS_OF, scales=scales)
    on_lcb = quality_evidence(model([bench("LiveCodeBench", round(_lcb_of(70), 3))]), profile("code"),
                              as_of=AS_OF, scales=scales)
    assert on_lcb.used[0].native == pytest.approx(_lcb_of(70), abs=0.01)  # about 24
    assert on_lcb.score == pytest.approx(on_humaneval.score, abs=0.1)


def test_catalog_models_score_alike_from_livecodebench_alone_and_humaneval_alone():
    catalog = list(bundled_catalog())
    both = [m for m in catalog if {"LiveCodeBench", "HumanEval"} <= {canonical_benchmark(b.name) for b in m.benchmarks}]
    assert len(both) >= 5
    gaps = []
    for m in both:  # leave the model out of the fit it is judged by
        scales = BenchmarkScales([x for x in catalog if x.id != m.id])
        lcb, he = (quality_evidence(_only(m, name), profile("code"), as_of=AS_OF, scales=scales).score
                   for name in ("LiveCodeBench", "HumanEval"))
        gaps.append(abs(lcb - he))
    assert statistics.fmean(gaps) < 8  # raw scores differ by about 60 points


def test_gpqa_is_read_on_the_mmlu_scale_for_knowledge_tasks():
    ev = quality_evidence(model([bench("GPQA", 45)]), profile("qa"), as_of=AS_OF)
    assert ev.used[0].reference == "MMLU"
    assert 70 < ev.score < 95  # a GPQA of 45 comes from a model with an MMLU in the high 70s or 80s


def test_order_within_one_benchmark_is_kept():
    scores = [quality_evidence(model([bench("LiveCodeBench", x)]), profile("code"), as_of=AS_OF).score
              for x in (2, 10, 20, 30, 45, 70, 95)]
    assert scores == sorted(scores) and len(set(scores)) == len(scores)


@pytest.mark.parametrize(("benchmark", "reference"), [
    ("LiveCodeBench", "HumanEval"), ("MBPP", "HumanEval"), ("GPQA", "MATH"), ("MMLU-Pro", "MMLU"),
    ("GSM8K", "MMLU"), ("IFEval", "Arena Elo"), ("AIME", "MATH"),
])
def test_every_fitted_link_is_increasing(benchmark, reference):
    link = catalog_scales().link(benchmark, reference)
    assert link is not None and link.slope > 0
    mapped = [link.apply(x) for x in range(0, 101, 5)]
    assert all(a <= b for a, b in zip(mapped, mapped[1:], strict=False))


def test_the_reference_benchmark_is_left_as_published():
    ev = quality_evidence(model([bench("HumanEval", 63.4)]), profile("code"), as_of=AS_OF)
    assert ev.used[0].native is None and ev.score == pytest.approx(63.4)


def test_links_are_reproducible_and_independent_of_catalog_order():
    models = list(bundled_catalog())
    forward, backward = BenchmarkScales(models), BenchmarkScales(reversed(models))
    for bench_name, ref in [("LiveCodeBench", "HumanEval"), ("GPQA", "MMLU"), ("MATH-500", "MMLU")]:
        assert forward.link(bench_name, ref) == backward.link(bench_name, ref)


def test_catalog_scales_are_fitted_once():
    assert catalog_scales() is catalog_scales()


def test_the_mapping_is_listed_in_words():
    lines = describe_scales()
    line = next(x for x in lines if x.startswith("LiveCodeBench -> HumanEval:"))
    n = catalog_scales().pairs("LiveCodeBench", "HumanEval")
    link = catalog_scales().link("LiveCodeBench", "HumanEval")
    assert f"20 ≈ {link.apply(20):.0f}, 50 ≈ {link.apply(50):.0f}" in line
    assert f"fitted on {n} models that report both" in line


def test_explanation_says_how_a_score_was_rescaled():
    ev = quality_evidence(model([bench("LiveCodeBench", 30)]), profile("code"), as_of=AS_OF)
    n = catalog_scales().pairs("LiveCodeBench", "HumanEval")
    text = ev.explain()[1]
    assert text.startswith(f"LiveCodeBench 30 ≈ {ev.score:.0f} on the HumanEval scale (fitted on {n} models "
                           "that report both)")


def test_slope_is_shrunk_towards_one_when_few_models_report_both():
    humanevals = (30, 50, 70, 90)
    steep = [model([bench("HumanEval", he), bench("MBPP", _from_log_odds(_log_odds(he) / 2))], mid=f"s/{he}")
             for he in humanevals]
    link = BenchmarkScales(steep).link("MBPP", "HumanEval")
    assert link.slope == pytest.approx((4 * 2.0 + 5) / (4 + 5), abs=1e-3)  # fitted 2, four models


def test_too_few_shared_models_link_through_an_intermediate_benchmark():
    left = [model([bench("MBPP", 30 + 10 * i), bench("GPQA", 30 + 8 * i)], mid=f"l/{i}") for i in range(5)]
    right = [model([bench("GPQA", 30 + 8 * i), bench("HumanEval", 35 + 10 * i)], mid=f"r/{i}") for i in range(5)]
    link = BenchmarkScales(left + right).link("MBPP", "HumanEval")
    assert link.via == "GPQA" and link.pairs == (5, 5)
    assert "linked through GPQA" in link.describe()
    assert link.apply(50) == pytest.approx(55, abs=0.5)


def test_an_unlinked_score_stays_on_its_scale_and_counts_half():
    plain = quality_evidence(model([bench("HumanEval", 60)]), profile("code"), as_of=AS_OF, scales=BenchmarkScales([]))
    alone = quality_evidence(model([bench("SWE-bench Verified", 60)]), profile("code"), as_of=AS_OF,
                             scales=BenchmarkScales([]))
    use = alone.used[0]
    assert alone.score == pytest.approx(60.0) and use.native is None
    assert use.weight == pytest.approx(plain.used[0].weight * 0.7 * UNLINKED_WEIGHT)  # directness 0.7
    assert "not on the HumanEval scale" in use.explain()


def test_a_score_beyond_the_fitted_range_counts_half():
    scales = BenchmarkScales(_synthetic_code_catalog())  # LiveCodeBench 8.3-60.9 in the fit
    inside = quality_evidence(model([bench("LiveCodeBench", 30)]), profile("code"), as_of=AS_OF, scales=scales)
    beyond = quality_evidence(model([bench("LiveCodeBench", 80)]), profile("code"), as_of=AS_OF, scales=scales)
    assert beyond.used[0].weight == pytest.approx(inside.used[0].weight * EXTRAPOLATED_WEIGHT)
    assert "outside the" in beyond.used[0].explain()
    assert beyond.score > inside.score


def test_math_500_shares_the_math_scale():
    ev = quality_evidence(model([bench("MATH-500", 80)]), profile("reasoning"), as_of=AS_OF)
    assert ev.score == pytest.approx(80.0)
    assert "same scale" in ev.used[0].explain()


def test_multiple_choice_scores_are_read_above_chance():
    link = catalog_scales().link("GPQA", "MMLU")
    assert link.apply(0) >= 25.0  # nothing maps below MMLU's four-way chance
    assert link.apply(20) == link.apply(25)  # at or below GPQA's chance: no information
