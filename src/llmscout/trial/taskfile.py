"""The task file: what a trial verifies - examples, prompts, metrics, the bar, the candidates.

A task file is YAML (or JSON). Paths in it are relative to the file itself::

    name: review-sentiment
    examples: reviews.jsonl            # .jsonl / .csv / .tsv / .yaml / .json, see trial.examples
    system_prompts:                    # one, or several to compare
      - "Classify the sentiment of the review. Answer with one word."
    prompt_template: "Review: {{ input }}\\nSentiment:"   # Jinja over input, choices, metadata
    metrics:
      - choice                         # a name, or {name, threshold, params, primary}
      - {name: regex, params: {pattern: "^\\\\w+$"}}
    pass_rule: primary                 # all | any | primary (the metric marked primary, or the first)
    few_shot: {pool: shots.jsonl}      # or {split: 8}: take 8 examples out of the examples file
    shots: [0, 1, 3]
    generation: {max_tokens: 8, temperature: 0}
    bar: {pass_rate: 0.8, confidence: 0.95}
    candidates: [qwen2.5-0.5b-instruct, ./models/tiny.gguf, ollama:llama3.2]
    # or: candidates: {from_recommend: {tasks: [classification], target: local}, top: 5}
    max_examples: 100                  # score a seeded sample of at most this many
    seed: 0
    cloud_last: true                   # try cloud models only after the local ones

``load_task`` checks everything it can without the examples (unknown keys with did-you-mean,
values with the allowed ones, metric parameters, template syntax); ``TaskFile.load_examples``
then checks the examples against the task (template variables, references the metrics need, no
overlap between the scored set and the few-shot pool) before anything runs. Errors name the
file, the line and the field.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, get_args

from llmscout.errors import (
    InvalidFileError,
    InvalidValueError,
    MissingFileError,
    did_you_mean,
)
from llmscout.trial.examples import load_examples as _read_examples
from llmscout.trial.metrics import MetricSpec, missing_fields, validate_spec
from llmscout.trial.types import Example, GenerationSettings, Message, MetricResult

PassRule = Literal["all", "any", "primary"]
PASS_RULES: tuple[str, ...] = get_args(PassRule)
DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant. Answer the user's request concisely."
DEFAULT_TEMPLATE = "{{ input }}"
SAMPLE_TASK = Path(__file__).parent / "data" / "sample_task.yaml"

_KEYS = ("name", "description", "examples", "system_prompts", "system_prompt", "prompt_template",
         "metrics", "pass_rule", "few_shot", "shots", "generation", "bar", "candidates",
         "max_examples", "seed", "cloud_last")
_METRIC_KEYS = ("name", "threshold", "params", "primary")


@dataclass(frozen=True, slots=True)
class FewShot:
    """Where worked examples for k-shot prompts come from: a pool file, or ``split`` examples."""

    pool: Path | None = None
    split: int | None = None


@dataclass(frozen=True, slots=True)
class Bar:
    """What "good enough" means: pass rate, and the confidence that the true rate reaches it."""

    pass_rate: float = 0.8
    confidence: float = 0.95


@dataclass(frozen=True, slots=True)
class Candidates:
    """Models to try: explicit ids / GGUF paths / endpoint names, and/or the top of a ranking."""

    models: tuple[str, ...] = ()
    from_recommend: Mapping[str, Any] | None = None  # task profile fields (recommend.profile)
    top: int = 5


@dataclass(frozen=True, slots=True)
class TaskFile:
    """A loaded, validated task file (see the module docstring for the format)."""

    path: Path
    name: str
    examples: Path
    description: str = ""
    system_prompts: tuple[str, ...] = (DEFAULT_SYSTEM_PROMPT,)
    prompt_template: str = DEFAULT_TEMPLATE
    metrics: tuple[MetricSpec, ...] = (MetricSpec("exact"),)
    pass_rule: PassRule = "all"
    few_shot: FewShot | None = None
    shots: tuple[int, ...] = (0,)
    generation: GenerationSettings = field(default_factory=GenerationSettings)
    bar: Bar = field(default_factory=Bar)
    candidates: Candidates = field(default_factory=Candidates)
    max_examples: int | None = None
    seed: int = 0
    cloud_last: bool = False

    @property
    def primary_metric(self) -> MetricSpec:
        return next((m for m in self.metrics if m.primary), self.metrics[0])

    def passes(self, results: Sequence[MetricResult]) -> bool:
        """Whether one output passes, given its results in the order of ``metrics``."""
        if len(results) != len(self.metrics):
            raise InvalidValueError("results", len(results), f"{len(self.metrics)} metric results")
        if self.pass_rule == "any":
            return any(r.passed for r in results)
        if self.pass_rule == "primary":
            return results[self.metrics.index(self.primary_metric)].passed
        return all(r.passed for r in results)

    def render(self, example: Example) -> str | tuple[Message, ...]:
        """The prompt for ``example``: the template over its text (or its last user message).

        Template variables: ``input``, ``id``, ``choices`` and every metadata field. The
        reference answer is deliberately not available.
        """
        template = _compiled(self.prompt_template)
        values = {**example.metadata, "id": example.id, "choices": list(example.choices or ())}
        if isinstance(example.input, str):
            return template.render(values, input=example.input)
        last = max(i for i, m in enumerate(example.input) if m.role == "user")
        msg = example.input[last]
        new = Message(role=msg.role, content=template.render(values, input=msg.content))
        return example.input[:last] + (new,) + example.input[last + 1:]

    def load_examples(self) -> tuple[list[Example], list[Example]]:
        """``(scored, pool)``, both checked against this task before anything runs.

        Raises:
            InvalidFileError: a bad example, a template variable an example lacks, a reference a
                metric needs, a pool smaller than the largest shot count, or an example that is
                both scored and in the pool; names the file, line and field.
        """
        examples = _read_examples(self.examples)
        scored, pool = examples, list[Example]()
        if self.few_shot and self.few_shot.split:
            scored, pool = _split(examples, self.few_shot.split, self.seed, self.examples)
        elif self.few_shot and self.few_shot.pool:
            pool = _read_examples(self.few_shot.pool)
        _check_pool(scored, pool, self.few_shot, max(self.shots), self.examples)
        if self.max_examples is not None and len(scored) > self.max_examples:
            keep = set(random.Random(self.seed).sample(range(len(scored)), self.max_examples))
            scored = [ex for i, ex in enumerate(scored) if i in keep]
        for ex in scored:
            for spec in self.metrics:
                need = missing_fields(spec, ex)
                if need:
                    raise _example_error(self.examples, ex, need,
                                         f"missing: metric '{spec.name}' needs a {need}")
        for ex, where in [(e, self.examples) for e in scored] + [(e, _pool_path(self, e)) for e in pool]:
            self._check_render(ex, where)
        return scored, pool

    def _check_render(self, example: Example, path: Path) -> None:
        from jinja2 import TemplateError

        try:
            self.render(example)
        except TemplateError as exc:
            raise _example_error(path, example, "prompt_template",
                                 f"the template cannot be filled for this example: {exc}") from None

    def fingerprint(self) -> str:
        """sha256 of everything that changes per-example results, including the examples' bytes.

        Included: the examples (and pool) file contents, few-shot split, system prompts, prompt
        template, metrics (with a python metric's file contents), pass rule, shots, generation
        settings, max_examples and seed. Not included: name, description, bar, candidates and
        cloud_last (they change which models are tried or the verdict, not a result).
        """
        few = self.few_shot
        data = {
            "examples": _file_sha256(self.examples),
            "pool": _file_sha256(few.pool) if few and few.pool else None,
            "split": few.split if few else None,
            "system_prompts": list(self.system_prompts),
            "prompt_template": self.prompt_template,
            "metrics": [_metric_fingerprint(m) for m in self.metrics],
            "pass_rule": self.pass_rule,
            "shots": list(self.shots),
            "generation": asdict(self.generation),
            "max_examples": self.max_examples,
            "seed": self.seed,
        }
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                               default=str)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["metrics"] = [m.to_dict() for m in self.metrics]
        return json.loads(json.dumps(out, default=str))


def load_task(path: str | Path) -> TaskFile:
    """Read and validate a task file (YAML or JSON).

    Raises:
        MissingFileError: the task file, or a file it names, does not exist.
        InvalidFileError: a syntax error, an unknown key (with did-you-mean), a missing or bad
            value (with the allowed values); names the file, the line and the field.

    Example:
        >>> task = load_task(SAMPLE_TASK)
        >>> task.name, task.shots
        ('review-sentiment', (0, 1, 3))
    """
    from llmscout.catalog._load import read_document

    p = Path(path).expanduser()
    if not p.is_file():
        raise MissingFileError(p, "give a task file (see 'llmscout trial --help' for the format)")
    doc = read_document(p)
    return _Parser(p, _node_lines(p)).task(doc)


def sample_task() -> TaskFile:
    """The task shipped with llmscout: sentiment of short product and service reviews."""
    return load_task(SAMPLE_TASK)


class _Parser:
    """Turns a parsed task file into a ``TaskFile``; every error names file, line and field."""

    def __init__(self, path: Path, lines: Mapping[str, int]) -> None:
        self.path = path
        self.base = path.parent
        self.lines = lines

    def fail(self, fld: str, problem: str) -> InvalidFileError:
        key = fld
        while key and key not in self.lines:  # the nearest enclosing key that has a line
            key = re.sub(r"(\.[^.\[]*|\[\d+\])$", "", key) if re.search(r"[.\]]", key) else ""
        return InvalidFileError(self.path, problem, line=self.lines.get(key), field=fld)

    def unknown(self, data: Mapping[str, Any], allowed: Sequence[str], prefix: str = "") -> None:
        for key in data:
            if key not in allowed:
                near = did_you_mean(str(key), allowed)
                hint = f" - did you mean '{near[0]}'?" if near else ""
                raise self.fail(prefix + str(key), f"unknown key{hint} (allowed: {', '.join(allowed)})")

    def task(self, doc: Any) -> TaskFile:
        if not isinstance(doc, Mapping):
            raise InvalidFileError(self.path, "expected a mapping of task fields (name, examples, ...)")
        self.unknown(doc, _KEYS)
        for key in ("name", "examples"):
            if doc.get(key) in (None, ""):
                raise self.fail(key, "missing: every task file needs 'name' and 'examples'")
        few_shot = self.few_shot(doc.get("few_shot"))
        shots = self.shots(doc.get("shots"), few_shot)
        return TaskFile(
            path=self.path, name=self.text(doc["name"], "name"),
            examples=self.file(doc["examples"], "examples"),
            description=self.text(doc.get("description") or "", "description", empty=True),
            system_prompts=self.system_prompts(doc),
            prompt_template=self.template(doc.get("prompt_template", DEFAULT_TEMPLATE)),
            metrics=self.metrics(doc.get("metrics")),
            pass_rule=self.choice(doc.get("pass_rule", "all"), "pass_rule", PASS_RULES),
            few_shot=few_shot, shots=shots,
            generation=self.generation(doc.get("generation")),
            bar=self.bar(doc.get("bar")),
            candidates=self.candidates(doc.get("candidates")),
            max_examples=self.integer(doc.get("max_examples"), "max_examples", 1, optional=True),
            seed=self.integer(doc.get("seed", 0), "seed", 0),
            cloud_last=self.boolean(doc.get("cloud_last", False), "cloud_last"),
        )

    # -- small value checks

    def text(self, value: Any, fld: str, *, empty: bool = False) -> str:
        if not isinstance(value, str):
            raise self.fail(fld, f"expected text, got {type(value).__name__}")
        if not empty and not value.strip():
            raise self.fail(fld, "empty text")
        return value

    def integer(self, value: Any, fld: str, minimum: int, *, optional: bool = False) -> Any:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(fld, f"{value!r} is not valid: expected a whole number >= {minimum}")
        return value

    def number(self, value: Any, fld: str, low: float, high: float, *, open_low: bool = False) -> float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or value > high or value < low or (open_low and value == low):
            side = "(" if open_low else "["
            raise self.fail(fld, f"{value!r} is not valid: expected a number in {side}{low:g}, {high:g}]")
        return float(value)

    def boolean(self, value: Any, fld: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(fld, f"{value!r} is not valid: expected true or false")
        return value

    def choice(self, value: Any, fld: str, allowed: Sequence[str]) -> Any:
        if value not in allowed:
            near = did_you_mean(str(value), allowed)
            hint = f" - did you mean '{near[0]}'?" if near else ""
            raise self.fail(fld, f"{value!r} is not valid{hint} (allowed: {', '.join(allowed)})")
        return value

    def mapping(self, value: Any, fld: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(fld, f"expected a mapping, got {type(value).__name__}")
        return value

    def file(self, value: Any, fld: str) -> Path:
        p = Path(self.text(value, fld)).expanduser()
        p = p if p.is_absolute() else self.base / p
        if not p.is_file():
            raise self.fail(fld, f"file not found: {p} (paths are relative to the task file)")
        return p

    # -- the fields

    def system_prompts(self, doc: Mapping[str, Any]) -> tuple[str, ...]:
        if "system_prompt" in doc and "system_prompts" in doc:
            raise self.fail("system_prompt", "give 'system_prompt' or 'system_prompts', not both")
        key = "system_prompts" if "system_prompts" in doc else "system_prompt"
        value = doc.get(key)
        if value is None:
            return (DEFAULT_SYSTEM_PROMPT,)
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items:
            raise self.fail(key, "expected a text or a non-empty list of texts ('' = no system prompt)")
        prompts = tuple(self.text(v, f"{key}[{i}]", empty=True) for i, v in enumerate(items))
        if len(set(prompts)) != len(prompts):
            raise self.fail(key, "the same system prompt is listed twice")
        return prompts

    def template(self, value: Any) -> str:
        from jinja2 import TemplateSyntaxError

        text = self.text(value, "prompt_template")
        try:
            _compiled(text)
        except TemplateSyntaxError as exc:
            raise self.fail("prompt_template", f"not a valid Jinja template: {exc.message} "
                            f"(template line {exc.lineno})") from None
        return text

    def metrics(self, value: Any) -> tuple[MetricSpec, ...]:
        if value is None:
            return (MetricSpec("exact"),)
        if not isinstance(value, list) or not value:
            raise self.fail("metrics", "expected a non-empty list of metrics, e.g. [exact] or "
                            "[{name: regex, params: {pattern: ...}}]")
        specs = tuple(self.metric(item, f"metrics[{i}]") for i, item in enumerate(value))
        if sum(s.primary for s in specs) > 1:
            raise self.fail("metrics", "only one metric can be 'primary: true'")
        return specs

    def metric(self, item: Any, fld: str) -> MetricSpec:
        from llmscout.trial.metrics import METRICS

        entry: dict[str, Any] = {"name": item} if isinstance(item, str) else dict(self.mapping(item, fld))
        name = entry.get("name")
        if name is None:
            raise self.fail(fld, "missing 'name' (allowed: " + ", ".join(METRICS) + ")")
        if name not in METRICS:
            self.choice(name, f"{fld}.name", list(METRICS))
        params = dict(self.mapping(entry.pop("params", None) or {}, f"{fld}.params"))
        extra = {k: entry.pop(k) for k in list(entry) if k not in _METRIC_KEYS}
        self.unknown(extra, [*_METRIC_KEYS, *METRICS[name].params, "schema_file"], f"{fld}.")
        params.update(extra)  # parameters may also be written next to 'name'
        params = self.metric_files(params, fld)
        spec = MetricSpec(name=name, threshold=entry.get("threshold"), params=params,
                          primary=self.boolean(entry.get("primary", False), f"{fld}.primary"))
        try:
            return validate_spec(spec)
        except InvalidValueError as exc:
            raise self.fail(f"{fld}.{exc.field}", str(exc)) from None
        except MissingFileError as exc:
            raise self.fail(f"{fld}.params.function", str(exc)) from None

    def metric_files(self, params: dict[str, Any], fld: str) -> dict[str, Any]:
        """Resolve a python metric's file and read a json_schema's ``schema_file`` (relative paths)."""
        from llmscout.catalog._load import read_document

        function = params.get("function")
        if isinstance(function, str) and ".py:" in function:
            target, _, func = function.rpartition(":")
            p = Path(target).expanduser()
            params["function"] = f"{p if p.is_absolute() else self.base / p}:{func}"
        if "schema_file" in params:
            if "schema" in params:
                raise self.fail(f"{fld}.schema_file", "give 'schema' or 'schema_file', not both")
            params["schema"] = read_document(self.file(params.pop("schema_file"), f"{fld}.schema_file"))
        return params

    def few_shot(self, value: Any) -> FewShot | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = {"pool": value}
        data = self.mapping(value, "few_shot")
        self.unknown(data, ("pool", "split"), "few_shot.")
        if ("pool" in data) == ("split" in data):
            raise self.fail("few_shot", "give one of 'pool: FILE' or 'split: N'")
        if "pool" in data:
            return FewShot(pool=self.file(data["pool"], "few_shot.pool"))
        return FewShot(split=self.integer(data["split"], "few_shot.split", 1))

    def shots(self, value: Any, few_shot: FewShot | None) -> tuple[int, ...]:
        if value is None:
            return (0,)
        items = [value] if isinstance(value, int) and not isinstance(value, bool) else value
        if not isinstance(items, list) or not items:
            raise self.fail("shots", "expected a list of shot counts, e.g. [0, 1, 3]")
        shots = tuple(self.integer(v, f"shots[{i}]", 0) for i, v in enumerate(items))
        if len(set(shots)) != len(shots):
            raise self.fail("shots", "a shot count is listed twice")
        if max(shots) > 0 and few_shot is None:
            raise self.fail("shots", "shots above 0 need examples to show: add "
                            "'few_shot: {pool: FILE}' or 'few_shot: {split: N}'")
        if few_shot and few_shot.split and max(shots) > few_shot.split:
            raise self.fail("shots", f"{max(shots)} shots but few_shot.split keeps only "
                            f"{few_shot.split} examples for the pool")
        return shots

    def generation(self, value: Any) -> GenerationSettings:
        data = dict(self.mapping(value if value is not None else {}, "generation"))
        names = [f.name for f in fields(GenerationSettings)]
        self.unknown(data, names, "generation.")
        if isinstance(data.get("stop"), str):
            data["stop"] = [data["stop"]]
        checks: dict[str, Callable[[Any, str], Any]] = {
            "max_tokens": lambda v, f: self.integer(v, f, 1),
            "temperature": lambda v, f: self.number(v, f, 0.0, 5.0),
            "top_p": lambda v, f: self.number(v, f, 0.0, 1.0, open_low=True),
            "seed": lambda v, f: self.integer(v, f, 0),
            "n": lambda v, f: self.integer(v, f, 1),
            "stop": lambda v, f: tuple(self.stop(s, f"{f}[{i}]") for i, s in enumerate(self.listed(v, f))),
        }
        return replace(GenerationSettings(), **{k: checks[k](v, f"generation.{k}") for k, v in data.items()})

    def stop(self, value: Any, fld: str) -> str:
        if self.text(value, fld, empty=True) == "":
            raise self.fail(fld, "empty stop string")
        return value

    def listed(self, value: Any, fld: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(fld, f"expected a list, got {type(value).__name__}")
        return value

    def bar(self, value: Any) -> Bar:
        data = self.mapping(value if value is not None else {}, "bar")
        self.unknown(data, ("pass_rate", "confidence"), "bar.")
        return Bar(pass_rate=self.number(data.get("pass_rate", 0.8), "bar.pass_rate", 0.0, 1.0),
                   confidence=self.number(data.get("confidence", 0.95), "bar.confidence", 0.0,
                                          0.999999, open_low=True))

    def candidates(self, value: Any) -> Candidates:
        if value is None:
            return Candidates()
        data: Mapping[str, Any] = ({"models": value} if isinstance(value, list)
                                   else self.mapping(value, "candidates"))
        self.unknown(data, ("models", "from_recommend", "top"), "candidates.")
        fld = "candidates" if isinstance(value, list) else "candidates.models"
        models = tuple(self.model_ref(m, f"{fld}[{i}]") for i, m in enumerate(self.listed(data.get("models", []), fld)))
        profile = data.get("from_recommend")
        if profile is not None:
            self.profile(self.mapping(profile, "candidates.from_recommend"))
        if not models and profile is None:
            raise self.fail("candidates", "name models (a list) or give 'from_recommend: {...}'")
        return Candidates(models=models, from_recommend=profile,
                          top=self.integer(data.get("top", 5), "candidates.top", 1))

    def model_ref(self, value: Any, fld: str) -> str:
        ref = self.text(value, fld).strip()
        if ref.lower().endswith(".gguf") and ":" not in ref.split("/")[0]:  # a local file
            return str(self.file(ref, fld))
        return ref

    def profile(self, data: Mapping[str, Any]) -> None:
        from llmscout.recommend.profile import profile_from_dict

        try:
            profile_from_dict(data, base_dir=self.base)
        except InvalidValueError as exc:
            raise self.fail(f"candidates.from_recommend.{exc.field}", str(exc)) from None


# -- helpers ------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def _compiled(template: str) -> Any:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True,
                               autoescape=False)
    return env.from_string(template)


def _node_lines(path: Path) -> dict[str, int]:
    """Line of every key and list item, as dotted paths ("metrics[1].params.pattern")."""
    import yaml

    out: dict[str, int] = {}
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"),
                            Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (yaml.YAMLError, UnicodeDecodeError):
        return out  # read_document has reported syntax errors already; JSON may not be YAML

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = f"{prefix}.{key.value}" if prefix else str(key.value)
                out[name] = key.start_mark.line + 1
                walk(value, name)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                out[f"{prefix}[{i}]"] = item.start_mark.line + 1
                walk(item, f"{prefix}[{i}]")

    if root is not None:
        walk(root, "")
    return out


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _metric_fingerprint(spec: MetricSpec) -> dict[str, Any]:
    out = spec.to_dict()
    target = str(spec.params.get("function", "")).rpartition(":")[0]
    if target.endswith(".py") and Path(target).is_file():
        out["function_sha256"] = _file_sha256(Path(target))
        out["params"] = {**out["params"], "function": Path(target).name + ":" +
                         str(spec.params["function"]).rpartition(":")[2]}  # not the absolute path
    return out


def _line_of(example: Example) -> int | None:
    tail = example.source.rpartition(":")[2]
    return int(tail) if tail.isdigit() else None


def _example_error(path: Path, example: Example, fld: str, problem: str) -> InvalidFileError:
    return InvalidFileError(path, f"example {example.id}: {problem}", line=_line_of(example), field=fld)


def _pool_path(task: TaskFile, example: Example) -> Path:
    few = task.few_shot
    return few.pool if few and few.pool else task.examples


def _split(examples: list[Example], n: int, seed: int, path: Path) -> tuple[list[Example], list[Example]]:
    """Take ``n`` examples (a seeded sample, file order kept) out of the file as the pool."""
    if n >= len(examples):
        raise InvalidFileError(path, f"few_shot.split takes {n} examples but the file has only "
                               f"{len(examples)}: nothing would be left to score", field="few_shot.split")
    chosen = set(random.Random(seed).sample(range(len(examples)), n))
    pool = [ex for i, ex in enumerate(examples) if i in chosen]
    return [ex for i, ex in enumerate(examples) if i not in chosen], pool


def _content_key(example: Example) -> str:
    from llmscout.trial.metrics import normalize_answer

    if isinstance(example.input, str):
        return normalize_answer(example.input)
    return "\n".join(f"{m.role}:{normalize_answer(m.content)}" for m in example.input)


def _check_pool(scored: list[Example], pool: list[Example], few: FewShot | None, most: int,
                path: Path) -> None:
    """The pool is big enough, every shot has an answer, and no scored example is in it."""
    pool_path = few.pool if few and few.pool else path
    if most > len(pool):
        raise InvalidFileError(pool_path, f"{most} shots asked but the few-shot pool has "
                               f"{len(pool)} examples", field="shots")
    for ex in pool:
        if ex.reference is None:
            raise _example_error(pool_path, ex, "reference",
                                 "missing: a few-shot example needs an answer to show")
    seen = {_content_key(ex): ex for ex in pool}
    for ex in scored:
        twin = seen.get(_content_key(ex))
        if twin is not None:
            raise _example_error(path, ex, "input", f"also in the few-shot pool ({twin.source}): "
                                 "a scored example must not be shown as a shot")
