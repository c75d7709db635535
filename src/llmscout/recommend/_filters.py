"""Hard filters: which models can serve this profile on this hardware, and why the others cannot.

Everything that needs no estimate is checked here (hosting, privacy, context, licence, gating,
base models for interactive use, modality, the runtime a target needs, size caps), together with
the per-catalog precomputation that makes ``recommend`` fast: each model's runtime configurations
(engine x quant from its artifacts) with a lower bound of their weight bytes, so configurations
that cannot fit are dropped without running the estimator.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from llmscout.catalog.spec import Artifact, ModelSpec
from llmscout.errors import LlmscoutError
from llmscout.estimate.memory import USABLE_FRACTION, VLLM_GPU_MEMORY_UTILIZATION, usable_bytes
from llmscout.estimate.quants import FORMATS, RECIPES, effective_bits, normalize_quant
from llmscout.hardware.spec import GIB, Hardware
from llmscout.recommend.profile import TaskProfile

# Size caps for targets where the download and the memory of one app or tab are the limit.
# Browser: the "about 2B parameters or less" (WebLLM's vram_required_MB for q4f16_1 builds
# at 4k context: gemma-2b ~1.5 GB, Phi-2 ~3.1 GB; see hardware/data/browser.yaml); 2.7B keeps
# the 2.5-2.6B Gemma 2B models and drops 3B ones. Phone: about 4B (Phi-3-mini, Qwen3-4B) is the
# largest class that runs in half of an 8 GB phone's RAM at 4 bits (llmscout's assumption).
BROWSER_MAX_PARAMS = 2_700_000_000
PHONE_MAX_PARAMS = 4_500_000_000
HEADROOM_FRACTION = 0.05  # a configuration must leave 5% of the usable memory free
LOWER_BOUND_FACTOR = 0.9  # weights are at least 90% of params x bits (or of the artifact size)
INTERACTIVE_TASKS = frozenset({"chat", "tool-calling"})
INSTRUCTION_TASKS = frozenset({"chat", "extraction", "summarization", "rag", "creative",
                               "tool-calling", "qa"})

# engine -> artifact formats it loads
_FORMATS = {"llamacpp": ("gguf",), "mlc": ("mlc",), "vllm": ("safetensors", "awq", "gptq"),
            "transformers": ("safetensors", "awq", "gptq")}
# the usual default of each engine, tried first (the size/quality balance front ends recommend)
PREFERRED = {"llamacpp": ("Q4_K_M", "Q4_K_S", "Q5_K_M", "Q4_0"), "mlc": ("q4f16_1", "q4f32_1"),
             "vllm": ("bf16", "fp16", "awq", "gptq"), "transformers": ("bf16", "fp16", "awq", "gptq")}


# reason code -> how a tally of exclusions says it ("12 models ...")
REASON_CODES = {
    "memory": "do not fit in memory", "context": "allow too short a context",
    "runtime": "have no build for the target's runtime", "size": "are too large for the target",
    "cloud": "are hosted APIs while cloud use is off", "privacy": "are hosted APIs (privacy 'local')",
    "offline": "are hosted APIs (offline use)", "target": "are outside the target",
    "licence": "have a licence that does not allow commercial use", "gated": "are gated",
    "base": "are base models", "modality": "take no images", "speed": "are too slow for your targets",
    "energy": "exceed the energy budget", "budget": "exceed the budget",
    "quality": "are below your minimum quality", "estimate": "could not be estimated",
}


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a model is excluded: a category (for tallies) and a plain sentence."""

    code: str  # one of REASON_CODES
    text: str
    need_bytes: int | None = None  # memory reasons: bytes the configuration needs
    bound: bool = False  # need_bytes is only the weights' lower bound, not an estimate


@dataclass(frozen=True, slots=True)
class Config:
    """One way to run a model: engine x quant, with a lower bound of its weight bytes."""

    engine: str
    quant: str
    min_bytes: int
    bits: float
    assumed_from: str | None = None  # a repo the catalog lists without its quants: this one assumed


@dataclass(frozen=True, slots=True)
class Setting:
    """Everything about one ``recommend`` call that the filters and the ranking need."""

    profile: TaskProfile
    hardware: Hardware
    target: str  # effective: local | server | browser | phone | cloud | any
    engines: tuple[str, ...]
    interactive: bool
    context: int
    requests_per_month: int
    capacity: dict[str, int]  # engine -> bytes a configuration may use at most (for the bound)
    calibration: Any = None
    hardware_price: float | None = None
    amortisation_months: int | None = None
    notes: tuple[str, ...] = ()

    @property
    def capacity_gib(self) -> float:
        """Memory a model may use on the device(s), in GiB (no offload)."""
        return usable_bytes(self.hardware) * self.hardware.count / GIB


