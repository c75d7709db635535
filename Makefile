# llmscout: two commands on a fresh machine.
#   make run   - create .venv, install everything, run the main job on embedded defaults
#   make test  - create .venv if needed, install, run lint + type check + the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
EXTRAS := llamacpp,hub,gpu,transformers,metrics,web,dev

# llama.cpp's AMX kernels fault inside some VMs that advertise AMX (see docs/llamacpp-build.md):
# build portable AVX-512 (or AVX2) code there instead of -march=native.
LLAMA_CMAKE_ARGS := $(shell \
  if grep -q amx_tile /proc/cpuinfo 2>/dev/null && grep -q avx512f /proc/cpuinfo; then \
    echo "-DGGML_NATIVE=OFF -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON -DGGML_AVX_VNNI=ON -DLLAVA_BUILD=OFF"; \
  elif grep -q amx_tile /proc/cpuinfo 2>/dev/null; then echo "-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF"; \
  else echo "-DLLAVA_BUILD=OFF"; fi)

.PHONY: run test install lint bench clean chromium

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip setuptools wheel
	# torch first, pinned: anything that pulls torch unpinned would fetch GBs of CUDA wheels
	$(PIP) install -q "torch==2.13.0"
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) install -q -e ".[$(EXTRAS)]"
	touch $(STAMP)

# Browser tests drive Debian's Chromium through Playwright (its own browser download cannot
# work offline). Installed when missing and we are root; otherwise the browser tests say why.
chromium:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium not installed: browser tests will be skipped"; }

install: $(STAMP)

# The main job, offline on embedded defaults: detect this machine, recommend for the bundled
# sample task, verify on the packaged Gemma 3 270M at 0/1/3 shots, print the verdict and a report.
run: install
	$(PY) -m llmscout run --report llmscout-report.html

lint: install
	$(PY) -m ruff check src tests bench
	$(PY) -m mypy

test: install lint chromium
	$(PY) -m pytest -n 2 --dist loadfile

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache .mypy_cache
