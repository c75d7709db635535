"""Reading users' examples: every format, every field alias, and errors that name file, line, field."""

from __future__ import annotations

import json

import pytest

from llmscout.errors import InvalidFileError, MissingFileError
from llmscout.trial.examples import load_examples
from llmscout.trial.types import Message


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def jsonl(tmp_path, *records, name="ex.jsonl"):
    return write(tmp_path, name, "".join(json.dumps(r) + "\n" for r in records))


def test_jsonl_reads_input_reference_choices_and_metadata(tmp_path):
    path = jsonl(tmp_path, {"id": "a", "input": "Great!", "reference": "positive",
                            "choices": ["positive", "negative"], "category": "food"})
    [ex] = load_examples(path)
    assert (ex.id, ex.input, ex.reference, ex.choices) == ("a", "Great!", "positive", ("positive", "negative"))
    assert ex.metadata == {"category": "food"}
    assert ex.source == "ex.jsonl:1"


@pytest.mark.parametrize("alias", ["expected", "output", "answer"])
def test_reference_aliases(tmp_path, alias):
    [ex] = load_examples(jsonl(tmp_path, {"input": "2+2?", alias: "4"}))
    assert ex.reference == "4"
    assert alias not in ex.metadata


def test_labels_is_an_alias_of_choices(tmp_path):
    [ex] = load_examples(jsonl(tmp_path, {"input": "x", "labels": ["yes", "no"]}))
    assert ex.choices == ("yes", "no")


def test_id_defaults_to_the_line_number(tmp_path):
    path = write(tmp_path, "ex.jsonl", '{"input": "a"}\n\n{"input": "b"}\n')
    assert [ex.id for ex in load_examples(path)] == ["1", "3"]


def test_numeric_reference_becomes_text(tmp_path):
    [ex] = load_examples(jsonl(tmp_path, {"input": "2+2?", "answer": 4}))
    assert ex.reference == "4"


def test_messages_become_message_records(tmp_path):
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    [ex] = load_examples(jsonl(tmp_path, {"messages": msgs}))
    assert ex.input == (Message("system", "Be brief."), Message("user", "Hi"))


def test_malformed_json_line_names_the_line(tmp_path):
    path = write(tmp_path, "ex.jsonl", '{"input": "a"}\n{"input": "b",}\n')
    with pytest.raises(InvalidFileError, match=r"ex\.jsonl:2: not valid JSON"):
        load_examples(path)


def test_missing_input_names_line_and_field(tmp_path):
    path = jsonl(tmp_path, {"input": "a"}, {"input": "b"}, {"question": "c"})
    with pytest.raises(InvalidFileError) as err:
        load_examples(path)
    assert (err.value.line, err.value.field) == (3, "input")
    assert str(err.value).startswith(f"{path}:3: field 'input': missing")


def test_empty_input_is_rejected(tmp_path):
    with pytest.raises(InvalidFileError, match="field 'input': empty text"):
        load_examples(jsonl(tmp_path, {"input": "   "}))


def test_wrong_type_is_rejected(tmp_path):
    with pytest.raises(InvalidFileError, match=r":1: field 'input': expected text, got a list"):
        load_examples(jsonl(tmp_path, {"input": ["a", "b"]}))


def test_unknown_role_lists_the_allowed_ones(tmp_path):
    path = jsonl(tmp_path, {"messages": [{"role": "human", "content": "hi"}]})
    with pytest.raises(InvalidFileError, match=r"field 'messages\[0\].role': unknown role 'human' "
                                               r"\(allowed: system, user, assistant\)"):
        load_examples(path)


def test_duplicate_ids_name_both_lines(tmp_path):
    path = jsonl(tmp_path, {"id": "x", "input": "a"}, {"id": "y", "input": "b"}, {"id": "x", "input": "c"})
    with pytest.raises(InvalidFileError, match=r":3: field 'id': duplicate id 'x' \(first used on line 1\)"):
        load_examples(path)


def test_two_reference_aliases_are_rejected(tmp_path):
    with pytest.raises(InvalidFileError, match="only one of reference, answer"):
        load_examples(jsonl(tmp_path, {"input": "a", "reference": "x", "answer": "y"}))


