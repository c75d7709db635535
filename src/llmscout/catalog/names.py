"""Explain a model name or file name: family, size, tuning, quantization and format.

``parse_name("Llama-3.2-3B-Instruct-Q4_K_M.gguf")`` reads only what the name itself says;
it never looks anything up. Tables drive the parse: each regex claims its part of the name
(quantization first, then sizes, family, context, version, then single words), and whatever
no table claims is reported in ``unparsed``.

Sources of the facts in the tables (read 2026-11):
- llama.cpp k-quant average bits per weight, measured on Llama 2 7B:
  https://github.com/ggml-org/llama.cpp/blob/master/tools/quantize/README.md
- MLC code ``qAfB(_id)``: A weight bits, B activation bits, _id the algorithm variant:
  https://mlc.ai/mlc-llm/docs/compilation/configure_quantization.html
- Phi-3 mini/small/medium = 3.8B/7B/14B:
  https://www.microsoft.com/en-us/research/publication/phi-3-technical-report-a-highly-capable-language-model-locally-on-your-phone/
  Phi-3.5-mini = 3.8B: https://openlaboratory.ai/models/phi3_5
- Flan-T5 is instruction-finetuned T5: https://huggingface.co/google/flan-t5-large ; size words
  small/base/large/xl/xxl: counts from the lead's brief (HF safetensors counts); the Hub listing
  https://huggingface.co/models?other=arxiv:2210.11416 shows them rounded (77M, 0.2B, 0.8B, 3B, 11B).
- Qwen3 names without "-Base" are post-trained with thinking and non-thinking modes (Qwen3-30B-A3B
  card, as mirrored at https://hf-p-cfw.fyan.top/unsloth/Qwen3-30B-A3B-bnb-4bit).
- gpt-oss are reasoning models with instruction following and MXFP4 MoE weights:
  https://arxiv.org/abs/2508.10925 , https://docs.studio.nebius.com/cookbook/models/gpt-oss
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

from llmscout.errors import InvalidValueError

__all__ = ["ParsedName", "parse_name"]

MAX_INPUT = 4096  # longer than any path we expect: not a name
MAX_STEM = 255  # common file systems cap a file name at 255 bytes
_FLAGS = re.IGNORECASE | re.ASCII  # ASCII: no Kelvin-sign 'K' or Arabic-Indic digits


def _rx(pattern: str) -> re.Pattern[str]:
    """A pattern that must stand alone: no letter or digit right before or after it."""
    return re.compile(r"(?<![A-Za-z0-9])(?:" + pattern + r")(?![A-Za-z0-9])", _FLAGS)


@dataclass(frozen=True, slots=True)
class ParsedName:
    """What a model name or file name says. ``None`` means the name does not say."""

    input: str
    org: str | None = None
    family: str | None = None
    base_family: str | None = None  # the model a distillation was trained into
    version: str | None = None
    params: int | None = None
    active_params: int | None = None
    experts: int | None = None
    expert_params: int | None = None
    params_label: str | None = None
    tuning: tuple[str, ...] = ()
    quant: str | None = None
    quant_bits: int | None = None  # nominal bits per weight as stored (16 for f16)
    quant_scheme: str | None = None
    k_quant_size: str | None = None
    weight_bits: int | None = None  # MLC codes
    activation_dtype: str | None = None  # MLC codes
    quant_variant: str | None = None  # MLC "_1"
    typical_bpw: float | None = None  # llama.cpp's measured average for this k-quant
    precision: str | None = None
    format: str | None = None
    context_hint: int | None = None
    shard: tuple[int, int] | None = None
    variant: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    unparsed: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def explain(self) -> str:
        """A few readable lines: the facts found, then one note per part of the name."""
        size = None
        if self.params is not None:
            size = f"{self.params:,} parameters ({self.params_label})"
        elif self.experts is not None:
            size = f"{self.experts} experts of {self.expert_params:,} parameters"
        if self.active_params is not None:
            size = (size + ", " if size else "") + f"{self.active_params:,} active per token"
        quant = self.quant and f"{self.quant} ({self.quant_scheme}, {self.quant_bits or '?'}-bit)"
        rows = [
            ("family", self.family), ("size", size), ("tuning", ", ".join(self.tuning)),
            ("quantization", quant), ("precision", self.precision), ("format", self.format),
            ("context", self.context_hint and f"{self.context_hint:,} tokens"),
        ]
        head = self.input if len(self.input) <= 80 else self.input[:77] + "..."
        lines = [head] + [f"  {k}: {v}" for k, v in rows if v]
        lines += [f"  - {n}" for n in self.notes]
        if self.unparsed:
            lines.append("  not understood: " + ", ".join(self.unparsed))
        return "\n".join(lines)


# --- quantization -------------------------------------------------------------------------

_KQUANT_BPW = {  # llama.cpp tools/quantize/README.md, Llama 2 7B
    "Q2_K": 3.35, "Q3_K_S": 3.50, "Q3_K_M": 3.91, "Q3_K_L": 4.27, "Q4_K_S": 4.58,
    "Q4_K_M": 4.84, "Q5_K_S": 5.52, "Q5_K_M": 5.68, "Q6_K": 6.56,
}
_SIZE_WORDS = {"S": "small", "M": "medium", "L": "large", "XL": "extra large"}
_Fields = dict[str, Any]


def _kquant(m: re.Match[str]) -> tuple[_Fields, str]:
    tag, bits, size = m[0].upper(), int(m["bits"]), (m["size"] or "").upper() or None
    bpw = _KQUANT_BPW.get(tag)
    note = f"'{m[0]}': llama.cpp k-quant, nominally {bits}-bit"
    note += f", mix size {size} ({_SIZE_WORDS[size]})" if size else ""
    note += f"; files average about {bpw} bits per weight (Llama 2 7B)." if bpw else "."
    return dict(quant=tag, quant_bits=bits, quant_scheme="k-quant", k_quant_size=size,
                typical_bpw=bpw, format="gguf"), note


def _mlc(m: re.Match[str]) -> tuple[_Fields, str]:
    w, act, var = int(m["w"]), f"f{m['a']}", m["id"]
    fields: _Fields = dict(quant=m[0].lower(), quant_scheme="mlc", activation_dtype=act,
                           quant_variant=f"_{var}" if var else None, format="mlc")
    if w == 0:
        fields.update(weight_bits=int(m["a"]), quant_bits=int(m["a"]), precision=act)
        note = f"'{m[0]}': MLC code q0{act}: weights are not quantized, stored as {act}."
    else:
        fields.update(weight_bits=w, quant_bits=w)
        note = f"'{m[0]}': MLC group quantization, {w}-bit weights, {act} activations"
        note += f", algorithm variant _{var}." if var else "."
    return fields, note


def _simple(scheme: str, fmt: str | None, bits: int | None, what: str,
            upper: bool = False) -> Callable[..., Any]:
    def build(m: re.Match[str]) -> tuple[_Fields, str]:
        b = int(m["bits"]) if "bits" in m.re.groupindex and m["bits"] else bits
        tail = f", nominally {b} bits per weight" if b else "; the bit width is not in the name"
        quant = m[0].upper() if upper else m[0]
        return dict(quant=quant, quant_bits=b, quant_scheme=scheme, format=fmt), \
            f"'{m[0]}': {what}{tail}."
    return build


_QUANTS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], tuple[_Fields, str]]]] = [
    (_rx(r"q(?P<bits>[2-8])_k(?:_(?P<size>xl|s|m|l))?"), _kquant),
    (_rx(r"iq(?P<bits>[1-4])_(?:xxs|xs|nl|s|m)"),
     _simple("i-quant", "gguf", None, "llama.cpp i-quant", upper=True)),
    (_rx(r"q(?P<bits>[458])_[01]"),
     _simple("legacy-ggml", "gguf", None, "llama.cpp legacy block quantization", upper=True)),
    (_rx(r"q(?P<w>\d)f(?P<a>16|32)(?:_(?P<id>\d{1,2}|awq|ft))?"), _mlc),
    (_rx(r"awq"), _simple("awq", "awq", 4, "AWQ activation-aware weight quantization")),
    (_rx(r"gptq(?:[-_]?(?:int)?(?P<bits>[2348])(?:bits?)?)?"),
     _simple("gptq", "gptq", None, "GPTQ post-training weight quantization")),
    (_rx(r"mxfp4(?:_moe)?"), _simple("mxfp4", None, 4, "MXFP4 microscaling 4-bit floats")),
    (_rx(r"fp8(?:[-_]dynamic)?"), _simple("fp8", None, 8, "FP8 8-bit floating point")),
    (_rx(r"bnb[-_](?P<bits>[48])bit"),
     _simple("bitsandbytes", None, None, "bitsandbytes integer quantization")),
    (_rx(r"(?P<bits>[2-8])[-_]?bits?"),
     _simple("int", None, None, "integer weight quantization (MLX and bitsandbytes naming)")),
]

# --- families -------------------------------------------------------------------------------


class _Family(NamedTuple):
    pattern: re.Pattern[str]
    name: str  # with {v} for the version when the name carries one
    bare: str  # when it does not


_V = r"(?P<v>\d{1,2}(?:\.\d{1,2})?)"
_FAMILIES = [
    _Family(_rx(r"(?:meta[-_ ])?llama[-_ ]?" + _V + "?"), "llama-{v}", "llama"),
    _Family(_rx(r"code[-_ ]?llama"), "codellama", "codellama"),
    _Family(_rx(r"tiny[-_ ]?llama"), "tinyllama", "tinyllama"),
    _Family(_rx(r"qwen" + _V + "?"), "qwen{v}", "qwen"),
    _Family(_rx(r"smollm" + _V + "?"), "smollm{v}", "smollm"),
    _Family(_rx(r"mixtral"), "mixtral", "mixtral"),
    _Family(_rx(r"mistral"), "mistral", "mistral"),
    _Family(_rx(r"gemma[-_ ]?(?P<v>\d{1,2}(?:\.\d)?n?)?"), "gemma-{v}", "gemma"),
    _Family(_rx(r"phi[-_ ]?" + _V + "?"), "phi-{v}", "phi"),
    _Family(_rx(r"flan[-_ ]t5"), "flan-t5", "flan-t5"),
    _Family(_rx(r"t5"), "t5", "t5"),
    _Family(_rx(r"gpt[-_ ]oss"), "gpt-oss", "gpt-oss"),
    _Family(_rx(r"deepseek[-_ ]r1"), "deepseek-r1", "deepseek-r1"),
    _Family(_rx(r"deepseek(?:[-_ ]v" + _V + ")?"), "deepseek-v{v}", "deepseek"),
    _Family(_rx(r"falcon" + _V + "?"), "falcon{v}", "falcon"),
    _Family(_rx(r"granite(?:[-_ ]" + _V + ")?"), "granite-{v}", "granite"),
    _Family(_rx(r"gpt[-_ ]?2"), "gpt2", "gpt2"),
    _Family(_rx(r"starcoder" + _V + "?"), "starcoder{v}", "starcoder"),
]


class _Info(NamedTuple):
    implied: tuple[str, ...] = ()  # tuning the family always has
    default: tuple[str, ...] | None = None  # tuning when the name has no tuning word
    sizes: dict[str, int] = {}  # size words of the family's naming
    note: str = ""


_T5_SIZES = {"small": 77_000_000, "base": 248_000_000, "large": 783_000_000,
             "xl": 2_850_000_000, "xxl": 11_300_000_000}
_INFO: dict[str, _Info] = {
    "codellama": _Info(implied=("code",)),
    "flan-t5": _Info(default=("instruct",), sizes=_T5_SIZES,
                     note="Flan-T5 is T5 (encoder-decoder) with instruction finetuning."),
    "phi-3": _Info(sizes={"mini": 3_800_000_000, "small": 7_000_000_000,
                          "medium": 14_000_000_000}),
    "phi-3.5": _Info(sizes={"mini": 3_800_000_000}),
    "qwen3": _Info(default=("instruct", "reasoning"),
                   note="Qwen3 names without 'Base' are post-trained models with thinking "
                        "and non-thinking modes."),
    "gpt-oss": _Info(default=("instruct", "reasoning"),
                     note="gpt-oss models are mixture-of-experts reasoning models released "
                          "with MXFP4 expert weights."),
    "deepseek-r1": _Info(implied=("reasoning",),
                         note="DeepSeek-R1 is DeepSeek's reasoning model line."),
}

# --- single words ---------------------------------------------------------------------------


class _Word(NamedTuple):
    note: str
    tuning: str | None = None
    variant: str | None = None
    fmt: str | None = None
    precision: str | None = None


_INSTRUCT = _Word("instruction-tuned: follows requests, normally through a chat template",
                  tuning="instruct")
_WORDS: dict[str, _Word] = {
    "instruct": _INSTRUCT, "inst": _INSTRUCT, "instruction": _INSTRUCT,
    "it": _Word("instruction-tuned ('it' is Google's naming)", tuning="instruct"),
    "chat": _Word("tuned for multi-turn conversation", tuning="chat"),
    "base": _Word("the pretrained model without instruction tuning", tuning="base"),
    "code": _Word("trained for code", tuning="code"),
    "coder": _Word("the code-specialised line of the family", tuning="code", variant="coder"),
    "thinking": _Word("a reasoning model that thinks before answering", tuning="reasoning"),
    "reasoning": _Word("a reasoning model", tuning="reasoning"),
    "hf": _Word("weights in the Hugging Face transformers layout (Meta's naming)",
                variant="hf"),
    "distill": _Word("a smaller model trained on the outputs of a larger one", variant="distill"),
    "moe": _Word("mixture of experts: only some of the weights are used for each token",
                 variant="moe"),
    "nemo": _Word("the NeMo model of the family, whose size is not in the name",
                  variant="nemo"),
    "model": _Word("a generic word, not a model family"),
    "gguf": _Word("llama.cpp's GGUF file format", fmt="gguf"),
    "mlc": _Word("compiled for MLC LLM (WebLLM, phones)", fmt="mlc"),
    "onnx": _Word("ONNX format", fmt="onnx"),
    "mlx": _Word("Apple MLX format", fmt="mlx"),
    "exl2": _Word("ExLlamaV2 format", fmt="exl2"),
    "safetensors": _Word("safetensors format", fmt="safetensors"),
}
for _w in ("mini", "small", "medium", "large", "xl", "xxl"):
    _WORDS[_w] = _Word("a size word of the family's naming", variant=_w)
for _w, _p in (("f16", "f16"), ("fp16", "fp16"), ("float16", "fp16"), ("bf16", "bf16"),
               ("bfloat16", "bf16"), ("f32", "f32"), ("fp32", "fp32"), ("float32", "fp32")):
    _WORDS[_w] = _Word(f"unquantized weights stored as {_p}", precision=_p)

_TUNING_ORDER = ("base", "instruct", "chat", "code", "reasoning")
_EXTENSIONS = {".gguf": "gguf", ".safetensors": "safetensors", ".onnx": "onnx",
               ".bin": "pytorch", ".pt": "pytorch", ".pth": "pytorch", ".llamafile": "llamafile"}
_MOE = _rx(r"(?P<n>\d{1,3})x(?P<num>\d{1,4}(?:\.\d{1,3})?)(?P<unit>[mb])")
_ACTIVE = _rx(r"a(?P<num>\d{1,4}(?:\.\d{1,3})?)(?P<unit>[mb])")
_PARAMS = _rx(r"(?<!\d\.)(?P<num>\d{1,4}(?:\.\d{1,3})?)(?P<unit>[mbt])")
_CONTEXT = _rx(r"(?P<k>\d{1,4})k")
_VERSION = _rx(r"v(?P<v>\d{1,4}(?:\.\d{1,4}){0,3})")
_DATE = _rx(r"(?P<yy>2[2-9])(?P<mm>0[1-9]|1[0-2])")
_SHARD = re.compile(r"[-_.](?P<i>\d{1,5})-of-(?P<n>\d{1,5})$", _FLAGS)
_ORG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
_TOKEN = re.compile(r"(?:[^\s\-_:,;/\\+()\[\]{}.]|(?<=\d)\.(?=\d))+")
_SCALE = {"m": 10**6, "b": 10**9, "t": 10**12}


def _count(num: str, unit: str) -> int:
    return round(float(num) * _SCALE[unit.lower()])


# --- the parse ------------------------------------------------------------------------------

_END = 10**6  # position of notes about the whole name: after the notes about its parts


@dataclass
class _Acc:
    """Mutable state while parsing; ``rest`` is the name with claimed parts blanked."""

    input: str
    rest: str = ""
    f: dict[str, Any] = field(default_factory=dict)
    tuning: list[str] = field(default_factory=list)
    variant: list[str] = field(default_factory=list)
    notes: list[tuple[int, str]] = field(default_factory=list)
    unparsed: list[str] = field(default_factory=list)

    def claim(self, rx: re.Pattern[str]) -> list[re.Match[str]]:
        found = list(rx.finditer(self.rest))
        for m in found:
            self.blank(m)
        return found

    def blank(self, m: re.Match[str]) -> None:
        a, b = m.span()
        self.rest = self.rest[:a] + " " * (b - a) + self.rest[b:]

    def note(self, pos: int, text: str) -> None:
        """A note about the part of the name at ``pos`` (notes are listed in name order)."""
        self.notes.append((pos, text))

    def set(self, **fields: Any) -> None:
        """Set fields that are still unset (the first claim wins)."""
        for k, v in fields.items():
            if v is not None and self.f.get(k) is None:
                self.f[k] = v

    def build(self) -> ParsedName:
        tuning = sorted(set(self.tuning), key=_TUNING_ORDER.index)
        notes = tuple(n for _, n in sorted(self.notes, key=lambda pn: pn[0]))
        return ParsedName(input=self.input, tuning=tuple(tuning), notes=notes,
                          variant=tuple(dict.fromkeys(self.variant)),
                          unparsed=tuple(self.unparsed), **self.f)


def parse_name(name: str) -> ParsedName:
    """Explain a model id, repo id, file name, path or Hub URL from its name alone.

    Args:
        name: e.g. ``"Llama-3.2-3B-Instruct-Q4_K_M.gguf"`` or ``"mistralai/Mistral-7B-v0.1"``.
    Returns:
        A ``ParsedName``; ``family`` is None when no known family is in the name.
    Raises:
        InvalidValueError: ``name`` is not a string or is empty.

    >>> parse_name("gemma-2-9b-it").params
    9000000000
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidValueError(
            "name", name, "a model or file name, e.g. 'Llama-3.2-3B-Instruct-Q4_K_M.gguf'")
    acc = _Acc(name)
    text = name.strip()
    stem = _locate(text, acc) if len(text) <= MAX_INPUT else text
    if len(stem) > MAX_STEM:
        acc.note(0, f"The name is {len(stem):,} characters long: too long to be a model or "
                    "file name, so it was not parsed.")
        return acc.build()
    acc.rest = _strip_file_parts(stem, acc)
    for step in (_claim_quant, _claim_sizes, _claim_family, _claim_context_version,
                 _claim_words, _finish):
        step(acc)
    return acc.build()