# -- the setting ------------------------------------------------------------------------------

def is_interactive(profile: TaskProfile) -> bool:
    """A person waits for each answer: the profile says so, or the task is chat or tool use."""
    return profile.interactive or bool(INTERACTIVE_TASKS & set(profile.tasks))


def effective_target(profile: TaskProfile, hw: Hardware) -> str:
    """The profile's target, or the hardware's when that is a browser tab or a phone."""
    if profile.target in ("any", "local", "server") and hw.target in ("browser", "phone"):
        return hw.target
    return profile.target


def engines_for(target: str, hw: Hardware) -> tuple[str, ...]:
    """Engines that run models on ``target``: MLC in a browser, MLC or llama.cpp on a phone,
    vLLM (safetensors/AWQ/GPTQ) besides llama.cpp on datacenter or server GPUs, else llama.cpp."""
    if target == "cloud":
        return ()
    if target == "browser":
        return ("mlc",)
    if target == "phone":
        return ("mlc", "llamacpp")
    if hw.device_kind == "gpu" and (hw.target in ("datacenter", "server") or target == "server"):
        return ("vllm", "llamacpp")
    return ("llamacpp",)


def _capacity(hw: Hardware, engine: str) -> int:
    if engine == "vllm" and hw.device_kind == "gpu":
        return int(hw.memory_bytes * VLLM_GPU_MEMORY_UTILIZATION) * hw.count
    cap = usable_bytes(hw) * hw.count
    if hw.device_kind == "gpu" and engine in ("llamacpp", "transformers") and hw.host_memory_bytes:
        cap += int(hw.host_memory_bytes * USABLE_FRACTION["cpu"])  # partial offload to host RAM
    return cap


def make_setting(profile: TaskProfile, hw: Hardware, *, calibration: Any = None,
                 hardware_price: float | None = None,
                 amortisation_months: int | None = None) -> Setting:
    target = effective_target(profile, hw)
    engines = engines_for(target, hw)
    notes = []
    if target != profile.target:
        notes.append(f"the hardware '{hw.name}' is a {hw.target}: recommending for target '{target}'")
    if profile.target == "browser" and hw.target != "browser":
        notes.append(f"target 'browser' on '{hw.name}': WebGPU limits of a browser tab are not applied; "
                     "use --hardware browser or browser-discrete for them")
    return Setting(profile=profile, hardware=hw, target=target, engines=engines,
                   interactive=is_interactive(profile), context=int(profile.context_tokens or 0),
                   requests_per_month=int(round(profile.requests_per_day * 30)),
                   capacity={e: _capacity(hw, e) for e in engines}, calibration=calibration,
                   hardware_price=hardware_price, amortisation_months=amortisation_months,
                   notes=tuple(notes))


# -- per-catalog precomputation -----------------------------------------------------------------

def _bits(quant: str) -> float:
    return effective_bits(quant) if quant in RECIPES or quant in FORMATS else 16.0


_ASSUMED_GGUF = ("Q8_0", "Q5_K_M", "Q4_K_M", "Q3_K_M")  # usual files of a multi-quant GGUF repo


def _labels(a: Artifact) -> tuple[tuple[str, ...], bool]:
    """Quant names an artifact offers, and whether they are assumed (the catalog names none)."""
    name = a.quant or a.precision
    if name:
        return (name,), False
    if a.format == "gguf":
        return _ASSUMED_GGUF, True
    return (a.format if a.format in ("awq", "gptq") else "bf16",), True


def model_configs(model: ModelSpec, engine: str) -> tuple[Config, ...]:
    """Engine x quant configurations from the model's artifacts, with weight-byte lower bounds."""
    out: dict[str, Config] = {}
    params = model.params or 0
    for a in model.artifacts:
        if a.format not in _FORMATS[engine]:
            continue
        names, assumed = _labels(a)
        for name in names:
            try:
                quant = normalize_quant(name, engine)
            except LlmscoutError:
                continue
            bits = _bits(quant)
            bound = a.size_bytes if a.size_bytes and not assumed else params * bits / 8
            cfg = Config(engine, quant, int(bound * LOWER_BOUND_FACTOR), bits,
                         a.repo if assumed else None)
            known = out.get(quant)
            if known is None or (known.assumed_from and not cfg.assumed_from):
                out[quant] = cfg
    return tuple(out.values())


def context_limit(model: ModelSpec) -> int | None:
    a = model.architecture
    return model.context_length or (a.max_position_embeddings if a else None)


_PREPARED: dict[int, tuple[object, dict[str, dict[str, tuple[Config, ...]]]]] = {}


