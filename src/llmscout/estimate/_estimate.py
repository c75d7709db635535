"""The ``Estimate`` record and ``estimate()``: fit, speed, energy and cost of one configuration."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from llmscout import constants
from llmscout.catalog.params import count_params
from llmscout.catalog.spec import Artifact, ModelSpec
from llmscout.errors import IncompatibleError, InvalidValueError, LlmscoutError
from llmscout.estimate import memory as mem
from llmscout.estimate.cost import Cost, cloud_cost, local_cost
from llmscout.estimate.energy import Energy, cloud_energy_estimate, estimate_energy
from llmscout.estimate.quants import (
    ENGINES,
    FORMATS,
    KV_TYPES,
    RECIPES,
    effective_bits,
    kv_bytes_per_element,
    normalize_quant,
    weights_for,
)
from llmscout.estimate.speed import Calibration, Speed, estimate_speed
from llmscout.hardware.spec import Hardware

DEFAULT_CONTEXT = 4096
MAX_CONTEXT = 10_000_000
GGUF_METADATA_BYTES_PER_TOKEN = 25  # tokenizer arrays in a GGUF header: 6.5 MB for 262k tokens
# Candidate quants for the automatic choice, best quality first (CPU: Q4_K_M first for speed).
AUTO_QUANTS = {
    "llamacpp": ("Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q3_K_M", "Q2_K"),
    "llamacpp-cpu": ("Q4_K_M", "Q3_K_M", "Q2_K"),
    "transformers": ("bf16", "int8", "nf4"),
    "vllm": ("bf16", "fp8", "awq"),
    "mlc": ("q4f16_1", "q4f32_1", "q3f16_1"),
}


@dataclass(frozen=True, slots=True)
class Estimate:
    """Fit, speed, energy and cost of one model x quant x engine x hardware x context.

    ``to_dict()`` is the stable JSON form (docs/json.md); ``explain()`` lists every step with
    its inputs, the formula in words and the source of each constant.
    """

    model_id: str
    model_params: int | None
    active_params: int | None
    quant: str | None
    engine: str
    context: int
    kv_cache_type: str
    batch: int
    prompt_tokens: int
    output_tokens: int
    hardware: Hardware
    file_size_bytes: int | None
    file_size_source: str  # artifact | computed | none
    memory: mem.MemoryPlan | None
    max_context: int
    max_context_on_device: int
    speed: Speed | None
    energy: Energy | None
    cost: Cost
    threads: int | None = None
    flash_attention: bool = False
    swa_full: bool = False
    cloud_energy: dict[str, Any] | None = None
    context_limit: int | None = None  # the model's own limit
    notes: tuple[str, ...] = ()

    @property
    def fits(self) -> bool:
        return True if self.memory is None else self.memory.fits

    @property
    def placement(self) -> str:
        return "cloud" if self.memory is None else self.memory.placement

    def explain(self) -> list[dict[str, Any]]:
        """Every step: inputs, the formula in words, constants and their sources."""
        return explain_steps(self)

    def to_dict(self, explain: bool = True) -> dict[str, Any]:
        """Stable JSON form; ``explain=False`` leaves out the (longer) explanation."""
        return estimate_to_dict(self, explain)


# -- validation ----------------------------------------------------------------------------------
def _whole(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value \
            or not low <= value <= high or value != int(value):
        raise InvalidValueError(name, value, f"a whole number from {low:,} to {high:,}")
    return int(value)


def _number(name: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value \
            or not low <= value <= high:
        raise InvalidValueError(name, value, f"a number from {low:g} to {high:g}")
    return float(value)


def _check_hardware(hw: Hardware) -> None:
    if not isinstance(hw, Hardware):
        raise InvalidValueError("hardware", type(hw).__name__, "a Hardware record")
    _whole("hardware.memory_bytes", hw.memory_bytes, 1, 2**50)
    _number("hardware.bandwidth_gbs", hw.bandwidth_gbs, 1e-3, 1e6)
    _whole("hardware.count", hw.count, 1, 4096)
    if hw.device_kind not in ("gpu", "unified", "cpu"):
        raise InvalidValueError("hardware.device_kind", hw.device_kind, "gpu, unified or cpu")


def context_limit(model: ModelSpec) -> int | None:
    a = model.architecture
    return model.context_length or (a.max_position_embeddings if a else None)


# -- building the setup ---------------------------------------------------------------------------
def _artifact_for(model: ModelSpec, quant: str, engine: str) -> Artifact | None:
    """The catalog artifact with a known size for this quant (exact byte counts preferred)."""
    found = []
    for a in model.artifacts:
        name = a.quant or a.precision
        if not a.size_bytes or not name:
            continue
        if engine == "llamacpp":
            ok = a.format == "gguf" and {"MXFP4": "MXFP4_MOE"}.get(name.upper(), name.upper()) == quant
        else:
            ok = a.format != "gguf" and name.lower() == quant.lower()
        if ok:
            found.append(a)
    found.sort(key=lambda a: (a.size_bytes or 0) % 1_000_000 == 0)  # rounded sizes last
    return found[0] if found else None


def _params(model: ModelSpec) -> tuple[int, int, int, int]:
    """(total, active, body, head): body = active matmul params in the blocks."""
    a = model.architecture
    total = model.params or 0
    if a is None:
        active = model.active_params or total
        return total, active, active, 0
    pc = count_params(a)
    total = total or pc.total
    active = model.active_params or int(pc.active * total / max(pc.total, 1))
    head = a.vocab_size * a.hidden_size
    embed = head * (1 if a.tied_embeddings else 2)
    return total, active, max(active - embed, 1), head


def _kv_type(kv: str, engine: str, quant: str) -> str:
    if not isinstance(kv, str):
        raise InvalidValueError("kv_cache_type", kv, "one of " + ", ".join(KV_TYPES[engine]))
    k = kv.strip().lower()
    k = {"fp16": "f16", "float16": "f16", "auto": "f16", "fp8_e4m3": "fp8", "fp8_e5m2": "fp8",
         "bfloat16": "bf16", "fp32": "f32"}.get(k, k)
    if engine == "mlc" and quant in ("q4f32_1", "q0f32"):  # float32 models keep a float32 cache
        k = "f32" if k == "f16" else k
    if k not in KV_TYPES[engine]:
        others = [e for e in ENGINES if k in KV_TYPES[e]]
        if others:
            raise IncompatibleError(f"kv_cache_type '{kv}' is not available on {engine} (it is on "
                                    f"{', '.join(others)}); use one of {', '.join(KV_TYPES[engine])}")
        kv_bytes_per_element(k, engine)
    return k


def build_setup(model: ModelSpec, hw: Hardware, quant: str, engine: str, kv_cache_type: str,
                batch: int, prompt_tokens: int, output_tokens: int, flash_attention: bool | None,
                swa_full: bool | None, gpu_memory_utilization: float) -> tuple[mem.Setup, Artifact | None]:
    """The context-independent part of an estimate (weights, KV element size, engine options)."""
    kv = _kv_type(kv_cache_type, engine, quant)
    a = model.architecture
    total, active, body, head = _params(model)
    art = _artifact_for(model, quant, engine)
    ws = weights_for(a, quant) if a is not None else None
    computed = ws.total if ws is not None else int(total * effective_bits(quant) / 8)
    weights = computed
    if art is not None and art.size_bytes:
        meta = (a.vocab_size * GGUF_METADATA_BYTES_PER_TOKEN) if (a and art.format == "gguf") else 0
        weights = max(int(art.size_bytes * 0.9), art.size_bytes - meta)
        if ws is not None and abs(weights - ws.total) > 0.005 * ws.total:
            ws = _scaled(ws, weights / ws.total)
    notes = []
    if a is None:
        notes.append("no architecture in the catalog: KV cache and compute buffers not estimated")
    # llama.cpp needs flash attention for a quantized V cache; llama-cpp-python turns it off
    fa = bool(flash_attention) or (engine == "llamacpp" and kv not in ("f16", "bf16", "f32"))
    s = mem.Setup(engine=engine, quant=quant, hardware=hw, weights=ws, weights_bytes=weights,
                  arch=a, kv_bytes_per_element=kv_bytes_per_element(kv, engine), batch=batch,
                  prompt_tokens=prompt_tokens, output_tokens=output_tokens, flash_attention=fa,
                  swa_full=True if swa_full is None else swa_full,
                  gpu_memory_utilization=gpu_memory_utilization, context_limit=context_limit(model),
                  total_params=total, active_params=active, body_params=body, head_params=head,
                  kv_type=kv, notes=tuple(notes))
    return s, art


def _scaled(ws: Any, f: float) -> Any:
    return dataclasses.replace(
        ws, total=int(ws.total * f), token_embd=int(ws.token_embd * f), output=int(ws.output * f),
        layers=tuple(int(x * f) for x in ws.layers),
        layers_active=tuple(int(x * f) for x in ws.layers_active),
        largest_tensor=int(ws.largest_tensor * f))


# -- the entry point ------------------------------------------------------------------------------
def estimate(
    model: ModelSpec,
    hardware: Hardware,
    quant: str | None = None,
    engine: str = "llamacpp",
    context: int | None = None,
    kv_cache_type: str = "f16",
    batch: int = 1,
    prompt_tokens: int = 512,
    output_tokens: int = 256,
    calibration: Calibration | None = None,
    *,
    threads: int | None = None,
    flash_attention: bool | None = None,
    swa_full: bool | None = None,
    gpu_memory_utilization: float = mem.VLLM_GPU_MEMORY_UTILIZATION,
    electricity_price: float | None = None,
    requests_per_month: int = 1000,
    hardware_price: float | None = None,
    amortisation_months: int | None = None,
    model_sha256: str | None = None,
) -> Estimate:
    """Estimate memory fit, speed, energy and cost of running ``model`` on ``hardware``.

    Args:
        quant: GGUF recipe (Q4_K_M...), MLC format (q4f16_1...) or bf16/fp8/awq/gptq/nf4/int8;
            None picks the best that fits (Q4_K_M first for llama.cpp on a CPU).
        context: tokens per sequence; None = min(4096, model limit), at least prompt + output.
        kv_cache_type: f16 | bf16 | q8_0 | q4_0 (llama.cpp) | fp8 (vLLM).
        batch: sequences decoded together (each with its own KV cache).
        threads: CPU threads (default: the record's cores).
        flash_attention / swa_full: llama.cpp options; defaults follow llama-cpp-python
            (flash attention off unless the KV cache is quantized; full-size SWA cache).
    Raises:
        InvalidValueError: negative or absurd numbers, unknown quant/engine/KV type.
        IncompatibleError: context beyond the model's limit, a quant the engine cannot run.

    Example:
        >>> from llmscout.catalog import get_model
        >>> from llmscout.hardware import lookup_hardware
        >>> e = estimate(get_model("google/gemma-3-270m"), lookup_hardware("rtx 4090"))
        >>> e.fits
        True
    """
    _check_hardware(hardware)
    batch, prompt_tokens, output_tokens, requests_per_month, price = _check_numbers(
        batch, prompt_tokens, output_tokens, requests_per_month, electricity_price,
        gpu_memory_utilization, hardware_price, amortisation_months)
    if model.kind == "cloud":
        return _cloud_estimate(model, hardware, prompt_tokens, output_tokens, requests_per_month,
                               context)
    if engine not in ENGINES:
        raise InvalidValueError("engine", engine, "one of " + ", ".join(ENGINES))
    ctx = _context(model, context, prompt_tokens, output_tokens)
    if threads is not None:
        threads = _whole("threads", threads, 1, 4096)
    opts: dict[str, Any] = dict(
        engine=engine, kv_cache_type=kv_cache_type, batch=batch, prompt_tokens=prompt_tokens,
        output_tokens=output_tokens, flash_attention=flash_attention, swa_full=swa_full,
        gpu_memory_utilization=gpu_memory_utilization)
    q = _auto_quant(model, hardware, ctx, opts) if quant is None else normalize_quant(quant, engine)
    setup, art = build_setup(model, hardware, q, **opts)
    plan = mem.plan_memory(setup, ctx)
    n_threads = threads or hardware.cores or hardware.threads or 4
    keys = tuple(k for k in (model_sha256, model.id) if k)
    measured = calibration.measurement(hardware.id, keys, q, engine) if calibration else None
    speed = estimate_speed(setup, plan, n_threads, calibration, measured)
    energy = estimate_energy(hardware, speed, prompt_tokens, output_tokens, batch, n_threads)
    cost = local_cost(energy.wh_per_request, requests_per_month, price, hardware_price,
                      amortisation_months)
    mc_dev = mem.max_context(setup, on_device_only=True)
    off = mc_dev != setup.context_limit and mem.offload_possible(setup)
    return Estimate(
        model_id=model.id, model_params=setup.total_params or None,
        active_params=setup.active_params or None, quant=q, engine=engine, context=ctx,
        kv_cache_type=setup.kv_type, batch=batch,
        prompt_tokens=prompt_tokens, output_tokens=output_tokens, hardware=hardware,
        file_size_bytes=_file_size(setup, art), file_size_source=_size_source(setup, art),
        memory=plan, max_context=mem.max_context(setup) if off else mc_dev,
        max_context_on_device=mc_dev, speed=speed,
        energy=energy, cost=cost, threads=n_threads, flash_attention=setup.flash_attention,
        swa_full=setup.swa_full, context_limit=setup.context_limit,
        notes=setup.notes + plan.notes + speed.notes)


def _check_numbers(batch: Any, prompt: Any, output: Any, rpm: Any, price: Any, gmu: Any,
                   hw_price: Any, months: Any) -> tuple[int, int, int, int, float]:
    """Validated (batch, prompt, output, requests per month, electricity price)."""
    batch = _whole("batch", batch, 1, 4096)
    prompt = _whole("prompt_tokens", prompt, 0, MAX_CONTEXT)
    output = _whole("output_tokens", output, 0, MAX_CONTEXT)
    rpm = _whole("requests_per_month", rpm, 0, 10**12)
    price = constants.electricity_price() if price is None else price
    price = _number("electricity_price", price, 0, 100)
    _number("gpu_memory_utilization", gmu, 0.05, 1.0)
    if hw_price is not None:
        _number("hardware_price", hw_price, 0, 1e9)
    if months is not None:
        _whole("amortisation_months", months, 1, 1200)
    return batch, prompt, output, rpm, price


def _context(model: ModelSpec, context: int | None, prompt: int, output: int) -> int:
    limit = context_limit(model)
    if context is None:
        ctx = max(min(DEFAULT_CONTEXT, limit or DEFAULT_CONTEXT), prompt + output)
    else:
        ctx = _whole("context", context, 1, MAX_CONTEXT)
    if limit and ctx > limit:
        raise IncompatibleError(
            f"context {ctx:,} is beyond {model.id}'s limit of {limit:,} tokens"
            + (" (prompt + output tokens)" if context is None else "")
            + f": use context <= {limit:,}")
    if prompt + output > ctx:
        raise IncompatibleError(f"prompt_tokens + output_tokens = {prompt + output:,} do not fit "
                                f"in a context of {ctx:,}: raise context or shorten them")
    return ctx


def _auto_quant(model: ModelSpec, hw: Hardware, ctx: int, opts: dict[str, Any]) -> str:
    """Best quant that fits: available artifacts first, quality order (CPU: Q4_K_M first)."""
    engine = opts["engine"]
    key = "llamacpp-cpu" if engine == "llamacpp" and hw.device_kind == "cpu" else engine
    order = list(AUTO_QUANTS[key])
    have = []
    for name in model.quants():
        try:
            have.append(normalize_quant(name, engine))
        except LlmscoutError:
            continue
    avail = [q for q in order if q in have] + [q for q in have if q not in order]
    for group in (avail, order):
        for q in group:
            s, _ = build_setup(model, hw, q, **opts)
            if mem.plan_memory(s, ctx).fits:
                return q
    return order[-1]


def _file_size(s: mem.Setup, art: Artifact | None) -> int | None:
    if art is not None and art.size_bytes:
        return art.size_bytes
    if s.arch is not None and s.quant in RECIPES:
        return s.weights_bytes + s.arch.vocab_size * GGUF_METADATA_BYTES_PER_TOKEN
    return s.weights_bytes or None


def _size_source(s: mem.Setup, art: Artifact | None) -> str:
    if art is not None and art.size_bytes:
        return "artifact"
    return "computed" if s.weights_bytes else "none"


def _cloud_estimate(model: ModelSpec, hw: Hardware, prompt: int, output: int, rpm: int,
                    context: int | None) -> Estimate:
    if model.cloud is None:
        raise IncompatibleError(f"cloud model '{model.id}' has no provider prices (field 'cloud')")
    cost = cloud_cost(model.cloud, prompt, output, rpm)
    return Estimate(model_id=model.id, model_params=model.params, active_params=model.active_params,
                    quant=None, engine="cloud", context=context or model.context_length or 0,
                    kv_cache_type="-", batch=1, prompt_tokens=prompt, output_tokens=output,
                    hardware=hw, file_size_bytes=None, file_size_source="none", memory=None,
                    max_context=model.context_length or 0,
                    max_context_on_device=model.context_length or 0, speed=None, energy=None,
                    cost=cost, cloud_energy=cloud_energy_estimate(output),
                    notes=("hosted API: runs on the provider's hardware",))


def estimate_all(models: Iterable[ModelSpec], hardware: Hardware,
                 quants: Iterable[str] | None = None, engines: Iterable[str] = ("llamacpp",),
                 **kwargs: Any) -> list[Estimate]:
    """Estimates for every model x quant x engine that can run (incompatible ones are skipped).

    ``quants`` None: the model's own artifacts that the engine runs, else the engine's automatic
    candidates. Cloud models get one estimate each (price and published energy only).
    """
    out: list[Estimate] = []
    wanted = list(quants) if quants is not None else None
    for m in models:
        if m.kind == "cloud":
            out.append(estimate(m, hardware, **{k: v for k, v in kwargs.items()
                                                if k in _CLOUD_KWARGS}))
            continue
        for engine in engines:
            for q in _quants_for(m, engine, wanted, hardware):
                try:
                    out.append(estimate(m, hardware, quant=q, engine=engine, **kwargs))
                except IncompatibleError:
                    continue
    return out


_CLOUD_KWARGS = {"prompt_tokens", "output_tokens", "requests_per_month", "context"}


def _quants_for(m: ModelSpec, engine: str, wanted: list[str] | None, hw: Hardware) -> list[str]:
    names = wanted if wanted is not None else m.quants()
    out = []
    for name in names:
        try:
            out.append(normalize_quant(name, engine))
        except LlmscoutError:
            continue
    if not out and wanted is None:
        key = "llamacpp-cpu" if engine == "llamacpp" and hw.device_kind == "cpu" else engine
        out = list(AUTO_QUANTS[key])
    return list(dict.fromkeys(out))


# -- explanation and JSON ---------------------------------------------------------------------------
_LLAMA_QUANT = "https://github.com/ggml-org/llama.cpp/blob/master/src/llama-quant.cpp"
_LLAMA_ISWA = "https://github.com/ggml-org/llama.cpp/blob/master/src/llama-kv-cache-iswa.cpp"
_MEASURED_HERE = ("measured: llama-cpp-python 0.3.36, Gemma 3 270M Q4_K_M, llama.cpp's "
                  "'compute buffer size' log line (see estimate/memory.py)")


def _step(step: str, value: Any, unit: str, formula: str, inputs: dict[str, Any],
          source: str | None = None) -> dict[str, Any]:
    return {"step": step, "value": value, "unit": unit, "formula": formula, "inputs": inputs,
            "source": source}


def _memory_steps(e: Estimate) -> list[dict[str, Any]]:
    p = e.memory
    if p is None:
        return []
    recipe = e.quant in RECIPES
    w_formula = ("file size of the catalog artifact, less the GGUF header" if
                 e.file_size_source == "artifact" else
                 "sum over tensors of elements x bits of the type llama.cpp's recipe gives each "
                 "tensor (fallback types for rows not divisible by the block)" if recipe else
                 "linear-layer params x bits of the format + embeddings at their own bits")
    if e.quant in FORMATS:
        bits = FORMATS[e.quant].description
    else:
        bits = f"{effective_bits(e.quant or 'Q8_0'):.3f} bits/weight on a Llama-3-8B shape"
    return [
        _step("weights", p.weights_bytes, "bytes", w_formula,
              {"params": e.model_params, "quant": e.quant, "quant_bits": bits},
              _LLAMA_QUANT if recipe else (FORMATS[e.quant].source if e.quant in FORMATS else None)),
        _step("kv_cache", p.kv_cache_bytes, "bytes",
              "layers x kv_heads x head_dim x 2 (K,V) x context x batch x bytes per element; "
              "sliding-window layers keep window tokens (llama.cpp: full size when swa_full, else "
              "pad256(window + ubatch)); MLA caches kv_lora_rank + rope dims once",
              {"context": e.context, "batch": e.batch, "kv_cache_type": e.kv_cache_type,
               "swa_full": e.swa_full}, _LLAMA_ISWA),
        _step("compute_buffer", p.compute_buffer_bytes, "bytes",
              "llama.cpp: max(logits vocab x ubatch x 4 + 2 x ubatch x hidden x 4, attention "
              "context x ubatch x 4 x (heads + 1) when flash attention is off); other engines: "
              "activations of the prefill tokens x (6 hidden + 2 intermediate) x 2 bytes",
              {"flash_attention": e.flash_attention, "ubatch": mem.LLAMACPP_UBATCH,
               "resident_bytes": p.compute_resident_bytes},
              _MEASURED_HERE if e.engine == "llamacpp" else "assumption"),
        _step("overhead", p.overhead_bytes, "bytes",
              "GPU: CUDA context per device; CPU: process baseline + vocabulary tables",
              {"engine": e.engine, "device_kind": e.hardware.device_kind},
              "python + llama_cpp import measured at 46 MiB here; CUDA context assumed"),
        _step("placement", p.placement, "", "total counted against the device <= memory x usable "
              "fraction (x count); otherwise blocks that fit go on the GPU, the rest in host RAM",
              {"total_bytes": p.total_bytes, "usable_bytes": p.usable_bytes,
               "headroom_bytes": p.headroom_bytes, "gpu_layers": p.gpu_layers,
               "usable_fraction": e.hardware.usable_memory_fraction
               or mem.USABLE_FRACTION[e.hardware.device_kind]}),
        _step("max_context", e.max_context, "tokens",
              "largest context whose memory still fits (bisection; memory grows with context)",
              {"model_limit": e.context_limit,
               "on_device_only": e.max_context_on_device}),
    ]


def explain_steps(e: Estimate) -> list[dict[str, Any]]:
    """The steps of ``e`` in order (see Estimate.explain)."""
    steps = _memory_steps(e)
    s = e.speed
    if s is not None:
        from llmscout.estimate import speed as sp

        steps.append(_step(
            "decode", s.decode_tokens_per_s, "tokens/s",
            "effective bandwidth / bytes read per token (active weights + KV cache at the average "
            "depth prompt + output/2); never above peak bandwidth / weight bytes",
            {"peak_bandwidth_gbs": e.hardware.bandwidth_gbs, "efficiency": s.bandwidth_efficiency,
             "effective_bandwidth_gbs": s.effective_bandwidth_gbs, "threads": e.threads,
             "bytes_per_token": s.bytes_per_token, "band": [s.decode_low, s.decode_high],
             "basis": s.basis, "bandwidth_limit": s.bandwidth_limit_tokens_per_s},
            "efficiency defaults and their measurements: llmscout/estimate/speed.py "
            "BANDWIDTH_EFFICIENCY; per-thread cap " + f"{sp.PER_THREAD_GBS} GB/s"))
        steps.append(_step(
            "prefill", s.prefill_tokens_per_s, "tokens/s",
            "effective FLOP/s / FLOPs per prompt token (2 x active matmul params + attention "
            "4 x heads x head_dim x depth); at least one read of the weights per ubatch",
            {"effective_tflops": s.effective_tflops, "efficiency": s.compute_efficiency,
             "flops_per_token": s.flops_per_prompt_token, "prompt_tokens": e.prompt_tokens,
             "ttft_s": s.ttft_s, "band": [s.prefill_low, s.prefill_high]},
            "llmscout/estimate/speed.py COMPUTE_EFFICIENCY"))
    if e.energy is not None:
        en = e.energy
        steps.append(_step(
            "energy", en.wh_per_request, "Wh/request",
            "power (idle + (TDP - idle) x utilisation) x time; decode J/token = decode power / "
            "tokens per second", {"decode_power_w": en.decode_power_w,
                                  "prefill_power_w": en.prefill_power_w,
                                  "joules_per_token": en.joules_per_token,
                                  "assumptions": list(en.assumptions)},
            "llmscout/estimate/energy.py (basis: estimated)"))
    if e.cloud_energy is not None:
        steps.append(_step("energy", [e.cloud_energy["wh_per_request_low"],
                                      e.cloud_energy["wh_per_request_high"]], "Wh/request",
                           "range of published estimates", {},
                           "; ".join(x["url"] for x in e.cloud_energy["sources"])))
    c = e.cost
    steps.append(_step(
        "cost", c.per_request, f"{c.currency}/request",
        "cloud: (prompt x input price + output x output price) / 1e6; local: Wh / 1000 x price "
        "per kWh + hardware price / amortisation months / requests",
        {"per_month": c.per_month, "requests_per_month": c.requests_per_month,
         "electricity_price_per_kwh": c.electricity_price_per_kwh,
         "hardware_per_month": c.hardware_per_month}, c.price_source))
    return steps


def estimate_to_dict(e: Estimate, explain: bool = True) -> dict[str, Any]:
    """The stable JSON form of an Estimate."""
    hw = e.hardware
    d: dict[str, Any] = {
        "model": {"id": e.model_id, "params": e.model_params, "active_params": e.active_params},
        "quant": e.quant, "engine": e.engine, "context": e.context,
        "kv_cache_type": e.kv_cache_type, "batch": e.batch, "prompt_tokens": e.prompt_tokens,
        "output_tokens": e.output_tokens,
        "hardware": {"id": hw.id, "name": hw.name, "device_kind": hw.device_kind,
                     "count": hw.count, "memory_bytes": hw.memory_bytes,
                     "bandwidth_gbs": hw.bandwidth_gbs},
        "file_size_bytes": e.file_size_bytes, "file_size_source": e.file_size_source,
        "fits": e.fits, "placement": e.placement, "max_context": e.max_context,
        "max_context_on_device": e.max_context_on_device, "context_limit": e.context_limit,
        "threads": e.threads,
        "flash_attention": e.flash_attention, "swa_full": e.swa_full,
        "memory": _memory_dict(e.memory), "speed": _speed_dict(e.speed),
        "energy": _energy_dict(e), "cost": e.cost.to_dict(), "notes": list(e.notes),
    }
    if explain:
        d["explain"] = explain_steps(e)
    return d


def _memory_dict(p: mem.MemoryPlan | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {"weights_bytes": p.weights_bytes, "kv_cache_bytes": p.kv_cache_bytes,
            "compute_buffer_bytes": p.compute_buffer_bytes,
            "compute_resident_bytes": p.compute_resident_bytes,
            "overhead_bytes": p.overhead_bytes, "total_bytes": p.total_bytes,
            "usable_bytes": p.usable_bytes, "headroom_bytes": p.headroom_bytes,
            "gpu_layers": p.gpu_layers, "n_layers": p.n_layers, "reserved_bytes": p.reserved_bytes}


def _speed_dict(s: Speed | None) -> dict[str, Any] | None:
    if s is None:
        return None
    d = dataclasses.asdict(s)
    d["notes"] = list(s.notes)
    return d


def _energy_dict(e: Estimate) -> dict[str, Any] | None:
    if e.energy is not None:
        d = dataclasses.asdict(e.energy)
        d["assumptions"] = list(e.energy.assumptions)
        return d
    if e.cloud_energy is not None:
        return {**e.cloud_energy, "joules_per_token": None, "wh_per_request": None}
    return None
