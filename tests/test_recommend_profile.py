"""Task profiles: defaults, parsing, token counting, error messages and contradictions."""

from __future__ import annotations

import json

import pytest

from llmscout.errors import InvalidFileError, InvalidValueError, MissingFileError
from llmscout.recommend.profile import (
    RankingWeights,
    TaskProfile,
    contradictions,
    count_tokens,
    load_profile,
    profile_from_dict,
    with_overrides,
)

# -- defaults and derived values -------------------------------------------------------------

def test_empty_profile_is_a_chat_task_with_default_sizes():
    p = profile_from_dict({})
    assert p.tasks == ("chat",)
    assert (p.input_tokens, p.output_tokens, p.context_tokens) == (500, 250, 750)
    assert p.token_count_basis == "default"


def test_context_is_input_plus_output_unless_given():
    assert profile_from_dict({"input_tokens": 3000, "output_tokens": 500}).context_tokens == 3500
    assert profile_from_dict({"input_tokens": 3000, "output_tokens": 500,
                              "context_tokens": 8192}).context_tokens == 8192


def test_context_smaller_than_input_plus_output_is_rejected():
    with pytest.raises(InvalidValueError) as err:
        profile_from_dict({"input_tokens": 3000, "output_tokens": 500, "context_tokens": 2048})
    assert err.value.field == "context_tokens"
    assert "3500" in str(err.value)


def test_token_counts_accept_suffixes():
    p = profile_from_dict({"input_tokens": "2k", "output_tokens": 300, "context_tokens": "32k"})
    assert (p.input_tokens, p.context_tokens) == (2000, 32768)
    assert p.token_count_basis == "given"


def test_tasks_accept_a_comma_separated_string_and_aliases():
    p = profile_from_dict({"tasks": "code, Tools, summarisation"})
    assert p.tasks == ("code", "tool-calling", "summarization")


def test_weights_are_normalised_keeping_their_ratio():
    w = RankingWeights(quality=2, speed=1, cost=1, energy=0, fit=0).normalized()
    assert w == {"quality": 0.5, "speed": 0.25, "cost": 0.25, "energy": 0.0, "fit": 0.0}


def test_weights_from_a_mapping_keep_defaults_for_the_rest():
    p = profile_from_dict({"weights": {"quality": 0.9}})
    assert p.weights.quality == 0.9 and p.weights.speed == RankingWeights().speed


# -- errors name the field and the allowed values --------------------------------------------

def test_unknown_task_lists_allowed_values_and_suggestion():
    with pytest.raises(InvalidValueError) as err:
        profile_from_dict({"tasks": ["chatt"]})
    msg = str(err.value)
    assert err.value.field == "tasks"
    assert "did you mean 'chat'" in msg and "summarization" in msg


def test_unknown_key_is_rejected_with_did_you_mean():
    with pytest.raises(InvalidValueError) as err:
        profile_from_dict({"taks": ["code"]})
    assert "unknown field 'taks'" in str(err.value)
    assert "did you mean 'tasks'" in str(err.value)


def test_unknown_weight_name_is_rejected_with_did_you_mean():
    with pytest.raises(InvalidValueError) as err:
        profile_from_dict({"weights": {"qualty": 1}})
    assert err.value.field == "weights.qualty"
    assert "'quality'" in str(err.value)


@pytest.mark.parametrize("weights", [{"quality": -1}, {"quality": 0, "speed": 0, "cost": 0, "energy": 0, "fit": 0}])
def test_negative_or_all_zero_weights_are_rejected(weights):
    with pytest.raises(InvalidValueError):
        profile_from_dict({"weights": weights})


@pytest.mark.parametrize(("key", "value"), [("min_quality", 120), ("max_ttft_s", 0), ("budget_per_month", -5),
                                            ("interactive", "yes"), ("target", "laptop"),
                                            ("privacy", "secret"), ("requests_per_day", -1)])
def test_out_of_range_values_name_their_field(key, value):
    with pytest.raises(InvalidValueError) as err:
        profile_from_dict({key: value})
    assert err.value.field == key


def test_direct_construction_validates_too():
    with pytest.raises(InvalidValueError, match="did you mean 'medical'"):
        TaskProfile(domain="medicine")


# -- sample documents ------------------------------------------------------------------------

def test_sample_documents_are_counted_by_words_without_a_tokenizer(tmp_path):
    (tmp_path / "a.txt").write_text(" ".join(["word"] * 300))
    (tmp_path / "b.txt").write_text(" ".join(["word"] * 150))
    p = profile_from_dict({"sample_documents": ["a.txt", "b.txt"], "output_tokens": 100}, base_dir=tmp_path)
    assert p.token_count_basis == "words"
    assert p.input_tokens == 300  # mean of 400 and 200 tokens (0.75 words per token)
    assert p.context_tokens == 500  # the longest document must fit with the answer


