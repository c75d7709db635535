"""The model record: what llmscout knows about one model, each fact group with its source.

``ModelSpec.from_dict`` is the one place that parses a catalog entry (bundled YAML, user
additions, or the dicts that the GGUF / folder / Hub sources build); it names the field that is
wrong. ``ModelSpec.to_dict`` is the stable JSON form documented in docs/json.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, get_args

Tuning = Literal["base", "instruct", "chat", "code", "reasoning"]
Kind = Literal["open", "cloud"]
ArchKind = Literal["decoder", "encoder-decoder"]
MlpKind = Literal["gated", "plain"]
ArtifactFormat = Literal["safetensors", "gguf", "mlc", "awq", "gptq", "onnx", "mlx", "pytorch"]
BenchmarkKind = Literal["self-reported", "independent"]

TUNINGS: tuple[str, ...] = get_args(Tuning)
ARTIFACT_FORMATS: tuple[str, ...] = get_args(ArtifactFormat)


class SpecError(ValueError):
    """A catalog entry with a bad field; ``field`` is a dotted path such as ``architecture.num_layers``."""

    def __init__(self, field_path: str, problem: str) -> None:
        self.field = field_path
        self.problem = problem
        super().__init__(f"{field_path}: {problem}")


@dataclass(frozen=True, slots=True)
class Experts:
    """Mixture-of-experts layout of the feed-forward blocks."""

    num_experts: int
    experts_per_token: int
    expert_intermediate_size: int
    num_shared_experts: int = 0
    shared_intermediate_size: int | None = None  # defaults to expert_intermediate_size
    num_moe_layers: int | None = None  # None: every layer is MoE (DeepSeek keeps the first dense)


@dataclass(frozen=True, slots=True)
class Architecture:
    """The shapes that memory and speed depend on (names follow HF ``config.json``)."""

    model_type: str
    num_layers: int
    hidden_size: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    intermediate_size: int
    vocab_size: int
    max_position_embeddings: int
    source: str
    kind: ArchKind = "decoder"
    arch_class: str | None = None  # e.g. LlamaForCausalLM
    tied_embeddings: bool = False
    mlp: MlpKind = "gated"  # gated: gate+up+down (SwiGLU/GeGLU); plain: up+down
    attention_bias: bool = False
    rope_theta: float | None = None
    rope_scaling: dict[str, Any] | None = None
    sliding_window: int | None = None
    num_sliding_layers: int | None = None  # layers that use the window; None = all when set
    experts: Experts | None = None
    num_decoder_layers: int | None = None  # encoder-decoder only: num_layers is the encoder
    kv_lora_rank: int | None = None  # multi-head latent attention (DeepSeek-V2): compressed KV
    qk_rope_head_dim: int | None = None

    @property
    def sliding_layers(self) -> int:
        """How many layers keep only ``sliding_window`` tokens in their KV cache."""
        if not self.sliding_window:
            return 0
        return self.num_layers if self.num_sliding_layers is None else self.num_sliding_layers


@dataclass(frozen=True, slots=True)
class Artifact:
    """One downloadable form of the weights."""

    format: ArtifactFormat
    quant: str | None = None  # Q4_K_M, q4f16_1, int4 ... (None: unquantized)
    precision: str | None = None  # bf16, fp16, fp32 for unquantized weights
    repo: str | None = None  # Hugging Face repo id holding it
    file: str | None = None
    url: str | None = None
    size_bytes: int | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Benchmark:
    """A quality score with where it was published."""

    name: str
    score: float
    source: str
    date: str | None = None
    kind: BenchmarkKind = "self-reported"
    shots: int | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class CloudOffer:
    """A hosted API model: who serves it and what it costs."""

    provider: str
    input_per_mtok: float  # USD per million input tokens
    output_per_mtok: float  # USD per million output tokens
    price_date: str
    source: str
    api_model: str | None = None
    base_url: str | None = None
    cached_input_per_mtok: float | None = None
    api_key_env: str | None = None


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """Everything the selection decision needs to know about one model.

    Example:
        >>> from llmscout.catalog import get_model
        >>> m = get_model("google/gemma-3-270m")
        >>> m.architecture.num_layers
        18
    """

    id: str
    name: str
    family: str
    developer: str
    kind: Kind
    tuning: tuple[str, ...]
    license: str
    sources: dict[str, str]
    params: int | None = None
    active_params: int | None = None
    released: str | None = None
    links: dict[str, str] = field(default_factory=dict)
    architecture: Architecture | None = None
    context_length: int | None = None
    context_source: str | None = None
    specializations: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    modalities: tuple[str, ...] = ("text",)
    commercial: bool | None = None
    gated: bool = False
    artifacts: tuple[Artifact, ...] = ()
    benchmarks: tuple[Benchmark, ...] = ()
    cloud: CloudOffer | None = None
    aliases: tuple[str, ...] = ()
    notes: str | None = None
    origin: str = "catalog"  # catalog | user | gguf | folder | hub | ollama

    # -- derived -----------------------------------------------------------------------
    @property
    def is_base(self) -> bool:
        """A base (pretrained only) model: completes text, does not follow instructions."""
        return "base" in self.tuning and not ({"instruct", "chat", "reasoning"} & set(self.tuning))

    @property
    def is_moe(self) -> bool:
        return bool(self.architecture and self.architecture.experts)

    @property
    def effective_active_params(self) -> int | None:
        return self.active_params or self.params

    def quants(self) -> list[str]:
        """Quantization / precision names available as artifacts, e.g. ['bf16', 'Q4_K_M']."""
        out = [a.quant or a.precision or a.format for a in self.artifacts]
        return list(dict.fromkeys(out))

    def benchmark(self, name: str) -> Benchmark | None:
        low = name.lower()
        for b in self.benchmarks:
            if b.name.lower() == low:
                return b
        return None

    # -- (de)serialisation --------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Stable JSON form (see docs/json.md)."""
        d = asdict(self)
        arch = d.get("architecture")
        if arch is not None:
            arch["sliding_layers"] = self.architecture.sliding_layers if self.architecture else 0
        d["tuning"] = list(self.tuning)
        d["is_base"] = self.is_base
        return d

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ModelSpec:
        """Parse one catalog entry; raises ``SpecError`` naming the bad field."""
        if not isinstance(raw, Mapping):
            raise SpecError("<entry>", f"expected a mapping, got {type(raw).__name__}")
        data = dict(raw)
        mid = data.get("id", "<no id>")
        for key in ("id", "name", "family", "developer", "kind", "license", "sources"):
            if data.get(key) in (None, ""):
                raise SpecError(key, f"missing in entry '{mid}'")
        _check_keys(cls, data, "")
        if data["kind"] not in get_args(Kind):
            raise SpecError("kind", f"'{data['kind']}' is not one of {get_args(Kind)}")
        tuning = data.get("tuning") or ("base",)
        if isinstance(tuning, str):
            tuning = (tuning,)
        for t in tuning:
            if t not in TUNINGS:
                raise SpecError("tuning", f"'{t}' is not one of {TUNINGS}")
        data["tuning"] = tuple(tuning)
        for key in ("specializations", "languages", "modalities", "aliases"):
            if key in data and data[key] is not None:
                data[key] = tuple(str(x) for x in data[key])
            else:
                data.pop(key, None)
        if not isinstance(data["sources"], Mapping) or not data["sources"]:
            raise SpecError("sources", "must map fact groups to a source (URL or citation)")
        for key in ("params", "active_params", "context_length"):
            data[key] = _opt_int(data.get(key), key)
        if data.get("released") is not None:
            data["released"] = str(data["released"])
        arch = data.get("architecture")
        data["architecture"] = _architecture(arch) if arch is not None else None
        data["artifacts"] = tuple(
            _build(Artifact, a, f"artifacts[{i}]") for i, a in enumerate(data.get("artifacts") or ())
        )
        for i, a in enumerate(data["artifacts"]):
            if a.format not in ARTIFACT_FORMATS:
                raise SpecError(f"artifacts[{i}].format", f"'{a.format}' not in {ARTIFACT_FORMATS}")
        data["benchmarks"] = tuple(
            _benchmark(b, f"benchmarks[{i}]") for i, b in enumerate(data.get("benchmarks") or ())
        )
        cloud = data.get("cloud")
        if isinstance(cloud, Mapping) and cloud.get("price_date") is not None:
            cloud = {**cloud, "price_date": str(cloud["price_date"])}  # YAML reads dates as dates
        data["cloud"] = _build(CloudOffer, cloud, "cloud") if cloud is not None else None
        if data["kind"] == "cloud" and data["cloud"] is None:
            raise SpecError("cloud", f"cloud model '{mid}' needs provider and prices")
        if data["kind"] == "open" and not data.get("params"):
            raise SpecError("params", f"open model '{mid}' needs a parameter count")
        return cls(**data)


