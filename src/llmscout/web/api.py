"""The REST API behind the pages: thin routes over the library, returning the CLI's JSON.

Each route parses its input, calls one library function and returns the same document as the
matching ``--json`` command (docs/json.md): ``/api/hardware`` = ``hw list``, ``/api/estimate``
= ``estimate``, ``/api/recommend`` = ``recommend``, ``/api/runs/{id}`` = ``runs show``. Errors
are the CLI's error document with an HTTP status (see ``app.ERROR_STATUS``).

FastAPI is imported inside the builder functions (this module must import without it), so
this module has no ``from __future__ import annotations``: the route signatures' annotations
are evaluated where the routes are defined, where the FastAPI types are in scope.
"""

import dataclasses
import json
import shutil
import threading
import uuid
from pathlib import Path
from typing import Any

from llmscout import constants
from llmscout.errors import (
    InvalidFileError,
    InvalidValueError,
    LlmscoutError,
    MissingDependencyError,
)

MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # an examples file larger than this is refused (413)
MAX_EXAMPLES = 500  # and one with more examples than this (422)
MAX_BODY_BYTES = MAX_UPLOAD_BYTES + 64 * 1024  # a request body: the file plus the form fields
UPLOAD_SUFFIXES = (".jsonl", ".ndjson", ".csv", ".tsv", ".yaml", ".yml", ".json")
UPLOAD_METRICS = ("exact", "contains", "choice", "token_f1", "json_valid")
PACKAGED_MODEL = "packaged"  # the runner's name for the packaged Gemma 3 270M GGUF
MAX_SHOTS = 16


@dataclasses.dataclass
class WebContext:
    """What the routes share: the store, the trial jobs and a few cached lookups."""

    store: Any
    jobs: Any
    _detected: dict[str, Any] | None = None
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def detected(self) -> dict[str, Any]:
        """``llmscout hw --json`` for this machine, detected once per app."""
        with self._lock:
            if self._detected is None:
                from llmscout.hardware import detect_machine

                machine = detect_machine()
                self._detected = {"machine": machine.to_dict(),
                                  "hardware": machine.as_hardware().to_dict()}
            return self._detected

    def uploads_dir(self) -> Path:
        return constants.home() / "web-uploads"


def build_router(ctx: WebContext) -> Any:
    """All ``/api`` routes."""
    from fastapi import APIRouter

    router = APIRouter(prefix="/api")
    _hardware_routes(router, ctx)
    _model_routes(router)
    _recommend_routes(router, ctx)
    _run_routes(router, ctx)
    _trial_routes(router, ctx)
    return router


# ---------------------------------------------------------------------------- hardware


def _hardware_routes(router: Any, ctx: WebContext) -> None:
    from fastapi import Query

    from llmscout import __version__

    @router.get("/health", tags=["meta"], summary="Liveness and version")
    def health() -> dict[str, Any]:
        return {"ok": True, "version": __version__}

    @router.get("/hardware", tags=["hardware"], summary="The hardware database (hw list --json)")
    def hardware_list(kind: str | None = Query(None, description="gpu, unified or cpu"),
                      target: str | None = Query(None, description="desktop, laptop, server ...")
                      ) -> list[dict[str, Any]]:
        from llmscout.hardware import list_hardware

        return [d.to_dict() for d in list_hardware(kind=kind, target=target)]

    @router.get("/hardware/detected", tags=["hardware"], summary="This machine (hw --json)")
    def hardware_detected() -> dict[str, Any]:
        return ctx.detected()

    @router.get("/hardware/lookup", tags=["hardware"], summary="One device by name (hw show)")
    def hardware_lookup(name: str = Query(..., max_length=200, examples=["RTX 4090"])
                        ) -> dict[str, Any]:
        from llmscout.hardware import lookup_hardware

        return lookup_hardware(name).to_dict()


# ---------------------------------------------------------------------------- models, estimate


