"""Backends that run models: a registry of lazy ``"module:Class"`` strings.

Nothing heavy is imported until a backend is asked for by name, so ``import llmscout`` stays
fast whatever is installed (lm-evaluation-harness ``MODEL_MAPPING`` does the same). Third-party
packages add backends through the entry-point group ``llmscout.backends``::

    [project.entry-points."llmscout.backends"]
    mlx = "llmscout_mlx:MLXBackend"

Example:
    >>> sorted(available_backends())[:3]
    ['llamacpp', 'openai', 'transformers']
    >>> backend = get_backend("llamacpp", model_path="model.gguf")  # doctest: +SKIP
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from llmscout.errors import InvalidValueError, did_you_mean

if TYPE_CHECKING:
    from llmscout.trial.backends.base import Backend

ENTRY_POINT_GROUP = "llmscout.backends"
BACKENDS: dict[str, str] = {
    "llamacpp": "llmscout.trial.backends.llamacpp:LlamaCppBackend",
    "transformers": "llmscout.trial.backends.transformers:TransformersBackend",
    "openai": "llmscout.trial.backends.openai_compat:OpenAICompatBackend",
}


def _entry_points() -> dict[str, str]:
    from importlib.metadata import entry_points

    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available_backends() -> dict[str, str]:
    """Backend name -> ``"module:Class"``: the built-in ones, then installed plug-ins (a plug-in
    cannot replace a built-in name)."""
    return {**_entry_points(), **BACKENDS}


def load_class(target: str) -> type[Backend]:
    """Import ``"module:Class"`` and return the class."""
    module_name, _, attr = target.partition(":")
    obj: Any = import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def backend_class(name: str) -> type[Backend]:
    """The class registered as ``name``.

    Raises:
        InvalidValueError: no backend has that name (with the closest names).
    """
    registry = available_backends()
    target = registry.get(name)
    if target is None:
        names = sorted(registry)
        close = did_you_mean(name, names)
        expected = (f"did you mean {', '.join(repr(c) for c in close)}? " if close else "")
        raise InvalidValueError("backend", name, expected + "one of " + ", ".join(names))
    return load_class(target)


def get_backend(name: str, **kwargs: Any) -> Backend:
    """An instance of the backend ``name`` built with ``kwargs`` (nothing is loaded yet)."""
    return backend_class(name)(**kwargs)


__all__ = ["BACKENDS", "ENTRY_POINT_GROUP", "available_backends", "backend_class", "get_backend",
           "load_class"]
