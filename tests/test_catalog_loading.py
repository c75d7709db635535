"""Catalog files: good entries load; bad ones fail with file, line and field named."""

from __future__ import annotations

import textwrap

import pytest

from llmscout.catalog import bundled_catalog, load_catalog
from llmscout.catalog._load import parse_catalog_file
from llmscout.catalog.query import ModelFilter, parse_context, parse_count, select_models
from llmscout.catalog.user import import_model
from llmscout.errors import InvalidFileError, InvalidValueError, UnknownModelError

GOOD = """\
models:
  - id: acme/tiny-1
    name: Tiny 1
    family: tiny
    developer: Acme
    kind: open
    license: apache-2.0
    params: 1000
    tuning: [instruct]
    sources: {identity: https://example.org/tiny}
"""


def _write(tmp_path, text, name="m.yaml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_a_valid_user_file_adds_its_models(tmp_path, _isolated_home):
    _write(_isolated_home, GOOD, "models.yaml")
    model = load_catalog().get("acme/tiny-1")
    assert model.origin == "user"
    assert model.tuning == ("instruct",)
    assert "acme/tiny-1" not in bundled_catalog()


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    p = _write(tmp_path, GOOD + "  - id: [unclosed\n")
    with pytest.raises(InvalidFileError) as err:
        parse_catalog_file(p)
    assert err.value.path == str(p) and err.value.line == 12
    assert "m.yaml:12" in str(err.value)


def test_bad_field_value_names_entry_line_and_field(tmp_path):
    p = _write(tmp_path, GOOD.replace("params: 1000", "params: lots"))
    with pytest.raises(InvalidFileError) as err:
        parse_catalog_file(p)
    assert err.value.field == "models[0].params" and err.value.line == 2


def test_unknown_field_is_rejected_not_ignored(tmp_path):
    p = _write(tmp_path, GOOD + "    paramz: 5\n")
    with pytest.raises(InvalidFileError, match="paramz"):
        parse_catalog_file(p)


def test_unknown_tuning_lists_the_allowed_values(tmp_path):
    p = _write(tmp_path, GOOD.replace("[instruct]", "[chatty]"))
    with pytest.raises(InvalidFileError, match="instruct"):
        parse_catalog_file(p)


def test_open_model_without_params_is_rejected(tmp_path):
    p = _write(tmp_path, GOOD.replace("    params: 1000\n", ""))
    with pytest.raises(InvalidFileError, match="parameter count"):
        parse_catalog_file(p)


def test_cloud_model_needs_prices(tmp_path):
    p = _write(tmp_path, GOOD.replace("kind: open", "kind: cloud"))
    with pytest.raises(InvalidFileError, match="provider and prices"):
        parse_catalog_file(p)


def test_defaults_are_merged_and_sources_merged_key_by_key(tmp_path):
    text = "defaults:\n  developer: Acme\n  sources: {license: L}\n" + GOOD.replace("    developer: Acme\n", "")
    models, _ = parse_catalog_file(_write(tmp_path, text))
    assert models[0].developer == "Acme"
    assert models[0].sources == {"license": "L", "identity": "https://example.org/tiny"}


def test_unknown_id_suggests_close_ids():
    with pytest.raises(UnknownModelError) as err:
        bundled_catalog().get("gemma-3-27m")
    assert "google/gemma-3-270m" in err.value.suggestions or "gemma-3-270m" in err.value.suggestions


def test_lookup_is_case_insensitive_and_accepts_short_ids():
    assert bundled_catalog().get("GOOGLE/GEMMA-3-270M").id == "google/gemma-3-270m"
    assert bundled_catalog().get("gemma-3-270m").id == "google/gemma-3-270m"


def test_import_of_a_catalog_file_persists_under_home(tmp_path, _isolated_home):
    added = import_model(_write(tmp_path, GOOD))
    assert [m.id for m in added] == ["acme/tiny-1"]
    assert (_isolated_home / "models.d" / "m.yaml").is_file()
    assert load_catalog().get("acme/tiny-1").params == 1000


def test_size_and_context_parsing():
    assert parse_count("7B") == 7_000_000_000
    assert parse_count("360M") == 360_000_000
    assert parse_context("128k") == 131072
    with pytest.raises(InvalidValueError):
        parse_count("seven")
    with pytest.raises(InvalidValueError):
        parse_count("-1B")


def test_filters_select_only_matching_models():
    cat = bundled_catalog()
    small = select_models(cat, ModelFilter(max_params=parse_count("1B"), kind="open"))
    assert small and all(m.params <= 1e9 for m in small)
    instruct = select_models(cat, ModelFilter(tuning="instruct"))
    assert all("instruct" in m.tuning for m in instruct)
    by_size = select_models(cat, ModelFilter(kind="open"), sort="-params")
    sizes = [m.params for m in by_size]
    assert sizes == sorted(sizes, reverse=True)
    with pytest.raises(InvalidValueError):
        ModelFilter(tuning="smart")