def catalog_model(model_id: str) -> Any:
    """A catalog model (id, short id or alias). Paths are refused: the browser names models,
    it does not open files on the server."""
    from llmscout.catalog import get_model

    ref = model_id.strip()
    if not ref or ref.startswith(("/", ".", "~", "gguf:", "folder:")) or "\\" in ref:
        raise InvalidValueError("model", model_id, "a catalog model id (local files: use the CLI)")
    return get_model(ref)


def _model_routes(router: Any) -> None:
    from fastapi import Query

    @router.get("/models", tags=["models"], summary="Catalog models (models list --json)")
    def models_list(search: str | None = Query(None, max_length=100),
                    kind: str | None = Query(None, pattern="^(open|cloud)$"),
                    limit: int = Query(500, ge=1, le=5000)) -> list[dict[str, Any]]:
        from llmscout.catalog import load_catalog
        from llmscout.catalog.query import ModelFilter, select_models

        flt = ModelFilter(kind=kind, text=search)  # type: ignore[arg-type]  # checked by pattern
        return [m.to_dict() for m in select_models(list(load_catalog()), flt, limit=limit)]

    @router.get("/models/{model_id:path}", tags=["models"], summary="One model (models show)")
    def model_show(model_id: str) -> dict[str, Any]:
        return catalog_model(model_id).to_dict()

    @router.get("/estimate", tags=["estimate"], summary="Fit, speed, energy, cost (estimate --json)")
    def estimate(model: str = Query(..., max_length=300),
                 hardware: str | None = Query(None, max_length=200,
                                              description='"auto" (default) or a device name'),
                 memory_gb: float | None = Query(None, gt=0), bandwidth_gbs: float | None = Query(None, gt=0),
                 device_kind: str | None = Query(None, pattern="^(gpu|unified|cpu)$"),
                 quant: str | None = Query(None, max_length=40),
                 engine: str = Query("llamacpp", pattern="^(llamacpp|transformers|vllm|mlc)$"),
                 context: int | None = Query(None, ge=1, le=10_000_000),
                 prompt_tokens: int = Query(512, ge=1, le=10_000_000),
                 output_tokens: int = Query(256, ge=1, le=1_000_000),
                 volume: int = Query(1000, ge=0, le=10**12, description="requests per month"),
                 explain: bool = False) -> dict[str, Any]:
        from llmscout.estimate.service import estimate_for

        spec = catalog_model(model)
        data = estimate_for(spec.id, hardware=hardware, memory_gb=memory_gb,
                            bandwidth_gbs=bandwidth_gbs, device_kind=device_kind, quant=quant,
                            engine=engine, context=context, prompt_tokens=prompt_tokens,
                            output_tokens=output_tokens, requests_per_month=volume, explain=True)
        if not explain:
            data.pop("explain", None)
        return data


# ---------------------------------------------------------------------------- recommend


def _recommend_fn() -> Any:
    try:
        from llmscout.recommend import recommend
    except ImportError:
        raise MissingDependencyError("recommendations (llmscout.recommend.recommend)",
                                     "all", "this llmscout build has no recommend module") from None
    return recommend


def recommend_document(ctx: WebContext, body: Any) -> dict[str, Any]:
    """What ``llmscout recommend --json`` prints for the same profile and hardware."""
    from llmscout.estimate.service import load_calibration
    from llmscout.recommend import build_profile, resolve_target_hardware

    run = _recommend_fn()
    profile = build_profile(None, **body.profile)
    hw = resolve_target_hardware(profile, body.hardware, memory_gb=body.memory_gb,
                                 bandwidth_gbs=body.bandwidth_gbs, device_kind=body.device_kind)
    doc = run(profile, hw, top=body.top, calibration=load_calibration()).to_dict()
    if body.save:
        config = {"profile": profile.to_dict(), "hardware": body.hardware, "top": body.top,
                  "source": "web"}
        run_id = ctx.store.create_run("recommend", config=config, hardware=doc.get("hardware"))
        ctx.store.update_run(run_id, status="done", result=doc)
        doc = {**doc, "run_id": run_id}
    return doc