def _locate(text: str, acc: _Acc) -> str:
    """The name part of a repo id, Hub URL, Hub cache folder or path; sets ``org``."""
    text = re.sub(r"^https?://(www\.)?(huggingface\.co|hf\.co)/", "", text, flags=_FLAGS)
    parts = [p for p in re.split(r"[/\\]+", text) if p]
    if not parts:
        return text
    stem, org = parts[-1], None
    cache = next((p for p in parts if p.startswith("models--")), None)
    c_org, _, repo = cache[len("models--"):].partition("--") if cache else ("", "", "")
    if c_org and repo and _ORG.fullmatch(c_org):
        # a file inside the cache ("model-00001-of-00002.safetensors") says less than the repo
        org, stem = c_org, repo if stem == cache else f"{repo}/{stem}"
    elif (len(parts) >= 2 and not text.startswith(("/", ".", "~")) and _ORG.fullmatch(parts[0])
          and (len(parts) == 2 or parts[2] in ("resolve", "blob", "tree"))):
        org = parts[0]
        stem = parts[1] if len(parts) == 2 or parts[2] == "tree" else parts[-1]
    if org:
        acc.set(org=org)
        acc.note(-1, f"'{org}': the publisher (organisation) on the Hub.")
    if org and org.lower() == "mlx-community":
        acc.set(format="mlx")
        acc.note(-1, "mlx-community publishes models converted for Apple MLX.")
    return stem


