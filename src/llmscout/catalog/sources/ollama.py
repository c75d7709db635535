"""Models of a running Ollama server, through its documented HTTP API.

``GET /api/tags`` lists the local models (size, digest, family, parameter size, quantization);
``POST /api/show`` gives each model's GGUF metadata (``model_info``), which is mapped to an
architecture by the same code that reads GGUF files.
"""

from __future__ import annotations

from typing import Any

from llmscout import constants
from llmscout.catalog.spec import Artifact, ModelSpec
from llmscout.errors import OfflineError

_TIMEOUT_S = 10.0


def _client(host: str):
    import httpx

    return httpx.Client(base_url=host, timeout=_TIMEOUT_S)


def _call(client, method: str, path: str, **kw: Any) -> Any:
    import httpx

    try:
        resp = client.request(method, path, **kw)
        resp.raise_for_status()
        return resp.json()
    except httpx.HTTPStatusError as exc:
        raise OfflineError(f"Ollama at {client.base_url} answered HTTP {exc.response.status_code} for {path}") from None
    except httpx.HTTPError as exc:
        raise OfflineError(f"cannot reach Ollama at {client.base_url} ({type(exc).__name__}): is `ollama serve` "
                           f"running? (set OLLAMA_HOST to its address)") from None
    except ValueError:
        raise OfflineError(f"Ollama at {client.base_url} sent a malformed answer for {path} (not JSON)") from None


def list_ollama_models(host: str | None = None, details: bool = True) -> list[ModelSpec]:
    """Every model the Ollama server at ``host`` (default ``$OLLAMA_HOST``) has pulled."""
    host = (host or constants.ollama_host()).rstrip("/")
    with _client(host) as client:
        tags = _call(client, "GET", "/api/tags")
        out = []
        for entry in tags.get("models") or []:
            show = _call(client, "POST", "/api/show", json={"model": entry["name"]}) if details else {}
            out.append(ollama_to_spec(entry, show, host))
    return out


def ollama_to_spec(entry: dict[str, Any], show: dict[str, Any], host: str) -> ModelSpec:
    """Map one ``/api/tags`` entry plus its ``/api/show`` answer to a ``ModelSpec``."""
    from llmscout.catalog.sources.gguf import metadata_to_architecture

    name = entry["name"]
    det = entry.get("details") or show.get("details") or {}
    info = show.get("model_info") or {}
    source = f"{host}/api/show ({name})"
    arch = metadata_to_architecture(info, source) if info else None
    params = info.get("general.parameter_count")
    if not params:
        from llmscout.catalog.query import parse_count

        params = parse_count(det.get("parameter_size", "0").upper().rstrip("B") + "B") if det.get("parameter_size") else None
    caps = show.get("capabilities") or []
    tuning = ("instruct",) if show.get("template") and "{{" in str(show.get("template")) else ("base",)
    return ModelSpec(
        id=f"ollama:{name}", name=name, family=det.get("family") or (arch.model_type if arch else "unknown"),
        developer="unknown", kind="open", tuning=tuning, license=(str(show.get("license") or "unknown").strip().splitlines() or ["unknown"])[0][:80],
        sources={"identity": f"{host}/api/tags", "architecture": source}, params=int(params) if params else None,
        architecture=arch, context_length=arch.max_position_embeddings if arch else None,
        context_source="GGUF metadata via Ollama" if arch else None,
        artifacts=(Artifact(format="gguf", quant=det.get("quantization_level"), file=name,
                            size_bytes=entry.get("size"), source=f"{host}/api/tags"),),
        specializations=tuple(c for c in caps if c in {"tools", "vision", "thinking"}),
        origin="ollama",
    )
