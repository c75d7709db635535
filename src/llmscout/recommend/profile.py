"""What the user wants to do: the task profile that the recommendation is computed for.

A ``TaskProfile`` is a frozen record with a default for every field, so an empty profile is
valid ("a chat assistant, anywhere, any licence"). ``load_profile`` reads it from YAML or JSON,
``profile_from_dict`` from a mapping; both name the field (and the file and line) that is wrong
and suggest the closest field name for a misspelt key. ``contradictions`` explains, in plain
sentences, constraints that cannot all hold: the ranking shows these instead of an empty list.

Token counts come from the user (``input_tokens``/``output_tokens``) or from
``sample_documents``: counted with a tokenizer callable when one is given, otherwise estimated
at 0.75 English words per token (the usual rule of thumb, e.g. https://chipp.ai/ai/glossary/tokens:
"1 token ~ 0.75 words"). ``token_count_basis`` records which of these was used.

Example:
    >>> p = profile_from_dict({"tasks": ["code"], "target": "local", "input_tokens": "2k"})
    >>> p.context_tokens
    2250
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, get_args

from llmscout.errors import (
    InvalidFileError,
    InvalidValueError,
    MissingFileError,
    did_you_mean,
)

Task = Literal["chat", "summarization", "qa", "rag", "extraction", "classification", "translation",
               "code", "reasoning", "creative", "tool-calling", "vision"]
Domain = Literal["general", "medical", "legal", "finance", "code", "science"]
Target = Literal["local", "browser", "phone", "server", "cloud", "any"]
Privacy = Literal["any", "local"]  # local: data must stay on the user's device (no cloud API)
TokenBasis = Literal["default", "given", "tokenizer", "words"]

TASKS: tuple[str, ...] = get_args(Task)
DOMAINS: tuple[str, ...] = get_args(Domain)
TARGETS: tuple[str, ...] = get_args(Target)
PRIVACY_LEVELS: tuple[str, ...] = get_args(Privacy)
TOKEN_BASES: tuple[str, ...] = get_args(TokenBasis)

WORDS_PER_TOKEN = 0.75  # English rule of thumb; see module docstring for the source
DEFAULT_INPUT_TOKENS = 500
DEFAULT_OUTPUT_TOKENS = 250

# Limits used only to flag latency targets that no single request can meet. They are deliberately
# generous assumptions (not measurements): a target beyond them is reported as a contradiction.
FASTEST_PREFILL_TOKENS_PER_S = 100_000
FASTEST_DECODE_TOKENS_PER_S = 3_000

Tokenizer = Callable[[str], "int | Sequence[Any]"]

_TASK_ALIASES = {"tools": "tool-calling", "function-calling": "tool-calling", "tool-use": "tool-calling",
                 "summarisation": "summarization", "summary": "summarization",
                 "question-answering": "qa", "coding": "code", "math": "reasoning",
                 "writing": "creative", "image": "vision", "retrieval": "rag"}


@dataclass(frozen=True, slots=True)
class RankingWeights:
    """How much each criterion counts in the ranking; any non-negative numbers, normalised on use.

    Defaults: quality 0.40, speed 0.20, cost 0.15, fit 0.15, energy 0.10 - quality first,
    then whether it is fast and cheap enough; ``fit`` rewards memory/context headroom.
    """

    quality: float = 0.40
    speed: float = 0.20
    cost: float = 0.15
    energy: float = 0.10
    fit: float = 0.15

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise InvalidValueError(f"weights.{f.name}", value, "a non-negative number")
        if sum(getattr(self, f.name) for f in fields(self)) <= 0:
            raise InvalidValueError("weights", asdict(self), "at least one weight above 0")

    def normalized(self) -> dict[str, float]:
        """The weights scaled to sum to 1, e.g. {'quality': 0.4, ...}."""
        total = sum(getattr(self, f.name) for f in fields(self))
        return {f.name: getattr(self, f.name) / total for f in fields(self)}


@dataclass(frozen=True, slots=True)
class TaskProfile:
    """The task, its size, the deployment constraints and the ranking weights.

    Every field has a default. ``context_tokens`` defaults to ``input_tokens + output_tokens``
    (or the longest sample document + output). Build from files/dicts with ``load_profile`` /
    ``profile_from_dict``; direct construction validates the same way.
    """

    tasks: tuple[str, ...] = ("chat",)
    domain: str = "general"
    languages: tuple[str, ...] = ("en",)
    input_tokens: int = DEFAULT_INPUT_TOKENS
    output_tokens: int = DEFAULT_OUTPUT_TOKENS
    context_tokens: int | None = None
    sample_documents: tuple[str, ...] = ()
    token_count_basis: str = "default"
    interactive: bool = False
    max_ttft_s: float | None = None
    min_tokens_per_s: float | None = None
    requests_per_day: float = 100
    budget_per_month: float | None = None  # USD
    energy_budget_wh_per_day: float | None = None
    hardware: str = "auto"
    target: str = "any"
    cloud_allowed: bool = True
    privacy: str = "any"
    offline: bool = False
    commercial_use: bool = False
    allow_gated: bool = True
    min_quality: float = 0.0
    weights: RankingWeights = field(default_factory=RankingWeights)
    source: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        _validate(self)
        if self.context_tokens is None:
            object.__setattr__(self, "context_tokens", self.input_tokens + self.output_tokens)

    # -- derived -------------------------------------------------------------------------
    @property
    def cloud_permitted(self) -> bool:
        """Whether a hosted API may be used at all (privacy, offline and the switch agree)."""
        return self.cloud_allowed and self.privacy != "local" and not self.offline and \
            self.target in ("cloud", "any")

    @property
    def local_permitted(self) -> bool:
        """Whether running the weights on the user's own hardware is acceptable."""
        return self.target != "cloud"

    @property
    def tokens_per_day(self) -> float:
        return self.requests_per_day * (self.input_tokens + self.output_tokens)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form; ``profile_from_dict(p.to_dict())`` gives ``p`` back."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "source":
                continue
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, RankingWeights):
                value = asdict(value)
            out[f.name] = value
        return out