def test_reference_must_be_one_of_the_choices(tmp_path):
    path = jsonl(tmp_path, {"input": "a", "reference": "maybe", "choices": ["yes", "no"]})
    with pytest.raises(InvalidFileError, match="'maybe' is not one of the choices"):
        load_examples(path)


def test_an_error_late_in_the_file_rejects_the_whole_file(tmp_path):
    records = [{"input": f"text {i}"} for i in range(50)] + [{"input": ""}]
    with pytest.raises(InvalidFileError, match=":51:"):
        load_examples(jsonl(tmp_path, *records))


def test_max_count_stops_at_the_limit(tmp_path):
    path = jsonl(tmp_path, *[{"input": f"t{i}"} for i in range(5)])
    with pytest.raises(InvalidFileError, match=r":4: more than 3 examples"):
        load_examples(path, max_count=3)
    assert len(load_examples(path, max_count=5)) == 5


def test_csv_reads_columns_and_choices(tmp_path):
    path = write(tmp_path, "ex.csv", 'input,expected,labels,topic\n"Hello, world",yes,yes|no,greeting\n')
    [ex] = load_examples(path)
    assert (ex.input, ex.reference, ex.choices, ex.metadata) == (
        "Hello, world", "yes", ("yes", "no"), {"topic": "greeting"})
    assert ex.id == "2"


def test_csv_without_input_column_names_line_1(tmp_path):
    path = write(tmp_path, "ex.csv", "question,answer\nWhat?,That\n")
    with pytest.raises(InvalidFileError) as err:
        load_examples(path)
    assert (err.value.line, err.value.field) == (1, "input")
    assert "'input'" in str(err.value) and "['question', 'answer']" in str(err.value)


def test_csv_line_numbers_count_multiline_cells(tmp_path):
    path = write(tmp_path, "ex.csv", 'input,answer\n"two\nlines",a\n,b\n')
    with pytest.raises(InvalidFileError, match=r"ex\.csv:4: field 'input': empty text"):
        load_examples(path)


def test_csv_row_with_too_many_cells(tmp_path):
    path = write(tmp_path, "ex.csv", "input,answer\na,b,c\n")
    with pytest.raises(InvalidFileError, match=r":2: 3 cells but the header has 2"):
        load_examples(path)


def test_tsv_is_tab_separated(tmp_path):
    [ex] = load_examples(write(tmp_path, "ex.tsv", "input\treference\nA, B\tC\n"))
    assert (ex.input, ex.reference) == ("A, B", "C")


def test_yaml_list_with_field_lines(tmp_path):
    path = write(tmp_path, "ex.yaml", "- input: first\n  answer: a\n- input: second\n  role: x\n  answer: [1]\n")
    with pytest.raises(InvalidFileError) as err:
        load_examples(path)
    assert (err.value.line, err.value.field) == (5, "answer")


def test_yaml_examples_mapping_and_default_ids(tmp_path):
    path = write(tmp_path, "ex.yml", "examples:\n  - input: a\n  - input: b\n")
    assert [ex.id for ex in load_examples(path)] == ["2", "3"]


def test_json_list_knows_each_example_line(tmp_path):
    path = write(tmp_path, "ex.json", '[\n  {"input": "a"},\n  {"input": "b"},\n  {"input": 3.5, "x": {}}\n]\n')
    examples = load_examples(path)
    assert [ex.id for ex in examples] == ["2", "3", "4"]
    assert examples[2].input == "3.5"


def test_json_list_error_names_the_element_line(tmp_path):
    path = write(tmp_path, "ex.json", '[\n  {"input": "a"},\n  {"inpt": "b"}\n]')
    with pytest.raises(InvalidFileError, match=r"ex\.json:3: field 'input': missing"):
        load_examples(path)


def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(MissingFileError):
        load_examples(tmp_path / "nope.jsonl")
    with pytest.raises(InvalidFileError, match="unknown examples format '.txt'"):
        load_examples(write(tmp_path, "ex.txt", "hello"))


def test_empty_file_is_rejected(tmp_path):
    with pytest.raises(InvalidFileError, match="no examples"):
        load_examples(write(tmp_path, "ex.jsonl", "\n"))
