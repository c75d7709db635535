"""OpenAI-compatible endpoints: data-declared endpoints, a real llama.cpp server, and a loopback
server that misbehaves on purpose (rate limits, 5xx, malformed JSON, cut streams, slowness)."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from llmscout.errors import InvalidFileError, InvalidValueError
from llmscout.synth import CHATML_TEMPLATE
from llmscout.trial.backends import get_backend
from llmscout.trial.backends.endpoints import (
    BUILTIN_NAMES,
    Endpoint,
    get_endpoint,
    load_endpoints,
    read_endpoints_file,
    resolve_api_key,
)
from llmscout.trial.backends.openai_compat import (
    OpenAICompatBackend,
    backoff_seconds,
    retry_after_seconds,
)
from llmscout.trial.prompting import build_request
from llmscout.trial.types import GenerationSettings, GenRequest

pytest_plugins = ["_gguf_fixtures"]  # synth_gguf

SECRET = "sk-test-SECRET-0123456789"
KEY_ENV = "LLMSCOUT_TEST_API_KEY"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chat(text: str = "hi", n: int = 4, key: str = "k") -> GenRequest:
    return build_request("Be brief.", [], text, "server", GenerationSettings(max_tokens=n), key=key)


# -- endpoints as data -------------------------------------------------------------------------


def test_builtin_endpoints_cover_local_servers_and_clouds():
    eps = load_endpoints()
    assert set(BUILTIN_NAMES) <= set(eps)
    assert eps["openai"].api_key_env == "OPENAI_API_KEY"
    assert eps["gemini"].base_url.startswith("https://generativelanguage.googleapis.com/")
    assert all(eps[n].docs.startswith("https://") for n in BUILTIN_NAMES)
    assert not eps["lm-studio"].wants_key


def test_ollama_endpoint_follows_ollama_host(monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", "gpu-box:11434")
    assert get_endpoint("ollama").base_url == "http://gpu-box:11434/v1"


def test_user_file_adds_and_replaces_endpoints(_isolated_home):
    (_isolated_home / "endpoints.yaml").write_text(
        "- name: office\n  base_url: http://box:8000/v1\n  model: qwen\n  max_concurrency: 8\n"
        "  headers: {X-Team: research}\n"
        "- name: openai\n  base_url: https://proxy.example/v1\n  api_key_env: PROXY_KEY\n")
    eps = load_endpoints()
    assert eps["office"].max_concurrency == 8 and eps["office"].headers == {"X-Team": "research"}
    assert eps["office"].source == "endpoints.yaml:1"
    assert eps["openai"].base_url == "https://proxy.example/v1"


def test_endpoint_file_accepts_an_endpoints_key(tmp_path):
    f = tmp_path / "e.yaml"
    f.write_text("endpoints:\n  - name: a\n    base_url: http://a/v1\n")
    assert [e.name for e in read_endpoints_file(f)] == ["a"]


def test_unknown_field_names_file_line_field_and_suggestion(tmp_path):
    f = tmp_path / "endpoints.yaml"
    f.write_text("- name: a\n  base_url: http://a/v1\n- name: b\n  base_url: http://b/v1\n"
                 "  timout_s: 5\n")
    with pytest.raises(InvalidFileError, match=r"endpoints.yaml:3: field 'timout_s'.*'timeout_s'"):
        read_endpoints_file(f)


def test_base_url_must_be_http(tmp_path):
    f = tmp_path / "endpoints.yaml"
    f.write_text("- name: a\n  base_url: box:8000\n")
    with pytest.raises(InvalidFileError, match="field 'base_url'"):
        read_endpoints_file(f)


def test_bad_concurrency_is_refused(tmp_path):
    f = tmp_path / "endpoints.yaml"
    f.write_text("- name: a\n  base_url: http://a\n  max_concurrency: 0\n")
    with pytest.raises(InvalidFileError, match="max_concurrency"):
        read_endpoints_file(f)


def test_malformed_yaml_names_the_line(tmp_path):
    f = tmp_path / "endpoints.yaml"
    f.write_text("- name: a\n  base_url: [http://a\n")
    with pytest.raises(InvalidFileError, match="not valid YAML"):
        read_endpoints_file(f)


def test_unknown_endpoint_suggests_a_name():
    with pytest.raises(InvalidValueError, match="did you mean 'ollama'"):
        get_endpoint("olama")


def test_api_key_from_environment_then_key_file(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV)
    key_file = tmp_path / "key"
    key_file.write_text(" file-key \n")
    ep = Endpoint("x", "http://x", api_key_env=KEY_ENV, api_key_file=str(key_file))
    assert resolve_api_key(ep) == "file-key"
    monkeypatch.setenv(KEY_ENV, "env-key")
    assert resolve_api_key(ep) == "env-key"


def test_endpoint_needs_a_model():
    with pytest.raises(InvalidValueError, match="model"):
        OpenAICompatBackend("ollama")


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after_seconds("3") == 3.0
    assert 8 <= retry_after_seconds(formatdate(time.time() + 10, usegmt=True)) <= 10
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None


def test_backoff_grows_is_jittered_capped_and_honours_retry_after():
    import random

    rng = random.Random(0)
    draws = [backoff_seconds(3, 0.5, 30, None, rng) for _ in range(200)]
    assert min(draws) >= 0 and max(draws) <= 4.0 and len(set(draws)) > 100
    assert backoff_seconds(0, 0.5, 30, 7.0, rng) == 7.0
    assert backoff_seconds(0, 0.5, 5, 100.0, rng) == 5


# -- a real llama.cpp server -------------------------------------------------------------------


@pytest.fixture(scope="module")
def llama_server(synth_gguf, tmp_path_factory):
    for mod in ("llama_cpp", "fastapi", "uvicorn", "sse_starlette", "starlette_context",
                "pydantic_settings"):
        if importlib.util.find_spec(mod) is None:
            pytest.skip(f"llama_cpp.server needs {mod} (pip install 'llama-cpp-python[server]')")
    model = synth_gguf("llama", "F16", chat_template=CHATML_TEMPLATE)
    port = free_port()
    log = (tmp_path_factory.mktemp("llama-server") / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(model),
                             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "512",
                             "--n_threads", "2"], stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/models", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            pytest.fail(f"llama_cpp.server exited with {proc.returncode}")
        time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("llama_cpp.server did not answer /v1/models within 90 s")
    yield Endpoint("local-llama", base, model="tiny", max_concurrency=2, timeout_s=60)
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def test_load_checks_that_the_server_answers(llama_server):
    with OpenAICompatBackend(llama_server) as b:
        info = b.load()
        assert info.ok and info.model == "local-llama:tiny" and info.details["models"]


def test_real_server_streaming_measures_time_to_first_token(llama_server):
    with OpenAICompatBackend(llama_server) as b:
        assert b.load().ok
        [r] = b.generate([chat(n=4)])
    assert r.ok and r.tokens_out == 4 and r.finish_reason == "length"
    assert 0 < r.ttft_s <= r.latency_s and r.tokens_in > 0


def test_real_server_without_streaming_reports_server_usage(llama_server):
    with OpenAICompatBackend(llama_server, stream=False) as b:
        assert b.load().ok
        [r] = b.generate([chat(n=3)])
    assert r.ok and r.tokens_out == 3 and r.ttft_s is None and r.latency_s > 0


def test_real_server_plain_completion_prompt(llama_server):
    with OpenAICompatBackend(llama_server) as b:
        assert b.load().ok
        req = build_request(None, [("a", "b")], "c", None, GenerationSettings(max_tokens=3))
        [r] = b.generate([req])
    assert r.ok and 0 < r.tokens_out <= 3


def test_endpoint_declared_in_yaml_is_usable_by_name(llama_server, _isolated_home):
    (_isolated_home / "endpoints.yaml").write_text(
        f"- name: mine\n  base_url: {llama_server.base_url}\n  model: tiny\n")
    with get_backend("openai", endpoint="mine") as b:
        assert b.load().ok
        results = b.generate([chat("one", key="1"), chat("two", key="2"), chat("three", key="3")])
    assert [r.key for r in results] == ["1", "2", "3"] and all(r.ok for r in results)


# -- a server that misbehaves on purpose -------------------------------------------------------


def sse(*events: object) -> bytes:
    return b"".join(f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n".encode()
                    for e in events)


def piece(text: str, finish: str | None = None) -> dict:
    return {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]}


GOOD_JSON = {"choices": [{"message": {"role": "assistant", "content": "fine"},
                          "finish_reason": "stop"}],
             "usage": {"prompt_tokens": 7, "completion_tokens": 1}}
GOOD_STREAM = sse({"choices": [{"delta": {"role": "assistant", "content": ""}}]}, piece("Hel"),
                  piece("lo"), piece("", "stop"),
                  {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2}},
                  "[DONE]")


class Misbehaving(BaseHTTPRequestHandler):
    """``/<scenario>/v1/...``: each scenario answers its n-th call in its own way."""

    def log_message(self, *args):  # keep test output clean
        pass

    def _send(self, code: int, body: bytes, ctype: str = "application/json",
              headers: dict | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        scenario = self.path.split("/")[1]
        if scenario == "unauthorized":
            self._send(401, b'{"error": "bad key"}')
        else:
            self._send(200, json.dumps({"data": [{"id": "m"}]}).encode())

    def do_POST(self):
        scenario = self.path.split("/")[1]
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        server = self.server
        with server.lock:
            server.calls[scenario] += 1
            n = server.calls[scenario]
            server.auth.append(self.headers.get("Authorization"))
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # client gave up first
            getattr(self, "s_" + scenario.replace("-", "_"))(n)

    def s_ok_stream(self, n):
        self._send(200, GOOD_STREAM, "text/event-stream")

    def s_rate_limit(self, n):
        if n == 1:
            self._send(429, b'{"error": "slow down"}', headers={"Retry-After": "1"})
        else:
            self._send(200, json.dumps(GOOD_JSON).encode())

    def s_error_then_ok(self, n):
        if n == 1:
            self._send(500, b"internal error")
        else:
            self._send(200, json.dumps(GOOD_JSON).encode())

    def s_always_503(self, n):
        self._send(503, json.dumps({"error": f"overloaded; saw {self.headers['Authorization']}"})
                   .encode())

    def s_bad_request(self, n):
        self._send(400, json.dumps({"error": f"invalid {self.headers['Authorization']}"}).encode())

    def s_malformed(self, n):
        self._send(200, b'{"choices": [ {not json')

    def s_malformed_stream(self, n):
        self._send(200, sse(piece("a")) + b"data: {oops\n\n", "text/event-stream")

    def s_odd_shape(self, n):
        self._send(200, sse({"choices": [{"delta": {"content": 7}, "finish_reason": None}]},
                            "[DONE]"), "text/event-stream")

    def s_early_end(self, n):
        self._send(200, sse(piece("Hel")), "text/event-stream")  # no finish, no [DONE]

    def s_cut(self, n):
        # Chunked transfer that stops in the middle of a chunk: a dropped connection.
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        first = sse(piece("Hel"))
        self.wfile.write(f"{len(first):x}\r\n".encode() + first + b"\r\n")
        self.wfile.write(b"400\r\ndata: {\"choi")
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True

    def s_slow(self, n):
        time.sleep(3)
        self._send(200, json.dumps(GOOD_JSON).encode())


@pytest.fixture(scope="module")
def flaky():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Misbehaving)
    server.daemon_threads = True
    server.calls, server.auth, server.lock = Counter(), [], threading.Lock()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def backend(server, scenario: str, **kw) -> OpenAICompatBackend:
    base = f"http://127.0.0.1:{server.server_address[1]}/{scenario}/v1"
    ep = Endpoint("mock", base, model="m", api_key_env=KEY_ENV,
                  timeout_s=kw.pop("timeout_s", 10))
    b = OpenAICompatBackend(ep, backoff_s=0.01, max_backoff_s=2, **kw)
    assert b.load().ok
    return b


@pytest.fixture(autouse=True)
def _api_key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)


def test_stream_is_assembled_with_usage_from_the_server(flaky):
    [r] = backend(flaky, "ok-stream").generate([chat()])
    assert r.ok and r.text == "Hello" and (r.tokens_in, r.tokens_out) == (5, 2)
    assert r.finish_reason == "stop" and r.ttft_s <= r.latency_s


def test_the_key_is_sent_as_a_bearer_token(flaky):
    backend(flaky, "ok-stream").generate([chat()])
    assert f"Bearer {SECRET}" in flaky.auth


def test_429_waits_for_retry_after_then_succeeds(flaky):
    start = time.perf_counter()
    [r] = backend(flaky, "rate-limit").generate([chat()])
    assert r.ok and r.text == "fine" and flaky.calls["rate-limit"] == 2
    assert time.perf_counter() - start >= 1.0


def test_500_is_retried(flaky):
    [r] = backend(flaky, "error-then-ok").generate([chat()])
    assert r.ok and flaky.calls["error-then-ok"] == 2


def test_retries_are_bounded(flaky):
    [r] = backend(flaky, "always-503", max_retries=2).generate([chat()])
    assert not r.ok and "HTTP 503" in r.error and "after 3 attempts" in r.error
    assert flaky.calls["always-503"] == 3


def test_client_errors_are_not_retried(flaky):
    [r] = backend(flaky, "bad-request").generate([chat()])
    assert not r.ok and "HTTP 400" in r.error and flaky.calls["bad-request"] == 1


def test_malformed_json_is_an_error_result(flaky):
    [r] = backend(flaky, "malformed", stream=False).generate([chat()])
    assert not r.ok and "malformed JSON" in r.error and r.text == ""


def test_malformed_json_in_a_stream_is_an_error_result(flaky):
    [r] = backend(flaky, "malformed-stream").generate([chat()])
    assert not r.ok and "malformed JSON in stream" in r.error


def test_unexpected_json_shapes_are_an_error_result(flaky):
    [r] = backend(flaky, "odd-shape").generate([chat()])
    assert not r.ok and "unexpected answer" in r.error


def test_stream_that_ends_early_is_an_error_result(flaky):
    [r] = backend(flaky, "early-end").generate([chat()])
    assert not r.ok and "ended early" in r.error


def test_stream_cut_mid_way_is_an_error_result(flaky):
    [r] = backend(flaky, "cut").generate([chat()])
    assert not r.ok and "cut after 1 chunks" in r.error


def test_slow_answer_hits_the_timeout(flaky):
    start = time.perf_counter()
    [r] = backend(flaky, "slow", timeout_s=0.3, max_retries=1).generate([chat()])
    assert not r.ok and "no answer within 0.3 s" in r.error and "2 attempts" in r.error
    assert time.perf_counter() - start < 2.5


def test_one_bad_request_does_not_spoil_the_batch(flaky):
    good = backend(flaky, "ok-stream")
    results = good.generate([chat(key="a"), GenRequest(key="empty"), chat(key="c")])
    assert [r.ok for r in results] == [True, False, True]
    assert [r.key for r in results] == ["a", "empty", "c"]


def test_generate_before_load_is_an_error_result():
    b = OpenAICompatBackend(Endpoint("x", "http://127.0.0.1:9/v1", model="m"))
    [r] = b.generate([chat()])
    assert not r.ok and "load()" in r.error


# -- the key stays secret --------------------------------------------------------------------


def test_key_never_appears_in_errors_results_or_repr(flaky):
    b = backend(flaky, "bad-request")
    [r] = b.generate([chat()])
    [r2] = backend(flaky, "always-503", max_retries=0).generate([chat()])
    assert "***" in r.error and "***" in r2.error
    for text in (r.error, r2.error, json.dumps(r.to_dict()), json.dumps(r2.to_dict()), repr(b),
                 repr(b.endpoint)):
        assert SECRET not in text


def test_missing_key_is_a_load_failure_naming_the_variable(flaky, monkeypatch):
    monkeypatch.delenv(KEY_ENV)
    base = f"http://127.0.0.1:{flaky.server_address[1]}/ok-stream/v1"
    info = OpenAICompatBackend(Endpoint("mock", base, model="m", api_key_env=KEY_ENV)).load()
    assert not info.ok and f"set ${KEY_ENV}" in info.error


def test_rejected_key_is_a_load_failure_without_the_key(flaky):
    base = f"http://127.0.0.1:{flaky.server_address[1]}/unauthorized/v1"
    info = OpenAICompatBackend(Endpoint("mock", base, model="m", api_key_env=KEY_ENV)).load()
    assert not info.ok and "HTTP 401" in info.error and SECRET not in info.error


def test_unreachable_server_is_a_load_failure():
    info = OpenAICompatBackend(Endpoint("gone", f"http://127.0.0.1:{free_port()}/v1",
                                        model="m", timeout_s=2)).load()
    assert not info.ok and info.error.startswith("did not load: cannot reach")
