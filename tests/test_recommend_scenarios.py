"""Scenarios that fail on wrong advice: the bundled catalog, real hardware records, real estimates."""

from __future__ import annotations

import math

import pytest

from llmscout.catalog import get_model
from llmscout.errors import InvalidValueError
from llmscout.estimate.memory import usable_bytes
from llmscout.hardware import lookup_hardware
from llmscout.hardware.spec import GIB
from llmscout.recommend import compare, profile_from_dict, recommend, resolve_target_hardware
from llmscout.recommend._filters import BROWSER_MAX_PARAMS, HEADROOM_FRACTION


def rec(hardware=None, top=100, **fields):
    hw = lookup_hardware(hardware) if isinstance(hardware, str) else hardware
    return recommend(profile_from_dict(fields), hw, top=top)


def excluded(r, model_id):
    return next(x for x in r.excluded if x.id == model_id)


# -- browser ----------------------------------------------------------------------------------------

def test_browser_target_keeps_only_small_models_with_a_webllm_build():
    r = rec(target="browser", tasks=["chat"])
    assert r.ranked, "a browser tab must get some candidates"
    for c in r.ranked:
        assert c.model.params <= BROWSER_MAX_PARAMS <= 2.7e9
        assert any(a.format == "mlc" for a in c.model.artifacts)
        assert (c.engine, c.runtime) == ("mlc", "webllm")


def test_browser_target_excludes_an_8b_model_that_has_an_mlc_build_for_its_size():
    r = rec(target="browser", tasks=["chat"])
    x = excluded(r, "meta-llama/Llama-3.1-8B-Instruct")
    assert "size" in x.codes and "browser" in x.reasons[0].text


def test_browser_next_step_is_webllm_code():
    r = rec(target="browser", tasks=["chat"])
    assert r.next_step["runtime"] == "webllm"
    assert "CreateMLCEngine" in r.next_step["code"]


def test_a_70b_model_in_a_browser_is_explained_not_dropped():
    cmp = compare(["meta-llama/Llama-3.1-70B-Instruct"], profile_from_dict({"target": "browser"}))
    (row,) = cmp.rows
    assert cmp.winner is None
    assert "too large for a browser tab" in row.reasons[0].text


# -- privacy --------------------------------------------------------------------------------------------

def test_privacy_local_never_proposes_a_cloud_model():
    r = rec("rtx 4090", privacy="local", tasks=["chat"])
    assert r.ranked and not any(c.is_cloud for c in r.ranked)
    assert not any(get_model(mid).kind == "cloud" for mid in r.ladder)
    assert r.local_vs_cloud["cloud"] is None


def test_privacy_local_names_the_reason_for_each_cloud_model():
    r = rec("rtx 4090", privacy="local", tasks=["chat"])
    x = excluded(r, "openai/gpt-4o-mini")
    assert x.codes == ("privacy",) and "hosted API" in x.reasons[0].text


# -- task and domain ------------------------------------------------------------------------------------

def test_code_task_ranks_the_code_model_above_its_general_sibling_of_the_same_size():
    r = rec("rtx 4090", tasks=["code"])
    ids = [c.id for c in r.ranked]
    assert ids.index("Qwen/Qwen2.5-Coder-7B-Instruct") < ids.index("Qwen/Qwen2.5-7B-Instruct")


def test_code_task_best_7b_class_candidate_is_code_specialised():
    r = rec("rtx 4090", tasks=["code"])
    seven_b = [c for c in r.ranked if 6e9 <= (c.model.params or 0) <= 9e9]
    assert "code" in seven_b[0].model.tuning


def test_general_chat_does_not_put_a_code_model_first():
    r = rec("rtx 4090", tasks=["chat"], privacy="local")
    assert "code" not in r.ranked[0].model.tuning


# -- context ------------------------------------------------------------------------------------------------

def test_100k_context_keeps_only_models_whose_context_allows_it():
    r = rec("h100", context_tokens=100_000)
    assert r.ranked
    for c in r.ranked:
        assert (c.model.context_length or c.model.architecture.max_position_embeddings) >= 100_000
        assert c.estimate.context >= 100_000


def test_100k_context_excludes_a_32k_model_with_the_numbers():
    r = rec("h100", context_tokens=100_000)
    x = excluded(r, "Qwen/Qwen2.5-0.5B-Instruct")
    assert "context" in x.codes
    assert "32,768" in x.reasons[0].text and "100,000" in x.reasons[0].text


# -- memory ----------------------------------------------------------------------------------------------------

