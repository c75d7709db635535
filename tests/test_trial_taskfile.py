"""Task files: every field parsed, every mistake named by file, line and field, the sample task."""

from __future__ import annotations

import json
import textwrap
from collections import Counter

import pytest

from llmscout.errors import InvalidFileError, MissingFileError
from llmscout.trial.metrics import score
from llmscout.trial.taskfile import (
    DEFAULT_SYSTEM_PROMPT,
    SAMPLE_TASK,
    Bar,
    load_task,
    sample_task,
)
from llmscout.trial.types import GenerationSettings, Message, MetricResult

EXAMPLES = [{"id": f"e{i}", "input": f"text number {i}", "reference": "yes" if i % 2 else "no",
             "choices": ["yes", "no"], "topic": f"t{i}"} for i in range(10)]


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "ex.jsonl").write_text("".join(json.dumps(e) + "\n" for e in EXAMPLES))
    return tmp_path


def task_file(folder, body, name="task.yaml"):
    path = folder / name
    path.write_text(textwrap.dedent(body))
    return path


def minimal(folder, extra=""):
    return task_file(folder, "name: t\nexamples: ex.jsonl\n" + textwrap.dedent(extra))


def error_of(path):
    with pytest.raises(InvalidFileError) as err:
        load_task(path).load_examples()
    return err.value


# -- defaults and fields ------------------------------------------------------------------------

def test_minimal_task_has_defaults(folder):
    task = load_task(minimal(folder))
    assert task.examples == folder / "ex.jsonl"
    assert task.system_prompts == (DEFAULT_SYSTEM_PROMPT,)
    assert [m.name for m in task.metrics] == ["exact"]
    assert (task.pass_rule, task.shots, task.few_shot, task.seed) == ("all", (0,), None, 0)
    assert task.generation == GenerationSettings()
    assert task.bar == Bar(pass_rate=0.8, confidence=0.95)


def test_full_task_parses_every_field(folder):
    (folder / "tiny.gguf").write_bytes(b"GGUF")
    path = minimal(folder, """
        system_prompts: ["Be brief.", ""]
        prompt_template: "Q: {{ input }} ({{ topic }})\\nA:"
        metrics:
          - choice
          - {name: regex, pattern: "^(yes|no)$", flags: i, primary: true}
        pass_rule: primary
        few_shot: {split: 3}
        shots: [0, 1, 3]
        generation: {max_tokens: 5, temperature: 0.7, n: 4, stop: "\\n"}
        bar: {pass_rate: 0.9, confidence: 0.99}
        candidates: [qwen2.5-0.5b-instruct, tiny.gguf, "ollama:llama3.2"]
        max_examples: 4
        seed: 7
        cloud_last: true
        """)
    task = load_task(path)
    assert task.system_prompts == ("Be brief.", "")
    assert task.metrics[1].params == {"pattern": "^(yes|no)$", "flags": "i"}
    assert task.primary_metric.name == "regex"
    assert task.generation == GenerationSettings(max_tokens=5, temperature=0.7, n=4, stop=("\n",))
    assert task.bar == Bar(0.9, 0.99)
    assert task.candidates.models == ("qwen2.5-0.5b-instruct", str(folder / "tiny.gguf"), "ollama:llama3.2")
    assert (task.max_examples, task.seed, task.cloud_last, task.shots) == (4, 7, True, (0, 1, 3))


def test_json_task_file(folder):
    path = folder / "task.json"
    path.write_text(json.dumps({"name": "t", "examples": "ex.jsonl", "metrics": ["token_f1"]}))
    assert load_task(path).metrics[0].name == "token_f1"


# -- errors name file, line and field -----------------------------------------------------------

def test_unknown_key_suggests_the_right_one(folder):
    path = minimal(folder, "seed: 1\nsytem_prompts: [x]\n")
    with pytest.raises(InvalidFileError) as err:
        load_task(path)
    assert (err.value.line, err.value.field) == (4, "sytem_prompts")
    assert "did you mean 'system_prompts'?" in str(err.value) and "allowed: name," in str(err.value)


