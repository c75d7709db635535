"""Metrics: each scorer on answers whose right score is known by hand."""

from __future__ import annotations

import pytest

from llmscout.errors import IncompatibleError, InvalidValueError, LlmscoutError
from llmscout.trial.metrics import (
    METRIC_NAMES,
    MetricSpec,
    consistency,
    extract_choice,
    extract_json,
    judge_prompt,
    normalize_answer,
    parse_judge_score,
    score,
    similarity,
    token_f1,
    validate_spec,
)
from llmscout.trial.types import Example, Message

LABELS = ["positive", "negative", "neutral"]


def ex(reference=None, choices=None, text="question?"):
    return Example(id="1", input=text, reference=reference, choices=choices, source="t.jsonl:1")


# -- normalisation, exact, contains, token F1 ---------------------------------------------------

@pytest.mark.parametrize("raw, normal", [
    ("The Cat!", "cat"),
    ("  a   quick,  brown fox. ", "quick brown fox"),
    ("An apple; the end", "apple end"),
    ("Theory of the atom", "theory of atom"),  # "the" only as a word
    ("“Paris”", "paris"),  # Unicode quotes are punctuation too
])
def test_normalize_answer_squad_style(raw, normal):
    assert normalize_answer(raw) == normal


def test_exact_ignores_case_punctuation_and_articles():
    assert score("exact", "The Eiffel tower.", ex("eiffel Tower")).passed


def test_exact_fails_on_extra_words():
    result = score("exact", "It is the Eiffel Tower", ex("Eiffel Tower"))
    assert (result.score, result.passed) == (0.0, False)
    assert "expected 'Eiffel Tower'" in result.detail


def test_exact_without_normalisation_is_strict():
    assert not score(MetricSpec("exact", params={"normalize": False}), "paris", ex("Paris")).passed


def test_contains_matches_whole_words_only():
    assert score("contains", "I think it's Paris, France.", ex("paris")).passed
    assert not score("contains", "Parisian food", ex("paris")).passed


def test_contains_case_sensitive_value():
    spec = MetricSpec("contains", params={"value": "OK", "case_sensitive": True})
    assert score(spec, "status: OK", ex()).passed
    assert not score(spec, "status: ok", ex()).passed


@pytest.mark.parametrize("pred, ref, f1", [
    ("the cat sat", "cat sat on mat", 2 * (2 / 2) * (2 / 4) / (2 / 2 + 2 / 4)),  # P=1, R=0.5
    ("a cat was sitting on the mat", "the cat sat on the mat", 2 * 0.6 * 0.75 / 1.35),
    ("blue blue red", "blue red red", 2 / 3),  # multiset overlap: blue, red
    ("dog", "cat", 0.0),
    ("", "", 1.0),
])
def test_token_f1_hand_computed(pred, ref, f1):
    assert token_f1(pred, ref) == pytest.approx(f1)


def test_token_f1_threshold_default_half():
    assert score("token_f1", "the cat sat", ex("cat sat on mat")).passed  # 0.667
    assert not score("token_f1", "the dog ran on grass", ex("cat sat on mat")).passed  # 0.25


# -- regex --------------------------------------------------------------------------------------

def test_regex_search_with_flags():
    spec = MetricSpec("regex", params={"pattern": r"^answer: \d+$", "flags": "im"})
    assert score(spec, "Thinking...\nANSWER: 42", ex()).passed
    assert not score(spec, "answer: forty-two", ex()).passed


def test_regex_full_match():
    spec = MetricSpec("regex", params={"pattern": r"\d{4}-\d{2}-\d{2}", "full": True})
    assert score(spec, " 2024-01-31\n", ex()).passed
    assert not score(spec, "Date: 2024-01-31", ex()).passed


def test_invalid_regex_is_rejected_before_scoring():
    with pytest.raises(InvalidValueError, match="params.pattern.*valid regular expression"):
        validate_spec(MetricSpec("regex", params={"pattern": "(unclosed"}))


# -- choice -------------------------------------------------------------------------------------

@pytest.mark.parametrize("output, label", [
    ("Not positive, it's negative", "negative"),
    ("Negative", "negative"),
    ("The sentiment is clearly POSITIVE.", "positive"),
    ("It isn't negative; I'd call it neutral.", "neutral"),
    ("I don't think this is negative. Positive.", "positive"),
    ("Positively glowing review -> neutral? No: positive", "neutral"),  # 'positively' is no label
    ("neutral\n\nReview: terrible. Sentiment: negative", "neutral"),  # a base model rambling on
    ("Sentiment: not bad, positive overall", "positive"),
    ("I can't tell.", None),
    ("It is not negative.", None),
])
def test_extract_choice_on_tricky_outputs(output, label):
    assert extract_choice(output, LABELS) == label


