"""Speed: decode and prefill tokens per second, time to first token, with bands and a basis.

Decode is memory-bound: each generated token reads the active weights plus the KV cache up to
the current depth, so ``tokens/s = effective bandwidth / bytes per token`` with effective
bandwidth = peak x efficiency. Prefill is compute-bound: ``tokens/s = effective FLOP/s / FLOPs
per token`` with FLOPs per token = 2 x active matmul parameters + attention. Defaults for the
efficiencies, with the measurements they come from, are in ``BANDWIDTH_EFFICIENCY`` and
``COMPUTE_EFFICIENCY``; a :class:`Calibration` replaces them per hardware, and exact
measurements replace the whole figure (basis "measured").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from llmscout.errors import InvalidValueError
from llmscout.estimate.memory import LLAMACPP_UBATCH, MemoryPlan, Setup, kv_elements_per_token

Basis = Literal["formula", "calibrated", "measured"]

# (engine, device kind) -> fraction of peak memory bandwidth reached by batch-1 decode.
# llamacpp gpu: RTX 4090 llama-7B F16 tg128 61.0 t/s x 13.5 GB = 82%, Q8_0 98.1 x 7.2 GB = 70%
#   (github.com/ggml-org/llama.cpp/pull/4766); RTX 3090 Ti Q4_0 127.4 x 3.8 GB = 48% (pull/4812).
# llamacpp unified: Mac mini M4 (120 GB/s) Llama-3.1-8B Q4_K_M tg128 20.9 t/s = 81%; M1 Max
#   (400 GB/s) 46.2 t/s = 54% (github.com/brand-o/normiebench issues 3 and 40).
# llamacpp cpu: i9-13900K DDR5-6400 (102 GB/s) 7B 18.3 t/s at 8 threads = 68%
#   (github.com/ggml-org/llama.cpp/issues/34).
# mlc gpu: RTX 4090 Llama-2-7B q4f16_1 191 t/s x 3.9 GB = 74% (github.com/mlc-ai/llm-perf-bench/pull/1).
# vllm / transformers / other rows: assumptions (not measured here), hence the wide band.
BANDWIDTH_EFFICIENCY: dict[tuple[str, str], float] = {
    ("llamacpp", "gpu"): 0.65, ("llamacpp", "unified"): 0.65, ("llamacpp", "cpu"): 0.65,
    ("mlc", "gpu"): 0.75, ("mlc", "unified"): 0.65, ("mlc", "cpu"): 0.30,
    ("vllm", "gpu"): 0.70, ("vllm", "unified"): 0.40, ("vllm", "cpu"): 0.40,
    ("transformers", "gpu"): 0.35, ("transformers", "unified"): 0.30,
    ("transformers", "cpu"): 0.25,
}
# Fraction of peak dense FP16 compute reached by prefill. llamacpp gpu: RTX 4090 pp512 Q4_0 7980
# t/s x 13.5 GFLOP = 108 TFLOP/s = 65% of 165 (F16: 90%) (pull/4766). llamacpp cpu: measured here,
# Gemma 3 270M Q4_K_M pp512 558 t/s on 2 threads = 0.11 TFLOP/s = 34% of an AVX-512 peak
# (64 FLOP/cycle x 2.6 GHz x 2). Others: assumptions.
COMPUTE_EFFICIENCY: dict[tuple[str, str], float] = {
    ("llamacpp", "gpu"): 0.55, ("llamacpp", "unified"): 0.50, ("llamacpp", "cpu"): 0.35,
    ("mlc", "gpu"): 0.50, ("mlc", "unified"): 0.45, ("mlc", "cpu"): 0.25,
    ("vllm", "gpu"): 0.60, ("vllm", "unified"): 0.30, ("vllm", "cpu"): 0.30,
    ("transformers", "gpu"): 0.40, ("transformers", "unified"): 0.30,
    ("transformers", "cpu"): 0.25,
}
# One core streams at most ~12 GB/s: measured here (numpy read, 1 thread: 12.1 GB/s) and
# implied by the i9-13900K row above (4 threads: 12.65 t/s x 3.8 GB = 48 GB/s).
PER_THREAD_GBS = 12.0
# Effective prefill FLOP/s per thread when a CPU's peak is unknown (measured here: 0.11 TFLOP/s
# on 2 threads, llama.cpp, Q4_K_M); efficiency is already included.
CPU_TFLOPS_PER_THREAD = 0.056
FLOPS_PER_CYCLE = {"avx512f": 64, "avx512": 64, "avx2": 32, "fma": 32, "avx": 16, "neon": 16,
                   "asimd": 16, "sve": 32}
DEFAULT_HOST_BANDWIDTH_GBS = 60.0  # dual-channel DDR5 system RAM behind a GPU (assumed)
DEFAULT_TFLOPS = {"gpu": 20.0, "unified": 5.0}  # when the hardware record has none (assumed)
# Fixed cost of one forward pass besides moving weights: kernel launches / thread barriers /
# Python per block (seconds per block). It caps tiny models: without it a 270M model on an RTX
# 4090 would "decode" at 2,500 tokens/s. Assumed, order-of-magnitude values.
STEP_OVERHEAD_PER_LAYER_S: dict[str, float] = {
    "llamacpp": 10e-6, "mlc": 10e-6, "vllm": 15e-6, "transformers": 250e-6,
}
TP_EFFICIENCY = 0.9  # tensor-parallel scaling of bandwidth/compute across GPUs (assumed)
ALLREDUCE_LATENCY_S = {"nvlink": 8e-6, "pcie": 20e-6}  # per all-reduce, small messages (assumed)
# Bands (relative): formula figures carry the spread of the efficiency measurements above
# (48-82% around 65% for llama.cpp decode) plus spec-sheet error; prefill depends more on the
# kernel path (quant type, ISA, batch size), hence wider. Calibrated: the factor is measured on
# this hardware but the model/context differ. Measured: run-to-run noise.
BANDS: dict[str, tuple[float, float, float, float]] = {
    # basis: decode low, decode high, prefill low, prefill high
    "formula": (0.65, 1.35, 0.5, 1.5),
    "calibrated": (0.85, 1.15, 0.75, 1.25),
    "measured": (0.95, 1.05, 0.95, 1.05),
}


# -- calibration -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class HardwareCalibration:
    """Efficiency factors measured on one hardware id (engine -> fraction; '*' = any engine).

    ``decode_type_cost`` / ``prefill_type_cost`` refine the llama.cpp model per GGML tensor type:
    the time to stream (decode) or multiply (prefill) one byte / weight of that type relative to
    the plain rate. On a CPU, dequantizing Q5_K or Q6_K costs more per byte than Q4_0 or F16, so
    one efficiency cannot fit every quantization. ``layer_overhead_s`` is the fixed time per
    block per forward pass (norms, RoPE, attention over a short cache, thread barriers) that
    dominates tiny models; ``token_overhead_s`` the fixed time per forward pass whatever the model
    (the runtime's own work: building the batch, copying logits). All are fitted on real runs by ``bench/estimate_accuracy.py`` (``llmscout calibrate``
    fits only the two efficiencies so far); absent, the formula treats every type alike.
    """

    bandwidth_efficiency: dict[str, float] = field(default_factory=dict)
    compute_efficiency: dict[str, float] = field(default_factory=dict)
    source: str | None = None
    date: str | None = None
    decode_type_cost: dict[str, float] = field(default_factory=dict)
    prefill_type_cost: dict[str, float] = field(default_factory=dict)
    layer_overhead_s: float | None = None
    token_overhead_s: float | None = None  # per forward pass, whatever the model (runtime, logits)

    def type_cost(self, which: str, type_bytes: dict[str, int]) -> float | None:
        """Bytes-weighted mean cost over ``type_bytes`` (None when nothing was fitted)."""
        table = self.decode_type_cost if which == "decode" else self.prefill_type_cost
        if not table or not type_bytes:
            return None
        default = sum(table.values()) / len(table)
        total = sum(type_bytes.values())
        return sum(b * table.get(t.upper(), default) for t, b in type_bytes.items()) / max(total, 1)


@dataclass(frozen=True, slots=True)
class Measurement:
    """An exact measured result; ``model`` is a catalog id or the sha256 of the model file."""

    hardware_id: str
    model: str
    engine: str
    quant: str | None = None
    decode_tokens_per_s: float | None = None
    prefill_tokens_per_s: float | None = None
    context: int | None = None
    threads: int | None = None
    source: str | None = None
    date: str | None = None


@dataclass(frozen=True, slots=True)
class Calibration:
    """Per-hardware efficiency factors and exact measurements (filled by ``llmscout calibrate``).

    Example:
        >>> cal = Calibration.from_dict({"hardware": {"rtx-4090": {
        ...     "bandwidth_efficiency": {"llamacpp": 0.78}}}})
        >>> cal.bandwidth_efficiency("rtx-4090", "llamacpp")
        0.78
    """

    hardware: dict[str, HardwareCalibration] = field(default_factory=dict)
    measurements: tuple[Measurement, ...] = ()

    def bandwidth_efficiency(self, hardware_id: str, engine: str) -> float | None:
        h = self.hardware.get(hardware_id)
        return None if h is None else h.bandwidth_efficiency.get(engine,
                                                                 h.bandwidth_efficiency.get("*"))

    def compute_efficiency(self, hardware_id: str, engine: str) -> float | None:
        h = self.hardware.get(hardware_id)
        return None if h is None else h.compute_efficiency.get(engine, h.compute_efficiency.get("*"))

    def measurement(self, hardware_id: str, models: tuple[str, ...], quant: str | None,
                    engine: str) -> Measurement | None:
        """The measurement for this hardware, engine and any of ``models`` (sha256 or id+quant)."""
        for m in self.measurements:
            if m.hardware_id != hardware_id or m.engine != engine or m.model not in models:
                continue
            if m.quant is None or quant is None or m.quant.upper() == quant.upper():
                return m
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"hardware": {k: _hw_dict(v) for k, v in self.hardware.items()},
                "measurements": [asdict(m) for m in self.measurements]}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Calibration:
        """Parse the JSON form; errors name the field, e.g. ``hardware.x.bandwidth_efficiency``."""
        if not isinstance(raw, Mapping):
            raise InvalidValueError("calibration", type(raw).__name__, "a mapping")
        hw: dict[str, HardwareCalibration] = {}
        for hid, entry in (raw.get("hardware") or {}).items():
            if not isinstance(entry, Mapping):
                raise InvalidValueError(f"hardware.{hid}", entry, "a mapping")
            effs = {}
            for key in ("bandwidth_efficiency", "compute_efficiency"):
                effs[key] = {str(e): _fraction(f"hardware.{hid}.{key}.{e}", v)
                             for e, v in (entry.get(key) or {}).items()}
            costs = {}
            for key in ("decode_type_cost", "prefill_type_cost"):
                costs[key] = {str(t).upper(): _cost(f"hardware.{hid}.{key}.{t}", v)
                              for t, v in (entry.get(key) or {}).items()}
            over: dict[str, float | None] = {}
            for key in ("layer_overhead_s", "token_overhead_s"):
                v = entry.get(key)
                if v is not None and (isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v < 0.1):
                    raise InvalidValueError(f"hardware.{hid}.{key}", v, "seconds in [0, 0.1)")
                over[key] = None if v is None else float(v)
            hw[str(hid)] = HardwareCalibration(
                bandwidth_efficiency=effs["bandwidth_efficiency"], compute_efficiency=effs["compute_efficiency"],
                source=entry.get("source"), date=entry.get("date"),
                decode_type_cost=costs["decode_type_cost"], prefill_type_cost=costs["prefill_type_cost"],
                layer_overhead_s=over["layer_overhead_s"], token_overhead_s=over["token_overhead_s"])
        ms = []
        for i, m in enumerate(raw.get("measurements") or ()):
            ms.append(_measurement(m, f"measurements[{i}]"))
        return cls(hw, tuple(ms))


def _hw_dict(h: HardwareCalibration) -> dict[str, Any]:
    d = asdict(h)
    for key in ("decode_type_cost", "prefill_type_cost", "layer_overhead_s", "token_overhead_s"):
        if not d[key] and d[key] != 0:
            del d[key]  # optional refinements: absent unless fitted
    return d


def _cost(path: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 100:
        raise InvalidValueError(path, value, "a relative cost in (0, 100]")
    return float(value)


def _fraction(path: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1.5:
        raise InvalidValueError(path, value, "a number in (0, 1.5]")
    return float(value)


def _measurement(raw: Any, path: str) -> Measurement:
    if not isinstance(raw, Mapping):
        raise InvalidValueError(path, raw, "a mapping")
    for key in ("hardware_id", "model", "engine"):
        if not raw.get(key):
            raise InvalidValueError(f"{path}.{key}", raw.get(key), "a non-empty string")
    known = set(Measurement.__dataclass_fields__)
    for key in raw:
        if key not in known:
            raise InvalidValueError(f"{path}.{key}", raw[key], "one of " + ", ".join(sorted(known)))
    for key in ("decode_tokens_per_s", "prefill_tokens_per_s"):
        v = raw.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float) or v <= 0):
            raise InvalidValueError(f"{path}.{key}", v, "a positive number")
    return Measurement(**raw)


# -- the speed record ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Speed:
    """Throughput per sequence (aggregate for ``batch`` sequences in ``decode_total``)."""

    prefill_tokens_per_s: float
    prefill_low: float
    prefill_high: float
    decode_tokens_per_s: float
    decode_low: float
    decode_high: float
    decode_total_tokens_per_s: float
    ttft_s: float
    basis: Basis
    bandwidth_limit_tokens_per_s: float  # peak bandwidth / weight bytes read per token
    effective_bandwidth_gbs: float
    effective_tflops: float
    bytes_per_token: int
    flops_per_prompt_token: float
    bandwidth_efficiency: float
    compute_efficiency: float
    notes: tuple[str, ...] = ()


def cpu_peak_tflops(hw: Any, threads: int) -> float | None:
    """threads x FLOP/cycle (widest vector ISA) x clock, when the record knows the clock."""
    clock = (hw.extra or {}).get("clock_ghz") or (hw.extra or {}).get("base_clock_ghz")
    if not clock:
        return None
    fpc = max((FLOPS_PER_CYCLE.get(i.lower(), 0) for i in hw.isa), default=0) or 16
    return threads * fpc * float(clock) / 1000


def _efficiencies(s: Setup, cal: Calibration | None, kind: str) -> tuple[float, float, bool]:
    bw = BANDWIDTH_EFFICIENCY[(s.engine, kind)]
    cp = COMPUTE_EFFICIENCY[(s.engine, kind)]
    calibrated = False
    if cal is not None:
        b = cal.bandwidth_efficiency(s.hardware.id, s.engine)
        c = cal.compute_efficiency(s.hardware.id, s.engine)
        calibrated = b is not None or c is not None
        bw, cp = b or bw, c or cp
    return bw, cp, calibrated


def _device_rates(s: Setup, kind: str, threads: int, bw_eff: float, cp_eff: float,
                  host: bool) -> tuple[float, float, float]:
    """(effective GB/s, effective TFLOP/s, peak GB/s) of the device that runs the layers."""
    hw = s.hardware
    if host:  # system RAM behind a GPU, driven by the host CPU
        peak = hw.host_bandwidth_gbs or DEFAULT_HOST_BANDWIDTH_GBS
        eff_bw = min(peak * BANDWIDTH_EFFICIENCY[(s.engine, "cpu")], threads * PER_THREAD_GBS)
        return eff_bw, threads * CPU_TFLOPS_PER_THREAD, peak
    peak = hw.bandwidth_gbs
    if kind == "cpu":
        eff_bw = min(peak * bw_eff, threads * PER_THREAD_GBS)
        tpeak = cpu_peak_tflops(hw, threads)
        if tpeak is None and hw.fp16_tflops:  # whole-chip figure: scale to the threads used
            tpeak = hw.fp16_tflops * min(1.0, threads / (hw.cores or threads))
        tflops = tpeak * cp_eff if tpeak else threads * CPU_TFLOPS_PER_THREAD
        return eff_bw, tflops, peak
    tflops = (hw.fp16_tflops or DEFAULT_TFLOPS.get(kind, 5.0)) * cp_eff
    return peak * bw_eff, tflops, peak


def _attended(s: Setup, depth: int) -> tuple[float, float]:
    """(KV elements per token per layer, layer-positions one new token attends to at ``depth``):
    full-attention layers see every position, sliding-window layers at most the window."""
    a = s.arch
    if a is None:
        return 0.0, 0.0
    per, full, swa = kv_elements_per_token(a, s.engine)
    window = a.sliding_window or depth
    return per, full * depth + swa * min(depth, window)


def kv_read_bytes(s: Setup, depth: int) -> float:
    """KV-cache bytes one decode step reads for one sequence at ``depth`` tokens."""
    per, positions = _attended(s, depth)
    return per * s.kv_bytes_per_element * positions


def prefill_flops(s: Setup, prompt: int) -> float:
    """FLOPs to process ``prompt`` tokens: 2 x matmul params per token + attention + one head."""
    a, w = s.arch, s.weights
    body = s.body_params
    if a is None or w is None:
        return 2.0 * body * prompt
    _, full, swa = kv_elements_per_token(a, s.engine)
    qd = a.num_heads * a.head_dim
    win = a.sliding_window or prompt
    swa_pairs = prompt * prompt / 2 if prompt <= win else win * win / 2 + (prompt - win) * win
    # QK^T and AV: 2 matmuls x 2 FLOP per multiply-add over every (query, key) pair
    attn = 4.0 * qd * (full * prompt * prompt / 2 + swa * swa_pairs)
    return 2.0 * body * prompt + attn + 2.0 * a.vocab_size * a.hidden_size


def _decode_weight_bytes(s: Setup) -> float:
    if s.weights is not None:
        return float(s.weights.decode_bytes)
    return s.weights_bytes * s.active_params / max(s.total_params, 1)


def _comm_time(s: Setup, per_token_syncs: float, batch: int) -> float:
    """Tensor-parallel all-reduces: two per block per step (attention and MLP outputs)."""
    hw, a = s.hardware, s.arch
    if hw.count <= 1 or a is None:
        return 0.0
    link = hw.interconnect_gbs or 32.0
    lat = ALLREDUCE_LATENCY_S["nvlink" if link >= 100 else "pcie"]
    msg = 2 * a.hidden_size * 2 * batch * (hw.count - 1) / hw.count
    return per_token_syncs * 2 * a.num_layers * (lat + msg / (link * 1e9))


@dataclass(frozen=True, slots=True)
class _Rates:
    bw: float  # effective GB/s
    tflops: float  # effective TFLOP/s
    peak_bw: float  # for the bandwidth limit
    tp: bool  # tensor parallel across hw.count devices


def _rates(s: Setup, plan: MemoryPlan, kind: str, threads: int, bw_eff: float,
           cp_eff: float) -> _Rates:
    hw = s.hardware
    on_host = plan.placement == "cpu" and kind != "cpu"
    bw, tf, peak = _device_rates(s, kind, threads, bw_eff, cp_eff, on_host)
    tp = plan.placement == "multi-gpu" and s.engine in ("vllm", "mlc")
    if tp:  # tensor parallel: every device reads its shard at the same time
        return _Rates(bw * hw.count * TP_EFFICIENCY, tf * hw.count * TP_EFFICIENCY,
                      peak * hw.count, True)
    return _Rates(bw, tf, peak, False)


def _step_time(s: Setup, plan: MemoryPlan, r: _Rates, threads: int, mem_bytes: float,
               flops: float) -> float:
    """Seconds for one pass reading ``mem_bytes`` and computing ``flops`` (offload-aware)."""
    if plan.placement != "partial-offload" or not plan.gpu_layers:
        return max(mem_bytes / (r.bw * 1e9), flops / (r.tflops * 1e12))
    host_bw, host_tf, _ = _device_rates(s, "cpu", threads, 0.0, 0.0, True)
    share = plan.gpu_layers / max(plan.n_layers, 1)
    gpu = max(share * mem_bytes / (r.bw * 1e9), share * flops / (r.tflops * 1e12))
    host = max((1 - share) * mem_bytes / (host_bw * 1e9), (1 - share) * flops / (host_tf * 1e12))
    return gpu + host  # the two parts run one after the other for every token


def estimate_speed(s: Setup, plan: MemoryPlan, threads: int, calibration: Calibration | None = None,
                   measured: Measurement | None = None) -> Speed:
    """Decode/prefill speed for ``plan`` (see module docstring); bands per basis in ``BANDS``."""
    hw = s.hardware
    kind = hw.device_kind
    bw_eff, cp_eff, calibrated = _efficiencies(s, calibration, kind)
    r = _rates(s, plan, kind, threads, bw_eff, cp_eff)
    b = s.batch
    depth = max(1, min(plan.context, s.prompt_tokens + s.output_tokens // 2))
    w_dec = _decode_weight_bytes(s)
    hcal = calibration.hardware.get(hw.id) if calibration is not None else None
    types = s.weights.tensor_types if s.weights is not None else {}
    dec_cost = (hcal.type_cost("decode", types) if hcal else None) or 1.0
    pre_cost = (hcal.type_cost("prefill", types) if hcal else None) or 1.0
    kv_bytes = b * kv_read_bytes(s, depth)
    dec_bytes = w_dec + kv_bytes
    dec_flops = b * (2.0 * (s.body_params + s.head_params) + _attn_decode_flops(s, depth))
    per_layer = (hcal.layer_overhead_s if hcal and hcal.layer_overhead_s is not None
                 else STEP_OVERHEAD_PER_LAYER_S[s.engine])
    fixed = per_layer * max(plan.n_layers, 1) + ((hcal.token_overhead_s or 0.0) if hcal else 0.0)
    step = (_step_time(s, plan, r, threads, w_dec * dec_cost + kv_bytes, dec_flops)
            + _comm_time(s, 1, b) + fixed)
    decode = 1.0 / step
    limit = r.peak_bw * 1e9 / w_dec
    prompt = max(s.prompt_tokens, 1)
    ub = LLAMACPP_UBATCH if s.engine == "llamacpp" else 2048
    passes = math.ceil(prompt * b / ub)
    pre_bytes = passes * (s.weights_bytes - (s.weights.token_embd if s.weights else 0))
    pre_time = _step_time(s, plan, r, threads, pre_bytes, _prefill_flops_costed(s, prompt, pre_cost) * b)
    pre_time += _comm_time(s, passes, min(prompt * b, ub)) + passes * fixed
    prefill = prompt / pre_time
    basis: Basis = "calibrated" if calibrated else "formula"
    notes: list[str] = []
    if measured is not None and (measured.decode_tokens_per_s or measured.prefill_tokens_per_s):
        basis = "measured"
        decode = measured.decode_tokens_per_s or decode
        prefill = measured.prefill_tokens_per_s or prefill
        notes.append(f"measured: {measured.source or 'calibration'}"
                     + (f" ({measured.date})" if measured.date else ""))
    dl, dh, pl, ph = BANDS[basis]
    high = decode * dh if basis == "measured" else min(decode * dh, limit)
    return Speed(
        prefill_tokens_per_s=prefill, prefill_low=prefill * pl, prefill_high=prefill * ph,
        decode_tokens_per_s=decode, decode_low=decode * dl, decode_high=max(high, decode),
        decode_total_tokens_per_s=decode * b, ttft_s=prompt / prefill, basis=basis,
        bandwidth_limit_tokens_per_s=limit, effective_bandwidth_gbs=r.bw,
        effective_tflops=r.tflops, bytes_per_token=int(dec_bytes),
        flops_per_prompt_token=prefill_flops(s, prompt) / prompt, bandwidth_efficiency=bw_eff,
        compute_efficiency=cp_eff, notes=tuple(notes))


def _prefill_flops_costed(s: Setup, prompt: int, cost: float) -> float:
    """Prefill FLOPs with the matmul part weighted by the calibrated per-type kernel cost."""
    total = prefill_flops(s, prompt)
    matmul = 2.0 * s.body_params * prompt
    return total + matmul * (cost - 1.0)


def _attn_decode_flops(s: Setup, depth: int) -> float:
    a = s.arch
    if a is None:
        return 0.0
    return 4.0 * a.num_heads * a.head_dim * _attended(s, depth)[1]
