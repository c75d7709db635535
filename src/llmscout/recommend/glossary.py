"""Plain-language explanations of the terms that recommendations and reports use.

The entries live in ``data/glossary.yaml`` (3-6 sentences each, with the page the facts were read
from). ``explain_term`` finds an entry by key, title or alias, forgiving case, spaces, hyphens and
small typos, and recognises quantization names such as ``Q4_K_M``, ``IQ2_XXS``, ``Q8_0`` or
``q4f16_1``; ``link_terms`` lists the glossary terms that a piece of text mentions, so the report
and the CLI can link them.

Example:
    >>> explain_term("kv cache").title
    'KV cache'
    >>> explain_term("Q5_K_S").key
    'k-quants'
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from llmscout.errors import InvalidFileError, InvalidValueError, did_you_mean

GLOSSARY_FILE = Path(__file__).parent / "data" / "glossary.yaml"
_AUTO_ACCEPT_RATIO = 0.88  # a lookup this close to exactly one name is taken as a typo of it

# quantization names that follow a pattern rather than a fixed list
_QUANT_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^iq\d_[a-z]+$"), "i-quants"),
    (re.compile(r"^q\d_k(_[sml])?$"), "k-quants"),
    (re.compile(r"^q\d_[01]$"), "legacy-quants"),
    (re.compile(r"^q\df(16|32)(_[a-z0-9]+)?$"), "mlc-quant-naming"),
)
_QUANT_IN_TEXT = re.compile(r"(?<![\w.])(IQ\d_[A-Z]+|Q\d_K(?:_[SML])?|Q\d_[01]|q\df(?:16|32)_\w+)(?![\w])",
                            re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class GlossaryEntry:
    """One explained term."""

    key: str
    title: str
    sentences: tuple[str, ...]
    related: tuple[str, ...]
    source: str
    aliases: tuple[str, ...] = ()
    also: tuple[str, ...] = ()  # further pages read for this entry
    lookup_only: tuple[str, ...] = ()  # aliases too common to link in running text

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-./()]+", "", text.lower())


def split_sentences(text: str) -> tuple[str, ...]:
    """Sentences of an entry's text (it avoids abbreviations, so a full stop ends a sentence)."""
    parts = re.split(r"(?<=[.!?])\s+", " ".join(text.split()))
    return tuple(p for p in parts if p)


def _entry(key: str, raw: object, path: Path) -> GlossaryEntry:
    if not isinstance(raw, dict):
        raise InvalidFileError(path, "expected a mapping", field=f"terms.{key}")
    for required in ("title", "text", "source"):
        if not raw.get(required):
            raise InvalidFileError(path, f"missing '{required}'", field=f"terms.{key}.{required}")
    sentences = split_sentences(str(raw["text"]))
    if not 3 <= len(sentences) <= 6:
        raise InvalidFileError(path, f"text has {len(sentences)} sentences, expected 3 to 6",
                               field=f"terms.{key}.text")
    return GlossaryEntry(
        key=key, title=str(raw["title"]), sentences=sentences,
        related=tuple(str(r) for r in raw.get("related") or ()), source=str(raw["source"]),
        aliases=tuple(str(a) for a in raw.get("aliases") or ()),
        also=tuple(str(a) for a in raw.get("also") or ()),
        lookup_only=tuple(str(a) for a in raw.get("lookup_only") or ()),
    )


@lru_cache(maxsize=4)
def load_glossary(path: Path = GLOSSARY_FILE) -> dict[str, GlossaryEntry]:
    """All entries by key; checks that related terms exist."""
    from llmscout.catalog._load import read_document

    doc = read_document(path)
    terms = doc.get("terms") if isinstance(doc, dict) else None
    if not isinstance(terms, dict) or not terms:
        raise InvalidFileError(path, "expected 'terms:' mapping term keys to entries")
    entries = {str(k): _entry(str(k), v, path) for k, v in terms.items()}
    for entry in entries.values():
        for rel in entry.related:
            if rel not in entries:
                raise InvalidFileError(path, f"related term '{rel}' has no entry", field=f"terms.{entry.key}.related")
    return entries


def glossary_terms() -> list[str]:
    """Keys of every glossary entry, in file order."""
    return list(load_glossary())


@lru_cache(maxsize=4)
def _index(path: Path = GLOSSARY_FILE) -> dict[str, str]:
    """Normalised key/title/alias -> entry key."""
    index: dict[str, str] = {}
    for entry in load_glossary(path).values():
        for name in (entry.key, entry.title, *entry.aliases):
            index.setdefault(_norm(name), entry.key)
    return index


def _names() -> list[str]:
    entries = load_glossary().values()
    return [e.key for e in entries] + [a for e in entries for a in e.aliases]


def explain_term(term: str) -> GlossaryEntry:
    """The glossary entry for ``term`` (key, title, alias or quant name; typos forgiven).

    Raises:
        InvalidValueError: no entry matches; the message lists the closest terms.
    """
    entries = load_glossary()
    key = _norm(term or "")
    index = _index()
    if key in index:
        return entries[index[key]]
    raw = (term or "").strip().lower()
    for pattern, target in _QUANT_PATTERNS:
        if pattern.match(raw):
            return entries[target]
    close = difflib.get_close_matches(key, list(index), n=2, cutoff=_AUTO_ACCEPT_RATIO)
    if close and len({index[c] for c in close}) == 1:
        return entries[index[close[0]]]
    hints = did_you_mean(term or "", _names())
    near = "did you mean " + ", ".join(repr(h) for h in hints) + "? " if hints else ""
    raise InvalidValueError("term", term, near + "a glossary term; list them with glossary_terms()")


def _link_pattern(entry: GlossaryEntry) -> re.Pattern[str]:
    skip = {a.lower() for a in entry.lookup_only}
    names = {entry.key, entry.title, *entry.aliases}
    names = {n for n in names if n.lower() not in skip and len(n) >= 2}
    alternatives = sorted((re.escape(n) for n in names), key=len, reverse=True)
    return re.compile(r"(?<![\w])(" + "|".join(alternatives) + r")(?![\w])", re.IGNORECASE)


@lru_cache(maxsize=4)
def _link_patterns(path: Path = GLOSSARY_FILE) -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((e.key, _link_pattern(e)) for e in load_glossary(path).values())


def link_terms(text: str) -> list[str]:
    """Glossary keys of the terms mentioned in ``text``, in order of first mention.

    >>> link_terms("Q4_K_M of a MoE model, about 30 tokens/s after the TTFT")
    ['k-quants', 'moe', 'tokens', 'time-to-first-token']
    """
    found: dict[str, int] = {}
    for key, pattern in _link_patterns():
        m = pattern.search(text)
        if m:
            found[key] = m.start()
    for m in _QUANT_IN_TEXT.finditer(text):
        target = explain_term(m.group(1)).key
        found[target] = min(found.get(target, m.start()), m.start())
    return [k for k, _ in sorted(found.items(), key=lambda kv: kv[1])]
