"""OpenAI-compatible endpoints as data: built-in ones plus ``$LLMSCOUT_HOME/endpoints.yaml``.

A user file is a YAML list (or a mapping with an ``endpoints:`` list) of entries::

    - name: office-vllm
      base_url: http://gpu-box:8000/v1
      model: Qwen/Qwen2.5-7B-Instruct      # optional: the default model for this endpoint
      api_key_env: OFFICE_VLLM_KEY         # optional: NAME of the variable holding the key
      api_key_file: ~/.secrets/vllm.key    # optional: or a file holding it
      headers: {X-Team: research}          # optional extra headers
      max_concurrency: 8                   # requests in flight at once (default 4)
      timeout_s: 120                       # per call (default 120)

An entry with the name of a built-in replaces it. Keys are never stored in these records: only
where to find them (an environment variable's name or a file path).

Built-in defaults and where they are documented:

==================  ================================================  ===================
name                base_url                                          key variable
==================  ================================================  ===================
ollama              ``$OLLAMA_HOST``/v1 (http://127.0.0.1:11434/v1)   -
lm-studio           http://localhost:1234/v1                          -
vllm                http://localhost:8000/v1                          -
llama-cpp-server    http://localhost:8080/v1                          -
openai              https://api.openai.com/v1                         OPENAI_API_KEY
anthropic           https://api.anthropic.com/v1/                     ANTHROPIC_API_KEY
gemini              https://generativelanguage.googleapis.com/v1beta/openai/  GEMINI_API_KEY
==================  ================================================  ===================

(sources in ``Endpoint.docs`` of each built-in)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from llmscout import constants
from llmscout.errors import InvalidFileError, InvalidValueError, did_you_mean

ENDPOINTS_FILE = "endpoints.yaml"
DEFAULT_CONCURRENCY = 4
DEFAULT_TIMEOUT_S = 120.0
_FIELDS = ("name", "base_url", "model", "api_key_env", "api_key_file", "headers",
           "max_concurrency", "timeout_s")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where an OpenAI-compatible API lives and how to talk to it (never the key itself)."""

    name: str
    base_url: str
    model: str | None = None
    api_key_env: str | None = None  # the NAME of the environment variable holding the key
    api_key_file: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    max_concurrency: int = DEFAULT_CONCURRENCY
    timeout_s: float = DEFAULT_TIMEOUT_S
    source: str = "built-in"  # "endpoints.yaml:12" for user entries
    docs: str = ""  # where the defaults of a built-in are documented

    @property
    def wants_key(self) -> bool:
        return bool(self.api_key_env or self.api_key_file)


def _builtins() -> list[Endpoint]:
    from llmscout.constants import ollama_host

    return [
        Endpoint("ollama", ollama_host() + "/v1",
                 docs="https://ollama.com/blog/openai-compatibility"),
        Endpoint("lm-studio", "http://localhost:1234/v1",
                 docs="https://lmstudio.ai/docs/api/openai-api"),
        Endpoint("vllm", "http://localhost:8000/v1",
                 docs="https://docs.vllm.ai/en/v0.8.4/serving/openai_compatible_server.html"),
        Endpoint("llama-cpp-server", "http://localhost:8080/v1",
                 docs="https://www.mintlify.com/ggml-org/llama.cpp/api/tools/llama-server"),
        Endpoint("openai", "https://api.openai.com/v1", api_key_env="OPENAI_API_KEY",
                 docs="https://lmstudio.ai/docs/api/openai-api (URL); https://community.openai.com"
                      "/t/client-error-using-openai-1-6-1-say-i-given-two-argument-but-only-"
                      "have-one/569408/2 (variable)"),
        Endpoint("anthropic", "https://api.anthropic.com/v1/", api_key_env="ANTHROPIC_API_KEY",
                 docs="https://platform.claude.com/docs/en/api/openai-sdk"),
        Endpoint("gemini", "https://generativelanguage.googleapis.com/v1beta/openai/",
                 api_key_env="GEMINI_API_KEY", docs="https://ai.google.dev/gemini-api/docs/openai"),
    ]


BUILTIN_NAMES = ("ollama", "lm-studio", "vllm", "llama-cpp-server", "openai", "anthropic",
                 "gemini")


def endpoints_path() -> Path:
    from llmscout.constants import home

    return home() / ENDPOINTS_FILE


