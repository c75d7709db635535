"""Real GGUF models of any shape, with random weights, built locally in seconds.

Speed and memory of a transformer do not depend on the values of its weights: the same matrix
products run over the same bytes whatever the numbers are. So a file with random weights in a
given shape and quantization gives real measurements of load time, RSS, prompt and decode speed
on this machine, without downloading a model. (Its text is gibberish: never use one to judge
quality.) See /work/shared/LOCAL-MODELS.md for the measurements that motivated this.

``build_gguf`` writes a llama-architecture GGUF (or ``qwen2`` with q/k/v biases, ``gemma3`` with
a sliding window, or a mixture-of-experts ``llama``) with ``gguf.GGUFWriter`` and numpy: F16
matrices, F32 norms, a small SentencePiece-style vocabulary generated on the fly (byte fallback
tokens plus letter pieces, so any text tokenizes) and an optional chat template. Other
quantizations come from llama.cpp's own ``llama_model_quantize`` (through ``llama_cpp``).

Example:
    >>> from llmscout.synth import SynthShape, build_gguf
    >>> shape = SynthShape(layers=2, hidden=256)
    >>> path = build_gguf("/tmp/synth", shape, quant="Q4_K_M")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import string
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from llmscout.errors import InvalidValueError, LlmscoutError, MissingDependencyError

SynthArch = Literal["llama", "qwen2", "gemma3"]
BUILD_VERSION = 1  # part of the cache key: bump when the file layout written here changes
WEIGHT_STD = 0.02
MIN_VOCAB = 300
MAX_VOCAB = 262_144

# A ChatML template (the format Qwen and many fine-tunes use), handy for tests of chat paths.
CHATML_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
_CONTROL_TOKENS = ("<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>",
                   "<start_of_turn>", "<end_of_turn>")
# gguf TokenType values (gguf-py constants.py): NORMAL=1, UNKNOWN=2, CONTROL=3, BYTE=6
_NORMAL, _UNKNOWN, _CONTROL, _BYTE = 1, 2, 3, 6


class SynthError(LlmscoutError, RuntimeError):
    """llama.cpp refused to quantize or load a synthetic model."""


@dataclass(frozen=True, slots=True)
class SynthShape:
    """The shape of a synthetic model (names as in HF ``config.json`` where they differ).

    ``head_dim`` defaults to ``hidden // heads``. ``sliding_window`` needs ``arch="gemma3"``;
    with ``sliding_window_pattern`` n, layer i slides when ``i % n < n - 1`` (Gemma 3: n=6,
    five sliding layers then one global; llama.cpp reads the period from the file).
    ``experts`` > 0 makes a Mixtral-style ``llama`` MoE whose experts have ``expert_ffn`` rows
    (llama.cpp reads the expert size of a ``llama`` MoE from ``feed_forward_length``).
    """

    layers: int = 2
    hidden: int = 256
    heads: int = 4
    kv_heads: int = 2
    head_dim: int | None = None
    ffn: int = 512
    vocab: int = 512
    context: int = 2048
    tied: bool = False
    sliding_window: int | None = None
    sliding_window_pattern: int = 6
    experts: int = 0
    experts_used: int = 0
    expert_ffn: int | None = None
    arch: SynthArch = "llama"
    rope_theta: float = 10000.0

    @property
    def hd(self) -> int:
        return self.head_dim or self.hidden // self.heads

    @property
    def ffn_rows(self) -> int:
        """The feed-forward width written to ``feed_forward_length``."""
        return (self.expert_ffn or self.ffn) if self.experts else self.ffn

    def check(self) -> None:
        """Raise ``InvalidValueError`` naming the first field llama.cpp could not load."""
        for name in ("layers", "hidden", "heads", "kv_heads", "ffn", "context"):
            if int(getattr(self, name)) < 1:
                raise InvalidValueError(f"shape.{name}", getattr(self, name), "a positive integer")
        if self.heads % self.kv_heads:
            raise InvalidValueError("shape.kv_heads", self.kv_heads,
                                    f"a divisor of heads={self.heads}")
        if not self.head_dim and self.hidden % self.heads:
            raise InvalidValueError("shape.head_dim", None, "set when heads do not divide hidden")
        if self.hd % 2:
            raise InvalidValueError("shape.head_dim", self.hd, "an even number (rotary embedding)")
        if not MIN_VOCAB <= self.vocab <= MAX_VOCAB:
            raise InvalidValueError("shape.vocab", self.vocab, f"{MIN_VOCAB} to {MAX_VOCAB}")
        if self.arch not in ("llama", "qwen2", "gemma3"):
            raise InvalidValueError("shape.arch", self.arch, "'llama', 'qwen2' or 'gemma3'")
        if self.arch == "gemma3":
            if not self.sliding_window:
                raise InvalidValueError("shape.sliding_window", None, "a window size for gemma3")
            if self.sliding_window_pattern < 0:
                raise InvalidValueError("shape.sliding_window_pattern", self.sliding_window_pattern,
                                        "a period >= 0 (every n-th layer is global; 0: none is)")
        elif self.sliding_window:
            raise InvalidValueError("shape.sliding_window", self.sliding_window,
                                    "None unless arch='gemma3' (llama.cpp ignores it elsewhere)")
        if self.experts:
            if self.arch != "llama":
                raise InvalidValueError("shape.arch", self.arch, "'llama' for a mixture of experts")
            if not 1 <= self.experts_used <= self.experts:
                raise InvalidValueError("shape.experts_used", self.experts_used,
                                        f"1 to experts={self.experts}")

    def tensors(self) -> list[tuple[str, tuple[int, ...], str]]:
        """(name, ggml shape, 'F16'|'F32') of every tensor written, in file order."""
        h, hd, v = self.hidden, self.hd, self.vocab
        q, kv = self.heads * hd, self.kv_heads * hd
        out: list[tuple[str, tuple[int, ...], str]] = [("token_embd.weight", (h, v), "F16")]
        for i in range(self.layers):
            b = f"blk.{i}."
            out += [(b + "attn_norm.weight", (h,), "F32"), (b + "attn_q.weight", (h, q), "F16"),
                    (b + "attn_k.weight", (h, kv), "F16"), (b + "attn_v.weight", (h, kv), "F16"),
                    (b + "attn_output.weight", (q, h), "F16")]
            if self.arch == "qwen2":
                out += [(b + "attn_q.bias", (q,), "F32"), (b + "attn_k.bias", (kv,), "F32"),
                        (b + "attn_v.bias", (kv,), "F32")]
            if self.arch == "gemma3":
                out += [(b + "attn_q_norm.weight", (hd,), "F32"),
                        (b + "attn_k_norm.weight", (hd,), "F32"),
                        (b + "post_attention_norm.weight", (h,), "F32"),
                        (b + "post_ffw_norm.weight", (h,), "F32")]
            out.append((b + "ffn_norm.weight", (h,), "F32"))
            out += self._ffn_tensors(b)
        out.append(("output_norm.weight", (h,), "F32"))
        if not self.tied:
            out.append(("output.weight", (h, v), "F16"))
        return out

    def _ffn_tensors(self, b: str) -> list[tuple[str, tuple[int, ...], str]]:
        h, f = self.hidden, self.ffn_rows
        if not self.experts:
            return [(b + "ffn_gate.weight", (h, f), "F16"), (b + "ffn_up.weight", (h, f), "F16"),
                    (b + "ffn_down.weight", (f, h), "F16")]
        n = self.experts
        return [(b + "ffn_gate_inp.weight", (h, n), "F32"),
                (b + "ffn_gate_exps.weight", (h, f, n), "F16"),
                (b + "ffn_up_exps.weight", (h, f, n), "F16"),
                (b + "ffn_down_exps.weight", (f, h, n), "F16")]

    def param_count(self) -> int:
        """Exact number of weights in the file (every tensor's elements)."""
        total = 0
        for _, shape, _ in self.tensors():
            n = 1
            for d in shape:
                n *= d
            total += n
        return total

    def key(self, quant: str, seed: int, chat_template: str | None) -> str:
        """Cache key: a hash of canonical JSON of everything that changes the file."""
        blob = json.dumps({"shape": asdict(self), "quant": quant.upper(), "seed": seed,
                           "chat_template": chat_template, "v": BUILD_VERSION}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


# -- vocabulary ----------------------------------------------------------------------------------


def _pieces() -> Iterator[str]:
    """Word pieces: single characters, then letter strings of growing length, each also with
    the SentencePiece word-start marker."""
    chars = string.ascii_lowercase + string.ascii_uppercase + string.digits + string.punctuation
    yield "\u2581"
    for c in chars:
        yield c
        yield "\u2581" + c
    for length in itertools.count(2):
        for combo in itertools.product(string.ascii_lowercase, repeat=length):
            s = "".join(combo)
            yield "\u2581" + s
            yield s


def synth_vocab(size: int) -> tuple[list[str], list[float], list[int]]:
    """Tokens, scores and token types of a SentencePiece-style vocabulary of ``size`` entries.

    Control tokens first (<unk> 0, <s> 1, </s> 2, ChatML and Gemma turn markers), then the 256
    byte-fallback tokens, then pieces; later pieces score lower, so merges prefer short pieces
    that are common first.
    """
    tokens = list(_CONTROL_TOKENS) + [f"<0x{b:02X}>" for b in range(256)]
    types = [_UNKNOWN] + [_CONTROL] * (len(_CONTROL_TOKENS) - 1) + [_BYTE] * 256
    scores = [0.0] * len(tokens)
    for i, piece in enumerate(itertools.islice(_pieces(), size - len(tokens))):
        tokens.append(piece)
        scores.append(-float(i))
        types.append(_NORMAL)
    return tokens, scores, types


# -- writing -------------------------------------------------------------------------------------


def _write_metadata(w: Any, shape: SynthShape, chat_template: str | None) -> None:
    a = shape.arch
    w.add_name(f"synth-{a}-{shape.param_count() / 1e6:.1f}M")
    w.add_string("general.basename", f"synth-{a}")
    w.add_file_type(1)  # LLAMA_FTYPE_MOSTLY_F16
    w.add_context_length(shape.context)
    w.add_embedding_length(shape.hidden)
    w.add_block_count(shape.layers)
    w.add_feed_forward_length(shape.ffn_rows)
    w.add_head_count(shape.heads)
    w.add_head_count_kv(shape.kv_heads)
    w.add_key_length(shape.hd)
    w.add_value_length(shape.hd)
    w.add_rope_dimension_count(shape.hd)
    w.add_rope_freq_base(shape.rope_theta)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_vocab_size(shape.vocab)
    if shape.sliding_window:
        w.add_sliding_window(shape.sliding_window)
        w.add_sliding_window_pattern(shape.sliding_window_pattern)
    if shape.experts:
        w.add_expert_count(shape.experts)
        w.add_expert_used_count(shape.experts_used)
    tokens, scores, types = synth_vocab(shape.vocab)
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_unk_token_id(0)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_add_bos_token(True)
    w.add_add_space_prefix(True)
    if chat_template:
        w.add_chat_template(chat_template)


_CHUNK = 1 << 22  # weights generated per step: bounds memory for huge embedding tables


def _write_tensor(fout: Any, rng: Any, name: str, shape: tuple[int, ...], dtype: str) -> None:
    import numpy as np

    n = 1
    for d in shape:
        n *= d
    if dtype == "F32":  # norms are 1 (identity scale), biases 0
        value = 1.0 if name.endswith("norm.weight") else 0.0
        np.full(n, value, dtype=np.float32).tofile(fout)
        return
    for start in range(0, n, _CHUNK):
        m = min(_CHUNK, n - start)
        (rng.standard_normal(m, dtype=np.float32) * WEIGHT_STD).astype(np.float16).tofile(fout)


def write_f16_gguf(path: Path, shape: SynthShape, seed: int = 0,
                   chat_template: str | None = None) -> Path:
    """Write the F16 GGUF for ``shape`` to ``path`` (no caching, no quantization)."""
    try:
        import gguf
        import numpy as np
    except ImportError:
        raise MissingDependencyError("building GGUF files", "gguf", "gguf") from None
    shape.check()
    rng = np.random.default_rng(seed)
    plan = shape.tensors()
    w = gguf.GGUFWriter(path, shape.arch)
    try:
        _write_metadata(w, shape, chat_template)
        for name, gshape, dtype in plan:
            np_dtype = np.float16 if dtype == "F16" else np.float32
            nbytes = (2 if dtype == "F16" else 4)
            for d in gshape:
                nbytes *= d
            w.add_tensor_info(name, tuple(reversed(gshape)), np.dtype(np_dtype), nbytes)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_ti_data_to_file()
        # stream tensors in chunks: GGUFWriter.write_tensor_data needs whole arrays in memory
        fout = w.fout[0]  # type: ignore[index]
        for name, gshape, dtype in plan:
            w.write_padding(fout, fout.tell())
            start = fout.tell()
            _write_tensor(fout, rng, name, gshape, dtype)
            w.write_padding(fout, fout.tell() - start)
    finally:
        w.close()
    return path


# -- quantizing ----------------------------------------------------------------------------------


def quantize_gguf(src: Path, dst: Path, quant: str, n_threads: int = 2) -> Path:
    """Quantize ``src`` to ``dst`` with llama.cpp's ``llama_model_quantize``."""
    import ctypes

    from llmscout.catalog.sources.gguf import LLAMA_FTYPE_IDS

    ftype = LLAMA_FTYPE_IDS.get(quant.upper())
    if ftype is None:
        raise InvalidValueError("quant", quant, "one of " + ", ".join(LLAMA_FTYPE_IDS))
    try:
        import llama_cpp
    except ImportError:
        raise MissingDependencyError("quantizing GGUF files", "llamacpp",
                                     "llama-cpp-python") from None
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.nthread = n_threads
    log = logging.getLogger("llama-cpp-python")  # llama_cpp's log callback honours this level
    level = log.level
    log.setLevel(logging.ERROR)  # one INFO line per tensor otherwise
    try:
        rc = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(),
                                            ctypes.byref(params))
    finally:
        log.setLevel(level)
    if rc != 0 or not dst.exists():
        raise SynthError(f"llama.cpp could not quantize {src.name} to {quant} (code {rc})")
    return dst


def _atomic_build(final: Path, make: Any) -> Path:
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    try:
        make(tmp)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return final


def build_gguf(path: str | Path, shape: SynthShape, quant: str = "F16", seed: int = 0,
               chat_template: str | None = None, n_threads: int = 2) -> Path:
    """Build (or reuse) a random-weight GGUF of ``shape`` quantized to ``quant``.

    Args:
        path: a folder (files are cached there by a hash of shape, quant, seed and chat
            template, and reused) or a ``.gguf`` file name to write (always rebuilt).
        shape: the model's dimensions.
        quant: ``F16`` (written directly) or any llama.cpp file type: Q8_0, Q6_K, Q5_K_M,
            Q4_K_M, Q4_0 ... (K-quants want row lengths that are multiples of 256; llama.cpp
            falls back to another type for tensors that are not).
        seed: random seed of the weights.
        chat_template: Jinja chat template stored as ``tokenizer.chat_template``.

    Returns:
        The path of the GGUF file.

    Raises:
        InvalidValueError: a shape llama.cpp cannot load, or an unknown quant.
        MissingDependencyError: ``gguf``/``numpy`` (or ``llama_cpp`` for quantizing) missing.
        SynthError: llama.cpp failed to quantize.
    """
    from llmscout.catalog.sources.gguf import LLAMA_FTYPE_IDS

    shape.check()
    quant = quant.upper()
    if quant not in LLAMA_FTYPE_IDS:
        raise InvalidValueError("quant", quant, "one of " + ", ".join(LLAMA_FTYPE_IDS))
    target = Path(path).expanduser()
    if target.suffix == ".gguf":
        target.parent.mkdir(parents=True, exist_ok=True)
        if quant == "F16":
            return _atomic_build(target, lambda p: write_f16_gguf(p, shape, seed, chat_template))
        f16 = build_gguf(target.parent, shape, "F16", seed, chat_template)
        return _atomic_build(target, lambda p: quantize_gguf(f16, p, quant, n_threads))
    target.mkdir(parents=True, exist_ok=True)
    final = target / f"synth-{shape.arch}-{shape.key(quant, seed, chat_template)}-{quant}.gguf"
    if final.exists():
        return final
    if quant == "F16":
        return _atomic_build(final, lambda p: write_f16_gguf(p, shape, seed, chat_template))
    f16 = build_gguf(target, shape, "F16", seed, chat_template)
    return _atomic_build(final, lambda p: quantize_gguf(f16, p, quant, n_threads))


# -- checking that llama.cpp runs it -------------------------------------------------------------

_SMOKE = r"""
import json, sys, time
import llama_cpp
path, prompt = sys.argv[1], sys.argv[2]
n, threads, ctx = (int(a) for a in sys.argv[3:6])
t0 = time.perf_counter()
llm = llama_cpp.Llama(model_path=path, n_ctx=ctx, n_threads=threads, verbose=False, seed=0)
t1 = time.perf_counter()
prompt_tokens = llm.tokenize(prompt.encode())
generated = []
for tok in llm.generate(prompt_tokens, temp=0.0):
    generated.append(tok)
    if len(generated) >= n:
        break
t2 = time.perf_counter()
text = llm.detokenize(generated).decode("utf-8", errors="replace")
print(json.dumps({"n_tokens": len(generated), "tokens": generated, "text": text,
                  "prompt_tokens": len(prompt_tokens), "n_vocab": llm.n_vocab(),
                  "chat_template": llm.metadata.get("tokenizer.chat_template"),
                  "load_s": t1 - t0, "generate_s": t2 - t1}))
"""


def smoke_run(path: str | Path, prompt: str = "Hello world", n_tokens: int = 4,
              n_threads: int = 2, n_ctx: int = 256, timeout: float = 120) -> dict[str, Any]:
    """Load ``path`` with llama.cpp in a child process and generate ``n_tokens`` greedily.

    A child process because a crash inside llama.cpp (SIGSEGV) would kill the caller.
    Returns the child's report: n_tokens, text, prompt_tokens, n_vocab,
    chat_template, load_s, generate_s. Raises ``SynthError`` if the child fails.
    """
    cmd = [sys.executable, "-c", _SMOKE, str(path), prompt, str(n_tokens), str(n_threads),
           str(n_ctx)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise SynthError(f"llama.cpp did not finish with {path} within {timeout:.0f} s") from None
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise SynthError(f"llama.cpp failed on {path} (exit {proc.returncode}): "
                         + " | ".join(tail))
    return json.loads(proc.stdout.strip().splitlines()[-1])


__all__ = [
    "CHATML_TEMPLATE", "SynthError", "SynthShape", "build_gguf", "quantize_gguf", "smoke_run",
    "synth_vocab", "write_f16_gguf",
]
