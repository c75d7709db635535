"""Users' own additions to the catalog, kept under ``$LLMSCOUT_HOME/models.d/``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from llmscout import constants
from llmscout.catalog._load import parse_catalog_file
from llmscout.catalog.spec import ModelSpec
from llmscout.errors import InvalidFileError, MissingFileError

_DERIVED = ("is_base",)


def storable(model: ModelSpec) -> dict[str, Any]:
    """``to_dict`` without derived keys, so that ``ModelSpec.from_dict`` reads it back."""
    d = model.to_dict()
    for key in _DERIVED:
        d.pop(key, None)
    if d.get("architecture"):
        d["architecture"].pop("sliding_layers", None)
    return d


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:120] or "model"


def import_model(path: str | Path, model_id: str | None = None) -> list[ModelSpec]:
    """Add a GGUF file, a model folder, or a YAML/JSON catalog file to the user's catalog.

    Returns the models added. A catalog file is validated whole before anything is written.
    """
    import yaml

    src = Path(path).expanduser()
    if not src.exists():
        raise MissingFileError(src)
    if src.suffix in {".yaml", ".yml", ".json"} and src.is_file():
        models, _ = parse_catalog_file(src, origin="user")
        if not models:
            raise InvalidFileError(src, "no models in this file")
        records = [storable(m) for m in models]
        name = src.stem
    else:
        from llmscout.catalog.resolve import resolve_model

        model = resolve_model(str(src), use_hub=False)
        record = storable(model)
        if model_id:
            record["id"] = model_id
        record["origin"] = "user"
        records = [record]
        models = [ModelSpec.from_dict(record)]
        name = record["id"]
    target_dir = constants.home() / "models.d"
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{_slug(name)}.yaml"
    tmp = target.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump({"models": records}, sort_keys=False, allow_unicode=True), encoding="utf-8")
    tmp.replace(target)  # atomic: a crash never leaves a half-written catalog file
    return models