def prepared_configs(catalog: object, models: Sequence[ModelSpec],
                     engines: Sequence[str]) -> dict[str, dict[str, tuple[Config, ...]]]:
    """engine -> model id -> configurations, computed once per catalog object (and engine)."""
    hit = _PREPARED.get(id(catalog))
    table = hit[1] if hit is not None and hit[0] is catalog else {}
    for engine in engines:
        if engine not in table:
            table[engine] = {m.id: model_configs(m, engine) for m in models if m.kind == "open"}
    if len(_PREPARED) > 8:
        _PREPARED.clear()
    _PREPARED[id(catalog)] = (catalog, table)
    return table


# -- the filters ----------------------------------------------------------------------------------

def _cloud_reasons(model: ModelSpec, s: Setting) -> list[Reason]:
    p = s.profile
    if p.cloud_permitted:
        return []
    provider = model.cloud.provider if model.cloud else "a provider"
    out = []
    if p.privacy == "local":
        out.append(Reason("privacy", f"privacy 'local': your data must stay on your device, and "
                                     f"{model.id} is a hosted API run by {provider}"))
    if p.offline:
        out.append(Reason("offline", f"offline use: {model.id} is a hosted API and needs a network connection"))
    if not p.cloud_allowed:
        out.append(Reason("cloud", "cloud APIs are switched off (cloud_allowed: false / --no-cloud)"))
    if not out:
        out.append(Reason("target", f"target '{p.target}' runs on your own hardware and {model.id} is a "
                                    "hosted API (use target 'any' or 'cloud' to include it)"))
    return out


def _licence_reasons(model: ModelSpec, p: TaskProfile) -> list[Reason]:
    out = []
    if p.commercial_use and model.commercial is False:
        out.append(Reason("licence", f"licence '{model.license}' does not allow commercial use"))
    elif p.commercial_use and model.commercial is None:
        out.append(Reason("licence", f"licence '{model.license}': commercial use is not confirmed in the catalog"))
    if not p.allow_gated and model.gated:
        out.append(Reason("gated", f"gated on Hugging Face (request access and accept the {model.license} "
                                   "licence first), and gated models are not allowed (allow_gated: false)"))
    return out


def _runtime_reason(model: ModelSpec, s: Setting, configs: dict[str, tuple[Config, ...]]) -> Reason | None:
    if any(configs.get(e) for e in s.engines):
        return None
    have = sorted({" ".join(x for x in (a.format, a.quant or a.precision) if x) for a in model.artifacts})
    listed = f" (the catalog lists: {', '.join(have)})" if have else " (the catalog lists no weights)"
    reason = _runtime_text(s)
    return Reason("runtime", reason + listed)


def _runtime_text(s: Setting) -> str:
    if s.target == "browser":
        return "no MLC/WebLLM build: a browser tab runs only models compiled for WebLLM (MLC)"
    if s.target == "phone":
        return "no MLC or GGUF build for a phone runtime (MLC LLM, llama.cpp)"
    if "vllm" in s.engines:
        return "no weights that vLLM (safetensors bf16/fp16, AWQ, GPTQ) or llama.cpp (GGUF) runs"
    return "no GGUF build for llama.cpp (llama.cpp's convert_hf_to_gguf.py can make one from safetensors)"


def _size_reason(model: ModelSpec, target: str) -> Reason | None:
    cap = {"browser": BROWSER_MAX_PARAMS, "phone": PHONE_MAX_PARAMS}.get(target)
    if cap is None or not model.params or model.params <= cap:
        return None
    where = "a browser tab" if target == "browser" else "a phone"
    return Reason("size", f"{model.params / 1e9:.1f}B parameters is too large for {where} (llmscout keeps "
                          f"{target} picks to about {cap / 1e9:.1f}B or less: download size and the memory "
                          "one tab or app gets)")


def cheap_reasons(model: ModelSpec, s: Setting, configs: dict[str, tuple[Config, ...]]) -> list[Reason]:
    """Every reason to exclude ``model`` that needs no estimate (empty: estimate it)."""
    p = s.profile
    out: list[Reason] = []
    if model.kind == "cloud":
        out += _cloud_reasons(model, s)
    elif s.target == "cloud":
        out.append(Reason("target", f"target 'cloud' asks for a hosted API; {model.id} has open weights you "
                                    "would run yourself (use target 'any' to include it)"))
    limit = context_limit(model)
    if limit and limit < s.context:
        out.append(Reason("context", f"context too short: {model.id} allows {limit:,} tokens, the task "
                                     f"needs {s.context:,}"))
    out += _licence_reasons(model, p)
    if s.interactive and model.is_base:
        out.append(Reason("base", "base model: it continues text and does not follow instructions, so it "
                                  "does not suit an interactive task (use an instruct or chat variant)"))
    if "vision" in p.tasks and "image" not in model.modalities:
        out.append(Reason("modality", "does not take images as input, and the task needs vision"))
    if model.kind == "open" and s.target != "cloud":
        for r in (_size_reason(model, s.target), _runtime_reason(model, s, configs)):
            if r is not None:
                out.append(r)
    return out