def test_extract_choice_prefers_the_longer_label_at_the_same_place():
    assert extract_choice("very positive!", ["positive", "very positive"]) == "very positive"


def test_choice_metric_scores_the_extracted_label():
    example = ex("negative", tuple(LABELS))
    assert score("choice", "Not positive, it's negative", example).passed
    wrong = score("choice", "neutral", example)
    assert not wrong.passed and "got 'neutral'" in wrong.detail


def test_choice_metric_ignores_a_reasoning_block():
    output = "<think>Could be positive... no.</think>\nnegative"
    assert score("choice", output, ex("negative", tuple(LABELS))).passed


def test_choice_metric_needs_choices():
    with pytest.raises(InvalidValueError, match="choices for metric 'choice'"):
        score("choice", "positive", ex("positive"))


# -- overlap metrics ----------------------------------------------------------------------------

def test_rouge_l_of_a_known_pair():
    # LCS of "the cat sat on the mat" / "the cat is on the mat" = 5 of 6 tokens each: F = 5/6
    result = score("rouge_l", "the cat is on the mat", ex("the cat sat on the mat"))
    assert result.score == pytest.approx(5 / 6)


def test_bleu_identical_is_one_and_unrelated_is_near_zero():
    ref = "the quick brown fox jumps over the lazy dog"
    assert score("bleu", ref, ex(ref)).score == pytest.approx(1.0)
    assert score("bleu", "completely different words here today", ex(ref)).score < 0.05


def test_chrf_rewards_close_spelling():
    ref = "internationalisation"
    assert score("chrf", "internationalization", ex(ref)).score > score("chrf", "globalism", ex(ref)).score


# -- JSON ---------------------------------------------------------------------------------------

def test_json_valid_whole_output_fenced_block_and_embedded_object():
    assert extract_json('{"a": 1}') == (True, {"a": 1})
    assert extract_json('Sure:\n```json\n{"a": [1, 2]}\n```\nDone.') == (True, {"a": [1, 2]})
    assert extract_json('The result is {"ok": true} as asked.') == (True, {"ok": True})
    assert extract_json("{not json}") == (False, None)


def test_json_valid_metric_without_extraction_needs_pure_json():
    spec = MetricSpec("json_valid", params={"extract": False})
    assert not score(spec, 'Here: {"a": 1}', ex()).passed
    assert score("json_valid", 'Here: {"a": 1}', ex()).passed


