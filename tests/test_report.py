"""Reports on real results: a real recommendation, real trials (a local OpenAI-compatible echo
server, and llama.cpp on the packaged Gemma 3 270M) and a real Store. The HTML is read back
with ``html.parser`` as a browser would tokenise it."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from llmscout.errors import IncompatibleError, InvalidValueError
from llmscout.hardware import lookup_hardware
from llmscout.recommend import TaskProfile, recommend
from llmscout.report import render_html, render_markdown, write_report
from llmscout.store import Store

pytest_plugins = ["_gguf_fixtures"]  # gemma_gguf

GIB = 1024**3
XSS = "<script>alert(1)</script>"


# -- reading the HTML back --------------------------------------------------------------------------


class Page(HTMLParser):
    """Tags, attributes, script bodies, and the cell texts of each section's tables."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.tables: dict[str, list[list[list[str]]]] = {}  # section id -> tables -> rows -> cells
        self.code: list[str] = []
        self.ids: set[str] = set()
        self._section = ""
        self._cell: list[str] | None = None
        self._in_script = self._in_code = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "section":
            self._section = a.get("id") or ""
        elif tag == "table":
            self.tables.setdefault(self._section, []).append([])
        elif tag == "tr":
            self.tables[self._section][-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "script":
            self._in_script = True
            self.scripts.append("")
        elif tag == "code":
            self._in_code = True
            self.code.append("")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[self._section][-1][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "script":
            self._in_script = False
        elif tag == "code":
            self._in_code = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data
        if self._in_code:
            self.code[-1] += data
        if self._cell is not None:
            self._cell.append(data)

    def table(self, section: str, index: int = 0) -> list[list[str]]:
        return self.tables[section][index]


def figures(html: str) -> dict:
    """The figures the page draws, as the page's script holds them."""
    m = re.search(r"var figures = (\{.*?\});\n", html)
    assert m, "no figures in the page"
    return json.loads(m.group(1))


def md_tables(md: str) -> list[list[list[str]]]:
    """Every Markdown table as rows of cells (split on pipes that are not escaped)."""
    tables, current = [], None
    for line in md.splitlines():
        if line.startswith("|"):
            if current is None:
                current = []
                tables.append(current)
            current.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
        else:
            current = None
    return tables


def md_row(md: str, first_cells: list[str]) -> list[str]:
    for table in md_tables(md):
        for row in table:
            if row[:len(first_cells)] == first_cells:
                return row
    raise AssertionError(f"no Markdown row starting with {first_cells}")


# -- results from the real library ----------------------------------------------------------------


@pytest.fixture(scope="module")
def rec() -> dict:
    """A real recommendation: classification on an RTX 4060, four candidates."""
    profile = TaskProfile(tasks=("classification",), target="local")
    return recommend(profile, lookup_hardware("rtx 4060"), top=4).to_dict()


@pytest.fixture(scope="module")
def rec_pages(rec) -> tuple[str, Page, str]:
    html = render_html(rec, "recommend")
    return html, Page(html), render_markdown(rec, "recommend")


class Echo(BaseHTTPRequestHandler):
    """An OpenAI-compatible server that answers the word after 'Repeat: ' in the last line."""

    def log_message(self, *args):
        pass

    def _send(self, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def do_GET(self):
        self._send({"data": [{"id": "echo"}]})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        users = [m["content"] for m in body.get("messages") or [] if m["role"] == "user"]
        text = (users[-1] if users else body.get("prompt", "")).rpartition("\n")[2]
        answer = text.partition("Repeat: ")[2] or "?"
        self._send({"choices": [{"message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 12, "completion_tokens": 3}})


@pytest.fixture
def echo_trial(tmp_path, _isolated_home):
    """A real trial through the runner against the echo server: one answer is ``XSS``."""
    from llmscout.trial import run_trial

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    httpd = ThreadingHTTPServer(("127.0.0.1", port), Echo)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    (_isolated_home / "endpoints.yaml").write_text(
        f"- name: echo\n  base_url: http://127.0.0.1:{port}/v1\n  model: parrot\n  timeout_s: 30\n")
    words = ["positive", "negative", XSS, "neutral", "positive", "negative"]
    with (tmp_path / "examples.jsonl").open("w") as fh:
        for i, w in enumerate(words):
            fh.write(json.dumps({"id": f"e{i}", "input": f"Repeat: {w}", "reference": w}) + "\n")
    (tmp_path / "task.yaml").write_text(
        "name: echo-task\nexamples: examples.jsonl\nshots: [0]\nsystem_prompt: Answer with one word.\n"
        "metrics: [exact]\nbar: {pass_rate: 0.99, confidence: 0.9}\n"
        "generation: {max_tokens: 8, temperature: 0}\ncandidates: [packaged]\n")
    store = Store(tmp_path / "s.db")
    try:
        result = run_trial(tmp_path / "task.yaml", models=["echo:parrot"], store=store, cache=False)
        yield result.to_dict(), store
    finally:
        store.close()
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def gemma_trial(gemma_gguf, tmp_path_factory) -> dict:
    """The sample task on the real Gemma 3 270M through llama.cpp: 0 and 1 shots, 4 examples."""
    from llmscout.trial import run_trial
    from llmscout.trial.taskfile import sample_task

    store = Store(tmp_path_factory.mktemp("gemma-report") / "s.db")
    try:
        return run_trial(sample_task(), models=[str(gemma_gguf)], shots=[0, 1], max_examples=4,
                         store=store).to_dict()
    finally:
        store.close()


# -- self-contained and safe ------------------------------------------------------------------------


def test_html_loads_no_script_or_style_from_the_network(rec_pages):
    _, page, _ = rec_pages
    for tag, attrs in page.tags:
        for attr in ("src", "href", "data"):
            value = (attrs.get(attr) or "").strip().lower()
            if tag in ("script", "link", "img", "iframe", "object", "embed", "source", "style"):
                assert not value.startswith(("http://", "https://", "//")), (tag, attrs)
    assert not [a for t, a in page.tags if t == "link" and "stylesheet" in (a.get("rel") or "")]


def test_plotly_js_is_embedded_inline_once(rec_pages):
    html, page, _ = rec_pages
    from plotly.offline import get_plotlyjs

    banner = get_plotlyjs()[:200]
    assert html.count(banner) == 1
    assert [s for s in page.scripts if "Plotly.newPlot" in s and "var figures" in s]
    assert len(html.encode()) < 7_000_000  # plotly.js (~4.8 MB) plus a few hundred KB at most


def test_a_model_output_with_a_script_tag_is_text_not_a_tag(echo_trial):
    result, _ = echo_trial
    html = render_html(result, "trial")
    page = Page(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert [t for t, _ in page.tags].count("script") == 2  # plotly.js and the figures, nothing else
    assert not any("alert(1)" in s for s in page.scripts)
    outputs = [row[4] for row in page.table("examples")[1:]]
    assert XSS in outputs  # shown to the reader as the text the model wrote


def test_no_element_of_the_page_carries_an_event_handler_from_data(rec):
    evil = json.loads(json.dumps(rec))
    evil["candidates"][1]["model"] = 'evil/<img src=x onerror="alert(1)">'
    evil["candidates"][1]["reasons"].append('"><svg onload=alert(2)>')
    page = Page(render_html(evil, "recommend"))
    assert not [(t, a) for t, a in page.tags if any(k.startswith("on") for k in a)]
    assert not [t for t, _ in page.tags if t in ("img", "svg")]


def test_chart_labels_and_hover_text_are_escaped_for_plotly(rec):
    evil = json.loads(json.dumps(rec))
    evil["candidates"][1]["model"] = "evil/<b>bold</b>"
    fig = figures(render_html(evil, "recommend"))["memory"]
    labels = [y for trace in fig["data"] if trace["type"] == "bar" for y in trace["y"]]
    assert any("evil/&lt;b&gt;bold&lt;/b&gt;" in y for y in labels)
    assert not any("<b>" in y for y in labels)


def test_markdown_writes_a_script_tag_as_text(echo_trial):
    result, _ = echo_trial
    md = render_markdown(result, "trial")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md and "<script" not in md


# -- content: recommend ----------------------------------------------------------------------------


RECOMMEND_SECTIONS = ["summary", "hardware", "profile", "candidates", "memory", "pareto", "local-vs-cloud",
                      "ladder", "excluded", "next-step", "glossary"]


def test_recommend_report_has_every_section(rec_pages):
    _, page, md = rec_pages
    assert set(RECOMMEND_SECTIONS) <= page.ids
    for title in ("## Hardware", "## Task profile", "## Ranked candidates", "## Memory",
                  "## Quality against latency, energy and cost", "## Local or cloud", "## Excluded models",
                  "## Next step", "## Glossary"):
        assert title in md


def test_ranked_candidates_show_the_numbers_of_the_result(rec, rec_pages):
    _, page, md = rec_pages
    rows = page.table("candidates")[1:]
    assert [r[1] for r in rows] == [c["model"] for c in rec["candidates"]]
    for row, c in zip(rows, rec["candidates"], strict=True):
        mem = c["estimate"]["memory"]
        expected = [f"{c['score']:,.1f}", f"{c['quality']['points']:,.1f}",
                    f"{mem['total_bytes'] / GIB:,.2f} GiB of {mem['usable_bytes'] / GIB:,.2f} GiB",
                    f"{c['estimate']['speed']['decode_tokens_per_s']:,.1f}"]
        assert row[4:8] == expected
        assert md_row(md, [str(rows.index(row) + 1), c["model"].replace("_", "\\_")])[4:8] == expected


def test_every_reason_of_every_candidate_is_listed(rec, rec_pages):
    _, page, _ = rec_pages
    for row, c in zip(page.table("candidates")[1:], rec["candidates"], strict=True):
        for reason in c["reasons"]:
            assert reason in row[-1]


def test_memory_chart_stacks_the_estimate_against_usable_memory(rec, rec_pages):
    html, _, _ = rec_pages
    fig = figures(html)["memory"]
    bars = {t["name"]: t["x"] for t in fig["data"] if t["type"] == "bar"}
    cands = [c for c in rec["candidates"] if c["estimate"]["memory"]]
    assert bars["weights (estimated)"] == pytest.approx([c["estimate"]["memory"]["weights_bytes"] / GIB for c in cands])
    assert bars["KV cache (estimated)"] == pytest.approx([c["estimate"]["memory"]["kv_cache_bytes"] / GIB for c in cands])
    usable = next(t for t in fig["data"] if t["name"] == "usable memory")
    assert usable["x"] == pytest.approx([c["estimate"]["memory"]["usable_bytes"] / GIB for c in cands])


def test_pareto_chart_highlights_the_pick_on_all_three_axes(rec, rec_pages):
    html, page, _ = rec_pages
    fig = figures(html)["pareto"]
    pick = rec["candidates"][0]
    stars = [t for t in fig["data"] if t["name"] == "pick"]
    assert len(stars) == 3 and all(t["y"] == [pick["quality"]["points"]] for t in stars)
    assert [s["x"][0] for s in stars] == pytest.approx([pick["latency_s"], pick["energy_wh_per_request"],
                                                       pick["cost_per_month"]])
    pick_row = next(r for r in page.table("pareto")[1:] if r[-1] == "pick")
    assert pick_row[0].startswith(pick["model"])


def test_pareto_front_membership_follows_the_result(rec, rec_pages):
    _, page, _ = rec_pages
    on_cost_front = {r["model"] for r in rec["pareto"]["quality_vs_cost"]}
    for row in page.table("pareto")[1:]:
        model = row[0].split(" ")[0]
        assert ("cost" in row[5]) == (model in on_cost_front), row


def test_next_step_code_is_shown_verbatim_in_pre_code(rec, rec_pages):
    html, page, _ = rec_pages
    assert rec["next_step"]["code"] in page.code
    assert '<pre><code class="language-python">' in html


def test_excluded_models_are_listed_with_their_reasons(rec, rec_pages):
    _, page, _ = rec_pages
    every = page.table("excluded", 1)[1:]
    assert len(every) == len(rec["excluded"])
    assert every[0][0] == rec["excluded"][0]["model"] and rec["excluded"][0]["reasons"][0] in every[0][2]


def test_estimated_figures_are_marked_and_energy_names_its_basis(rec, rec_pages):
    _, page, md = rec_pages
    header = page.table("candidates")[0]
    assert header[7] == "Decode tok/s estimated" and header[5] == "Quality (points) estimated"
    for row in page.table("candidates")[1:]:
        assert row[9].endswith("(estimated)")
    assert "| Decode[^prefill-decode] tok/s (estimated) |" in md


def test_glossary_terms_carry_their_explanation(rec_pages):
    from llmscout.recommend.glossary import explain_term

    html, page, md = rec_pages
    kv = explain_term("KV cache")
    abbr = [a for t, a in page.tags if t == "abbr" and (a.get("title") or "").startswith("KV cache:")]
    assert abbr and abbr[0]["title"] == f"{kv.title}: {kv.text}"
    assert "g-kv-cache" in page.ids
    assert "KV cache[^kv-cache]" in md and "[^kv-cache]: **KV cache**" in md


def test_markdown_tables_are_well_formed(rec_pages, echo_trial):
    md_rec = rec_pages[2]
    md_trial = render_markdown(echo_trial[0], "trial")
    for md in (md_rec, md_trial):
        tables = md_tables(md)
        assert len(tables) >= 6
        for table in tables:
            width = len(table[0])
            assert all(len(row) == width for row in table), table[0]
            assert all(re.fullmatch(r"---:?", c) for c in table[1])


# -- content: trial --------------------------------------------------------------------------------


def test_trial_report_shows_verdict_ladder_models_cost_and_every_call(echo_trial):
    result, _ = echo_trial
    page = Page(render_html(result, "trial"))
    assert {"verdict", "hardware", "task", "ladder", "models", "cost-at-volume", "examples"} <= page.ids
    calls = page.table("examples")[1:]
    assert len(calls) == len(result["examples"])
    assert [r[7] for r in calls] == ["pass" if e["pass"] else "FAIL" for e in result["examples"]]
    assert [r[3] for r in calls] == [e["input"] for e in result["examples"]]


def test_verdict_names_the_winner_with_its_measured_pass_rate(echo_trial):
    result, _ = echo_trial
    win = result["verdict"]["winner"]
    md = render_markdown(result, "trial")
    lo, hi = win["interval"]
    assert (f"Winner: {win['model']} with 0-shot prompting passed {100 * win['pass_rate']:.1f}% of {win['n']} "
            f"examples (measured; interval {100 * lo:.1f}%-{100 * hi:.1f}%)") in md


@pytest.mark.slow
def test_ladder_chart_and_table_follow_the_rungs_of_a_real_trial(gemma_trial):
    html = render_html(gemma_trial, "trial")
    rungs = [r for r in gemma_trial["ladder"]["rungs"] if r["n"]]
    fig = figures(html)["ladder"]
    ys = [y for t in fig["data"] for y in t["y"]]
    highs = [h for t in fig["data"] for h in t["error_y"]["array"]]
    assert sorted(ys) == pytest.approx(sorted(r["pass_rate"] for r in rungs))
    assert sorted(highs) == pytest.approx(sorted(r["interval"][1] - r["pass_rate"] for r in rungs))
    assert fig["layout"]["shapes"][0]["y0"] == gemma_trial["ladder"]["bar"]
    rows = Page(html).table("ladder")[1:]
    assert [r[0] for r in rows] == [f"{r['model']} / {r['shots']}-shot" for r in gemma_trial["ladder"]["rungs"]]


@pytest.mark.slow
def test_estimate_against_measurement_uses_the_trials_figures(gemma_trial):
    html = render_html(gemma_trial, "trial")
    model = gemma_trial["models"][0]
    meas, pred = model["measured"], model["predicted"]
    rows = {r[1]: r for r in Page(html).table("estimate-vs-measured")[1:]}
    assert rows["decode tok/s"][2:4] == [f"{pred['decode_tokens_per_s']:,.1f}", f"{meas['decode_tokens_per_s']:,.1f}"]
    assert rows["memory"][2:4] == [f"{pred['memory_bytes'] / GIB:,.2f} GiB", f"{meas['peak_memory_bytes'] / GIB:,.2f} GiB"]
    assert rows["energy per call"][3] == f"{meas['energy_j']:.3g} J ({meas['energy_basis']})"
    fig = figures(html)["estimate_vs_measured"]
    decode = [t for t in fig["data"] if t["xaxis"] == "x"]
    assert {t["name"]: t["y"][0] for t in decode} == pytest.approx(
        {"estimated": pred["decode_tokens_per_s"], "measured": meas["decode_tokens_per_s"]})


@pytest.mark.slow
def test_a_real_trial_report_is_complete_in_both_formats(gemma_trial):
    html, md = render_html(gemma_trial, "trial"), render_markdown(gemma_trial, "trial")
    assert {"verdict", "ladder", "models", "estimate-vs-measured", "examples"} <= Page(html).ids
    for title in ("## Verdict", "## The ladder as it was climbed", "## Estimate against measurement",
                  "## Per-example results"):
        assert title in md
    plain = re.sub(r"\[\^[\w-]+\]", "", md)  # without the glossary footnote marks
    assert gemma_trial["verdict"]["message"].replace("[", "\\[").replace("]", "\\]") in plain


# -- the API ---------------------------------------------------------------------------------------


def test_an_unknown_kind_is_refused():
    with pytest.raises(InvalidValueError, match="kind"):
        render_html({}, "benchmark")


def test_write_report_writes_html_and_markdown_of_a_stored_run(rec, tmp_path):
    with Store(tmp_path / "s.db") as store:
        run_id = store.create_run("recommend", config={"top": 4}, hardware=rec["hardware"])
        store.update_run(run_id, status="done", result=rec)
        files = write_report(run_id, tmp_path / "out" / "r.html", store=store)
    assert files == [tmp_path / "out" / "r.html", tmp_path / "out" / "r.md"]
    page = Page(files[0].read_text())
    assert run_id in files[0].read_text() and "candidates" in page.ids
    assert f"- run: {run_id}" in files[1].read_text()


def test_write_report_markdown_can_go_elsewhere_or_nowhere(rec, tmp_path):
    with Store(tmp_path / "s.db") as store:
        run_id = store.create_run("recommend")
        store.update_run(run_id, status="done", result=rec)
        assert write_report(run_id, tmp_path / "a.html", store=store, markdown=tmp_path / "notes" / "a.md") == [
            tmp_path / "a.html", tmp_path / "notes" / "a.md"]
        assert write_report(run_id, tmp_path / "b.html", store=store, markdown=False) == [tmp_path / "b.html"]


def test_write_report_of_an_unknown_run_says_which(tmp_path):
    with Store(tmp_path / "s.db") as store, pytest.raises(InvalidValueError, match="nosuchrun"):
        write_report("nosuchrun", tmp_path / "r.html", store=store)
    assert not (tmp_path / "r.html").exists()


def test_write_report_of_a_run_without_result_says_to_wait(tmp_path):
    with Store(tmp_path / "s.db") as store:
        run_id = store.create_run("trial")
        with pytest.raises(IncompatibleError, match="no result yet"):
            write_report(run_id, tmp_path / "r.html", store=store)


def test_write_report_of_a_calibrate_run_says_which_runs_have_reports(tmp_path):
    with Store(tmp_path / "s.db") as store:
        run_id = store.create_run("calibrate")
        store.update_run(run_id, status="done", result={"fit": 1.0})
        with pytest.raises(IncompatibleError, match="trial and recommend"):
            write_report(run_id, tmp_path / "r.html", store=store)


def test_write_report_reads_a_trial_saved_by_the_runner(echo_trial, tmp_path):
    result, store = echo_trial
    files = write_report(result["run_id"], tmp_path / "t.html", store=store)
    page = Page(Path(files[0]).read_text())
    assert "examples" in page.ids and len(page.table("examples")) == len(result["examples"]) + 1
