"""The catalog: bundled models plus user additions, looked up by id, alias or name."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path

from llmscout import constants
from llmscout.catalog._load import bundled_files, parse_catalog_file
from llmscout.catalog.spec import Artifact, ModelSpec
from llmscout.errors import InvalidFileError, UnknownModelError


def _key(name: str) -> str:
    return name.strip().lower()


class Catalog:
    """An ordered, id-indexed collection of ``ModelSpec`` records."""

    def __init__(self, models: Iterable[ModelSpec]) -> None:
        self._models: dict[str, ModelSpec] = {}
        self._index: dict[str, str] = {}
        for m in models:
            self.add(m)

    def add(self, model: ModelSpec, replace: bool = False) -> None:
        key = _key(model.id)
        if key in self._index and not replace:
            raise ValueError(f"duplicate model id '{model.id}'")
        self._models[model.id] = model
        self._index[key] = model.id
        short = model.id.split("/", 1)[-1]
        for alias in (short, *model.aliases):
            self._index.setdefault(_key(alias), model.id)

    def __iter__(self) -> Iterator[ModelSpec]:
        return iter(self._models.values())

    def __len__(self) -> int:
        return len(self._models)

    def __contains__(self, model_id: object) -> bool:
        return isinstance(model_id, str) and _key(model_id) in self._index

    @property
    def ids(self) -> list[str]:
        return list(self._models)

    def get(self, model_id: str) -> ModelSpec:
        """The model with this id (or short id / alias, case-insensitive)."""
        real = self._index.get(_key(model_id))
        if real is None:
            raise UnknownModelError(model_id, list(self._index_names()))
        return self._models[real]

    def _index_names(self) -> Iterator[str]:
        yield from self._models
        for m in self._models.values():
            yield m.id.split("/", 1)[-1]

    def add_artifacts(self, extra: dict[str, list[Artifact]], path: Path) -> None:
        for mid, arts in extra.items():
            real = self._index.get(_key(mid))
            if real is None:
                raise InvalidFileError(path, f"artifacts for unknown model '{mid}'", field=f"artifacts.{mid}")
            model = self._models[real]
            have = {(a.format, a.quant, a.repo) for a in model.artifacts}
            new = tuple(a for a in arts if (a.format, a.quant, a.repo) not in have)  # no duplicates
            merged = dataclasses.replace(model, artifacts=model.artifacts + new)
            self._models[real] = merged


def _load_files(paths: Iterable[Path], origin: str, catalog: Catalog, user: bool) -> None:
    pending: list[tuple[dict[str, list[Artifact]], Path]] = []
    for path in paths:
        models, extras = parse_catalog_file(path, origin=origin)
        for m in models:
            try:
                catalog.add(m, replace=user)
            except ValueError as exc:
                raise InvalidFileError(path, str(exc), field="id") from None
        if extras:
            pending.append((extras, path))
    for extras, path in pending:
        catalog.add_artifacts(extras, path)


@lru_cache(maxsize=1)
def bundled_catalog() -> Catalog:
    """The catalog shipped with llmscout (no user additions)."""
    catalog = Catalog(())
    _load_files(bundled_files(), "catalog", catalog, user=False)
    return catalog


def load_catalog(include_user: bool = True) -> Catalog:
    """Bundled models plus the user's own (``$LLMSCOUT_HOME/models.yaml`` and ``models.d/``).

    User entries with an id already in the catalog replace the bundled entry.
    """
    base = bundled_catalog()
    if not include_user:
        return base
    paths = constants.user_models_paths()
    if not paths:
        return base
    catalog = Catalog(base)
    _load_files(paths, "user", catalog, user=True)
    return catalog