def _recommend_routes(router: Any, ctx: WebContext) -> None:
    from pydantic import BaseModel, Field

    class RecommendRequest(BaseModel):
        """A task profile (recommend.profile fields) and the hardware to rank for."""

        profile: dict[str, Any] = Field(default_factory=dict, examples=[
            {"tasks": ["classification"], "privacy": "local", "requests_per_day": 1000}])
        hardware: str | None = Field(None, max_length=200, description='"auto" or a device name')
        memory_gb: float | None = Field(None, gt=0)
        bandwidth_gbs: float | None = Field(None, gt=0)
        device_kind: str | None = Field(None, pattern="^(gpu|unified|cpu)$")
        top: int = Field(10, ge=1, le=50)
        save: bool = Field(False, description="also store it as a run (listed under /runs)")

    @router.post("/recommend", tags=["recommend"], summary="Ranked candidates (recommend --json)")
    def recommend(body: RecommendRequest) -> dict[str, Any]:
        return recommend_document(ctx, body)


# ---------------------------------------------------------------------------- runs


def get_run(store: Any, run_id: str) -> Any:
    """The stored run; an unknown id is a 404 with the store's message."""
    try:
        return store.get_run(run_id)
    except InvalidValueError as exc:
        exc.http_status = 404  # type: ignore[attr-defined]
        raise


def run_summary(run: Any) -> dict[str, Any]:
    """One entry of ``runs list --json`` (``id`` ... ``task``, ``winner``, ``verdict``), plus a
    ``title`` and ``summary`` line for any kind of run and whether it has a result."""
    result: dict[str, Any] = run.result if isinstance(run.result, dict) else {}
    raw = result.get("verdict")
    verdict: dict[str, Any] = raw if isinstance(raw, dict) else {}
    task = run.config.get("task_name")
    title, summary = task or "", verdict.get("message", "")
    if run.kind == "trial" and not title:
        title = (result.get("task") or {}).get("name") or "trial"
    elif run.kind == "recommend":
        tasks = (result.get("profile") or run.config.get("profile") or {}).get("tasks") or []
        title = "recommend: " + ", ".join(map(str, tasks)) if tasks else "recommend"
        first = (result.get("candidates") or [None])[0]
        summary = f"top: {first.get('model')}" if isinstance(first, dict) else ""
    return {"id": run.id, "kind": run.kind, "status": run.status, "created_at": run.created_at,
            "updated_at": run.updated_at, "task": task, "winner": verdict.get("winner"),
            "verdict": verdict.get("message", ""), "task_fingerprint": run.task_fingerprint,
            "tool_version": run.tool_version, "title": title, "summary": summary,
            "has_result": run.result is not None}


def run_document(run: Any) -> dict[str, Any]:
    """The stored run record; its ``result`` is what ``runs show RUN --json`` prints once done."""
    return dataclasses.asdict(run)


def call_document(call: Any) -> dict[str, Any]:
    key = call.key
    return {"id": call.id, "model": key.model_key, "shots": key.shots,
            "system_prompt_idx": key.system_prompt_idx, "example_id": key.example_id,
            "sample_idx": key.sample_idx, "backend": call.backend, "quant": call.quant,
            "result": call.result.to_dict(), "scores": [s.to_dict() for s in call.scores],
            "passed": bool(call.scores) and all(s.passed for s in call.scores),
            "created_at": call.created_at}