def _line_loader() -> Any:
    """A safe YAML loader that records each mapping's line as ``__line__`` (1-based)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def construct_mapping(loader: Any, node: Any, deep: bool = False) -> dict[str, Any]:
        mapping = loader.construct_mapping(node, deep=True)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return Loader


def _check_entry(path: Path, raw: Any) -> Endpoint:
    if not isinstance(raw, dict):
        raise InvalidFileError(path, "each endpoint must be a mapping with name and base_url")
    line = raw.pop("__line__", None)

    def bad(fld: str, problem: str) -> InvalidFileError:
        return InvalidFileError(path, problem, line=line, field=fld)

    unknown = [k for k in raw if k not in _FIELDS]
    if unknown:
        close = did_you_mean(str(unknown[0]), _FIELDS)
        hint = f" - did you mean '{close[0]}'?" if close else f" (known: {', '.join(_FIELDS)})"
        raise bad(str(unknown[0]), "unknown field" + hint)
    for fld in ("name", "base_url"):
        if not isinstance(raw.get(fld), str) or not raw[fld].strip():
            raise bad(fld, "missing or empty (a text value is required)")
    if not raw["base_url"].startswith(("http://", "https://")):
        raise bad("base_url", f"{raw['base_url']!r} must start with http:// or https://")
    for fld in ("model", "api_key_env", "api_key_file"):
        if raw.get(fld) is not None and not isinstance(raw[fld], str):
            raise bad(fld, "must be text")
    headers = raw.get("headers") or {}
    if isinstance(headers, dict):
        headers.pop("__line__", None)
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise bad("headers", "must be a mapping of header name to text")
    conc = raw.get("max_concurrency", DEFAULT_CONCURRENCY)
    if isinstance(conc, bool) or not isinstance(conc, int) or conc < 1:
        raise bad("max_concurrency", f"{conc!r} must be a whole number >= 1")
    timeout = raw.get("timeout_s", DEFAULT_TIMEOUT_S)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise bad("timeout_s", f"{timeout!r} must be a number of seconds > 0")
    return Endpoint(name=raw["name"].strip(), base_url=raw["base_url"].strip(),
                    model=raw.get("model"), api_key_env=raw.get("api_key_env"),
                    api_key_file=raw.get("api_key_file"), headers=dict(headers),
                    max_concurrency=conc, timeout_s=float(timeout),
                    source=f"{path.name}:{line}" if line else path.name)


def read_endpoints_file(path: str | Path) -> list[Endpoint]:
    """The endpoints declared in a YAML file (see the module docstring for the format).

    Raises:
        InvalidFileError: malformed YAML, or an entry with a missing/unknown/mistyped field
            (names the file, line and field).
    """
    import yaml

    p = Path(path).expanduser()
    try:
        data = yaml.load(p.read_text(encoding="utf-8"), Loader=_line_loader())  # noqa: S506
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise InvalidFileError(p, f"not valid YAML: {getattr(e, 'problem', e)}",
                               line=mark.line + 1 if mark else None) from None
    if data is None:
        return []
    if isinstance(data, dict):
        data.pop("__line__", None)
        if "endpoints" not in data:
            raise InvalidFileError(p, "expected a list of endpoints or an 'endpoints:' list")
        data = data["endpoints"]
    if not isinstance(data, list):
        raise InvalidFileError(p, "expected a list of endpoints", field="endpoints")
    out = [_check_entry(p, entry) for entry in data]
    seen: set[str] = set()
    for ep in out:
        if ep.name in seen:
            raise InvalidFileError(p, f"endpoint '{ep.name}' is declared twice", field="name")
        seen.add(ep.name)
    return out


def load_endpoints(path: str | Path | None = None) -> dict[str, Endpoint]:
    """Built-in endpoints, then the user's file (``$LLMSCOUT_HOME/endpoints.yaml`` by default)
    whose entries replace built-ins of the same name."""
    found = {ep.name: ep for ep in _builtins()}
    p = Path(path).expanduser() if path else endpoints_path()
    if p.is_file():
        found.update({ep.name: ep for ep in read_endpoints_file(p)})
    return found


def get_endpoint(name: str, path: str | Path | None = None) -> Endpoint:
    """The endpoint called ``name``.

    Raises:
        InvalidValueError: no such endpoint (with the closest names and where to declare one).
    """
    known = load_endpoints(path)
    if name in known:
        return known[name]
    close = did_you_mean(name, known)
    hint = f"did you mean {', '.join(repr(c) for c in close)}? " if close else ""
    raise InvalidValueError("endpoint", name, f"{hint}one of {', '.join(sorted(known))}, or an "
                            f"entry in {endpoints_path()}")


def resolve_api_key(endpoint: Endpoint) -> str | None:
    """The endpoint's key from its environment variable, else its key file; None if neither
    is set. (Read at call time so a key is never kept in a record.)"""
    if endpoint.api_key_env:
        value = (constants.env(endpoint.api_key_env) or "").strip()
        if value:
            return value
    if endpoint.api_key_file:
        p = Path(endpoint.api_key_file).expanduser()
        if p.is_file():
            value = p.read_text(encoding="utf-8").strip()
            return value or None
    return None


def with_overrides(endpoint: Endpoint, **changes: Any) -> Endpoint:
    """``endpoint`` with the given fields replaced (None values are ignored)."""
    return replace(endpoint, **{k: v for k, v in changes.items() if v is not None})


__all__ = ["BUILTIN_NAMES", "Endpoint", "endpoints_path", "get_endpoint", "load_endpoints",
           "read_endpoints_file", "resolve_api_key", "with_overrides"]
