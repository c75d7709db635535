"""The HTML pages: Jinja2 templates (autoescape on) whose scripts load every figure from /api.

The templates only lay out the page and pass identifiers in ``data-`` attributes; the scripts
under ``static/`` fetch the data and write it with ``textContent``. The report page is the one
exception: it is the self-contained HTML report of ``llmscout.report`` served as it is.

No ``from __future__ import annotations`` here, for the same reason as in ``api``.
"""

from typing import Any

from llmscout.web.app import TEMPLATES_DIR, TOKEN_COOKIE


def templates() -> Any:
    """Jinja2 templates with autoescape on for every file, whatever its name."""
    from jinja2 import Environment, FileSystemLoader
    from starlette.templating import Jinja2Templates

    env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    return Jinja2Templates(env=env)


def _choices() -> dict[str, Any]:
    from llmscout.recommend.profile import DOMAINS, PRIVACY_LEVELS, TARGETS, TASKS

    return {"tasks": TASKS, "domains": DOMAINS, "targets": TARGETS, "privacy_levels": PRIVACY_LEVELS}


def build_router(ctx: Any) -> Any:
    from fastapi import APIRouter

    router = APIRouter(include_in_schema=False)
    tpl = templates()
    _main_pages(router, tpl)
    _run_pages(router, ctx, tpl)
    _meta_pages(router, tpl)
    return router


def _page(tpl: Any, request: Any, name: str, status: int = 200, **context: Any) -> Any:
    return tpl.TemplateResponse(request, name, {"page": name.removesuffix(".html"), **context},
                                status_code=status)


def _error_page(tpl: Any, request: Any, exc: BaseException) -> Any:
    from llmscout.web.app import error_status

    status = error_status(exc)
    return _page(tpl, request, "error.html", status=status, status_code=status, message=str(exc))


def _main_pages(router: Any, tpl: Any) -> None:
    from fastapi import Request

    from llmscout.errors import LlmscoutError
    from llmscout.web import api

    @router.get("/")
    def home(request: Request) -> Any:
        return _page(tpl, request, "home.html", **_choices())

    @router.get("/models/{model_id:path}")
    def model_page(request: Request, model_id: str, hw: str | None = None,
                   quant: str | None = None, engine: str | None = None) -> Any:
        try:
            model = api.catalog_model(model_id)
        except LlmscoutError as exc:
            return _error_page(tpl, request, exc)
        return _page(tpl, request, "model.html", model_id=model.id, model_name=model.name,
                     hardware=(hw or "auto")[:200], quant=(quant or "")[:40],
                     engine=(engine or "")[:20])

    @router.get("/trial")
    def trial_page(request: Request) -> Any:
        return _page(tpl, request, "trial.html", max_upload_mb=api.MAX_UPLOAD_BYTES // 2**20,
                     max_examples=api.MAX_EXAMPLES, metrics=api.UPLOAD_METRICS,
                     packaged=api.PACKAGED_MODEL)


def _run_pages(router: Any, ctx: Any, tpl: Any) -> None:
    from fastapi import Request
    from fastapi.responses import HTMLResponse

    from llmscout.errors import LlmscoutError
    from llmscout.web import api

    @router.get("/runs")
    def runs_page(request: Request) -> Any:
        return _page(tpl, request, "runs.html")

    @router.get("/runs/{run_id}")
    def run_page(request: Request, run_id: str) -> Any:
        try:
            run = api.get_run(ctx.store, run_id)
        except LlmscoutError as exc:
            return _error_page(tpl, request, exc)
        return _page(tpl, request, "run.html", run_id=run.id, kind=run.kind)

    @router.get("/runs/{run_id}/report")
    def report_page(request: Request, run_id: str) -> Any:
        try:
            run = api.get_run(ctx.store, run_id)
        except LlmscoutError as exc:
            return _error_page(tpl, request, exc)
        render = _report_renderer()
        if render is None:
            return _page(tpl, request, "error.html", status=501, status_code=501,
                         message="HTML reports are not available in this llmscout build "
                                 "(llmscout.report.render_html is missing).")
        if run.result is None:
            return _page(tpl, request, "error.html", status=409, status_code=409,
                         message=f"run {run.id} has no result yet (status: {run.status}); "
                                 "the report is ready when the run has finished.")
        try:
            html = render(run.result, run.kind)
        except Exception as exc:  # a result the report cannot read: say so, keep serving
            return _page(tpl, request, "error.html", status=500, status_code=500,
                         message=f"the report of run {run.id} could not be rendered "
                                 f"({type(exc).__name__}: {exc}); its data is at /api/runs/{run.id}")
        return HTMLResponse(html)


def _report_renderer() -> Any:
    try:
        from llmscout.report import render_html
    except ImportError:
        return None
    return render_html


def _meta_pages(router: Any, tpl: Any) -> None:
    import hmac

    from fastapi import Request
    from fastapi.responses import PlainTextResponse, RedirectResponse, Response

    @router.get("/login")
    def login(request: Request, token: str = "") -> Any:
        expected = getattr(request.app.state, "token", None)
        if expected is None:
            return RedirectResponse("/", status_code=303)
        if not hmac.compare_digest(token.encode(), expected.encode()):
            return PlainTextResponse("wrong token", status_code=401)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict", path="/")
        return response

    @router.get("/docs")
    def docs(request: Request) -> Any:
        return _page(tpl, request, "docs.html", routes=api_routes(request.app.openapi()))

    @router.get("/favicon.ico")
    def favicon() -> Any:
        return Response(status_code=204)


def api_routes(openapi: dict[str, Any]) -> list[dict[str, Any]]:
    """The OpenAPI document flattened for the docs page: one entry per method and path."""
    out = []
    for path, methods in openapi.get("paths", {}).items():
        for method, op in methods.items():
            params = [{"name": p.get("name"), "in": p.get("in"), "required": p.get("required", False),
                       "type": _type_name(p.get("schema") or {}),
                       "description": p.get("description") or ""}
                      for p in op.get("parameters", [])]
            body = (op.get("requestBody") or {}).get("content") or {}
            out.append({"method": method.upper(), "path": path, "summary": op.get("summary", ""),
                        "tags": op.get("tags", []), "params": params,
                        "body": ", ".join(sorted(body)), "responses": sorted(op.get("responses", {}))})
    return out


def _type_name(schema: dict[str, Any]) -> str:
    if "anyOf" in schema:
        return " | ".join(_type_name(s) for s in schema["anyOf"])
    return str(schema.get("type") or schema.get("$ref", "").rsplit("/", 1)[-1] or "any")