def _run_routes(router: Any, ctx: WebContext) -> None:
    from fastapi import Query

    @router.get("/runs", tags=["runs"], summary="Past runs, newest first (runs list --json)")
    def runs_list(kind: str | None = Query(None, pattern="^(trial|recommend|calibrate)$"),
                  status: str | None = Query(None, pattern="^(running|done|failed|interrupted)$"),
                  limit: int = Query(100, ge=1, le=1000)) -> list[dict[str, Any]]:
        return [run_summary(r) for r in ctx.store.list_runs(kind=kind, status=status, limit=limit)]

    @router.get("/runs/{run_id}", tags=["runs"], summary="One stored run: status, config, hardware, result")
    def run_show(run_id: str) -> dict[str, Any]:
        return run_document(get_run(ctx.store, run_id))

    @router.get("/runs/{run_id}/events", tags=["runs"], summary="Progress events after an id")
    def run_events(run_id: str, after: int = Query(0, ge=0),
                   limit: int = Query(500, ge=1, le=5000)) -> dict[str, Any]:
        run = get_run(ctx.store, run_id)
        events = ctx.store.events_since(run_id, after, limit)
        return {"run_id": run_id, "status": run.status,
                "last_id": events[-1].id if events else after,
                "events": [dataclasses.asdict(e) for e in events]}

    @router.get("/runs/{run_id}/calls", tags=["runs"], summary="Per-example calls and scores")
    def run_calls(run_id: str, model: str | None = Query(None, max_length=300),
                  limit: int = Query(2000, ge=1, le=100_000)) -> list[dict[str, Any]]:
        get_run(ctx.store, run_id)
        return [call_document(c) for c in ctx.store.calls_for(run_id, model)[:limit]]

    @router.get("/endpoints", tags=["trial"], summary="OpenAI-compatible endpoints (no keys)")
    def endpoints() -> list[dict[str, Any]]:
        from llmscout.trial.backends.endpoints import load_endpoints

        return [endpoint_document(e) for e in load_endpoints().values()]


