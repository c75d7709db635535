"""llmscout: which LLM should I use for my task, on my hardware? Estimate, then verify.

The public API is re-exported lazily so that ``import llmscout`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "ModelSpec": "llmscout.catalog",
    "Catalog": "llmscout.catalog",
    "load_catalog": "llmscout.catalog",
    "get_model": "llmscout.catalog",
    "resolve_model": "llmscout.catalog.resolve",
    "parse_name": "llmscout.catalog.names",
    "Hardware": "llmscout.hardware.spec",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'llmscout' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
