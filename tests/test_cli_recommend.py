"""``llmscout recommend`` / ``llmscout compare``: options to profile, JSON output, errors."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from conftest import ROOT
from llmscout.cli._errors import run_guarded
from llmscout.cli.recommend import register
from llmscout.hardware.spec import GIB


def run(*argv: str) -> int:
    """Parse with a parser holding only these commands (as `llmscout` would) and run guarded."""
    parser = argparse.ArgumentParser(prog="llmscout")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    return run_guarded(args.func, args)


def run_json(capsys, *argv: str) -> dict:
    assert run(*argv, "--json") == 0
    return json.loads(capsys.readouterr().out)


def test_recommend_json_has_the_documented_keys(capsys):
    d = run_json(capsys, "recommend", "--task", "code", "--hardware", "RTX 4060", "--top", "3")
    assert len(d["candidates"]) == 3
    for key in ("profile", "hardware", "candidates", "excluded", "ladder", "local_vs_cloud", "pareto",
                "adaptation", "next_step", "contradictions", "weights"):
        assert key in d
    assert d["hardware"]["id"] == "rtx-4060" and d["profile"]["tasks"] == ["code"]


def test_memory_gb_and_device_kind_describe_the_hardware(capsys):
    d = run_json(capsys, "recommend", "--memory-gb", "8", "--device-kind", "gpu", "--task", "chat")
    assert d["hardware"]["memory_bytes"] == 8 * GIB and d["hardware"]["device_kind"] == "gpu"
    local = [c for c in d["candidates"] if c["kind"] == "open"]
    assert local and all(c["estimate"]["fits"] for c in local)


def test_options_reach_the_profile(capsys):
    d = run_json(capsys, "recommend", "--task", "extraction", "--task", "summarization", "--privacy", "local",
                 "--offline", "--commercial", "--no-gated", "--volume", "2000", "--context", "8k",
                 "--hardware", "rtx 4090")
    p = d["profile"]
    assert p["tasks"] == ["extraction", "summarization"] and p["privacy"] == "local" and p["offline"] is True
    assert p["commercial_use"] is True and p["allow_gated"] is False
    assert p["requests_per_day"] == 2000 and p["context_tokens"] == 8192
    assert not any(c["kind"] == "cloud" for c in d["candidates"])


def test_weights_option_sets_normalised_weights(capsys):
    d = run_json(capsys, "recommend", "--hardware", "rtx 4060", "--weights", "quality=3,speed=1,cost=0,energy=0,fit=0")
    assert d["weights"] == {"quality": 0.75, "speed": 0.25, "cost": 0.0, "energy": 0.0, "fit": 0.0}


def test_bad_weights_option_is_a_one_line_error(capsys):
    assert run("recommend", "--weights", "quality:high") == 2
    err = capsys.readouterr().err
    assert "--weights" in err and "quality=0.5" in err


def test_unknown_task_names_the_field_and_the_allowed_values(capsys):
    assert run("recommend", "--task", "chatt", "--hardware", "rtx 4060") == 2
    err = capsys.readouterr().err
    assert "tasks" in err and "'chat'" in err and "summarization" in err


def test_profile_file_with_override(tmp_path, capsys):
    f = tmp_path / "task.yaml"
    f.write_text("tasks: [chat]\nrequests_per_day: 50\n")
    d = run_json(capsys, "recommend", "--profile", str(f), "--target", "browser")
    assert d["profile"]["target"] == "browser" and d["profile"]["requests_per_day"] == 50
    assert d["hardware"]["id"] == "browser"


def test_bad_profile_file_names_file_line_and_field(tmp_path, capsys):
    f = tmp_path / "task.yaml"
    f.write_text("tasks: [chat]\ntarget: moon\n")
    assert run("recommend", "--profile", str(f), "--json") == 2
    payload = json.loads(capsys.readouterr().out)["error"]
    assert payload["path"] == str(f) and payload["line"] == 2 and payload["field"] == "target"


def test_human_output_shows_pick_reasons_ladder_and_next_step(capsys):
    assert run("recommend", "--task", "code", "--hardware", "rtx 4060", "--top", "3") == 0
    text = capsys.readouterr().out
    assert "start-small ladder" in text and "next step" in text and "verdict" in text
    assert "from llama_cpp import Llama" in text


def test_contradiction_is_printed_not_an_empty_table(capsys):
    assert run("recommend", "--target", "cloud", "--offline") == 0
    text = capsys.readouterr().out
    assert "offline" in text and "Every one of the" in text


def test_compare_json_ranks_and_marks_excluded(capsys):
    d = run_json(capsys, "compare", "Qwen/Qwen2.5-Coder-7B-Instruct", "Qwen/Qwen2.5-Coder-32B-Instruct",
                 "--task", "code", "--hardware", "rtx 4060")
    assert [m["status"] for m in d["models"]] == ["candidate", "excluded"]
    assert d["winner"] == "Qwen/Qwen2.5-Coder-7B-Instruct"
    assert d["models"][1]["reasons"]


def test_compare_unknown_model_suggests_names(capsys):
    assert run("compare", "qwen2.5-coder-7b-instruc", "--hardware", "rtx 4060") == 2
    assert "did you mean" in capsys.readouterr().err


def test_compare_human_output_lists_each_model(capsys):
    assert run("compare", "Qwen/Qwen2.5-Coder-7B-Instruct", "openai/gpt-4o-mini", "--task", "code",
               "--hardware", "rtx 4060") == 0
    text = capsys.readouterr().out
    assert "Qwen/Qwen2.5-Coder-7B-Instruct" in text and "openai/gpt-4o-mini" in text


_LAUNCH = ("import sys, llmscout.cli as c\n"
           "c._COMMANDS = c._COMMANDS if 'recommend' in c._COMMANDS else c._COMMANDS + ('recommend',)\n"
           "sys.exit(c.main(sys.argv[1:]))")


@pytest.mark.parametrize("argv", [("recommend", "--json", "--hardware", "rtx 4060", "--top", "2")])
def test_end_to_end_in_a_fresh_interpreter(argv):
    proc = subprocess.run([sys.executable, "-c", _LAUNCH, *argv], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["candidates"]) == 2
