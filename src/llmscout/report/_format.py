"""Number and text formatting shared by the HTML and Markdown reports, and glossary lookups.

Both renderers format every figure through these functions, so the two files show the same
numbers; the view model (``_view``) calls them once and the renderers only lay the strings out.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeGuard

GIB = 1024**3
DASH = "-"

Basis = str  # "estimated" | "measured" | "" (neither: a setting or a count)


def is_number(x: Any) -> TypeGuard[int | float]:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def gib(n: Any) -> str:
    """Bytes as GiB with two decimals: ``gib(1_073_741_824) == '1.00 GiB'``."""
    return f"{n / GIB:,.2f} GiB" if is_number(n) else DASH


def num(x: Any, digits: int = 1) -> str:
    """A number with ``digits`` decimals and thousands separators."""
    return f"{x:,.{digits}f}" if is_number(x) else DASH


def sig(x: Any, digits: int = 3) -> str:
    """A number to ``digits`` significant digits (for values spanning many orders of magnitude)."""
    if not is_number(x):
        return DASH
    return f"{x:.{digits}g}"


def pct(x: Any, digits: int = 1) -> str:
    """A rate in [0, 1] as a percentage: ``pct(0.625) == '62.5%'``."""
    return f"{100 * x:.{digits}f}%" if is_number(x) else DASH


def money(x: Any, currency: str | None = "USD") -> str:
    """Dollars with cents, or four significant digits below one cent."""
    if not is_number(x):
        return DASH
    sym = "$" if currency in (None, "USD") else f"{currency} "
    return f"{sym}{x:,.2f}" if abs(x) >= 0.01 or x == 0 else f"{sym}{x:.4g}"


def interval(iv: Any) -> str:
    """A pass-rate interval as ``'41.2%-80.1%'``."""
    if isinstance(iv, list | tuple) and len(iv) == 2 and all(is_number(v) for v in iv):
        return f"{pct(iv[0])}-{pct(iv[1])}"
    return DASH


def seconds(x: Any) -> str:
    if not is_number(x):
        return DASH
    return f"{x:.3g} s" if x < 10 else f"{x:,.1f} s"


def scalar(key: str, value: Any) -> str:
    """A value of a mapping shown in a key/value table, formatted by what its key says it is."""
    if value is None:
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if is_number(value):
        if key.endswith("_bytes") or key in ("bytes", "memory"):
            return gib(value)
        if key.endswith(("_s", "_seconds")) and not key.endswith("per_s"):
            return seconds(value)
        if isinstance(value, int):
            return f"{value:,}"
        return sig(value, 4)
    if isinstance(value, list | tuple):
        if all(not isinstance(v, dict | list | tuple) for v in value):
            return ", ".join(scalar(key, v) for v in value) or DASH
        return "; ".join(compact(v) for v in value)
    if isinstance(value, dict):
        return compact(value)
    text = str(value)
    if any(ch in text for ch in "\n\r\t") and len(text) < 40:  # a stop string or separator: show it
        return json.dumps(text, ensure_ascii=False)
    return text


def compact(value: Any) -> str:
    """Nested data in one line: ``{a: 1, b: [x, y]}`` without JSON quotes."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {compact(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(compact(v) for v in value) + "]"
    return scalar("", value)


def flatten(data: Any, prefix: str = "", depth: int = 2) -> list[tuple[str, str]]:
    """(dotted key, formatted value) rows of a mapping, nested mappings flattened ``depth`` deep."""
    if not isinstance(data, dict):
        return [(prefix or "value", scalar(prefix, data))] if data not in (None, "", [], {}) else []
    rows: list[tuple[str, str]] = []
    for k, v in data.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict) and v and depth > 0:
            rows.extend(flatten(v, key, depth - 1))
        elif v not in (None, "", [], {}):
            rows.append((key, scalar(str(k), v)))
    return rows


def basis_of(text: Any) -> Basis:
    """'measured' or 'estimated' from a basis string such as 'measured-rapl' or 'formula'."""
    t = str(text or "").lower()
    if not t or t in ("unavailable", "none"):
        return ""
    return "measured" if t.startswith("measured") or t == "calibrated" else "estimated"


# ------------------------------------------------------------------------------------ glossary


@dataclass(frozen=True, slots=True)
class Term:
    key: str
    title: str
    text: str
    source: str


@dataclass(frozen=True, slots=True)
class Span:
    """A piece of text; ``term`` is set where the piece names a glossary term."""

    text: str
    term: Term | None = None


_QUANT_IN_TEXT = re.compile(r"(?<![\w.])(IQ\d_[A-Z]+|Q\d_K(?:_[SML])?|Q\d_[01]|q\df(?:16|32)_\w+)(?!\w)",
                            re.IGNORECASE)


@lru_cache(maxsize=1)
def _patterns() -> dict[str, re.Pattern[str]]:
    """Glossary key -> a pattern of the names that may be linked in running text."""
    from llmscout.recommend.glossary import load_glossary

    out = {}
    for e in load_glossary().values():
        skip = {a.lower() for a in e.lookup_only}
        names = sorted({n for n in (e.key, e.title, *e.aliases) if n.lower() not in skip and len(n) >= 2},
                       key=len, reverse=True)
        out[e.key] = re.compile(r"(?<!\w)(" + "|".join(map(re.escape, names)) + r")(?!\w)", re.IGNORECASE)
    return out


@lru_cache(maxsize=64)
def term(key: str) -> Term:
    from llmscout.recommend.glossary import load_glossary

    e = load_glossary()[key]
    return Term(e.key, e.title, e.text, e.source)


def _first_mention(text: str, key: str) -> tuple[int, int] | None:
    m = _patterns()[key].search(text)
    if m:
        return m.span(1)
    from llmscout.recommend.glossary import explain_term

    for q in _QUANT_IN_TEXT.finditer(text):  # quant names that match by shape, not by alias
        if explain_term(q.group(1)).key == key:
            return q.span(1)
    return None


@lru_cache(maxsize=4096)
def spans(text: str) -> tuple[Span, ...]:
    """``text`` cut into spans, the first mention of each glossary term in its own span.

    The terms are the ones ``llmscout.recommend.glossary.link_terms`` finds in the text.
    """
    from llmscout.recommend.glossary import link_terms

    found: list[tuple[int, int, str]] = []
    for key in link_terms(text):
        where = _first_mention(text, key)
        if where and not any(s < where[1] and where[0] < e for s, e, _ in found):
            found.append((*where, key))
    out: list[Span] = []
    pos = 0
    for start, end, key in sorted(found):
        if start > pos:
            out.append(Span(text[pos:start]))
        out.append(Span(text[start:end], term(key)))
        pos = end
    if pos < len(text):
        out.append(Span(text[pos:]))
    return tuple(out)