def _fits_with_headroom(r):
    local = [c for c in r.ranked if not c.is_cloud]
    assert local
    for c in local:
        plan = c.estimate.memory
        assert plan.fits and plan.placement == "gpu"
        assert plan.total_bytes <= plan.usable_bytes
        assert plan.headroom_bytes >= HEADROOM_FRACTION * plan.usable_bytes


def test_rtx_4060_candidates_fit_8gb_with_headroom():
    r = rec("rtx 4060", tasks=["chat"])
    assert r.hardware.memory_bytes == 8 * GIB
    _fits_with_headroom(r)


def test_memory_gb_8_gpu_candidates_fit_with_headroom():
    p = profile_from_dict({"tasks": ["chat"]})
    hw = resolve_target_hardware(p, None, memory_gb=8, device_kind="gpu")
    assert hw.memory_bytes == 8 * GIB and hw.device_kind == "gpu"
    _fits_with_headroom(recommend(p, hw, top=100))


def test_8gb_gpu_excludes_a_32b_model_as_not_fitting():
    r = rec("rtx 4060", tasks=["code"])
    x = excluded(r, "Qwen/Qwen2.5-Coder-32B-Instruct")
    assert x.codes == ("memory",)
    assert f"{usable_bytes(r.hardware) / GIB:.1f} GiB usable" in x.reasons[0].text


# -- interactive tasks and base models ------------------------------------------------------------------------

def test_interactive_task_never_gets_a_base_model():
    r = rec("cpu-ddr5-5600-2ch", tasks=["chat"])
    assert not any(c.model.is_base for c in r.ranked)
    assert not get_model(r.ladder[0]).is_base


def test_interactive_task_names_base_model_as_the_reason():
    r = rec("cpu-ddr5-5600-2ch", tasks=["chat"])
    assert "base" in excluded(r, "google/gemma-3-270m").codes


def test_batch_classification_may_use_a_base_model():
    r = rec("cpu-ddr5-5600-2ch", tasks=["classification"])
    assert "google/gemma-3-270m" in [c.id for c in r.ranked]


# -- local vs cloud: break-even arithmetic ----------------------------------------------------------------------

def test_high_volume_break_even_matches_the_two_models_prices():
    r = recommend(profile_from_dict({"tasks": ["summarization"], "requests_per_day": 100_000,
                                     "budget_per_month": 500}),
                  lookup_hardware("rtx 4090"), hardware_price=1600, top=100)
    lvc = r.local_vs_cloud
    local = next(c for c in r.ranked if c.id == lvc["local"]["model"])
    offer = get_model(lvc["cloud"]["model"]).cloud
    cloud_per_request = (500 * offer.input_per_mtok + 250 * offer.output_per_mtok) / 1e6
    electricity = local.estimate.energy.wh_per_request / 1000 * local.estimate.cost.electricity_price_per_kwh
    expected = math.ceil((1600 / 36) / (cloud_per_request - electricity))
    be = lvc["break_even"]
    assert be["cloud_per_request"] == pytest.approx(cloud_per_request)
    assert be["local_per_request"] == pytest.approx(electricity)
    assert be["requests_per_month"] == expected
    assert be["requests_per_day"] == math.ceil(expected / 30)


def test_high_volume_keeps_cloud_within_budget_and_says_so():
    r = recommend(profile_from_dict({"tasks": ["summarization"], "requests_per_day": 100_000,
                                     "budget_per_month": 500}),
                  lookup_hardware("rtx 4090"), hardware_price=1600, top=100)
    assert all(c.cost_per_month <= 500 for c in r.ranked)
    assert "budget" in excluded(r, "openai/gpt-4o").codes
    assert r.local_vs_cloud["verdict"] == "local"  # cheaper at this volume, similar quality


# -- contradictions ---------------------------------------------------------------------------------------------

def test_offline_with_cloud_target_is_explained():
    r = rec(target="cloud", offline=True)
    assert not r.ranked
    assert any("offline" in line and "cloud" in line for line in r.contradictions)
    assert any(line.startswith("Every one of the") for line in r.contradictions)


def test_no_local_model_fitting_4gb_with_128k_context_is_explained():
    r = rec("gtx 1650", tasks=["chat"], context_tokens="128k", cloud_allowed=False)
    assert not r.ranked
    text = " ".join(r.contradictions)
    assert "No model in the catalog fits NVIDIA GeForce GTX 1650 (4 GB) with a 131,072-token context" in text


def test_invalid_profile_names_the_field_and_allowed_values():
    with pytest.raises(InvalidValueError) as info:
        profile_from_dict({"target": "browsr"})
    assert info.value.field == "target"
    assert "browser" in str(info.value) and "phone" in str(info.value)