def _strip_file_parts(stem: str, acc: _Acc) -> str:
    """Remove a file extension and a shard suffix such as -00001-of-00003."""
    low = stem.lower()
    for ext, fmt in _EXTENSIONS.items():
        if low.endswith(ext) and len(stem) > len(ext):
            acc.set(format=fmt)
            acc.note(len(stem), f"'{ext}': a {fmt} file.")
            stem = stem[: -len(ext)]
            break
    m = _SHARD.search(stem)
    if m:
        acc.set(shard=(int(m["i"]), int(m["n"])))
        acc.note(m.start(), f"'{m[0][1:]}': part {int(m['i'])} of {int(m['n'])} of a split file.")
        stem = stem[: m.start()]
    return stem


def _claim_quant(acc: _Acc) -> None:
    for rx, build in _QUANTS:
        for m in acc.claim(rx):
            fields, note = build(m)
            fmt = fields.pop("format", None)
            if acc.f.get("quant") is None:
                acc.set(**fields)
                acc.f.setdefault("_fmt_hint", fmt)
            acc.note(m.start(), note)


def _claim_sizes(acc: _Acc) -> None:
    labels: list[tuple[int, str]] = []
    for m in acc.claim(_MOE):
        num = f"{m['num']}{m['unit'].upper()}"
        acc.set(experts=int(m["n"]), expert_params=_count(m["num"], m["unit"]))
        labels.append((m.start(), f"{m['n']}x{num}"))
        acc.note(m.start(), f"'{m[0]}': {m['n']} experts, each the size of a {num} model; "
                            "they share attention and embeddings, so the total is less than "
                            "the product and is not in the name.")
    for rx, key, what in ((_ACTIVE, "active_params", "parameters active per token"),
                          (_PARAMS, "params", "parameters")):
        for m in acc.claim(rx):
            num = f"{m['num']}{m['unit'].upper()}"
            acc.set(**{key: _count(m["num"], m["unit"])})
            labels.append((m.start(), m[0][0].upper() + num if key == "active_params" else num))
            acc.note(m.start(), f"'{m[0]}': about {num} {what} (a rounded label).")
    if labels:
        acc.set(params_label="-".join(label for _, label in sorted(labels)))