def test_bad_pass_rule_lists_the_allowed_values(folder):
    path = minimal(folder, "pass_rule: most\n")
    with pytest.raises(InvalidFileError, match=r"task\.yaml:3: field 'pass_rule': 'most' is not valid.*"
                                               r"\(allowed: all, any, primary\)"):
        load_task(path)


def test_missing_examples_field(folder):
    with pytest.raises(InvalidFileError, match="field 'examples': missing"):
        load_task(task_file(folder, "name: t\n"))


def test_examples_file_not_found_names_the_line(folder):
    with pytest.raises(InvalidFileError, match=r"task\.yaml:2: field 'examples': file not found"):
        load_task(task_file(folder, "name: t\nexamples: nope.jsonl\n"))


def test_missing_task_file(tmp_path):
    with pytest.raises(MissingFileError):
        load_task(tmp_path / "none.yaml")


def test_unknown_metric_names_its_line(folder):
    path = minimal(folder, "metrics:\n  - exact\n  - name: rouge-l\n")
    with pytest.raises(InvalidFileError) as err:
        load_task(path)
    assert (err.value.line, err.value.field) == (5, "metrics[1].name")
    assert "did you mean 'rouge_l'?" in str(err.value)


def test_bad_metric_parameter_names_its_line(folder):
    path = minimal(folder, """
        metrics:
          - name: regex
            params:
              pattern: "([a-z]"
        """)
    with pytest.raises(InvalidFileError) as err:
        load_task(path)
    assert (err.value.line, err.value.field) == (7, "metrics[0].params.pattern")


def test_unknown_metric_key_suggests_a_parameter(folder):
    path = minimal(folder, "metrics:\n  - {name: regex, patern: x}\n")
    with pytest.raises(InvalidFileError, match="metrics\\[0\\].patern'.*did you mean 'pattern'"):
        load_task(path)


def test_two_primary_metrics_rejected(folder):
    path = minimal(folder, "metrics: [{name: exact, primary: true}, {name: contains, primary: true}]\n")
    with pytest.raises(InvalidFileError, match="only one metric"):
        load_task(path)


def test_generation_values_are_checked(folder):
    with pytest.raises(InvalidFileError, match=r"field 'generation.temperature': -1 is not valid"):
        load_task(minimal(folder, "generation: {temperature: -1}\n"))
    with pytest.raises(InvalidFileError, match="generation.max_token'.*did you mean 'max_tokens'"):
        load_task(minimal(folder, "generation: {max_token: 5}\n"))


def test_bar_out_of_range(folder):
    with pytest.raises(InvalidFileError, match=r"field 'bar.pass_rate': 1.5 is not valid: expected a number in \[0, 1\]"):
        load_task(minimal(folder, "bar: {pass_rate: 1.5}\n"))


def test_template_syntax_error(folder):
    with pytest.raises(InvalidFileError, match="field 'prompt_template': not a valid Jinja template"):
        load_task(minimal(folder, 'prompt_template: "{{ input "\n'))


def test_template_variable_missing_from_an_example_names_the_example(folder):
    with open(folder / "ex.jsonl", "a") as fh:
        fh.write(json.dumps({"id": "late", "input": "no topic here", "reference": "no"}) + "\n")
    err = error_of(minimal(folder, 'prompt_template: "{{ input }} / {{ topic }}"\n'))
    assert (err.path, err.line, err.field) == (str(folder / "ex.jsonl"), 11, "prompt_template")
    assert "'topic' is undefined" in str(err)


def test_metric_needing_a_reference_checks_every_example(folder):
    with open(folder / "ex.jsonl", "a") as fh:
        fh.write(json.dumps({"id": "noref", "input": "x"}) + "\n")
    err = error_of(minimal(folder, "metrics: [token_f1]\n"))
    assert (err.line, err.field) == (11, "reference")