def _check_keys(cls: type, data: Mapping[str, Any], prefix: str) -> None:
    known = {f.name for f in fields(cls)}
    for key in data:
        if key not in known:
            raise SpecError(prefix + str(key), f"unknown field (known: {', '.join(sorted(known))})")


def _opt_int(value: Any, path: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise SpecError(path, "expected a whole number, got a boolean")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SpecError(path, f"expected a whole number, got {value!r}") from None
    if number < 0 or number != int(number):
        raise SpecError(path, f"expected a non-negative whole number, got {value!r}")
    return int(number)


def _build(cls: type, raw: Any, path: str) -> Any:
    if not isinstance(raw, Mapping):
        raise SpecError(path, f"expected a mapping, got {type(raw).__name__}")
    _check_keys(cls, raw, path + ".")
    try:
        return cls(**raw)
    except TypeError as exc:  # missing required field
        raise SpecError(path, str(exc).replace("__init__() ", "")) from None


def _benchmark(raw: Any, path: str) -> Benchmark:
    b: Benchmark = _build(Benchmark, raw, path)
    if not isinstance(b.score, int | float):
        raise SpecError(path + ".score", f"expected a number, got {b.score!r}")
    if b.kind not in get_args(BenchmarkKind):
        raise SpecError(path + ".kind", f"'{b.kind}' is not one of {get_args(BenchmarkKind)}")
    if b.date is not None:
        object.__setattr__(b, "date", str(b.date))
    return b


_ARCH_INTS = (
    "num_layers", "hidden_size", "num_heads", "num_kv_heads", "head_dim",
    "intermediate_size", "vocab_size", "max_position_embeddings",
)


def _architecture(raw: Any) -> Architecture:
    if not isinstance(raw, Mapping):
        raise SpecError("architecture", f"expected a mapping, got {type(raw).__name__}")
    data = dict(raw)
    _check_keys(Architecture, data, "architecture.")
    for key in _ARCH_INTS:
        value = _opt_int(data.get(key), f"architecture.{key}")
        if not value:
            raise SpecError(f"architecture.{key}", "required and must be positive")
        data[key] = value
    if data.get("experts") is not None:
        data["experts"] = _build(Experts, data["experts"], "architecture.experts")
    if data.get("kind", "decoder") not in get_args(ArchKind):
        raise SpecError("architecture.kind", f"not one of {get_args(ArchKind)}")
    if data.get("mlp", "gated") not in get_args(MlpKind):
        raise SpecError("architecture.mlp", f"not one of {get_args(MlpKind)}")
    if data["num_heads"] % data["num_kv_heads"]:
        raise SpecError("architecture.num_kv_heads", "must divide num_heads")
    return _build(Architecture, data, "architecture")
