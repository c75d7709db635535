"""The web app: ``create_app`` builds a FastAPI application over the library and the run store.

FastAPI, Starlette and Jinja2 are imported inside the functions, so importing this module costs
nothing until a server is actually built (``llmscout --help`` stays fast).

Safety, by default:

- every page is a Jinja2 template with autoescape on, and the scripts write data with
  ``textContent`` only; a Content-Security-Policy forbids inline scripts on the app's pages;
- ``token``: every request (pages, API, static files) needs ``Authorization: Bearer TOKEN`` or
  the cookie that ``/login?token=TOKEN`` sets; without a token the server is meant for
  127.0.0.1 only (``llmscout serve`` refuses other addresses);
- ``allowed_hosts``: requests whose ``Host`` header is not one of these are refused (stops DNS
  rebinding from reaching a loopback server); state-changing requests from another origin are
  refused (stops cross-site form posts);
- API keys never reach a page: ``/api/endpoints`` names the variable, and says whether it is set.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from llmscout.errors import (
    IncompatibleError,
    InvalidFileError,
    InvalidValueError,
    LlmscoutError,
    MissingDependencyError,
    MissingFileError,
    OfflineError,
    UnknownHardwareError,
    UnknownModelError,
)

HERE = Path(__file__).parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
TOKEN_COOKIE = "llmscout_token"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")

# Pages of the app: scripts and styles from this server only, nothing inline, no framing.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'")
# Reports are self-contained files with inline Plotly: scripts may run, but nothing can be
# fetched from anywhere (no connect-src, no remote images or fonts).
REPORT_CSP = ("default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
              "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; "
              "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")

# LlmscoutError subclass -> HTTP status; the first match wins.
ERROR_STATUS: tuple[tuple[type[BaseException], int], ...] = (
    (UnknownModelError, 404),
    (UnknownHardwareError, 404),
    (MissingFileError, 404),
    (InvalidFileError, 422),
    (InvalidValueError, 422),
    (IncompatibleError, 422),
    (MissingDependencyError, 501),
    (OfflineError, 503),
    (LlmscoutError, 400),
)


def error_payload(exc: BaseException, status: int) -> dict[str, Any]:
    """The CLI's ``--json`` error document (docs/json.md), with the HTTP status."""
    body: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc) or type(exc).__name__,
                            "status": status}
    for attr in ("path", "line", "field", "model_id", "suggestions"):
        if getattr(exc, attr, None) is not None:
            body[attr] = getattr(exc, attr)
    return {"error": body}


def error_status(exc: BaseException) -> int:
    own = getattr(exc, "http_status", None)  # e.g. 413 for an upload over the limit
    if isinstance(own, int):
        return own
    return next((code for kind, code in ERROR_STATUS if isinstance(exc, kind)), 500)


def create_app(store: Any = None, token: str | None = None, *,
               allowed_hosts: Sequence[str] | None = None, jobs: Any = None) -> Any:
    """The llmscout web app.

    Args:
        store: the run store (``llmscout.store.Store``); default: ``$LLMSCOUT_HOME/llmscout.db``.
        token: when given, every request must carry it (``Authorization: Bearer`` or the
            cookie set by ``/login?token=``).
        allowed_hosts: accepted ``Host`` header names (without port); None accepts any.
        jobs: the background trial runner (``web._jobs.TrialJobs``); default: one on ``store``.

    Returns:
        A FastAPI application; serve it with uvicorn, test it with ``TestClient``.

    Example:
        >>> from fastapi.testclient import TestClient           # doctest: +SKIP
        >>> TestClient(create_app()).get("/api/health").json()["ok"]
        True
    """
    from fastapi import FastAPI
    from fastapi.staticfiles import StaticFiles

    from llmscout import __version__
    from llmscout.web import api, pages
    from llmscout.web._jobs import TrialJobs

    if token is not None and not token.strip():
        raise InvalidValueError("token", token, "a non-empty secret string")
    if store is None:
        from llmscout.store import Store

        store = Store()
    ctx = api.WebContext(store=store, jobs=jobs or TrialJobs(store))
    app = FastAPI(title="llmscout", version=__version__, docs_url=None, redoc_url=None,
                  description="Which LLM should I use for my task, on my hardware? The REST API "
                              "behind the llmscout pages; it returns the same JSON as the CLI's "
                              "--json (docs/json.md).")
    app.state.ctx = ctx
    app.state.token = token
    _add_error_handlers(app)
    app.include_router(api.build_router(ctx))
    app.include_router(pages.build_router(ctx))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _add_guards(app, token, allowed_hosts)
    return app