def endpoint_document(endpoint: Any) -> dict[str, Any]:
    """An endpoint as the page may see it: the key variable's NAME and whether it is set, the
    header names, and the URL without any user:password part. Never a secret."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(endpoint.base_url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    key_file = endpoint.api_key_file
    return {"name": endpoint.name, "base_url": urlunsplit(parts._replace(netloc=netloc)),
            "model": endpoint.model, "api_key_env": endpoint.api_key_env,
            "api_key_set": bool(endpoint.api_key_env and constants.env(endpoint.api_key_env))
            or bool(key_file and Path(key_file).expanduser().is_file()),
            "api_key_file": bool(key_file), "header_names": sorted(endpoint.headers),
            "source": endpoint.source, "docs": endpoint.docs}


# ---------------------------------------------------------------------------- trials


def parse_shots(text: str) -> list[int]:
    try:
        shots = sorted({int(s) for s in text.replace(" ", "").split(",") if s})
    except ValueError:
        shots = []
    if not shots or shots[0] < 0 or shots[-1] > MAX_SHOTS:
        raise InvalidValueError("shots", text, f"shot counts from 0 to {MAX_SHOTS}, e.g. 0,1,3")
    return shots


def parse_models(text: str) -> list[str]:
    models = [m.strip() for m in text.split(",") if m.strip()]
    if not models or len(models) > 8:
        raise InvalidValueError("models", text, "1 to 8 comma-separated candidates, e.g. packaged")
    for m in models:
        if len(m) > 200 or m.startswith(("/", ".", "~")) or m.endswith(".gguf") or "\\" in m:
            raise InvalidValueError("models", m, "a catalog id, endpoint name or 'packaged' "
                                    "(local GGUF files: use the CLI)")
    return models


def _trial_routes(router: Any, ctx: WebContext) -> None:
    from fastapi import File, Form, UploadFile

    @router.get("/trial/sample", tags=["trial"], summary="The bundled sample task")
    def sample() -> dict[str, Any]:
        from llmscout.trial.taskfile import sample_task

        task = sample_task()
        scored, pool = task.load_examples()
        return {**task.to_dict(), "examples_count": len(scored), "pool_count": len(pool)}

    @router.post("/trials", tags=["trial"], status_code=202,
                 summary="Start a trial in the background (upload examples or use the sample)")
    async def start_trial(source: str = Form("sample", pattern="^(sample|upload)$"),
                          file: UploadFile | None = File(None),
                          models: str = Form(PACKAGED_MODEL, max_length=2000),
                          shots: str = Form("0", max_length=100),
                          max_examples: int = Form(20, ge=1, le=MAX_EXAMPLES),
                          metric: str | None = Form(None, max_length=40),
                          system_prompt: str | None = Form(None, max_length=4000),
                          prompt_template: str | None = Form(None, max_length=4000),
                          pass_rate: float = Form(0.8, gt=0, le=1)) -> dict[str, Any]:
        from starlette.concurrency import run_in_threadpool

        options = {"models": parse_models(models), "shots": parse_shots(shots),
                   "max_examples": max_examples}
        if source == "sample":
            from llmscout.trial.taskfile import sample_task

            task = sample_task()
        else:
            data, name = await _read_upload(file)
            settings = {"metric": metric, "system_prompt": system_prompt, "shots": options["shots"],
                        "prompt_template": prompt_template, "pass_rate": pass_rate}
            task = await run_in_threadpool(_upload_task, ctx, data, name, settings)
        job = ctx.jobs.start(task, **options)
        return {"job": job.to_dict()}

    @router.get("/jobs/{job_id}", tags=["trial"], summary="A background trial: status and run id")
    def job_show(job_id: str) -> dict[str, Any]:
        return ctx.jobs.get(job_id).to_dict()


class UploadTooLargeError(LlmscoutError, ValueError):
    """An uploaded file over ``MAX_UPLOAD_BYTES`` (HTTP 413)."""

    http_status = 413

    def __init__(self, size: int) -> None:
        self.field = "file"
        limit = MAX_UPLOAD_BYTES / (1024 * 1024)
        super().__init__(f"the upload is {size / (1024 * 1024):.1f} MiB or more: the limit is "
                         f"{limit:g} MiB (and {MAX_EXAMPLES} examples) - keep a representative "
                         "sample of your examples")


async def _read_upload(file: Any) -> tuple[bytes, str]:
    if file is None or not file.filename:
        raise InvalidValueError("file", None, "an examples file (.jsonl, .csv, .yaml ...) "
                                "when source=upload")
    name = Path(file.filename.replace("\\", "/")).name[:120] or "examples"
    if Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
        raise InvalidFileError(name, "unknown examples format: use " + ", ".join(UPLOAD_SUFFIXES))
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadTooLargeError(len(data))
    return data, name


def _renamed(exc: InvalidFileError, saved: Path, name: str) -> InvalidFileError:
    """The same error naming the file the user uploaded (or the form's settings, for the task
    file written from them), never where the server keeps them."""
    from_examples = Path(exc.path).name == saved.name
    where = name if from_examples else "trial settings"
    problem = exc.problem.replace(str(saved.parent), "").replace(saved.name, name)
    return InvalidFileError(where, problem, line=exc.line if from_examples else None,
                            field=exc.field)


def _upload_task(ctx: WebContext, data: bytes, name: str, settings: dict[str, Any]) -> Any:
    """Save an uploaded examples file with a task file next to it; both checked as a whole."""
    from llmscout.trial.examples import load_examples
    from llmscout.trial.taskfile import load_task

    folder = ctx.uploads_dir() / uuid.uuid4().hex[:12]
    folder.mkdir(parents=True, exist_ok=True)
    saved = folder / ("examples" + Path(name).suffix.lower())
    saved.write_bytes(data)
    try:
        examples = load_examples(saved, max_count=MAX_EXAMPLES)
        metric = settings.get("metric") or ("choice" if examples[0].choices else "exact")
        if metric not in UPLOAD_METRICS:
            raise InvalidValueError("metric", metric, "one of " + ", ".join(UPLOAD_METRICS))
        doc: dict[str, Any] = {
            "name": Path(name).stem[:60] or "uploaded", "examples": saved.name,
            "metrics": [metric], "shots": settings["shots"],
            "bar": {"pass_rate": settings["pass_rate"]},
            "description": f"uploaded in the web app: {name}",
        }
        if max(settings["shots"]) > 0:  # worked examples come out of the file itself
            doc["few_shot"] = {"split": max(settings["shots"])}
        if settings.get("system_prompt"):
            doc["system_prompts"] = [settings["system_prompt"]]
        if settings.get("prompt_template"):
            doc["prompt_template"] = settings["prompt_template"]
        task_path = folder / "task.json"
        task_path.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
        task = load_task(task_path)
        task.load_examples()
    except LlmscoutError as exc:
        shutil.rmtree(folder, ignore_errors=True)  # nothing is kept from a refused upload
        if isinstance(exc, InvalidFileError):
            raise _renamed(exc, saved, name) from None
        raise
    return task
