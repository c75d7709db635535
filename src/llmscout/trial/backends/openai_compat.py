"""Any OpenAI-compatible HTTP API: local servers (Ollama, LM Studio, vLLM, llama.cpp) or clouds.

Endpoints are data (``endpoints.py``). Requests are streamed (server-sent events) so the time to
the first token is measured; usage tokens come from the server (``stream_options.include_usage``)
or, where it sends none, are counted (one token per content chunk out, characters / 4 in).

Robustness, because a trial must survive a flaky server:

* each call has a timeout (the endpoint's ``timeout_s``; also a deadline on the whole stream);
* HTTP 429 and 5xx, refused connections and timeouts before any output are retried up to
  ``max_retries`` times with exponential backoff and full jitter, waiting at least what a
  ``Retry-After`` header asks (capped at ``max_backoff_s``);
* malformed JSON, an error object, or a stream that stops before ``[DONE]``/a finish reason
  become that request's error - never an exception;
* at most ``max_concurrency`` requests are in flight (a thread pool); results keep input order;
* the API key is read from the environment (or a key file) when loading, sent only in the
  ``Authorization`` header, and masked (``***``) in every error text this module produces.

Energy is measured (``llmscout.trial.energy``) only for servers on this machine (localhost):
joules used here say nothing about a remote server, so remote results are ``unavailable``.

Example:
    >>> b = OpenAICompatBackend("ollama", model="llama3.2")  # doctest: +SKIP
    >>> b.load().ok
    True
"""

from __future__ import annotations

import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from llmscout.errors import InvalidValueError
from llmscout.trial.backends.base import Backend, EnergyProbe, error_result
from llmscout.trial.backends.endpoints import (
    Endpoint,
    get_endpoint,
    resolve_api_key,
    with_overrides,
)
from llmscout.trial.types import GenRequest, GenResult, LoadInfo, Message

if TYPE_CHECKING:
    import httpx

_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
_SNIPPET = 300


class _NoEnergy:
    """Stands in for ``EnergyProbe`` when the model runs on another machine."""

    def start(self) -> None:
        pass

    def stop(self) -> tuple[None, str]:
        return None, "unavailable"