def _add_error_handlers(app: Any) -> None:
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

    async def on_llmscout_error(request: Any, exc: Exception) -> Any:
        status = error_status(exc)
        return JSONResponse(error_payload(exc, status), status_code=status)

    async def on_validation_error(request: Any, exc: Any) -> Any:
        problems = exc.errors()
        first = problems[0] if problems else {}
        where = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
        field = ".".join(where) or None
        message = (f"field '{field}': " if field else "") + str(first.get("msg", "invalid input"))
        body = {"type": "RequestValidationError", "message": message, "status": 422,
                "field": field, "problems": [{"loc": list(p.get("loc", ())), "msg": p.get("msg")}
                                             for p in problems]}
        return JSONResponse({"error": body}, status_code=422)

    app.add_exception_handler(LlmscoutError, on_llmscout_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)


def _add_guards(app: Any, token: str | None, allowed_hosts: Sequence[str] | None) -> None:
    """Host check, same-origin check for writes, token check and security headers."""
    from starlette.responses import JSONResponse, PlainTextResponse

    from llmscout.web.api import MAX_BODY_BYTES, UploadTooLargeError

    hosts = {h.lower().strip("[]") for h in allowed_hosts} if allowed_hosts is not None else None

    def refuse(request: Any, status: int, message: str) -> Any:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": {"type": "Forbidden" if status == 403 else "Unauthorized",
                                           "message": message, "status": status}},
                                status_code=status)
        return PlainTextResponse(message, status_code=status)

    @app.middleware("http")
    async def guard(request: Any, call_next: Any) -> Any:
        host = (request.headers.get("host") or "").lower()
        if hosts is not None and _host_name(host) not in hosts:
            return refuse(request, 403, f"Host '{host}' is not served here")
        if request.method not in ("GET", "HEAD", "OPTIONS") and not _same_origin(request, host):
            return refuse(request, 403, "cross-origin requests that change state are refused")
        if token is not None and request.url.path != "/login" and not _authorised(request, token):
            return refuse(request, 401, "this server needs its token: send 'Authorization: Bearer "
                                        "TOKEN', or open /login?token=TOKEN once in the browser")
        length = request.headers.get("content-length") or ""
        if length.isdigit() and int(length) > MAX_BODY_BYTES:  # refused before it is read
            return JSONResponse(error_payload(UploadTooLargeError(int(length)), 413), 413)
        response = await call_next(request)
        _security_headers(request, response)
        return response


def _host_name(host: str) -> str:
    """'127.0.0.1:8765' -> '127.0.0.1'; '[::1]:80' -> '::1'."""
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _same_origin(request: Any, host: str) -> bool:
    origin = request.headers.get("origin")
    if origin is None:  # not sent by a browser form or fetch from another site: a script/CLI
        return True
    return urlsplit(origin).netloc.lower() == host


def _authorised(request: Any, token: str) -> bool:
    given = request.headers.get("authorization") or ""
    scheme, _, value = given.partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode()):
        return True
    cookie = request.cookies.get(TOKEN_COOKIE) or ""
    return bool(cookie) and hmac.compare_digest(cookie.encode(), token.encode())


def _security_headers(request: Any, response: Any) -> None:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    if "content-security-policy" not in headers:
        is_report = request.url.path.endswith("/report")
        headers["Content-Security-Policy"] = REPORT_CSP if is_report else PAGE_CSP
    if request.url.path.startswith("/api/"):
        headers.setdefault("Cache-Control", "no-store")
