"""Environment variables and paths: the only module that reads ``os.environ`` for llmscout."""

from __future__ import annotations

import os
from pathlib import Path

ENV_HOME = "LLMSCOUT_HOME"
ENV_DEBUG = "LLMSCOUT_DEBUG"
ENV_OFFLINE = "LLMSCOUT_OFFLINE"
ENV_ELECTRICITY_PRICE = "LLMSCOUT_ELECTRICITY_PRICE"  # currency per kWh
ENV_HF_TOKEN = "HF_TOKEN"
ENV_HF_OFFLINE = "HF_HUB_OFFLINE"
ENV_OLLAMA_HOST = "OLLAMA_HOST"

DEFAULT_ELECTRICITY_PRICE_PER_KWH = 0.30  # USD; EU/US household mid-range, override per user
DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def home() -> Path:
    """Folder holding all of llmscout's state (store, cache, user models, calibration)."""
    raw = os.environ.get(ENV_HOME)
    path = Path(raw).expanduser() if raw else Path.home() / ".llmscout"
    return path


def cache_dir() -> Path:
    return home() / "cache"


def user_models_paths() -> list[Path]:
    """User additions to the catalog: ``models.yaml`` / ``models.json`` / ``models.d/*.yaml``."""
    h = home()
    paths = [h / "models.yaml", h / "models.yml", h / "models.json"]
    d = h / "models.d"
    if d.is_dir():
        paths += sorted(p for p in d.iterdir() if p.suffix in {".yaml", ".yml", ".json"})
    return [p for p in paths if p.is_file()]


def debug() -> bool:
    return _truthy(os.environ.get(ENV_DEBUG))


def offline() -> bool:
    """True when network sources must not be used (llmscout's or the Hub's offline switch)."""
    return _truthy(os.environ.get(ENV_OFFLINE)) or _truthy(os.environ.get(ENV_HF_OFFLINE))


def hf_token() -> str | None:
    return os.environ.get(ENV_HF_TOKEN) or None


def ollama_host() -> str:
    host = os.environ.get(ENV_OLLAMA_HOST) or DEFAULT_OLLAMA_HOST
    if not host.startswith(("http://", "https://")):
        host = "http://" + host
    return host.rstrip("/")


def electricity_price() -> float:
    raw = os.environ.get(ENV_ELECTRICITY_PRICE)
    return float(raw) if raw else DEFAULT_ELECTRICITY_PRICE_PER_KWH


def env_values(names: list[str] | tuple[str, ...] | set[str]) -> list[str]:
    """The values of the named environment variables that are set (for secret scrubbing)."""
    return [os.environ[n] for n in names if os.environ.get(n)]


def env(name: str) -> str | None:
    """One environment variable (e.g. the API key variable an endpoint names), or None."""
    return os.environ.get(name) or None
