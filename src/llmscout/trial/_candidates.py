"""Which models a trial tries, in which order, and how each one is opened.

A candidate reference is what a user writes in a task file or after ``--models``:

* ``packaged`` (or ``gemma3-270m``): the Gemma 3 270M GGUF shipped on PyPI, run by llama.cpp.
  It is a base model, so it gets plain completion prompts (``Input:``/``Output:`` blocks), not
  Gemma's chat turns: on the sample task's first 24 reviews at 3 shots it answered 17 right in
  completion format and 0 with chat turns, where it glues junk tokens onto the label
  (measured here, llama-cpp-python 0.3.36);
* a ``.gguf`` path (llama.cpp) or a model folder with ``config.json`` (transformers);
* ``ENDPOINT:MODEL`` or a bare endpoint name with a default model, for the OpenAI-compatible
  endpoints of ``backends.endpoints`` (built-ins plus ``$LLMSCOUT_HOME/endpoints.yaml``);
* a catalog id: a cloud model goes through its provider's API, an open model through llama.cpp
  when one of its GGUF files is in ``$LLMSCOUT_HOME/models`` or the cache, else transformers
  (local files only: a trial never downloads).

``order_candidates`` sorts them smallest first (the start-small ladder), cloud models last when
the task says so; models of unknown size go after the known ones, in the order given.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from llmscout.errors import (
    IncompatibleError,
    InvalidValueError,
    LlmscoutError,
    MissingFileError,
)

if TYPE_CHECKING:
    from llmscout.hardware.spec import Hardware
    from llmscout.trial.backends.base import Backend
    from llmscout.trial.taskfile import TaskFile

PACKAGED_ALIASES = ("packaged", "gemma3-270m", "gemma-3-270m")
PACKAGED_CATALOG_ID = "google/gemma-3-270m"
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")

CandidateKind = Literal["local", "cloud"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One model to try: how to open it, how big it is, and where it came from."""

    key: str  # the label in the store, the ladder and the report
    ref: str  # what the user wrote
    backend: str  # a name in ``backends.BACKENDS``
    options: Mapping[str, Any] = field(default_factory=dict)  # keyword arguments of the backend
    kind: CandidateKind = "local"
    params: int | None = None  # parameter count, for the small-to-large order
    catalog_id: str | None = None  # for the estimator and the fine-tuning advice
    path: str | None = None  # the GGUF file or model folder
    source: str = "explicit"  # explicit | task | recommend

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "ref": self.ref, "backend": self.backend,
                "options": dict(self.options), "kind": self.kind, "params": self.params,
                "catalog_id": self.catalog_id, "path": self.path, "source": self.source}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Candidate:
        return cls(**{k: data[k] for k in cls.__slots__ if k in data})  # type: ignore[attr-defined]

    def open(self, **overrides: Any) -> Backend:
        """The backend for this model, built but not loaded."""
        from llmscout.trial.backends import get_backend

        options = {**self.options, **overrides}
        if self.backend == "openai" and isinstance(options.get("endpoint"), Mapping):
            from llmscout.trial.backends.endpoints import Endpoint

            options["endpoint"] = Endpoint(**options["endpoint"])
        return get_backend(self.backend, **options)


def resolve_candidate(ref: str, source: str = "explicit") -> Candidate:
    """A ``Candidate`` for one reference (see the module docstring for what is accepted).

    Raises:
        MissingFileError: a path that does not exist.
        InvalidValueError: an endpoint without a model.
        UnknownModelError: not a path, endpoint or catalog model (with the closest ids).
    """
    text = ref.strip()
    if not text:
        raise InvalidValueError("models", ref, "a model: 'packaged', a .gguf path, ENDPOINT:MODEL "
                                "or a catalog id")
    if text.lower() in PACKAGED_ALIASES:
        return _packaged(text, source)
    path = Path(text).expanduser()
    if path.exists():
        return _local_path(text, path, source)
    if text.lower().endswith(".gguf") or text.startswith((".", "/", "~")):
        raise MissingFileError(path, "give a GGUF file, a model folder, 'packaged', "
                                     "ENDPOINT:MODEL or a catalog id")
    endpoint = _endpoint_candidate(text, source)
    if endpoint is not None:
        return endpoint
    return _catalog_candidate(text, source)


