"""The records a trial passes between its parts: examples, requests, results, scores.

Examples come from the user's files (``trial.examples``), requests go to a backend
(``trial.backends``), results are scored (``trial.metrics``), stored (``store``) and climbed
(``trial.ladder``). Everything here is plain data with ``to_dict``/``from_dict``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant"]
EnergyBasis = Literal["measured-rapl", "measured-nvml", "estimated", "unavailable"]


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class Example:
    """One of the user's examples: an input and (optionally) what a good answer is."""

    id: str
    input: str | tuple[Message, ...]  # plain text, or chat messages
    reference: str | None = None  # expected answer (exact/contains/ROUGE/BLEU/...)
    choices: tuple[str, ...] | None = None  # allowed labels for classification
    metadata: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # "file.jsonl:12" - where it came from, for error messages

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class GenerationSettings:
    max_tokens: int = 64
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    stop: tuple[str, ...] = ()
    n: int = 1  # samples per example; n > 1 measures answer consistency

    @property
    def deterministic(self) -> bool:
        return self.temperature == 0.0 and self.n == 1


@dataclass(frozen=True, slots=True)
class GenRequest:
    """What a backend is asked: chat messages (templated by the backend) or a raw prompt."""

    messages: tuple[Message, ...] | None = None
    prompt: str | None = None  # raw completion prompt (base models without a chat template)
    settings: GenerationSettings = field(default_factory=GenerationSettings)
    prefix_messages: int = 0  # how many leading messages are a shared prefix (system + shots)
    key: str = ""  # the caller's id for this request (example id + sample index)


@dataclass(frozen=True, slots=True)
class GenResult:
    """A backend's answer with what was measured while producing it."""

    key: str
    text: str
    tokens_in: int = 0
    tokens_out: int = 0
    prefix_tokens_reused: int = 0  # prompt tokens served from the KV cache of an earlier call
    ttft_s: float | None = None  # time to first token
    latency_s: float | None = None  # end to end
    prefill_tokens_per_s: float | None = None
    decode_tokens_per_s: float | None = None
    peak_memory_bytes: int | None = None  # of the model process
    gpu_memory_bytes: int | None = None
    energy_j: float | None = None
    energy_basis: EnergyBasis = "unavailable"
    finish_reason: str | None = None
    error: str | None = None  # set when the call failed; text is then ""
    cached: bool = False  # served from the cache: timings/energy are not this run's

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class LoadInfo:
    """What loading a model cost, or why it failed ("did not load: ...")."""

    model: str
    backend: str
    ok: bool
    load_s: float | None = None
    memory_bytes: int | None = None
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MetricResult:
    """One metric on one output: a score in [0, 1] (or the metric's own scale) and pass/fail."""

    metric: str
    score: float
    passed: bool
    detail: str | None = None  # e.g. "expected 'positive', got 'neutral'"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