def test_shots_need_a_pool(folder):
    with pytest.raises(InvalidFileError, match="field 'shots': shots above 0 need examples"):
        load_task(minimal(folder, "shots: [0, 2]\n"))


def test_candidates_from_recommend_is_validated_as_a_profile(folder):
    path = minimal(folder, "candidates:\n  from_recommend: {tasks: [classification], target: mars}\n")
    with pytest.raises(InvalidFileError) as err:
        load_task(path)
    assert err.value.field == "candidates.from_recommend.target" and err.value.line == 4


def test_candidates_gguf_path_must_exist(folder):
    with pytest.raises(InvalidFileError, match=r"field 'candidates\[1\]': file not found"):
        load_task(minimal(folder, "candidates: [some-model, missing.gguf]\n"))


# -- prompts, pass rule -------------------------------------------------------------------------

def test_render_uses_input_and_metadata_but_not_the_reference(folder):
    task = load_task(minimal(folder, 'prompt_template: "{{ input }} [{{ topic }}] {{ choices|join(\'/\') }}"\n'))
    scored, _ = task.load_examples()
    assert task.render(scored[0]) == "text number 0 [t0] yes/no"
    bad = load_task(minimal(folder, 'prompt_template: "{{ reference }}"\n'))
    with pytest.raises(InvalidFileError, match="'reference' is undefined"):
        bad.load_examples()


def test_render_chat_example_fills_the_last_user_message(folder):
    (folder / "chat.jsonl").write_text(json.dumps({"messages": [
        {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "bye"}], "answer": "ciao"}) + "\n")
    task = load_task(task_file(folder, 'name: c\nexamples: chat.jsonl\nprompt_template: "Q: {{ input }}"\n'))
    [example], _ = task.load_examples()
    assert task.render(example) == (Message("user", "hi"), Message("assistant", "hello"), Message("user", "Q: bye"))


@pytest.mark.parametrize("rule, expected", [("all", False), ("any", True), ("primary", True)])
def test_pass_rules(folder, rule, expected):
    task = load_task(minimal(folder, f"metrics: [exact, {{name: contains, primary: true}}]\npass_rule: {rule}\n"))
    results = [MetricResult("exact", 0.0, False), MetricResult("contains", 1.0, True)]
    assert task.passes(results) is expected


# -- few-shot pool and subsets ------------------------------------------------------------------

def test_split_takes_a_seeded_disjoint_pool(folder):
    task = load_task(minimal(folder, "few_shot: {split: 3}\nshots: [0, 3]\nseed: 5\n"))
    scored, pool = task.load_examples()
    assert (len(scored), len(pool)) == (7, 3)
    assert not {e.id for e in scored} & {e.id for e in pool}
    assert [e.id for e in task.load_examples()[1]] == [e.id for e in pool]  # same seed, same pool


def test_split_larger_than_the_shots_it_serves(folder):
    with pytest.raises(InvalidFileError, match="6 shots but few_shot.split keeps only 3"):
        load_task(minimal(folder, "few_shot: {split: 3}\nshots: [6]\n"))


def test_pool_file_overlapping_the_scored_set_is_rejected(folder):
    (folder / "pool.jsonl").write_text(json.dumps({"input": "other", "reference": "no"}) + "\n"
                                       + json.dumps({"input": "TEXT number 4.", "reference": "no"}) + "\n")
    err = error_of(minimal(folder, "few_shot: {pool: pool.jsonl}\nshots: [0, 1]\n"))
    assert (err.line, err.field) == (5, "input")
    assert "also in the few-shot pool (pool.jsonl:2)" in str(err)


def test_pool_smaller_than_the_shots(folder):
    (folder / "pool.jsonl").write_text(json.dumps({"input": "other", "reference": "no"}) + "\n")
    err = error_of(minimal(folder, "few_shot: {pool: pool.jsonl}\nshots: [2]\n"))
    assert "2 shots asked but the few-shot pool has 1" in str(err)