def test_sample_documents_use_the_tokenizer_when_given(tmp_path):
    (tmp_path / "a.txt").write_text("abcdefgh")
    p = profile_from_dict({"sample_documents": [str(tmp_path / "a.txt")]}, tokenizer=lambda t: list(t))
    assert (p.input_tokens, p.token_count_basis) == (8, "tokenizer")


def test_explicit_input_tokens_win_over_sample_documents(tmp_path):
    (tmp_path / "a.txt").write_text("one two three")
    p = profile_from_dict({"sample_documents": ["a.txt"], "input_tokens": 900}, base_dir=tmp_path)
    assert (p.input_tokens, p.token_count_basis) == (900, "given")


def test_missing_sample_document_is_reported(tmp_path):
    with pytest.raises(MissingFileError, match="nope.txt"):
        profile_from_dict({"sample_documents": ["nope.txt"]}, base_dir=tmp_path)


def test_count_tokens_word_estimate_rounds_up():
    assert count_tokens("one two three four") == (6, "words")


# -- files ---------------------------------------------------------------------------------------

def test_load_profile_resolves_documents_next_to_the_file(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "x.txt").write_text(" ".join(["w"] * 75))
    path = tmp_path / "profile.yaml"
    path.write_text("tasks: [extraction]\nsample_documents: [docs/x.txt]\ntarget: local\n")
    p = load_profile(path)
    assert (p.tasks, p.input_tokens, p.target) == (("extraction",), 100, "local")
    assert p.source == str(path)


def test_bad_value_in_a_file_names_file_line_and_field(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("tasks: [code]\ninteractive: true\ntarget: clowd\n")
    with pytest.raises(InvalidFileError) as err:
        load_profile(path)
    assert (err.value.line, err.value.field) == (3, "target")
    assert str(path) in str(err.value) and "did you mean 'cloud'" in str(err.value)


def test_unknown_key_in_a_file_names_its_line(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("tasks: [code]\n\nbudjet_per_month: 20\n")
    with pytest.raises(InvalidFileError) as err:
        load_profile(path)
    assert err.value.line == 3
    assert "budget_per_month" in str(err.value)


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("tasks: [code\ntarget: local\n")
    with pytest.raises(InvalidFileError) as err:
        load_profile(path)
    assert err.value.line is not None


def test_json_profiles_load(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"tasks": ["qa"], "privacy": "local"}))
    assert load_profile(path).privacy == "local"


def test_missing_profile_file_is_reported(tmp_path):
    with pytest.raises(MissingFileError):
        load_profile(tmp_path / "absent.yaml")


def test_to_dict_is_json_and_round_trips():
    p = profile_from_dict({"tasks": ["code", "chat"], "languages": ["en", "de"], "input_tokens": 1200,
                           "weights": {"quality": 1, "speed": 1}, "budget_per_month": 30})
    d = json.loads(json.dumps(p.to_dict()))
    assert profile_from_dict(d) == p


def test_with_overrides_rederives_the_context():
    p = with_overrides(profile_from_dict({}), input_tokens=1000)
    assert p.context_tokens == 1250


# -- cloud permission and contradictions -----------------------------------------------------

@pytest.mark.parametrize(("changes", "allowed"), [({}, True), ({"privacy": "local"}, False), ({"offline": True}, False),
                                                  ({"target": "local"}, False), ({"cloud_allowed": False}, False)])
def test_cloud_permitted_follows_privacy_offline_and_target(changes, allowed):
    assert profile_from_dict(changes).cloud_permitted is allowed


def test_consistent_profile_has_no_contradictions():
    p = profile_from_dict({"tasks": ["chat"], "interactive": True, "max_ttft_s": 1, "min_tokens_per_s": 20,
                           "target": "local", "privacy": "local", "offline": True})
    assert contradictions(p) == []


@pytest.mark.parametrize(("changes", "word"), [
    ({"target": "cloud", "offline": True}, "offline"),
    ({"target": "cloud", "privacy": "local"}, "privacy"),
    ({"target": "cloud", "cloud_allowed": False}, "cloud_allowed"),
    ({"target": "cloud", "budget_per_month": 0}, "budget"),
    ({"target": "local", "energy_budget_wh_per_day": 0}, "energy"),
    ({"input_tokens": 1_000_000, "output_tokens": 100, "max_ttft_s": 0.5}, "prompt processing"),
    ({"min_tokens_per_s": 50_000}, "min_tokens_per_s"),
])
def test_each_contradiction_is_explained(changes, word):
    found = contradictions(profile_from_dict(changes))
    assert len(found) == 1
    assert word in found[0]


def test_several_contradictions_are_all_reported():
    p = profile_from_dict({"target": "cloud", "offline": True, "privacy": "local", "cloud_allowed": False})
    assert len(contradictions(p)) == 3
