"""Filtering and sorting the catalog (what ``llmscout models list`` shows)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, get_args

from llmscout.catalog.spec import TUNINGS, ModelSpec
from llmscout.errors import InvalidValueError

SortKey = Literal["params", "-params", "name", "id", "context", "-context", "released", "-released", "family"]
SORT_KEYS: tuple[str, ...] = get_args(SortKey)

_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([kmbt]?)\s*$", re.IGNORECASE)
_MULT = {"": 1, "k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}


def parse_count(text: str | int | float, field: str = "params") -> int:
    """'7B' -> 7_000_000_000, '360M' -> 360_000_000, '128k' -> 128_000, 4096 -> 4096."""
    if isinstance(text, int | float):
        value = float(text)
    else:
        m = _SIZE.match(str(text))
        if not m:
            raise InvalidValueError(field, text, "a number with an optional K/M/B/T suffix, e.g. 7B or 360M")
        value = float(m.group(1)) * _MULT[m.group(2).lower()]
    if value < 0:
        raise InvalidValueError(field, text, "a non-negative number")
    return int(value)


def parse_context(text: str | int) -> int:
    """Context lengths use binary k: '128k' -> 131072, '32k' -> 32768, '8192' -> 8192."""
    if isinstance(text, int):
        return text
    m = _SIZE.match(str(text))
    if not m or m.group(2).lower() not in {"", "k", "m"}:
        raise InvalidValueError("context", text, "tokens, e.g. 8192, 32k or 128k")
    mult = {"": 1, "k": 1024, "m": 1024 * 1024}[m.group(2).lower()]
    return int(float(m.group(1)) * mult)


@dataclass(frozen=True, slots=True)
class ModelFilter:
    """Every field optional; all given conditions must hold."""

    family: str | None = None
    min_params: int | None = None
    max_params: int | None = None
    tuning: str | None = None
    specialization: str | None = None
    license: str | None = None
    commercial: bool | None = None
    gated: bool | None = None
    format: str | None = None
    quant: str | None = None
    min_context: int | None = None
    kind: Literal["open", "cloud"] | None = None
    text: str | None = None

    def __post_init__(self) -> None:
        if self.tuning is not None and self.tuning not in TUNINGS:
            raise InvalidValueError("tuning", self.tuning, "one of " + ", ".join(TUNINGS))
        if self.min_params and self.max_params and self.min_params > self.max_params:
            raise InvalidValueError("min_params", self.min_params, f"at most max_params ({self.max_params})")

    def matches(self, m: ModelSpec) -> bool:
        return all(check(self, m) for check in _CHECKS)


def _size_ok(f: ModelFilter, m: ModelSpec) -> bool:
    if f.min_params is None and f.max_params is None:
        return True
    if m.params is None:  # cloud models: size unknown, so a size filter excludes them
        return False
    return (f.min_params is None or m.params >= f.min_params) and (
        f.max_params is None or m.params <= f.max_params)


def _artifact_ok(f: ModelFilter, m: ModelSpec) -> bool:
    if f.format is None and f.quant is None:
        return True
    for a in m.artifacts:
        if f.format and a.format != f.format.lower():
            continue
        if f.quant and f.quant.lower() not in {(a.quant or "").lower(), (a.precision or "").lower()}:
            continue
        return True
    return False


_CHECKS = (
    lambda f, m: f.family is None or m.family.lower().startswith(f.family.lower()),
    _size_ok,
    lambda f, m: f.tuning is None or f.tuning in m.tuning,
    lambda f, m: f.specialization is None or f.specialization.lower() in {s.lower() for s in m.specializations},
    lambda f, m: f.license is None or f.license.lower() in m.license.lower(),
    lambda f, m: f.commercial is None or m.commercial is f.commercial,
    lambda f, m: f.gated is None or m.gated is f.gated,
    _artifact_ok,
    lambda f, m: f.min_context is None or (m.context_length or 0) >= f.min_context,
    lambda f, m: f.kind is None or m.kind == f.kind,
    lambda f, m: f.text is None or f.text.lower() in (m.id + " " + m.name).lower(),
)


def _sort_value(m: ModelSpec, key: str) -> tuple:
    field = key.lstrip("-")
    value = {"params": m.params, "context": m.context_length, "released": m.released,
             "name": m.name.lower(), "id": m.id.lower(), "family": m.family}.get(field)
    return (value is None, value if value is not None else 0)


def select_models(models: Iterable[ModelSpec], flt: ModelFilter | None = None,
                  sort: str = "family", limit: int | None = None) -> list[ModelSpec]:
    """Models matching ``flt``, sorted by ``sort`` (prefix '-' for descending), at most ``limit``."""
    if sort not in SORT_KEYS:
        raise InvalidValueError("sort", sort, "one of " + ", ".join(SORT_KEYS))
    out = [m for m in models if flt is None or flt.matches(m)]
    present = [m for m in out if _sort_value(m, sort)[0] is False]
    missing = [m for m in out if _sort_value(m, sort)[0] is True]
    present.sort(key=lambda m: (_sort_value(m, sort)[1], m.id.lower()), reverse=sort.startswith("-"))
    out = present + missing
    if limit is not None:
        if limit < 0:
            raise InvalidValueError("limit", limit, "a non-negative number")
        out = out[:limit]
    return out