def _packaged(ref: str, source: str) -> Candidate:
    from llmscout.trial.backends.llamacpp import PACKAGED_GEMMA

    return Candidate(PACKAGED_GEMMA, ref, "llamacpp", {"model_path": None, "chat_template": "none"},
                     params=_catalog_params(PACKAGED_CATALOG_ID),
                     catalog_id=PACKAGED_CATALOG_ID, source=source)


def _local_path(ref: str, path: Path, source: str) -> Candidate:
    resolved = path.resolve()
    if resolved.is_dir():
        params = None
        try:
            from llmscout.catalog.sources.folder import folder_to_spec

            params = folder_to_spec(resolved).params
        except (LlmscoutError, ValueError, OSError):
            pass  # the backend will say why it cannot load
        return Candidate(resolved.name, ref, "transformers",
                         {"model": str(resolved), "local_files_only": True}, params=params,
                         path=str(resolved), source=source)
    params = None
    try:
        from llmscout.catalog.sources.gguf import gguf_to_spec

        params = gguf_to_spec(resolved).params
    except (LlmscoutError, ValueError, OSError):
        pass  # not a readable GGUF: loading reports "did not load: ..."
    return Candidate(resolved.name, ref, "llamacpp", {"model_path": str(resolved)},
                     params=params, path=str(resolved), source=source)


def _endpoint_candidate(ref: str, source: str) -> Candidate | None:
    from urllib.parse import urlsplit

    from llmscout.trial.backends.endpoints import load_endpoints

    endpoints = load_endpoints()
    name, sep, model = ref.partition(":")
    ep = endpoints.get(name)
    if ep is None:
        return None
    model = model.strip() if sep else (ep.model or "")
    if not model:
        raise InvalidValueError("models", ref, f"ENDPOINT:MODEL, e.g. '{name}:llama3.2' "
                                f"(endpoint '{name}' has no default model)")
    local = urlsplit(ep.base_url).hostname in _LOCAL_HOSTS
    kind: CandidateKind = "local" if local and not ep.wants_key else "cloud"
    spec = _catalog_spec(model)
    return Candidate(f"{name}:{model}", ref, "openai", {"endpoint": name, "model": model},
                     kind=kind, params=spec.params if spec else None,
                     catalog_id=spec.id if spec else None, source=source)


def _catalog_spec(ref: str) -> Any:
    from llmscout.catalog import load_catalog

    catalog = load_catalog()
    return catalog.get(ref) if ref in catalog else None


def _catalog_params(model_id: str) -> int | None:
    spec = _catalog_spec(model_id)
    return spec.params if spec else None


def _catalog_candidate(ref: str, source: str) -> Candidate:
    from llmscout.catalog import load_catalog

    spec = load_catalog().get(ref)  # raises UnknownModelError with suggestions
    if spec.kind == "cloud" and spec.cloud is not None:
        offer = spec.cloud
        endpoint = {"name": offer.provider, "base_url": offer.base_url or "",
                    "model": offer.api_model or spec.id, "api_key_env": offer.api_key_env}
        return Candidate(spec.id, ref, "openai", {"endpoint": endpoint}, kind="cloud",
                         params=spec.params, catalog_id=spec.id, source=source)
    if spec.id == PACKAGED_CATALOG_ID:
        return _packaged(ref, source)
    gguf = _local_gguf(spec)
    if gguf is not None:
        options = {"model_path": str(gguf), **({"chat_template": "none"} if spec.is_base else {})}
        return Candidate(spec.id, ref, "llamacpp", options, params=spec.params,
                         catalog_id=spec.id, path=str(gguf), source=source)
    return Candidate(spec.id, ref, "transformers", {"model": spec.id, "local_files_only": True},
                     params=spec.params, catalog_id=spec.id, source=source)


def _local_gguf(spec: Any) -> Path | None:
    """A GGUF file of ``spec`` already on this machine (``models/`` under home or the cache)."""
    from llmscout.constants import cache_dir, home

    names = [a.file for a in spec.artifacts if a.format == "gguf" and a.file]
    for folder in (home() / "models", cache_dir() / "models"):
        for name in names:
            p = folder / Path(name).name
            if p.is_file():
                return p
    return None