# -- validation ---------------------------------------------------------------------------

def _choice(name: str, value: Any, allowed: Sequence[str]) -> None:
    if value not in allowed:
        hint = did_you_mean(str(value), allowed)
        near = f" (did you mean {', '.join(repr(h) for h in hint)}?)" if hint else ""
        raise InvalidValueError(name, value, "one of " + ", ".join(allowed) + near)


def _number(name: str, value: Any, *, minimum: float = 0.0, strict: bool = False,
            maximum: float | None = None, optional: bool = True) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidValueError(name, value, "a number")
    low_bad = value <= minimum if strict else value < minimum
    if low_bad or (maximum is not None and value > maximum):
        what = f"{'above' if strict else 'at least'} {minimum:g}"
        raise InvalidValueError(name, value, what + (f" and at most {maximum:g}" if maximum is not None else ""))


def _validate(p: TaskProfile) -> None:
    if not p.tasks:
        raise InvalidValueError("tasks", list(p.tasks), "at least one of " + ", ".join(TASKS))
    for t in p.tasks:
        _choice("tasks", t, TASKS)
    _choice("domain", p.domain, DOMAINS)
    _choice("target", p.target, TARGETS)
    _choice("privacy", p.privacy, PRIVACY_LEVELS)
    _choice("token_count_basis", p.token_count_basis, TOKEN_BASES)
    for name in ("interactive", "cloud_allowed", "offline", "commercial_use", "allow_gated"):
        if not isinstance(getattr(p, name), bool):
            raise InvalidValueError(name, getattr(p, name), "true or false")
    for name in ("input_tokens", "output_tokens", "context_tokens"):
        value = getattr(p, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise InvalidValueError(name, value, "a whole number of tokens, e.g. 2000 or 2k")
    _number("input_tokens", p.input_tokens, optional=False)
    _number("output_tokens", p.output_tokens, minimum=1, optional=False)
    if p.context_tokens is not None and p.context_tokens < p.input_tokens + p.output_tokens:
        raise InvalidValueError("context_tokens", p.context_tokens,
                                f"at least input_tokens + output_tokens = {p.input_tokens + p.output_tokens}"
                                " (or leave it out to derive it)")
    _number("max_ttft_s", p.max_ttft_s, strict=True)
    _number("min_tokens_per_s", p.min_tokens_per_s, strict=True)
    _number("requests_per_day", p.requests_per_day, optional=False)
    _number("budget_per_month", p.budget_per_month)
    _number("energy_budget_wh_per_day", p.energy_budget_wh_per_day)
    _number("min_quality", p.min_quality, maximum=100, optional=False)
    if not isinstance(p.hardware, str) or not p.hardware.strip():
        raise InvalidValueError("hardware", p.hardware, "'auto' or a hardware name, e.g. 'rtx 4090'")
    if not isinstance(p.weights, RankingWeights):
        raise InvalidValueError("weights", p.weights, "a RankingWeights (or a mapping in a profile file)")
    for lang in p.languages:
        if not isinstance(lang, str) or not lang.strip():
            raise InvalidValueError("languages", list(p.languages), "language codes or names, e.g. [en, de]")


# -- token counting -------------------------------------------------------------------------

def count_tokens(text: str, tokenizer: Tokenizer | None = None) -> tuple[int, str]:
    """Tokens in ``text`` and how they were counted: ('tokenizer') exactly, or ('words') estimated.

    The estimate is words / 0.75 (English rule of thumb); other languages and code usually
    need more tokens per word, so pass the model's tokenizer when it matters.
    """
    if tokenizer is not None:
        result = tokenizer(text)
        return (int(result) if isinstance(result, int) else len(result)), "tokenizer"
    words = len(text.split())
    return math.ceil(words / WORDS_PER_TOKEN), "words"


def _count_documents(paths: Iterable[str], base_dir: Path | None,
                     tokenizer: Tokenizer | None) -> tuple[list[int], str]:
    counts: list[int] = []
    basis = "words"
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if not path.is_file():
            raise MissingFileError(path, "sample_documents lists files whose tokens are counted")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise InvalidFileError(path, "sample document is not UTF-8 text", field="sample_documents") from None
        n, basis = count_tokens(text, tokenizer)
        counts.append(n)
    return counts, basis


# -- parsing ---------------------------------------------------------------------------------

_FIELDS = tuple(f.name for f in fields(TaskProfile) if f.name != "source")
_WEIGHT_FIELDS = tuple(f.name for f in fields(RankingWeights))


def _unknown_key(key: str, known: Sequence[str], prefix: str = "") -> InvalidValueError:
    hint = did_you_mean(key, known)
    near = f"did you mean {', '.join(repr(h) for h in hint)}? " if hint else ""
    err = InvalidValueError(prefix + key, "<unknown field>", near + "known fields: " + ", ".join(known))
    err.args = (f"unknown field '{prefix}{key}' - {near}known fields: {', '.join(known)}",)
    return err


def _as_list(name: str, value: Any) -> list[Any]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list | tuple):
        return list(value)
    raise InvalidValueError(name, value, "a list (or a comma-separated string)")


