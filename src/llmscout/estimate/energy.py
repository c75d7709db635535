"""Energy: joules per token and watt-hours per request from a device power model (estimated).

Power while busy = idle + (TDP - idle) x utilisation; energy = power x time. Decode is memory-
bound and does not hold the chip at TDP, but how far below varies a lot between devices:
  * H200 (700 W): decode drew 137-300 W across four attention types (arXiv 2605.11999,
    https://arxiv.org/html/2605.11999v1) - about 0.1-0.35 of (TDP - idle);
  * RTX 5060 Ti (180 W), llama.cpp, Qwen2.5-Coder-7B: 172.7 W, 96% of its limit
    (https://inventivehq.com/blog/gpu-power-limit-tokens-per-watt).
Hence a central decode utilisation of 0.5 with a 0.2-0.95 band; prefill is compute-bound (0.9,
band 0.7-1.0). Every figure here has basis "estimated"; measured energy (RAPL/NVML) replaces it
elsewhere. Cloud figures are published estimates by others, never measurements by llmscout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from llmscout.estimate.speed import Speed
from llmscout.hardware.spec import Hardware

DEFAULT_TDP_W = {"gpu": 300.0, "unified": 40.0, "cpu": 65.0}  # when the record has none (assumed)
IDLE_FRACTION_OF_TDP = {"gpu": 0.10, "unified": 0.10, "cpu": 0.15}  # when idle_w is unknown
DECODE_UTILISATION = (0.5, 0.2, 0.95)  # central, low, high (sources in the module docstring)
PREFILL_UTILISATION = (0.9, 0.7, 1.0)
MICROWAVE_W = 1000.0


@dataclass(frozen=True, slots=True)
class Energy:
    """Estimated energy of local inference; ``basis`` is always "estimated"."""

    joules_per_token: float  # decode
    joules_per_token_low: float
    joules_per_token_high: float
    prefill_joules_per_token: float
    wh_per_request: float
    wh_per_request_low: float
    wh_per_request_high: float
    decode_power_w: float
    prefill_power_w: float
    microwave_seconds: float  # seconds a 1000 W microwave runs on the same energy
    basis: str = "estimated"
    assumptions: tuple[str, ...] = ()


def device_power(hw: Hardware, utils: tuple[float, float, float],
           threads: int | None) -> tuple[tuple[float, float, float], list[str]]:
    """(central, low, high) watts of all devices at the given utilisations."""
    notes = []
    tdp = hw.tdp_w
    if tdp is None:
        tdp = DEFAULT_TDP_W[hw.device_kind]
        notes.append(f"TDP unknown: assumed {tdp:.0f} W for a {hw.device_kind}")
    idle = hw.idle_w if hw.idle_w is not None else tdp * IDLE_FRACTION_OF_TDP[hw.device_kind]
    busy = 1.0
    if hw.device_kind == "cpu" and threads and hw.cores and threads < hw.cores:
        busy = threads / hw.cores  # only the busy cores draw dynamic power
    c, lo, hi = ((idle + (tdp - idle) * u * busy) * hw.count for u in utils)
    return (c, lo, hi), notes


def estimate_energy(hw: Hardware, speed: Speed, prompt_tokens: int, output_tokens: int,
                    batch: int = 1, threads: int | None = None) -> Energy:
    """Energy per token and per request (one request = prompt + output of one sequence).

    The low end pairs the lowest power with the highest speed, the high end the reverse.
    """
    (p_dec, p_dec_lo, p_dec_hi), notes = device_power(hw, DECODE_UTILISATION, threads)
    (p_pre, p_pre_lo, p_pre_hi), _ = device_power(hw, PREFILL_UTILISATION, threads)
    j_tok = p_dec / (speed.decode_tokens_per_s * batch)  # `batch` sequences share the device
    j_lo = p_dec_lo / (speed.decode_high * batch)
    j_hi = p_dec_hi / (speed.decode_low * batch)
    j_pre = p_pre / (speed.prefill_tokens_per_s * batch)
    j_pre_lo = p_pre_lo / (speed.prefill_high * batch)
    j_pre_hi = p_pre_hi / (speed.prefill_low * batch)
    wh = (prompt_tokens * j_pre + output_tokens * j_tok) / 3600
    wh_lo = (prompt_tokens * j_pre_lo + output_tokens * j_lo) / 3600
    wh_hi = (prompt_tokens * j_pre_hi + output_tokens * j_hi) / 3600
    notes.append(f"decode power = idle + (TDP - idle) x {DECODE_UTILISATION[0]} "
                 f"(band {DECODE_UTILISATION[1]}-{DECODE_UTILISATION[2]}); prefill x "
                 f"{PREFILL_UTILISATION[0]}")
    return Energy(j_tok, j_lo, j_hi, j_pre, wh, wh_lo, wh_hi, p_dec, p_pre,
                  microwave_seconds(wh), "estimated", tuple(notes))


def microwave_seconds(wh: float) -> float:
    """Seconds a 1000 W microwave runs on ``wh`` watt-hours (1 Wh = 3.6 s)."""
    return wh * 3600 / MICROWAVE_W


# Published per-query estimates for hosted models. Each is someone else's estimate with its own
# boundary (accelerators only vs. whole data centre), model and query length: a range, not a fact.
CLOUD_ENERGY_SOURCES: tuple[dict[str, Any], ...] = (
    {"name": "Epoch AI, 'How much energy does ChatGPT use?' (Feb 2025)",
     "url": "https://epoch.ai/gradient-updates/how-much-energy-does-chatgpt-use",
     "wh_low": 0.3, "wh_high": 0.3, "long_input_wh": {"10k tokens": 2.5, "100k tokens": 40.0},
     "scope": "GPT-4o, typical query (~500 output tokens), H100 servers; authors call it "
              "relatively pessimistic"},
    {"name": "Google, 'Measuring the environmental impact of delivering AI at Google Scale' "
             "(Aug 2025)",
     "url": "https://arxiv.org/abs/2508.15734",
     "wh_low": 0.10, "wh_high": 0.24,
     "scope": "median Gemini Apps text prompt: 0.24 Wh full stack (accelerators, host, idle "
              "capacity, data-centre overhead); 0.10 Wh counting active TPUs only"},
    {"name": "'Energy Use of AI Inference: Efficiency Pathways and Test-Time Compute' (Sep 2025)",
     "url": "https://arxiv.org/abs/2509.20241",
     "wh_low": 0.18, "wh_high": 0.67,
     "scope": "frontier-scale models (>200B) on H100 nodes: median 0.34 Wh, IQR 0.18-0.67; "
              "long reasoning queries median 4.32 Wh"},
    {"name": "Hugging Face AI Energy Score leaderboard (Luccioni et al.), as reported",
     "url": "https://aiworld.eu/story/how-output-length-shapes-ais-energy-footprint-",
     "wh_low": 0.0013, "wh_high": 19.0,
     "scope": "GPU energy per query measured on open models: from distilgpt2 (0.00131 kWh per "
              "1000 queries) to reasoning models such as Exaone-4.0-32B (18.99 kWh per 1000)"},
)


def cloud_energy_estimate(output_tokens: int | None = None) -> dict[str, Any]:
    """A labelled range of published per-request energy estimates for hosted chat models.

    Never a single number: returns the low and high over the chat-model sources, every source
    with its URL and scope, and the label "published estimate, not measured".
    """
    chat = CLOUD_ENERGY_SOURCES[:3]
    low = min(s["wh_low"] for s in chat)
    high = max(s["wh_high"] for s in chat)
    out: dict[str, Any] = {
        "wh_per_request_low": low,
        "wh_per_request_high": high,
        "microwave_seconds_low": microwave_seconds(low),
        "microwave_seconds_high": microwave_seconds(high),
        "basis": "published estimate, not measured",
        "sources": [dict(s) for s in CLOUD_ENERGY_SOURCES],
        "caveat": "providers do not publish per-model figures; scopes differ (accelerator-only "
                  "vs. whole data centre) and long inputs or reasoning multiply the energy",
    }
    if output_tokens is not None:
        out["output_tokens"] = output_tokens
    return out
