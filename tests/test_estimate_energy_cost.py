"""Energy (estimated power model, published cloud ranges) and cost (cloud, local, break-even)."""

from __future__ import annotations

import pytest

from llmscout.catalog import CloudOffer, get_model
from llmscout.errors import InvalidValueError
from llmscout.estimate import (
    break_even_requests,
    cloud_cost,
    cloud_energy_estimate,
    compare_with_cloud,
    estimate,
    local_cost,
    microwave_seconds,
)
from llmscout.estimate.energy import DECODE_UTILISATION, estimate_energy
from llmscout.hardware import GIB, Hardware

OFFER = CloudOffer(provider="p", input_per_mtok=2.5, output_per_mtok=10.0, price_date="2026-01-01",
                   source="https://example.com/pricing")


def hw(kind="gpu", **kw) -> Hardware:
    base = dict(fp16_tflops=100.0, tdp_w=300.0, idle_w=30.0, cores=8)
    base.update(kw)
    return Hardware(id="t", name="T", vendor="t", device_kind=kind, memory_bytes=24 * GIB,
                    bandwidth_gbs=1000.0, source="test", **base)


def test_one_watt_hour_runs_a_1000_w_microwave_for_3_6_seconds():
    assert microwave_seconds(1.0) == pytest.approx(3.6)


def test_decode_joules_per_token_is_power_over_tokens_per_second():
    e = estimate(get_model("meta-llama/Llama-3.1-8B-Instruct"), hw(), quant="Q4_K_M", context=4096)
    power = 30 + (300 - 30) * DECODE_UTILISATION[0]
    assert e.energy.decode_power_w == pytest.approx(power)
    assert e.energy.joules_per_token == pytest.approx(power / e.speed.decode_tokens_per_s)
    assert e.energy.basis == "estimated"


def test_wh_per_request_adds_prefill_and_decode_energy():
    e = estimate(get_model("meta-llama/Llama-3.1-8B-Instruct"), hw(), quant="Q4_K_M", context=4096,
                 prompt_tokens=1000, output_tokens=300)
    en = e.energy
    assert en.wh_per_request == pytest.approx(
        (1000 * en.prefill_joules_per_token + 300 * en.joules_per_token) / 3600)
    assert en.wh_per_request_low < en.wh_per_request < en.wh_per_request_high
    assert en.microwave_seconds == pytest.approx(en.wh_per_request * 3.6)


def test_unknown_tdp_is_assumed_and_said_so():
    e = estimate(get_model("google/gemma-3-270m"), hw(tdp_w=None, idle_w=None), context=2048)
    assert any("TDP unknown" in a for a in e.energy.assumptions)


def test_cpu_power_counts_only_busy_cores():
    speed = estimate(get_model("google/gemma-3-270m"), hw("cpu"), context=2048).speed
    two = estimate_energy(hw("cpu"), speed, 100, 100, threads=2)
    eight = estimate_energy(hw("cpu"), speed, 100, 100, threads=8)
    assert two.decode_power_w < eight.decode_power_w


def test_cloud_energy_is_a_labelled_range_with_sources():
    c = cloud_energy_estimate()
    assert c["basis"] == "published estimate, not measured"
    assert 0 < c["wh_per_request_low"] < c["wh_per_request_high"]
    urls = [s["url"] for s in c["sources"]]
    assert "https://epoch.ai/gradient-updates/how-much-energy-does-chatgpt-use" in urls
    assert "https://arxiv.org/abs/2508.15734" in urls
    assert all(u.startswith("https://") for u in urls)


def test_cloud_cost_per_request_and_month():
    c = cloud_cost(OFFER, prompt_tokens=1000, output_tokens=500, requests_per_month=10_000)
    assert c.per_request == pytest.approx((1000 * 2.5 + 500 * 10.0) / 1e6)
    assert c.per_month == pytest.approx(c.per_request * 10_000)
    assert c.price_source == OFFER.source


def test_local_cost_is_electricity_plus_amortised_hardware():
    c = local_cost(wh_per_request=2.0, requests_per_month=1000, electricity_price_per_kwh=0.30,
                   hardware_price=1800.0, amortisation_months=36)
    assert c.electricity_per_request == pytest.approx(0.0006)
    assert c.hardware_per_month == pytest.approx(50.0)
    assert c.per_month == pytest.approx(50.6)


def test_break_even_volume_is_fixed_cost_over_the_price_gap():
    local = local_cost(2.0, 1000, 0.30, hardware_price=1800.0, amortisation_months=36)
    # 50 / (0.0075 - 0.0006) = 7246.4 -> 7247 requests a month
    assert break_even_requests(local, 0.0075) == 7247


def test_break_even_is_none_when_the_cloud_is_cheaper_per_request():
    local = local_cost(2.0, 1000, 0.30, hardware_price=1800.0)
    assert break_even_requests(local, 0.0001) is None


def test_without_hardware_cost_local_wins_from_the_first_request():
    assert break_even_requests(local_cost(1.0, 10, 0.3), 0.01) == 0


def test_compare_with_cloud_lists_each_cloud_model():
    local = local_cost(1.0, 1000, 0.3, hardware_price=1000.0)
    rows = compare_with_cloud(local, [get_model("openai/gpt-4o-mini")], 500, 200)
    assert rows[0]["model"] == "openai/gpt-4o-mini"
    assert rows[0]["per_request"] > 0


def test_estimate_cost_uses_the_given_electricity_price():
    e = estimate(get_model("google/gemma-3-270m"), hw(), context=2048, electricity_price=0.5,
                 requests_per_month=100)
    assert e.cost.electricity_price_per_kwh == 0.5
    assert e.cost.per_request == pytest.approx(e.energy.wh_per_request / 1000 * 0.5)


def test_estimate_cost_defaults_to_the_environment_price(monkeypatch):
    monkeypatch.setenv("LLMSCOUT_ELECTRICITY_PRICE", "0.12")
    e = estimate(get_model("google/gemma-3-270m"), hw(), context=2048)
    assert e.cost.electricity_price_per_kwh == 0.12


@pytest.mark.parametrize(("kw", "field"), [
    ({"electricity_price_per_kwh": -1.0}, "electricity_price"),
    ({"electricity_price_per_kwh": 0.3, "hardware_price": -5.0}, "hardware_price"),
    ({"electricity_price_per_kwh": 0.3, "hardware_price": 5.0, "amortisation_months": 0},
     "amortisation_months"),
])
def test_bad_cost_inputs_name_the_field(kw, field):
    with pytest.raises(InvalidValueError) as err:
        local_cost(1.0, 10, **kw)
    assert err.value.field == field
