"""Reading the user's examples from JSONL, CSV/TSV, YAML or JSON into ``Example`` records.

Each example has an ``input`` (text) or ``messages`` (a list of ``{role, content}``), optionally
a reference answer (``reference``, or one of its aliases ``expected``, ``output``, ``answer``),
optionally the allowed labels (``choices`` or ``labels``) and an ``id`` (default: the line the
example starts on). Every other field is kept in ``metadata`` (prompt templates can use it).

The whole file is checked before anything is returned, so a trial never runs on half-valid
input; every error names the file, the line and the field, e.g.
``examples.jsonl:7: field 'input': empty text``. JSONL is read line by line, so a large file is
never held twice in memory; ``max_count`` stops reading as soon as a file holds too many.

Example:
    >>> examples = load_examples("reviews.jsonl")          # doctest: +SKIP
    >>> examples[0].input, examples[0].reference, examples[0].source  # doctest: +SKIP
    ('Great battery life.', 'positive', 'reviews.jsonl:1')
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from llmscout.errors import InvalidFileError, MissingFileError
from llmscout.trial.types import Example, Message

REFERENCE_KEYS = ("reference", "expected", "output", "answer")
CHOICE_KEYS = ("choices", "labels")
ROLES = ("system", "user", "assistant")
FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv",
           ".yaml": "yaml", ".yml": "yaml", ".json": "json"}

# (line, raw record, field -> line) as read from a file, before validation
_Raw = tuple[int, Any, Mapping[str, int]]


def load_examples(path: str | Path, *, max_count: int | None = None) -> list[Example]:
    """All examples of a file, validated as a whole (nothing is returned from a half-valid file).

    Args:
        path: a ``.jsonl``/``.ndjson``, ``.csv``/``.tsv``, ``.yaml``/``.yml`` or ``.json`` file
            (YAML and JSON: a list of examples, or a mapping with an ``examples:`` list).
        max_count: refuse files with more examples than this (reading stops there).

    Returns:
        The examples in file order; ``Example.source`` is ``"<file name>:<line>"``.

    Raises:
        MissingFileError: ``path`` does not exist.
        InvalidFileError: malformed file, missing/empty/mistyped field, unknown role, duplicate
            id, reference not among the choices, too many examples; names file, line and field.
    """
    p = Path(path).expanduser()
    if not p.is_file():
        raise MissingFileError(p, "give a .jsonl, .csv, .tsv, .yaml or .json file of examples")
    fmt = FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise InvalidFileError(p, f"unknown examples format '{p.suffix}' (allowed: "
                               + ", ".join(sorted(FORMATS)) + ")")
    readers = {"jsonl": _read_jsonl, "csv": _read_csv, "tsv": _read_csv,
               "yaml": _read_yaml, "json": _read_json}
    examples: list[Example] = []
    seen: dict[str, int] = {}
    for line, raw, lines in readers[fmt](p):
        if max_count is not None and len(examples) >= max_count:
            raise InvalidFileError(p, f"more than {max_count} examples (the limit): "
                                   "split the file or raise max_examples", line=line)
        example = parse_example(raw, p, line, lines)
        if example.id in seen:
            raise InvalidFileError(p, f"duplicate id '{example.id}' (first used on line "
                                   f"{seen[example.id]})", line=line, field="id")
        seen[example.id] = line
        examples.append(example)
    if not examples:
        raise InvalidFileError(p, "no examples in the file")
    return examples


def parse_example(raw: Any, path: Path, line: int, lines: Mapping[str, int] | None = None) -> Example:
    """One ``Example`` from a parsed record; errors name ``path``, the line and the field."""
    lines = lines or {}

    def fail(field: str | None, problem: str) -> InvalidFileError:
        top = (field or "").split(".")[0].split("[")[0]
        return InvalidFileError(path, problem, line=lines.get(top, line), field=field)

    if not isinstance(raw, Mapping):
        raise fail(None, f"expected an object with 'input' or 'messages', got {_kind(raw)}")
    data = {str(k): v for k, v in raw.items()}
    if "input" in data and "messages" in data:
        raise fail("messages", "give either 'input' or 'messages', not both")
    if "messages" in data:
        content: str | tuple[Message, ...] = _messages(data.pop("messages"), fail)
    elif "input" in data:
        content = _text(data.pop("input"), "input", fail)
    else:
        raise fail("input", "missing (each example needs 'input' text or a 'messages' list)")
    reference = _one_of(data, REFERENCE_KEYS, fail)
    ref = None if reference is None else _text(reference[1], reference[0], fail, allow_empty=True)
    labels = _one_of(data, CHOICE_KEYS, fail)
    choices = None if labels is None else _choices(labels[1], labels[0], fail)
    if choices is not None and ref is not None and ref.casefold() not in {c.casefold() for c in choices}:
        raise fail(reference[0] if reference else None,
                   f"'{ref}' is not one of the choices {list(choices)}")
    ex_id = _id(data.pop("id", None), line, fail)
    return Example(id=ex_id, input=content, reference=ref, choices=choices, metadata=data,
                   source=f"{path.name}:{line}")


def _kind(value: Any) -> str:
    return {str: "text", list: "a list", dict: "an object", bool: "true/false",
            type(None): "nothing"}.get(type(value), type(value).__name__)


def _text(value: Any, field: str, fail: Any, *, allow_empty: bool = False) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise fail(field, f"expected text, got {_kind(value)}"
                   + (" (write JSON answers as a string)" if isinstance(value, dict | list) else ""))
    text = value if isinstance(value, str) else str(value)
    if not allow_empty and not text.strip():
        raise fail(field, "empty text")
    return text


def _messages(value: Any, fail: Any) -> tuple[Message, ...]:
    if isinstance(value, str):  # a CSV cell holding JSON
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise fail("messages", "expected a JSON list of {role, content}") from None
    if not isinstance(value, list) or not value:
        raise fail("messages", f"expected a non-empty list of {{role, content}}, got {_kind(value)}")
    out = []
    for i, msg in enumerate(value):
        where = f"messages[{i}]"
        if not isinstance(msg, Mapping) or set(msg) - {"role", "content"} or "role" not in msg:
            raise fail(where, "expected {role, content}"
                       + (f", got keys {sorted(map(str, msg))}" if isinstance(msg, Mapping) else ""))
        if msg["role"] not in ROLES:
            raise fail(f"{where}.role", f"unknown role {msg['role']!r} (allowed: {', '.join(ROLES)})")
        out.append(Message(role=msg["role"], content=_text(msg.get("content"), f"{where}.content", fail)))
    if out[-1].role == "assistant":
        raise fail(f"messages[{len(out) - 1}].role",
                   "the last message is the model's turn to answer: end with a user message")
    return tuple(out)


def _one_of(data: dict[str, Any], keys: Iterable[str], fail: Any) -> tuple[str, Any] | None:
    """Pop the one alias present among ``keys`` (a CSV's empty cell counts as absent)."""
    present = [k for k in keys if k in data]
    if len(present) > 1:
        raise fail(present[1], f"give only one of {', '.join(present)} (they are aliases)")
    if not present:
        return None
    value = data.pop(present[0])
    return None if value is None else (present[0], value)


def _choices(value: Any, field: str, fail: Any) -> tuple[str, ...]:
    if isinstance(value, str):  # CSV cell: "a|b|c" or a JSON list
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                value = json.loads(stripped)
            except json.JSONDecodeError:
                raise fail(field, "not a valid JSON list") from None
        else:
            value = [v.strip() for v in stripped.split("|")]
    if not isinstance(value, list):
        raise fail(field, f"expected a list of labels, got {_kind(value)}")
    labels = tuple(_text(v, f"{field}[{i}]", fail) for i, v in enumerate(value))
    if len(labels) < 2:
        raise fail(field, "give at least two labels")
    folded = [c.casefold() for c in labels]
    dupes = sorted({c for c in labels if folded.count(c.casefold()) > 1})
    if dupes:
        raise fail(field, f"label listed twice: {dupes[0]!r}")
    return labels


def _id(value: Any, line: int, fail: Any) -> str:
    if value is None:
        return str(line)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise fail("id", f"expected text or a whole number, got {_kind(value)}")
    text = str(value).strip()
    if not text:
        raise fail("id", "empty id")
    return text


# -- readers: each yields (line, raw record, field lines) -------------------------------------

def _read_jsonl(path: Path) -> Iterator[_Raw]:
    with path.open(encoding="utf-8") as fh:
        try:
            for number, text in enumerate(fh, 1):
                if not text.strip():
                    continue
                try:
                    yield number, json.loads(text), {}
                except json.JSONDecodeError as exc:
                    raise InvalidFileError(path, f"not valid JSON: {exc.msg} (column {exc.colno})",
                                           line=number) from None
        except UnicodeDecodeError:
            raise InvalidFileError(path, "not UTF-8 text") from None


def _read_csv(path: Path) -> Iterator[_Raw]:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            header = next(reader, None)
            if header is None:
                raise InvalidFileError(path, "empty file: the first line must name the columns")
            columns = [h.strip() for h in header]
            _check_header(path, columns)
            start = reader.line_num + 1
            for row in reader:
                if any(cell.strip() for cell in row):
                    if len(row) != len(columns):
                        raise InvalidFileError(path, f"{len(row)} cells but the header has "
                                               f"{len(columns)} columns", line=start)
                    # an empty cell means "not given" for the optional columns
                    yield start, {c: (v if v.strip() or c == "input" else None)
                                  for c, v in zip(columns, row, strict=True)}, {}
                start = reader.line_num + 1
    except UnicodeDecodeError:
        raise InvalidFileError(path, "not UTF-8 text") from None
    except csv.Error as exc:
        raise InvalidFileError(path, f"not valid CSV: {exc}") from None


def _check_header(path: Path, columns: list[str]) -> None:
    if "input" not in columns and "messages" not in columns:
        raise InvalidFileError(path, "missing: the header needs an 'input' (or 'messages') column; "
                               f"found {columns}", line=1, field="input")
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        raise InvalidFileError(path, "column named twice", line=1, field=dupes[0])
    if "" in columns:
        raise InvalidFileError(path, f"column {columns.index('') + 1} has no name", line=1)


def _records(doc: Any, path: Path) -> list[Any]:
    if isinstance(doc, Mapping) and set(doc) == {"examples"}:
        doc = doc["examples"]
    if not isinstance(doc, list):
        raise InvalidFileError(path, "expected a list of examples (or a mapping with an "
                               f"'examples:' list), got {_kind(doc)}")
    return doc


def _read_yaml(path: Path) -> Iterator[_Raw]:
    import yaml

    from llmscout.catalog._load import read_document

    doc = read_document(path)  # names the line of a syntax error
    records = _records(doc, path)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    node = yaml.compose(path.read_text(encoding="utf-8"), Loader=loader)
    if node is None:
        return
    if isinstance(node, yaml.MappingNode):
        node = node.value[0][1]
    for record, item in zip(records, node.value, strict=True):
        lines = {}
        if isinstance(item, yaml.MappingNode):
            lines = {str(k.value): k.start_mark.line + 1 for k, _ in item.value}
        yield item.start_mark.line + 1, record, lines


def _read_json(path: Path) -> Iterator[_Raw]:
    """A JSON list, decoded element by element so each example knows its line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidFileError(path, "not UTF-8 text") from None
    decoder = json.JSONDecoder()
    pos = _skip_ws(text, 0)
    if not text.startswith("[", pos):
        from llmscout.catalog._load import read_document

        for i, record in enumerate(_records(read_document(path), path)):
            yield i + 1, record, {}  # a mapping with 'examples': positions, not lines
        return
    pos = _skip_ws(text, pos + 1)
    while pos < len(text) and text[pos] != "]":
        line = text.count("\n", 0, pos) + 1
        try:
            record, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise InvalidFileError(path, f"not valid JSON: {exc.msg}", line=exc.lineno) from None
        yield line, record, {}
        pos = _skip_ws(text, pos)
        if text.startswith(",", pos):
            pos = _skip_ws(text, pos + 1)
        elif not text.startswith("]", pos):
            raise InvalidFileError(path, "not valid JSON: expected ',' or ']'",
                                   line=text.count("\n", 0, pos) + 1)
    if pos >= len(text):
        raise InvalidFileError(path, "not valid JSON: the list is not closed with ']'")


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos
