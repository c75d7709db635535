"""Reading catalog files: bundled YAML under ``catalog/data`` and users' own additions.

A catalog file is YAML or JSON with ``models:`` (a list of entries, see ``spec.ModelSpec``),
optional ``defaults:`` merged into every entry of that file (``sources`` and ``links`` merged
key by key), and optional ``artifacts:`` mapping a model id to extra artifacts (used for
build lists such as WebLLM's prebuilt models that span families).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from llmscout.catalog.spec import Artifact, ModelSpec, SpecError, _build
from llmscout.errors import InvalidFileError

DATA_DIR = Path(__file__).parent / "data"
_MERGED_KEYS = ("sources", "links")


def _yaml_load(text: str, path: Path) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise InvalidFileError(path, f"not valid YAML: {exc.problem}", line=line) from None
    except yaml.YAMLError as exc:
        raise InvalidFileError(path, f"not valid YAML: {exc}") from None


def read_document(path: Path) -> Any:
    """Parse a YAML or JSON file, naming the file and line on a syntax error.

    Parsed YAML is cached as JSON under ``$LLMSCOUT_HOME/cache/yaml`` keyed by path, size and
    mtime: the bundled catalog is ~250 kB of YAML (0.25 s with libyaml, 20 ms as JSON).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidFileError(path, "not UTF-8 text") from None
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidFileError(path, f"not valid JSON: {exc.msg}", line=exc.lineno) from None
    cache = _cache_file(path)
    if cache is not None and cache.is_file():
        try:
            return json.loads(cache.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            pass  # a damaged cache entry is simply rebuilt
    doc = _yaml_load(text, path)
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(doc, default=str), encoding="utf-8")
            tmp.replace(cache)
        except OSError:
            pass  # a read-only home still works, just slower
    return doc


def _cache_file(path: Path) -> Path | None:
    from llmscout import constants

    try:
        st = path.stat()
    except OSError:
        return None
    key = hashlib.sha1(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()
    return constants.cache_dir() / "yaml" / f"{key}.json"


def _entry_lines(path: Path, text_lines: list[str], ids: Iterable[str]) -> dict[str, int]:
    """Best-effort line number of each entry's ``id:`` (for error messages)."""
    out: dict[str, int] = {}
    wanted = set(ids)
    for i, line in enumerate(text_lines, 1):
        stripped = line.strip().lstrip("- ").strip()
        if stripped.startswith("id:") or stripped.startswith('"id":'):
            value = stripped.split(":", 1)[1].strip().strip(",").strip("'\"")
            if value in wanted and value not in out:
                out[value] = i
    return out


def parse_catalog_file(path: Path, origin: str = "catalog") -> tuple[list[ModelSpec], dict[str, list[Artifact]]]:
    """Models and extra artifacts of one catalog file; errors name file, line and field."""
    doc = read_document(path)
    if doc is None:
        return [], {}
    if isinstance(doc, list):
        doc = {"models": doc}
    if not isinstance(doc, Mapping):
        raise InvalidFileError(path, "expected a mapping with 'models:' or a list of models")
    unknown = set(doc) - {"defaults", "models", "artifacts"}
    if unknown:
        raise InvalidFileError(path, f"unknown top-level keys {sorted(unknown)} (allowed: defaults, models, artifacts)")
    defaults = doc.get("defaults") or {}
    entries = doc.get("models") or []
    if not isinstance(entries, list):
        raise InvalidFileError(path, "'models' must be a list", field="models")
    lines: dict[str, int] | None = None
    models: list[ModelSpec] = []
    for index, entry in enumerate(entries):
        merged = _merge(defaults, entry) if isinstance(entry, Mapping) else entry
        if isinstance(merged, dict):
            merged.setdefault("origin", origin)
        try:
            models.append(ModelSpec.from_dict(merged))
        except SpecError as exc:
            if lines is None:
                lines = _entry_lines(path, path.read_text(encoding="utf-8").splitlines(),
                                     [e.get("id", "") for e in entries if isinstance(e, Mapping)])
            mid = entry.get("id") if isinstance(entry, Mapping) else None
            raise InvalidFileError(path, exc.problem, line=lines.get(mid or ""),
                                   field=f"models[{index}].{exc.field}") from None
    extras: dict[str, list[Artifact]] = {}
    for mid, arts in (doc.get("artifacts") or {}).items():
        try:
            extras[mid] = [_build(Artifact, a, f"artifacts.{mid}[{i}]") for i, a in enumerate(arts)]
        except SpecError as exc:
            raise InvalidFileError(path, exc.problem, field=exc.field) from None
    return models, extras


def _merge(defaults: Mapping[str, Any], entry: Mapping[str, Any]) -> dict[str, Any]:
    merged = {**defaults, **entry}
    for key in _MERGED_KEYS:
        if isinstance(defaults.get(key), Mapping) and isinstance(entry.get(key), Mapping):
            merged[key] = {**defaults[key], **entry[key]}
    return merged


def bundled_files() -> list[Path]:
    return sorted(p for p in DATA_DIR.iterdir() if p.suffix in {".yaml", ".yml", ".json"})