def _task(value: Any) -> str:
    key = re.sub(r"[\s_]+", "-", str(value).strip().lower())
    return _TASK_ALIASES.get(key, key)


def _tokens(name: str, value: Any) -> int | None:
    from llmscout.catalog.query import parse_context, parse_count

    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidValueError(name, value, "a whole number of tokens, e.g. 2000 or 2k")
    if isinstance(value, float) and not value.is_integer():
        raise InvalidValueError(name, value, "a whole number of tokens")
    # context sizes use binary k (32k = 32768, as model cards do); request sizes decimal k
    parse = (lambda v: parse_context(int(v) if isinstance(v, float) else v)) if name == "context_tokens" \
        else (lambda v: parse_count(v, name))
    try:
        return parse(value)
    except InvalidValueError:
        raise InvalidValueError(name, value, "a whole number of tokens, e.g. 2000, 2k or 32k") from None


def _weights(value: Any) -> RankingWeights:
    if isinstance(value, RankingWeights):
        return value
    if not isinstance(value, Mapping):
        raise InvalidValueError("weights", value, "a mapping such as {quality: 0.5, speed: 0.2}")
    for key in value:
        if key not in _WEIGHT_FIELDS:
            raise _unknown_key(str(key), _WEIGHT_FIELDS, "weights.")
    return RankingWeights(**{str(k): v for k, v in value.items()})