SCHEMA = {"type": "object", "required": ["name", "age"],
          "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}}}


def test_json_schema_pass():
    spec = MetricSpec("json_schema", params={"schema": SCHEMA})
    assert score(spec, '```json\n{"name": "Ada", "age": 36}\n```', ex()).passed


def test_json_schema_fail_says_where():
    spec = MetricSpec("json_schema", params={"schema": SCHEMA})
    result = score(spec, '{"name": "Ada", "age": -1}', ex())
    assert not result.passed
    assert "at age" in result.detail and "minimum" in result.detail


def test_json_schema_missing_field_fails():
    assert not score(MetricSpec("json_schema", params={"schema": SCHEMA}), '{"name": "Ada"}', ex()).passed


def test_invalid_schema_is_rejected():
    with pytest.raises(InvalidValueError, match="valid JSON Schema"):
        validate_spec(MetricSpec("json_schema", params={"schema": {"type": "banana"}}))


# -- embedding ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_embedding_paraphrase_beats_unrelated_sentence():
    paraphrase = similarity("The film was really enjoyable.", "I had a great time watching the movie.")
    unrelated = similarity("The film was really enjoyable.", "Interest rates rose by half a percent.")
    assert paraphrase > 0.5 > unrelated
    assert score("embedding", "I had a great time watching the movie.",
                 ex("The film was really enjoyable.")).score == pytest.approx(paraphrase, abs=1e-5)


# -- judge --------------------------------------------------------------------------------------

@pytest.mark.parametrize("reply, value", [
    ("Good answer.\nScore: 8", 8.0),
    ("Score: 3 ... on reflection, Score: 7", 7.0),
    ("I'd give it 6/10.", 6.0),
    ("9", 9.0),
    ("**Score:** 4", 4.0),
    ("Score: 42", None),  # out of the scale
    ("Looks fine to me.", None),
])
def test_parse_judge_score(reply, value):
    assert parse_judge_score(reply, 1, 10) == value


def test_judge_maps_the_scale_and_applies_the_threshold():
    prompts = []

    def judge(prompt):
        prompts.append(prompt)
        return "Accurate and concise.\nScore: 8"

    spec = MetricSpec("judge", params={"rubric": "Is the summary faithful?"})
    result = score(spec, "A short summary.", ex("Reference summary.", text="Long article"), judge=judge)
    assert result.score == pytest.approx((8 - 1) / 9)
    assert result.passed  # 0.78 >= 0.7
    assert "Is the summary faithful?" in prompts[0] and "A short summary." in prompts[0]
    assert "Long article" in prompts[0] and "Reference summary." in prompts[0]


def test_judge_custom_template_and_scale():
    spec = MetricSpec("judge", threshold=0.5,
                      params={"rubric": "polite?", "scale": [0, 5], "template": "{{ rubric }}|{{ output }}|{{ max }}"})
    chat = Example(id="c", input=(Message("user", "hi"),))
    assert judge_prompt(spec, "hello", chat) == "polite?|hello|5.0"
    assert not score(spec, "hello", chat, judge=lambda p: "Score: 2").passed


def test_judge_without_a_score_fails_with_detail():
    spec = MetricSpec("judge", params={"rubric": "r"})
    result = score(spec, "x", ex(), judge=lambda p: "No idea.")
    assert not result.passed and "no score" in result.detail


def test_judge_needs_a_judge_callable():
    with pytest.raises(IncompatibleError, match="judge model"):
        score(MetricSpec("judge", params={"rubric": "r"}), "x", ex())


# -- user's python function ---------------------------------------------------------------------

def test_python_function_from_a_file(tmp_path):
    (tmp_path / "checks.py").write_text(
        "def is_short(output, example):\n    return len(output.split()) <= 3\n"
        "def ratio(output, example):\n    return len(output) / 10\n"
        "def both(output, example):\n    return 0.2, True\n"
        "def bad(output, example):\n    return 'yes'\n")
    fn = f"{tmp_path / 'checks.py'}:"
    assert score(MetricSpec("python", params={"function": fn + "is_short"}), "ok then", ex()).passed
    assert score(MetricSpec("python", params={"function": fn + "ratio"}), "1234", ex()).score == pytest.approx(0.4)
    both = score(MetricSpec("python", params={"function": fn + "both"}), "x", ex())
    assert (both.score, both.passed) == (0.2, True)
    with pytest.raises(InvalidValueError, match="a bool, a number"):
        score(MetricSpec("python", params={"function": fn + "bad"}), "x", ex())


def test_python_function_missing_name_suggests(tmp_path):
    (tmp_path / "m.py").write_text("def is_short(output, example):\n    return True\n")
    with pytest.raises(InvalidValueError, match="did you mean 'is_short'"):
        validate_spec(MetricSpec("python", params={"function": f"{tmp_path / 'm.py'}:is_shrt"}))


def test_python_function_that_raises_names_the_example(tmp_path):
    (tmp_path / "boom.py").write_text("def f(output, example):\n    raise KeyError('x')\n")
    with pytest.raises(LlmscoutError, match=r"raised KeyError.*t\.jsonl:1"):
        score(MetricSpec("python", params={"function": f"{tmp_path / 'boom.py'}:f"}), "x", ex())


# -- registry, thresholds, consistency ----------------------------------------------------------

def test_every_named_metric_is_registered():
    assert set(METRIC_NAMES) == {"exact", "contains", "regex", "choice", "token_f1", "rouge_l", "bleu",
                                 "chrf", "json_valid", "json_schema", "embedding", "judge", "python"}


def test_unknown_metric_suggests_the_closest():
    with pytest.raises(InvalidValueError, match="did you mean 'token_f1'"):
        score("token-f1", "a", ex("a"))


def test_unknown_parameter_is_rejected():
    with pytest.raises(InvalidValueError, match="params.patern.*did you mean 'pattern'"):
        validate_spec(MetricSpec("regex", params={"patern": "x", "pattern": "y"}))


def test_threshold_overrides_the_default():
    spec = MetricSpec("token_f1", threshold=0.9)
    assert spec.pass_threshold == 0.9
    assert not score(spec, "the cat sat", ex("cat sat on mat")).passed


def test_metric_needing_a_reference_rejects_an_example_without_one():
    with pytest.raises(InvalidValueError, match="reference for metric 'exact'"):
        score("exact", "a", ex())


def test_consistency_is_the_majority_share():
    assert consistency(["Paris.", "paris", "The Paris", "Lyon"]) == 0.75
    assert consistency(["a"]) == 1.0


def test_consistency_over_extracted_labels():
    outs = ["Positive.", "It is positive", "negative"]
    assert consistency(outs, LABELS) == pytest.approx(2 / 3)
    assert consistency(outs) == pytest.approx(1 / 3)  # as plain text all three differ


def test_consistency_needs_outputs():
    with pytest.raises(InvalidValueError):
        consistency([])