def test_max_examples_keeps_a_seeded_sample_in_file_order(folder):
    task = load_task(minimal(folder, "max_examples: 4\nseed: 3\n"))
    ids = [e.id for e in task.load_examples()[0]]
    assert len(ids) == 4 and ids == sorted(ids, key=lambda i: int(i[1:]))
    assert ids == [e.id for e in task.load_examples()[0]]


# -- metric files -------------------------------------------------------------------------------

def test_python_metric_path_is_relative_to_the_task_file(folder):
    (folder / "checks.py").write_text("def short(output, example):\n    return len(output) < 5\n")
    task = load_task(minimal(folder, "metrics: [{name: python, function: 'checks.py:short'}]\n"))
    [example, *_], _ = task.load_examples()
    assert score(task.metrics[0], "abc", example).passed


def test_python_metric_missing_file_names_the_line(folder):
    with pytest.raises(InvalidFileError, match=r"task\.yaml:4: field 'metrics\[0\].params.function'"):
        load_task(minimal(folder, "metrics:\n  - {name: python, function: 'nope.py:f'}\n"))


def test_json_schema_from_a_file(folder):
    (folder / "schema.json").write_text(json.dumps({"type": "object", "required": ["a"]}))
    task = load_task(minimal(folder, "metrics: [{name: json_schema, schema_file: schema.json}]\n"))
    assert task.metrics[0].params["schema"] == {"type": "object", "required": ["a"]}


# -- fingerprint --------------------------------------------------------------------------------

def test_fingerprint_is_stable_and_follows_the_examples_content(folder):
    path = minimal(folder)
    first = load_task(path).fingerprint()
    assert load_task(path).fingerprint() == first and len(first) == 64
    with open(folder / "ex.jsonl", "a") as fh:
        fh.write(json.dumps({"input": "one more"}) + "\n")
    assert load_task(path).fingerprint() != first


def test_fingerprint_changes_with_the_template_not_with_the_bar(folder):
    base = load_task(minimal(folder)).fingerprint()
    assert load_task(minimal(folder, 'prompt_template: "Q: {{ input }}"\n')).fingerprint() != base
    assert load_task(minimal(folder, "bar: {pass_rate: 0.5}\n")).fingerprint() == base


def test_fingerprint_follows_a_python_metric_file(folder):
    (folder / "m.py").write_text("def f(output, example):\n    return True\n")
    path = minimal(folder, "metrics: [{name: python, function: 'm.py:f'}]\n")
    before = load_task(path).fingerprint()
    (folder / "m.py").write_text("def f(output, example):\n    return False\n")
    assert load_task(path).fingerprint() != before


# -- the shipped sample task --------------------------------------------------------------------

def test_sample_task_is_what_the_docs_promise():
    task = sample_task()
    assert task.path == SAMPLE_TASK
    assert [m.name for m in task.metrics] == ["choice"]
    assert task.shots == (0, 1, 3) and task.bar.pass_rate == 0.6
    assert "{{ input }}" in task.prompt_template and task.prompt_template.rstrip().endswith("Sentiment:")


def test_sample_examples_are_balanced_and_disjoint_from_the_pool():
    scored, pool = sample_task().load_examples()
    assert len(scored) >= 60 and len(pool) == 8
    counts = Counter(e.reference for e in scored)
    assert set(counts) == {"positive", "negative", "neutral"} and min(counts.values()) >= 20
    assert set(Counter(e.reference for e in pool)) == {"positive", "negative", "neutral"}
    assert all(e.choices == ("positive", "negative", "neutral") for e in scored + pool)


def test_sample_task_scores_a_perfect_answer_sheet():
    task = sample_task()
    scored, _ = task.load_examples()
    results = [task.passes([score(task.metrics[0], f"Sentiment: {e.reference}", e)]) for e in scored]
    assert all(results)