class _Retryable(Exception):
    """A failure worth another attempt (rate limit, server error, nothing received yet)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class _Failed(Exception):
    """A failure another attempt would not fix (bad request, malformed or truncated answer)."""


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header (seconds, or an HTTP date) as seconds from now; None if absent."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def backoff_seconds(attempt: int, base: float, cap: float, retry_after: float | None,
                    rng: random.Random) -> float:
    """Full-jitter exponential backoff (uniform in [0, base*2^attempt]), at least Retry-After."""
    delay = rng.uniform(0, min(cap, base * 2 ** attempt))
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(delay, cap)


@dataclass
class _Stream:
    """What a streamed answer has delivered so far."""

    parts: list[str] = field(default_factory=list)
    chunks: int = 0
    t_first: float | None = None
    finish: str | None = None
    usage: dict[str, Any] | None = None
    done: bool = False


class OpenAICompatBackend(Backend):
    """A model behind an OpenAI-compatible API.

    Args:
        endpoint: a name from ``endpoints.load_endpoints()`` or an ``Endpoint``.
        model: the model to ask for (overrides the endpoint's default).
        base_url, max_concurrency, timeout_s: override the endpoint's values.
        max_retries: further attempts after a retryable failure (0: try once).
        backoff_s, max_backoff_s: first backoff step and the longest wait.
        stream: stream answers (measures time to first token); False posts and waits.
        extra_body: more JSON fields for every request (e.g. ``{"top_k": 1}``).
    """

    name = "openai"
    supports_logprobs = False
    needs_key = True  # cloud endpoints do; local servers declare no api_key_env
    supports_prefix_cache = False  # servers may cache prefixes, but nothing here controls it

    def __init__(self, endpoint: str | Endpoint = "openai", model: str | None = None, *,
                 base_url: str | None = None, max_concurrency: int | None = None,
                 timeout_s: float | None = None, max_retries: int = 3, backoff_s: float = 0.5,
                 max_backoff_s: float = 30.0, stream: bool = True,
                 extra_body: dict[str, Any] | None = None, seed: int | None = None) -> None:
        ep = endpoint if isinstance(endpoint, Endpoint) else get_endpoint(endpoint)
        self.endpoint = with_overrides(ep, model=model, base_url=base_url,
                                       max_concurrency=max_concurrency, timeout_s=timeout_s)
        if not self.endpoint.model:
            raise InvalidValueError("model", None, f"a model name for endpoint "
                                    f"'{self.endpoint.name}' (e.g. model='...')")
        self.model = f"{self.endpoint.name}:{self.endpoint.model}"
        self.max_retries = max(0, max_retries)
        self.backoff_s, self.max_backoff_s = backoff_s, max_backoff_s
        self.stream = stream
        self.extra_body = dict(extra_body or {})
        self._rng = random.Random(seed)
        # Energy measured on this machine means something only when the server runs here.
        self.local = urlsplit(self.endpoint.base_url).hostname in _LOCAL_HOSTS
        self._key: str | None = None
        self._client: httpx.Client | None = None

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAICompatBackend(endpoint={self.endpoint.name!r}, model={self.model!r})"

    @property
    def template(self) -> Literal["server"]:
        return "server"

    # -- secrets ---------------------------------------------------------------------------------

    def _mask(self, text: str) -> str:
        """``text`` with the API key replaced by ``***`` (errors may quote headers or URLs)."""
        if self._key and len(self._key) >= 4:
            text = text.replace(self._key, "***")
        return text

    # -- loading ---------------------------------------------------------------------------------

    def load(self) -> LoadInfo:
        """Build the HTTP client and check that the server answers ``GET /models``."""
        import httpx

        ep = self.endpoint
        self._key = resolve_api_key(ep)
        if ep.wants_key and not self._key:
            where = f"${ep.api_key_env}" if ep.api_key_env else ep.api_key_file
            return self._failed(f"no API key for '{ep.name}': set {where}")
        headers = {"Accept": "application/json", **ep.headers}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        if self._client is None:
            self._client = httpx.Client(
                base_url=ep.base_url, headers=headers,
                timeout=httpx.Timeout(ep.timeout_s, connect=min(10.0, ep.timeout_s)),
                limits=httpx.Limits(max_connections=ep.max_concurrency))
        t0 = time.perf_counter()
        try:
            resp = self._client.get("models")
        except httpx.HTTPError as e:
            return self._failed(self._mask(f"cannot reach {ep.base_url}: {type(e).__name__}: {e}"))
        details: dict[str, Any] = {"endpoint": ep.name, "base_url": ep.base_url,
                                   "source": ep.source}
        if resp.status_code in (401, 403):
            return self._failed(f"{ep.base_url} refused the API key (HTTP {resp.status_code})")
        if resp.is_success:
            try:
                details["models"] = [m.get("id") for m in resp.json().get("data", [])][:50]
            except (ValueError, AttributeError):
                details["models"] = None
        return LoadInfo(model=self.model, backend=self.name, ok=True,
                        load_s=time.perf_counter() - t0, details=details)

    def _failed(self, why: str) -> LoadInfo:
        self.close()
        return LoadInfo(model=self.model, backend=self.name, ok=False,
                        error=f"did not load: {self._mask(why)}")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None

    # -- generating ------------------------------------------------------------------------------

    def generate(self, requests: list[GenRequest]) -> list[GenResult]:
        if self._client is None:
            return [error_result(r, "not loaded: call load() first") for r in requests]
        if len(requests) <= 1:
            return [self._one(r) for r in requests]
        workers = min(self.endpoint.max_concurrency, len(requests))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="llmscout-http") as pool:
            return list(pool.map(self._one, requests))

    def _body(self, req: GenRequest) -> tuple[str, dict[str, Any]]:
        s = req.settings
        body: dict[str, Any] = {"model": self.endpoint.model, "max_tokens": s.max_tokens,
                                "temperature": s.temperature, "top_p": s.top_p, "seed": s.seed}
        if s.stop:
            body["stop"] = list(s.stop)
        if self.stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        if req.messages is not None:
            body["messages"] = [_message(m) for m in req.messages]
            path = "chat/completions"
        else:
            body["prompt"] = req.prompt or ""
            path = "completions"
        body.update(self.extra_body)
        return path, body

    def _one(self, req: GenRequest) -> GenResult:
        if req.messages is None and req.prompt is None:
            return error_result(req, "empty request: give messages or a prompt")
        path, body = self._body(req)
        energy = EnergyProbe() if self.local else _NoEnergy()
        energy.start()
        last = ""
        for attempt in range(self.max_retries + 1):
            try:
                result = self._attempt(req, path, body)
                joules, basis = energy.stop()
                return _with_energy(result, joules, basis)
            except _Failed as e:
                energy.stop()
                return error_result(req, self._mask(str(e)))
            except (TypeError, AttributeError, KeyError, ValueError) as e:  # odd JSON shapes
                energy.stop()
                return error_result(req, self._mask(f"unexpected answer from "
                                                    f"{self.endpoint.base_url}: "
                                                    f"{type(e).__name__}: {e}"))
            except _Retryable as e:
                last = self._mask(str(e))
                if attempt < self.max_retries:
                    time.sleep(backoff_seconds(attempt, self.backoff_s, self.max_backoff_s,
                                               e.retry_after, self._rng))
        energy.stop()
        tries = self.max_retries + 1
        return error_result(req, f"{last} (gave up after {tries} attempt{'s' * (tries > 1)})")

    def _attempt(self, req: GenRequest, path: str, body: dict[str, Any]) -> GenResult:
        """One HTTP call; raises ``_Retryable`` or ``_Failed``."""
        import httpx

        assert self._client is not None
        t0 = time.perf_counter()
        try:
            with self._client.stream("POST", path, json=body) as resp:
                _check_status(resp)
                ctype = resp.headers.get("content-type", "")
                if "text/event-stream" in ctype:
                    st = self._read_stream(resp, t0)
                    return self._result(req, st, t0, time.perf_counter())
                raw = resp.read()
        except httpx.TimeoutException:
            raise _Retryable(f"no answer within {self.endpoint.timeout_s:g} s "
                             f"(timeout_s of endpoint '{self.endpoint.name}')") from None
        except httpx.TransportError as e:
            raise _Retryable(f"connection to {self.endpoint.base_url} failed: "
                             f"{type(e).__name__}: {e}") from None
        return self._plain_result(req, raw, t0, time.perf_counter())

    def _read_stream(self, resp: httpx.Response, t0: float) -> _Stream:
        """Consume server-sent events into a ``_Stream``; ``_Failed`` once output started."""
        import httpx

        st = _Stream()
        deadline = t0 + self.endpoint.timeout_s
        try:
            for line in resp.iter_lines():
                if time.perf_counter() > deadline:
                    raise _Failed(f"answer took longer than {self.endpoint.timeout_s:g} s")
                if not line.startswith("data:"):
                    continue  # comments, event names, keep-alives
                data = line[5:].strip()
                if data == "[DONE]":
                    st.done = True
                    break
                _apply_chunk(st, data)
        except httpx.TransportError as e:
            if st.chunks == 0:
                raise _Retryable(f"stream failed before any output: {type(e).__name__}") from None
            raise _Failed(f"stream cut after {st.chunks} chunks: {type(e).__name__}: {e}") from None
        if not st.done and st.finish is None:
            raise _Failed(f"stream ended early after {st.chunks} chunks (no [DONE] and no "
                          "finish_reason)")
        return st

    def _result(self, req: GenRequest, st: _Stream, t0: float, t_end: float) -> GenResult:
        text = "".join(st.parts)
        usage = st.usage or {}
        tokens_out = int(usage.get("completion_tokens") or st.chunks)
        tokens_in = int(usage.get("prompt_tokens") or _estimate_prompt_tokens(req))
        decode = None
        if st.t_first is not None and tokens_out > 1 and t_end > st.t_first:
            decode = (tokens_out - 1) / (t_end - st.t_first)
        return GenResult(key=req.key, text=text, tokens_in=tokens_in, tokens_out=tokens_out,
                         ttft_s=(st.t_first - t0) if st.t_first is not None else None,
                         latency_s=t_end - t0, decode_tokens_per_s=decode,
                         finish_reason=st.finish or "stop")

    def _plain_result(self, req: GenRequest, raw: bytes, t0: float, t_end: float) -> GenResult:
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _Failed(f"malformed JSON from server: {_snippet(raw)}") from None
        if not isinstance(data, dict):
            raise _Failed(f"unexpected answer from server: {_snippet(raw)}")
        if "error" in data:
            raise _Failed(f"server error: {_snippet(json.dumps(data['error']))}")
        try:
            choice = data["choices"][0]
            text = (choice.get("message") or {}).get("content") or choice.get("text") or ""
        except (KeyError, IndexError, TypeError, AttributeError):
            raise _Failed(f"answer without choices: {_snippet(raw)}") from None
        usage = data.get("usage") or {}
        tokens_out = int(usage.get("completion_tokens") or max(1, round(len(text) / 4)))
        return GenResult(key=req.key, text=text,
                         tokens_in=int(usage.get("prompt_tokens") or _estimate_prompt_tokens(req)),
                         tokens_out=tokens_out, latency_s=t_end - t0,
                         finish_reason=choice.get("finish_reason") or "stop")


def _message(m: Message) -> dict[str, str]:
    return {"role": m.role, "content": m.content}


def _snippet(raw: bytes | str) -> str:
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    text = " ".join(text.split())
    return text[:_SNIPPET] + ("..." if len(text) > _SNIPPET else "")


def _check_status(resp: httpx.Response) -> None:
    if resp.is_success:
        return
    body = _snippet(resp.read())
    msg = f"HTTP {resp.status_code} from {resp.request.url.path}: {body}"
    if resp.status_code in RETRY_STATUS:
        raise _Retryable(msg, retry_after_seconds(resp.headers.get("retry-after")))
    raise _Failed(msg)


def _apply_chunk(st: _Stream, data: str) -> None:
    """One ``data:`` payload of a chat/completions stream."""
    try:
        chunk = json.loads(data)
    except json.JSONDecodeError:
        raise _Failed(f"malformed JSON in stream: {_snippet(data)}") from None
    if not isinstance(chunk, dict):
        raise _Failed(f"unexpected stream event: {_snippet(data)}")
    if "error" in chunk:
        raise _Failed(f"server error in stream: {_snippet(json.dumps(chunk['error']))}")
    if chunk.get("usage"):
        st.usage = chunk["usage"]
    for choice in chunk.get("choices") or []:
        if not isinstance(choice, dict):
            raise _Failed(f"unexpected stream event: {_snippet(data)}")
        delta = choice.get("delta")
        piece = delta.get("content") if isinstance(delta, dict) else choice.get("text")
        # A role announcement ({"role": "assistant", "content": ""}) or a closing chunk is not
        # a token; an empty piece on its own is (llama.cpp streams tokens that print as nothing).
        closing = bool(choice.get("finish_reason")) or (
            isinstance(delta, dict) and "role" in delta)
        if piece or (piece == "" and not closing):
            if st.t_first is None:
                st.t_first = time.perf_counter()
            st.parts.append(piece or "")
            st.chunks += 1
        if choice.get("finish_reason"):
            st.finish = choice["finish_reason"]


def _estimate_prompt_tokens(req: GenRequest) -> int:
    chars = sum(len(m.content) for m in req.messages or ()) + len(req.prompt or "")
    return max(1, round(chars / 4))


def _with_energy(result: GenResult, joules: float | None, basis: str) -> GenResult:
    if joules is None:
        return result
    from dataclasses import replace

    return replace(result, energy_j=joules, energy_basis=basis)  # type: ignore[arg-type]


__all__ = ["OpenAICompatBackend", "backoff_seconds", "retry_after_seconds"]