def _claim_family(acc: _Acc) -> None:
    found = [(m, fam) for fam in _FAMILIES for m in fam.pattern.finditer(acc.rest)]
    found.sort(key=lambda mf: (mf[0].start(), -len(mf[0][0])))
    chosen: list[tuple[re.Match[str], _Family]] = []
    for m, fam in found:
        if all(m.start() >= c.end() or m.end() <= c.start() for c, _ in chosen):
            chosen.append((m, fam))
    for i, (m, fam) in enumerate(chosen):
        acc.blank(m)
        v = m["v"] if "v" in fam.pattern.groupindex else None
        name = fam.name.format(v=v.lower()) if v else fam.bare
        if i == 0:
            acc.set(family=name, _family_version=v)
            info = _INFO.get(name, _Info()).note
            publisher = " 'Meta' is the publisher." if m[0].lower().startswith("meta") else ""
            acc.note(m.start(), f"'{m[0]}': the {name} model family"
                     + (f", version {v}." if v else ".") + publisher + (" " + info if info else ""))
        elif acc.f.get("base_family") is None:
            acc.set(base_family=name)
            acc.note(m.start(), f"'{m[0]}': also names the {name} family: the architecture "
                                "and size come from it.")


def _claim_context_version(acc: _Acc) -> None:
    for m in acc.claim(_CONTEXT):
        acc.set(context_hint=int(m["k"]) * 1024)
        acc.note(m.start(), f"'{m[0]}': a context window of {int(m['k']) * 1024:,} tokens.")
    for m in acc.claim(_VERSION):
        acc.set(version=m[0].lower())
        acc.note(m.start(), f"'{m[0]}': release version {m['v']}.")
    for m in acc.claim(_DATE):
        acc.set(version=m[0])
        acc.note(m.start(), f"'{m[0]}': release tag for 20{m['yy']}-{m['mm']} (year, month).")


