"""`llmscout models ...` from a user's shell: stable JSON, one-line errors, no tracebacks."""

from __future__ import annotations

import json

MIN_CATALOG_ENTRIES = 170


def test_models_list_json_is_the_whole_catalog(cli):
    res = cli("models", "list", "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert len(data) >= MIN_CATALOG_ENTRIES
    assert sum(1 for m in data if m["kind"] == "cloud") >= 20
    assert sum(1 for m in data if m["kind"] == "open") >= 150


def test_models_show_json_has_the_documented_keys(cli):
    res = cli("models", "show", "google/gemma-3-270m", "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    for key in ("id", "family", "params", "active_params", "context_length", "tuning", "license",
                "gated", "architecture", "artifacts", "benchmarks", "sources"):
        assert key in data
    for key in ("num_layers", "hidden_size", "num_heads", "num_kv_heads", "head_dim", "vocab_size"):
        assert key in data["architecture"]
    assert data["architecture"]["num_layers"] == 18 and data["params"] > 2.6e8


def test_unknown_model_is_one_line_with_suggestions_and_exit_2(cli):
    res = cli("models", "show", "gemma-3-27m", "--offline")
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert "did you mean" in res.stderr and "gemma-3-270m" in res.stderr


def test_errors_in_json_mode_are_json_too(cli):
    res = cli("models", "show", "no-such-model-xyz", "--offline", "--json")
    assert res.returncode == 2
    err = json.loads(res.stdout)["error"]
    assert err["type"] == "UnknownModelError" and err["model_id"] == "no-such-model-xyz"


def test_missing_path_is_a_clear_error(cli, tmp_path):
    res = cli("models", "show", str(tmp_path / "missing.gguf"))
    assert res.returncode == 2 and "no such file" in res.stderr and "Traceback" not in res.stderr


def test_malformed_user_catalog_names_file_and_line(cli, _isolated_home):
    (_isolated_home / "models.yaml").write_text("models:\n  - id: x\n    name: [\n")
    res = cli("models", "list", env={"LLMSCOUT_HOME": str(_isolated_home)})
    assert res.returncode == 2
    assert "models.yaml:" in res.stderr and "Traceback" not in res.stderr


def test_debug_env_shows_the_traceback(cli):
    res = cli("models", "show", "no-such-model-xyz", "--offline", env={"LLMSCOUT_DEBUG": "1"})
    assert res.returncode != 0 and "Traceback" in res.stderr


def test_bad_filter_value_is_explained(cli):
    res = cli("models", "list", "--max-params", "huge")
    assert res.returncode == 2 and "--max-params" in res.stderr


def test_models_list_filters_from_the_cli(cli):
    res = cli("models", "list", "--max-params", "1B", "--open", "--json")
    data = json.loads(res.stdout)
    assert data and all(m["params"] <= 1e9 for m in data)


def test_explain_gives_plain_sentences_with_a_source(cli):
    res = cli("explain", "q4f16_1", "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert "4-bit" in " ".join(data["sentences"]) and data["source"].startswith("http")


def test_explain_forgives_typos_and_rejects_nonsense(cli):
    assert json.loads(cli("explain", "quantisaton", "--json").stdout)["key"] == "quantization"
    res = cli("explain", "zzqxv")
    assert res.returncode == 2 and "Traceback" not in res.stderr and res.stderr.count("\n") == 1
