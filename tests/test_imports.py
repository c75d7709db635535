"""`import llmscout` and `llmscout --help` stay light: heavy libraries load only when used."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import time

import pytest

import llmscout

HEAVY = ("torch", "transformers", "llama_cpp", "gguf", "numpy", "huggingface_hub", "httpx",
         "sentence_transformers", "fastapi", "plotly", "yaml", "rich")
MODULES = sorted(m.name for m in pkgutil.walk_packages(llmscout.__path__, "llmscout.")
                 if not m.name.endswith("__main__"))


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_in_a_fresh_interpreter_without_heavy_libraries(module):
    code = (f"import sys, importlib; importlib.import_module({module!r}); "
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    loaded = [m for m in res.stdout.strip().split(",") if m]
    assert not loaded, f"{module} imports {loaded} at import time"


def test_help_starts_fast():
    cmd = [sys.executable, "-m", "llmscout", "--help"]
    subprocess.run(cmd, capture_output=True, check=True)  # warm the bytecode cache
    best = min(_timed(cmd) for _ in range(3))
    assert best < 0.3, f"llmscout --help took {best:.3f} s"


def _timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0 and "usage: llmscout" in res.stdout
    return time.perf_counter() - start
