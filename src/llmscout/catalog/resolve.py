"""One entry point from whatever a user types to a ``ModelSpec``.

Order: an existing path (GGUF file or model folder), then the catalog (ids, short ids,
aliases, user additions), then the Hugging Face Hub for ``org/name`` ids not in the catalog
(unless offline).
"""

from __future__ import annotations

import re
from pathlib import Path

from llmscout.catalog._catalog import load_catalog
from llmscout.catalog.spec import ModelSpec
from llmscout.errors import MissingFileError, OfflineError, UnknownModelError

_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def _looks_like_path(ref: str) -> bool:
    return ref.endswith(".gguf") or ref.startswith((".", "/", "~")) or "\\" in ref


def resolve_model(ref: str, use_hub: bool = True) -> ModelSpec:
    """A ``ModelSpec`` for a catalog id, HF repo id, local GGUF path or model folder.

    Raises:
        UnknownModelError: not a path, not in the catalog, and not found on the Hub.
        InvalidFileError: a path that exists but is not a readable GGUF / model folder.
    """
    ref = ref.strip()
    path = Path(ref).expanduser()
    if path.exists():
        if path.is_dir():
            from llmscout.catalog.sources.folder import folder_to_spec

            return folder_to_spec(path)
        from llmscout.catalog.sources.gguf import gguf_to_spec

        return gguf_to_spec(path)
    if _looks_like_path(ref):
        raise MissingFileError(path, "give a GGUF file, a model folder with config.json, or a catalog id")
    catalog = load_catalog()
    if ref in catalog:
        return catalog.get(ref)
    if use_hub and _REPO_ID.match(ref) and not ref.startswith(("gguf:", "folder:")):
        try:
            from llmscout.catalog.sources.hub import hub_to_spec

            return hub_to_spec(ref)
        except (OfflineError, ImportError):
            pass  # fall through to the did-you-mean error, which is more useful offline
        except UnknownModelError:
            pass
    return catalog.get(ref)  # raises UnknownModelError with suggestions


__all__ = ["resolve_model"]