def _convert(data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("tasks", "languages", "sample_documents"):
            items = _as_list(key, value)
            out[key] = tuple(_task(v) for v in items) if key == "tasks" else tuple(str(v) for v in items)
        elif key in ("input_tokens", "output_tokens", "context_tokens"):
            out[key] = _tokens(key, value)
        elif key in ("domain", "target", "privacy") and isinstance(value, str):
            out[key] = value.strip().lower()
        elif key == "weights":
            out[key] = _weights(value)
        elif key == "hardware" and value is None:
            out[key] = "auto"
        else:
            out[key] = value
    for key in ("input_tokens", "output_tokens"):
        if key in out and out[key] is None:
            del out[key]
    return out


def profile_from_dict(data: Mapping[str, Any] | None, source: str | Path | None = None, *,
                      tokenizer: Tokenizer | None = None, base_dir: str | Path | None = None,
                      lines: Mapping[str, int] | None = None) -> TaskProfile:
    """Build a validated ``TaskProfile`` from a mapping (e.g. parsed YAML).

    Args:
        data: field -> value; unknown fields are rejected with a did-you-mean.
        source: where ``data`` came from; when given, errors are ``InvalidFileError`` naming it.
        tokenizer: counts ``sample_documents`` tokens exactly (``text -> int`` or ``-> ids``).
        base_dir: folder that relative ``sample_documents`` paths are relative to.
        lines: field -> line number in ``source`` (for error messages).

    Raises:
        InvalidValueError: a bad value or unknown field (no ``source``).
        InvalidFileError: the same, naming the file, line and field (with ``source``).
        MissingFileError: a sample document that does not exist.
    """
    data = {} if data is None else data
    if not isinstance(data, Mapping):
        exc = InvalidValueError("profile", data, "a mapping of profile fields")
        if source is None:
            raise exc
        raise InvalidFileError(source, "expected a mapping of profile fields, got " + type(data).__name__)
    try:
        for key in data:
            if key not in _FIELDS:
                raise _unknown_key(str(key), _FIELDS)
        values = _convert(data)
        docs = values.get("sample_documents") or ()
        if docs and "input_tokens" not in values:
            counts, basis = _count_documents(docs, Path(base_dir) if base_dir else None, tokenizer)
            values["input_tokens"] = math.ceil(sum(counts) / len(counts))
            values["token_count_basis"] = basis
            if "context_tokens" not in values:
                out_tokens = values.get("output_tokens", DEFAULT_OUTPUT_TOKENS)
                values["context_tokens"] = max(counts) + out_tokens  # the longest one must fit
        elif "input_tokens" in values or "output_tokens" in values:
            values.setdefault("token_count_basis", "given")
        return TaskProfile(**values, source=str(source) if source is not None else None)
    except InvalidValueError as exc:
        if source is None:
            raise
        top = str(exc.field).split(".")[0]
        raise InvalidFileError(source, str(exc), line=(lines or {}).get(top), field=exc.field) from None


def _key_lines(path: Path) -> dict[str, int]:
    """Best-effort line of each top-level key (YAML ``key:`` or JSON ``"key":``)."""
    out: dict[str, int] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return out
    pattern = re.compile(r"""^\s{0,2}["']?([A-Za-z_][\w-]*)["']?\s*:""")
    for number, line in enumerate(text.splitlines(), 1):
        m = pattern.match(line)
        if m and m.group(1) not in out:
            out[m.group(1)] = number
    return out


def load_profile(path: str | Path, tokenizer: Tokenizer | None = None) -> TaskProfile:
    """Read a task profile from a YAML or JSON file (errors name the file, line and field).

    Example file::

        tasks: [extraction, summarization]
        languages: [en, de]
        sample_documents: [examples/invoice1.txt, examples/invoice2.txt]
        output_tokens: 300
        target: local
        privacy: local
        weights: {quality: 0.6, speed: 0.2, cost: 0.0, energy: 0.1, fit: 0.1}
    """
    from llmscout.catalog._load import read_document

    p = Path(path).expanduser()
    if not p.is_file():
        raise MissingFileError(p, "give a YAML or JSON task profile")
    doc = read_document(p)
    return profile_from_dict(doc, source=p, tokenizer=tokenizer, base_dir=p.parent, lines=_key_lines(p))


# -- contradictions ------------------------------------------------------------------------

def contradictions(profile: TaskProfile) -> list[str]:
    """Plain-sentence explanations of constraints that cannot all hold (empty when consistent)."""
    p = profile
    out: list[str] = []
    if p.target == "cloud":
        if p.offline:
            out.append("You asked for offline use but also for target 'cloud': a cloud API needs a network "
                       "connection. Choose a local target (local, server, browser, phone) or drop 'offline'.")
        if p.privacy == "local":
            out.append("privacy 'local' means your data must stay on your device, but target 'cloud' sends it "
                       "to a provider. Choose a local target or relax privacy.")
        if not p.cloud_allowed:
            out.append("cloud_allowed is false but the target is 'cloud': nothing can be recommended. "
                       "Set cloud_allowed: true or choose another target.")
        if p.budget_per_month == 0:
            out.append("Cloud APIs charge per token, and the monthly budget is 0 USD: no cloud model fits. "
                       "Raise budget_per_month or choose a local target.")
    if p.energy_budget_wh_per_day == 0 and not p.cloud_permitted:
        out.append("The energy budget is 0 Wh per day and cloud use is not allowed: any model running on your "
                   "own hardware uses energy. Raise energy_budget_wh_per_day or allow the cloud.")
    out.extend(_latency_contradictions(p))
    return out


def _latency_contradictions(p: TaskProfile) -> list[str]:
    out: list[str] = []
    if p.max_ttft_s is not None and p.input_tokens / p.max_ttft_s > FASTEST_PREFILL_TOKENS_PER_S:
        need = p.input_tokens / p.max_ttft_s
        out.append(f"Reading {p.input_tokens:,} input tokens before the first output token within "
                   f"{p.max_ttft_s:g} s needs about {need:,.0f} tokens/s of prompt processing, more than "
                   f"llmscout assumes any setup reaches for one request ({FASTEST_PREFILL_TOKENS_PER_S:,}). "
                   "Shorten the input or allow a longer max_ttft_s.")
    if p.min_tokens_per_s is not None and p.min_tokens_per_s > FASTEST_DECODE_TOKENS_PER_S:
        out.append(f"min_tokens_per_s {p.min_tokens_per_s:g} is beyond what llmscout assumes any setup "
                   f"generates for one request ({FASTEST_DECODE_TOKENS_PER_S:,} tokens/s). Lower it.")
    return out


def with_overrides(profile: TaskProfile, **changes: Any) -> TaskProfile:
    """A copy with some fields changed (validated; ``context_tokens`` re-derived unless given)."""
    if "context_tokens" not in changes and ({"input_tokens", "output_tokens"} & set(changes)):
        changes["context_tokens"] = None
    return replace(profile, **changes)