def fits_bound(cfg: Config, s: Setting) -> bool:
    """False when the weights alone cannot fit, whatever the estimator would add."""
    return cfg.min_bytes <= s.capacity.get(cfg.engine, 0)


def bound_reason(cfg: Config, s: Setting) -> Reason:
    cap = s.capacity.get(cfg.engine, 0)
    return Reason("memory", f"does not fit: the {cfg.quant} weights alone need at least "
                            f"{cfg.min_bytes / GIB:.1f} GiB, and {s.hardware.name} offers "
                            f"{cap / GIB:.1f} GiB usable", cfg.min_bytes, bound=True)


# -- hardware for a target ---------------------------------------------------------------------------

def default_device(target: str) -> Hardware | None:
    """The device assumed for a browser or phone target when none is named."""
    from llmscout.hardware import list_hardware, lookup_hardware

    if target == "browser":
        return lookup_hardware("browser")
    if target == "phone":
        phones = list_hardware(target="phone")
        if phones:  # the least capable phone in the database: a cautious default
            return min(phones, key=lambda h: (usable_bytes(h), h.id))
    return None


NO_HARDWARE = Hardware(id="none", name="no local hardware (cloud target)", vendor="-", device_kind="cpu",
                       memory_bytes=GIB, bandwidth_gbs=1.0, source="not used: every candidate is a hosted API",
                       basis="user")


def _similar_devices(memory_gb: float, kind: str) -> list[Hardware]:
    from llmscout.hardware import list_hardware

    same_kind = [d for d in list_hardware(kind=kind) if d.target not in ("browser", "phone")]
    close = [d for d in same_kind if abs(d.memory_bytes / GIB - memory_gb) <= 0.5]
    return close or same_kind


def _typical(devices: list[Hardware], attr: str) -> float | None:
    import statistics

    values = [getattr(d, attr) for d in devices if getattr(d, attr)]
    return float(statistics.median(values)) if values else None


def resolve_target_hardware(profile: TaskProfile, name: str | None = None, *, memory_gb: float | None = None,
                            bandwidth_gbs: float | None = None, tflops: float | None = None,
                            power_w: float | None = None, device_kind: str | None = None,
                            count: int | None = None) -> Hardware:
    """The device to recommend for: a name, figures, this machine, or the target's default.

    ``name`` None falls back to ``profile.hardware``. ``"auto"`` with a browser or phone target
    gives that target's default device and with a cloud target no hardware at all. Figures
    without a name describe a custom device; a missing bandwidth (and power, compute) is the
    median of the database's devices of that kind and memory size, and the device's notes say so.

    Example:
        >>> resolve_target_hardware(TaskProfile(target="browser")).id
        'browser'
    """
    from llmscout.hardware import resolve_hardware

    figures: dict[str, Any] = {"memory_gb": memory_gb, "bandwidth_gbs": bandwidth_gbs, "tflops": tflops,
               "power_w": power_w, "device_kind": device_kind, "count": count}
    given = any(v is not None for v in figures.values())
    name = name if name is not None else profile.hardware
    auto = name is None or name.strip().lower() == "auto"
    if auto and not given:
        if profile.target == "cloud":
            return NO_HARDWARE
        device = default_device(profile.target)
        if device is not None:
            return device
    if auto and memory_gb is not None and bandwidth_gbs is None:
        return _custom_from_similar(figures)
    return resolve_hardware(None if auto and memory_gb is not None else name, **figures)


def _custom_from_similar(figures: dict[str, Any]) -> Hardware:
    from llmscout.hardware import resolve_hardware

    kind = figures["device_kind"] or "gpu"
    similar = _similar_devices(figures["memory_gb"], kind)
    filled = dict(figures)
    filled["bandwidth_gbs"] = _typical(similar, "bandwidth_gbs") or 100.0
    filled["tflops"] = figures["tflops"] or _typical(similar, "fp16_tflops")
    filled["power_w"] = figures["power_w"] or _typical(similar, "tdp_w")
    hw = resolve_hardware(None, **filled)
    names = ", ".join(d.name for d in similar[:4]) + (" ..." if len(similar) > 4 else "")
    note = (f"Bandwidth {filled['bandwidth_gbs']:g} GB/s, compute and power are the medians of "
            f"{len(similar)} {kind} devices in the database with about {figures['memory_gb']:g} GB "
            f"({names}): assumed, not given; pass --bandwidth-gbs to set it.")
    return dataclasses.replace(hw, notes=note, extra={**hw.extra, "assumed_from": [d.id for d in similar]})