def _claim_words(acc: _Acc) -> None:
    family = acc.f.get("family")
    sizes = _INFO.get(family or "", _Info()).sizes
    for m in _TOKEN.finditer(acc.rest):
        token, low, pos = m[0], m[0].lower(), m.start()
        if low in sizes and acc.f.get("params") is None:
            acc.set(params=sizes[low], params_label=token)
            acc.variant.append(low)
            acc.note(pos, f"'{token}': the family's name for a size; {family} {low} has about "
                          f"{sizes[low]:,} parameters.")
            continue
        word = _WORDS.get(low)
        if word is None:
            acc.unparsed.append(token)
            continue
        acc.note(pos, f"'{token}': {word.note}.")
        acc.tuning += [word.tuning] if word.tuning else []
        acc.variant += [word.variant] if word.variant else []
        if word.precision:
            acc.set(precision=word.precision, quant_bits=16 if "16" in word.precision else 32)
        acc.set(format=word.fmt)


def _finish(acc: _Acc) -> None:
    """Fill what follows from the parts: format from the quant, version, tuning defaults."""
    acc.set(format=acc.f.pop("_fmt_hint", None), version=acc.f.pop("_family_version", None))
    family = acc.f.get("family")
    if family is None:
        acc.note(_END, "No known model family in the name, so nothing about the model itself "
                       "could be inferred.")
        return
    info = _INFO.get(family, _Info())
    explicit = bool(acc.tuning)
    acc.tuning.extend(info.implied)
    if not explicit and info.default is not None:
        acc.tuning.extend(info.default)
    elif not explicit and "reasoning" not in info.implied:
        acc.tuning.append("base")
        acc.note(_END, "No tuning word in the name: such names are usually the pretrained "
                       "base model.")
    if acc.f.get("experts") is not None and acc.f.get("params") is None:
        acc.note(_END, "The total parameter count is not derivable from the name: look it up.")
    elif acc.f.get("params") is None and acc.f.get("active_params") is None:
        acc.note(_END, "The size is not in the name: look it up in the catalog.")
    elif acc.f.get("params") is None:
        acc.note(_END, "Only the active parameters are in the name; the total is not.")