def order_candidates(candidates: Sequence[Candidate], cloud_last: bool = True) -> list[Candidate]:
    """Smallest first; unknown sizes after known ones; cloud after local when ``cloud_last``."""
    def rank(item: tuple[int, Candidate]) -> tuple[int, int, int, int]:
        i, c = item
        return (int(cloud_last and c.kind == "cloud"), int(c.params is None), c.params or 0, i)

    return [c for _, c in sorted(enumerate(candidates), key=rank)]


def unique_keys(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Drop repeated models; give two different models with the same label distinct keys."""
    from dataclasses import replace

    out: list[Candidate] = []
    seen: dict[str, Candidate] = {}
    for c in candidates:
        twin = seen.get(c.key)
        if twin is not None and (twin.backend, dict(twin.options)) == (c.backend, dict(c.options)):
            continue
        key, n = c.key, 2
        while key in seen:
            key, n = f"{c.key}#{n}", n + 1
        c = replace(c, key=key)
        seen[key] = c
        out.append(c)
    return out


def resolve_candidates(task: TaskFile, models: Sequence[str] | None,
                       hardware: Hardware | None = None) -> list[Candidate]:
    """The task's (or ``models``') candidates, resolved, de-duplicated and ordered small to large.

    Raises:
        IncompatibleError: ``from_recommend`` without a recommender, or nothing to try.
    """
    if models:
        found = [resolve_candidate(m, "explicit") for m in models]
    else:
        found = [resolve_candidate(m, "task") for m in task.candidates.models]
        if task.candidates.from_recommend is not None:
            found += _from_recommend(task, hardware)
    if not found:
        raise IncompatibleError("no model to try: name models (--models packaged,./m.gguf) or "
                                "give 'candidates:' in the task file")
    return order_candidates(unique_keys(found), task.cloud_last)


def _from_recommend(task: TaskFile, hardware: Hardware | None) -> list[Candidate]:
    """The top ``candidates.top`` models that ``llmscout.recommend.recommend`` ranks for the
    task's inline profile."""
    from llmscout.recommend.profile import profile_from_dict

    module = importlib.import_module("llmscout.recommend")
    recommend = getattr(module, "recommend", None)
    if recommend is None:
        raise IncompatibleError(
            f"{task.path}: 'candidates: from_recommend' needs llmscout's recommender, which this "
            "installation does not have yet - name the models instead, e.g. --models packaged")
    profile = profile_from_dict(task.candidates.from_recommend, base_dir=task.path.parent)
    ranked = recommend(profile, hardware) if hardware is not None else recommend(profile)
    out: list[Candidate] = []
    for model_id in recommended_ids(ranked):
        if len(out) >= task.candidates.top:
            break
        try:
            out.append(resolve_candidate(model_id, "recommend"))
        except LlmscoutError:
            continue  # a ranked id that cannot be run here (e.g. an unknown endpoint)
    return out


def recommended_ids(ranked: Any) -> list[str]:
    """Model ids, best first, from what ``recommend`` returns (a list of ranked items, or an
    object holding one under ``candidates``/``ranked``/``items``/``results``)."""
    items = ranked
    for attr in ("candidates", "ranked", "items", "results", "recommendations"):
        inner = ranked.get(attr) if isinstance(ranked, Mapping) else getattr(ranked, attr, None)
        if inner is not None and not callable(inner):
            items = inner
            break
    ids: list[str] = []
    for item in items or ():
        model_id = _item_model_id(item)
        if model_id and model_id not in ids:
            ids.append(model_id)
    return ids


def _item_model_id(item: Any) -> str | None:
    if isinstance(item, str):
        return item
    data = item if isinstance(item, Mapping) else None
    if data is None and hasattr(item, "to_dict"):
        data = item.to_dict()
    model = data.get("model") if data is not None else getattr(item, "model", None)
    if model is None:
        model = data.get("model_id") if data is not None else getattr(item, "model_id", None)
    if isinstance(model, Mapping):
        model = model.get("id")
    elif model is not None and not isinstance(model, str):
        model = getattr(model, "id", None)
    return model if isinstance(model, str) else None


__all__ = ["PACKAGED_ALIASES", "Candidate", "order_candidates", "recommended_ids",
           "resolve_candidate", "resolve_candidates", "unique_keys"]
