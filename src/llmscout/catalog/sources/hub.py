"""The Hugging Face Hub, live: model info, config.json, safetensors metadata, gated flag, card.

Uses ``huggingface_hub`` (its HTTP session and headers, so ``HF_TOKEN``, ``HF_ENDPOINT`` and the
user's proxy settings apply). Results are cached as JSON under ``$LLMSCOUT_HOME/cache/hub`` with
the time they were fetched; the token is never written anywhere. Offline mode
(``HF_HUB_OFFLINE=1`` or ``LLMSCOUT_OFFLINE=1``) gives a clear message instead of a hang.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

from llmscout import constants
from llmscout.catalog.sources.hf_config import config_to_architecture, context_from_config
from llmscout.catalog.spec import Artifact, ModelSpec, SpecError
from llmscout.errors import MissingDependencyError, OfflineError, UnknownModelError

HUB_URL = "https://huggingface.co"
CACHE_TTL_S = 7 * 24 * 3600
# Licences whose terms allow commercial use (with conditions for the community licences).
_COMMERCIAL = {"apache-2.0": True, "mit": True, "bsd-3-clause": True, "openrail": True, "llama2": True,
               "llama3": True, "llama3.1": True, "llama3.2": True, "llama3.3": True, "gemma": True,
               "qwen": True, "cc-by-4.0": True, "cc-by-sa-4.0": True, "cc-by-nc-4.0": False,
               "cc-by-nc-sa-4.0": False, "cc-by-nc-nd-4.0": False, "qwen-research": False}
_GGUF_QUANT = re.compile(r"(?i)[.-]((?:IQ|Q)\d[_A-Z0-9]*|F16|BF16|F32)\.gguf$")
_INFO_KEYS = ("id", "author", "sha", "gated", "private", "createdAt", "lastModified", "tags",
              "pipeline_tag", "library_name", "cardData", "safetensors", "siblings", "downloads", "likes")


def endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or HUB_URL).rstrip("/")


def _cache_path(repo_id: str) -> Path:
    return constants.cache_dir() / "hub" / (repo_id.replace("/", "--") + ".json")


def _session():
    try:
        from huggingface_hub.utils import build_hf_headers, get_session
    except ImportError:
        raise MissingDependencyError("the Hugging Face Hub source", "hub", "huggingface_hub") from None
    return get_session(), build_hf_headers(token=constants.hf_token())


def _get_json(url: str, repo_id: str, timeout: float) -> tuple[int, Any]:
    session, headers = _session()
    try:
        resp = session.get(url, headers=headers, timeout=timeout, follow_redirects=True)
    except Exception as exc:  # httpx/requests transport errors differ by version
        raise OfflineError(f"cannot reach the Hugging Face Hub at {endpoint()} ({type(exc).__name__}): "
                           f"use a catalog id, a local GGUF or model folder, or try again online") from None
    if resp.status_code == 404:
        raise UnknownModelError(repo_id, [])
    if resp.status_code in (401, 403):
        return resp.status_code, None
    if resp.status_code >= 400:
        raise OfflineError(f"the Hub answered HTTP {resp.status_code} for {repo_id}")
    try:
        return resp.status_code, resp.json()
    except ValueError:
        raise OfflineError(f"the Hub sent a malformed answer for {repo_id} (not JSON)") from None


def fetch_hub_record(repo_id: str, refresh: bool = False, timeout: float = 15.0) -> dict[str, Any]:
    """Model info and config of a Hub repo, from the cache unless stale or ``refresh``."""
    cache = _cache_path(repo_id)
    if not refresh and cache.is_file():
        record = json.loads(cache.read_text(encoding="utf-8"))
        if time.time() - record.get("fetched_at", 0) < CACHE_TTL_S or constants.offline():
            record["cached"] = True
            return record
    if constants.offline():
        raise OfflineError(f"'{repo_id}' is not in the catalog and the Hub is offline (HF_HUB_OFFLINE / "
                           "LLMSCOUT_OFFLINE): use a catalog id, a local GGUF or model folder, or go online")
    _, info = _get_json(f"{endpoint()}/api/models/{repo_id}", repo_id, timeout)
    if info is None:
        raise UnknownModelError(repo_id, [])
    status, config = _get_json(f"{endpoint()}/{repo_id}/resolve/main/config.json", repo_id, timeout)
    record = {
        "repo_id": repo_id,
        "fetched_at": time.time(),
        "info": {k: info.get(k) for k in _INFO_KEYS if k in info},
        "config": config,
        "config_status": status,
    }
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    tmp.write_text(json.dumps(record), encoding="utf-8")
    tmp.replace(cache)
    record["cached"] = False
    return record


def _tuning(repo_id: str, tags: list[str]) -> tuple[str, ...]:
    from llmscout.catalog.names import parse_name

    parsed = parse_name(repo_id)
    tuning = tuple(t for t in (parsed.tuning or ()) if t)
    if not tuning and "conversational" in tags:
        tuning = ("instruct",)
    return tuning or ("base",)


def record_to_spec(record: dict[str, Any]) -> ModelSpec:
    """Map a cached Hub record to a ``ModelSpec`` (the one parser of Hub payloads)."""
    repo_id = record["repo_id"]
    info = record.get("info") or {}
    card = info.get("cardData") or {}
    url = f"{HUB_URL}/{repo_id}"
    fetched = time.strftime("%Y-%m-%d", time.gmtime(record.get("fetched_at", 0)))
    sources = {"identity": url, "license": f"{url} (model card metadata, fetched {fetched})"}
    arch = None
    context, context_source = None, None
    if record.get("config"):
        try:
            arch = config_to_architecture(record["config"], f"{url}/blob/main/config.json")
            context, context_source = context_from_config(record["config"])
        except (SpecError, TypeError, ValueError):
            arch = None
    safetensors = info.get("safetensors") or {}
    params = safetensors.get("total")
    if params:
        sources["params"] = f"Hub safetensors metadata (fetched {fetched})"
    elif arch is not None:
        from llmscout.catalog.params import count_params

        params = count_params(arch).total
        sources["params"] = "computed from config.json"
    license_ = str(card.get("license") or "unknown")
    gated = info.get("gated") not in (None, False, "false")
    notes = []
    if gated and record.get("config_status") in (401, 403):
        notes.append(f"gated: accept the terms at {url} and set HF_TOKEN to read its config")
    artifacts = [Artifact(format="safetensors", precision=max(safetensors["parameters"], key=safetensors["parameters"].get).lower(),
                          repo=repo_id, source=sources.get("params"))] if safetensors.get("parameters") else []
    for sib in info.get("siblings") or []:
        name = sib.get("rfilename", "")
        m = _GGUF_QUANT.search(name)
        if m:
            artifacts.append(Artifact(format="gguf", quant=m.group(1).upper(), repo=repo_id, file=name,
                                      size_bytes=sib.get("size"), source=f"{url}/tree/main"))
    tags = list(info.get("tags") or [])
    return ModelSpec(
        id=repo_id, name=repo_id.split("/")[-1], family=(arch.model_type if arch else "unknown"),
        developer=info.get("author") or repo_id.split("/")[0], kind="open", tuning=_tuning(repo_id, tags),
        license=license_, sources=sources, params=int(params) if params else None, architecture=arch,
        context_length=context, context_source=context_source, commercial=_COMMERCIAL.get(license_.lower()),
        gated=gated, released=(info.get("createdAt") or "")[:10] or None, links={"hf": url},
        artifacts=tuple(artifacts), modalities=("text",), notes="; ".join(notes) or None, origin="hub",
    )


def hub_to_spec(repo_id: str, refresh: bool = False) -> ModelSpec:
    """A ``ModelSpec`` for any Hub repo id (cached; see module doc)."""
    return record_to_spec(fetch_hub_record(repo_id, refresh=refresh))


def refresh(repo_ids: list[str] | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Re-fetch Hub facts for ``repo_ids`` (default: every open catalog model) into the cache."""
    if repo_ids is None:
        from llmscout.catalog import load_catalog

        repo_ids = [m.id for m in load_catalog() if m.kind == "open" and "/" in m.id and ":" not in m.id]
    results = []
    for repo_id in repo_ids[:limit] if limit else repo_ids:
        try:
            rec = fetch_hub_record(repo_id, refresh=True)
            spec = record_to_spec(rec)
            results.append({"id": repo_id, "status": "ok", "params": spec.params, "gated": spec.gated,
                            "license": spec.license})
        except (OfflineError, UnknownModelError) as exc:
            results.append({"id": repo_id, "status": f"error: {exc}"})
            if isinstance(exc, OfflineError):
                break  # the next ones will fail the same way
    return results
