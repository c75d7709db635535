"""`llmscout report RUN` on runs in a real store under the test's LLMSCOUT_HOME."""

from __future__ import annotations

import json

import pytest

import llmscout.cli as cli
from llmscout.hardware import lookup_hardware
from llmscout.recommend import TaskProfile, recommend
from llmscout.store import Store


@pytest.fixture(scope="module")
def rec() -> dict:
    return recommend(TaskProfile(tasks=("summarization",)), lookup_hardware("rtx 4060"), top=3).to_dict()


@pytest.fixture
def llmscout(monkeypatch, capsys):
    """Run ``llmscout ARGS`` in this process; returns (exit code, stdout, stderr)."""
    if "report" not in cli._COMMANDS:  # until the command is listed in llmscout.cli
        monkeypatch.setattr(cli, "_COMMANDS", (*cli._COMMANDS, "report"))

    def run(*args: str) -> tuple[int, str, str]:
        code = cli.main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


@pytest.fixture
def stored(rec, _isolated_home) -> str:
    """A finished recommend run in the default store."""
    with Store() as store:
        run_id = store.create_run("recommend", hardware=rec["hardware"])
        store.update_run(run_id, status="done", result=rec)
    return run_id


def test_report_writes_html_and_markdown_next_to_each_other_by_default(llmscout, stored, tmp_path,
                                                                       monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = llmscout("report", stored)
    assert code == 0, err
    html, md = tmp_path / f"llmscout-report-{stored}.html", tmp_path / f"llmscout-report-{stored}.md"
    assert html.is_file() and md.is_file()
    assert html.name in out and md.name in out
    assert "<!DOCTYPE html>" in html.read_text()[:20] and md.read_text().startswith("# llmscout recommendation")


def test_out_and_markdown_choose_the_paths_and_json_lists_them(llmscout, stored, tmp_path):
    code, out, err = llmscout("report", stored, "--out", str(tmp_path / "r" / "a.html"),
                              "--markdown", str(tmp_path / "m" / "b.md"), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data == {"run": stored, "kind": "recommend", "html": str(tmp_path / "r" / "a.html"),
                    "markdown": str(tmp_path / "m" / "b.md"),
                    "html_bytes": (tmp_path / "r" / "a.html").stat().st_size}


def test_latest_reports_the_newest_run(llmscout, rec, stored, tmp_path):
    with Store() as store:
        newer = store.create_run("recommend")
        store.update_run(newer, status="done", result=rec)
    code, out, _ = llmscout("report", "latest", "--out", str(tmp_path / "x.html"), "--json")
    assert code == 0 and json.loads(out)["run"] == newer


def test_an_unknown_run_is_a_one_line_error(llmscout, _isolated_home, tmp_path):
    code, out, err = llmscout("report", "nosuchrun", "--out", str(tmp_path / "x.html"))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "nosuchrun" in err and "Traceback" not in err
    assert not (tmp_path / "x.html").exists()


def test_an_unknown_run_in_json_mode_is_a_json_error(llmscout, _isolated_home):
    code, out, _ = llmscout("report", "nosuchrun", "--json")
    assert code == 2 and json.loads(out)["error"]["type"] == "InvalidValueError"


def test_a_run_still_running_says_it_has_no_result_yet(llmscout, _isolated_home, tmp_path):
    with Store() as store:
        run_id = store.create_run("trial")
    code, _, err = llmscout("report", run_id, "--out", str(tmp_path / "x.html"))
    assert code == 2 and "no result yet" in err and err.count("\n") == 1


def test_help_shows_examples(llmscout, capsys):
    with pytest.raises(SystemExit) as exc:
        llmscout("report", "--help")
    assert exc.value.code == 0 and "llmscout report latest --out report.html" in capsys.readouterr().out
