"""The estimate a user asks for: resolve the model and hardware, apply this machine's calibration,
add cloud comparisons and fine-tuning memory. What ``llmscout estimate`` and the web app call.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from llmscout import constants
from llmscout.errors import InvalidFileError, InvalidValueError
from llmscout.estimate.speed import Calibration

FINETUNE_METHODS = ("full", "lora", "qlora")
# Rental price used to put money on pretraining compute when the user gives none: the low end of
# on-demand H100/A100 cloud prices in 2025 (an assumption, shown as such in the output).
DEFAULT_GPU_HOUR_PRICE = 2.0


def calibration_path() -> Path:
    return constants.home() / "calibration.json"


def load_calibration(path: Path | None = None) -> Calibration | None:
    """This machine's calibration (written by ``llmscout calibrate``), or None."""
    p = path or calibration_path()
    if not p.is_file():
        return None
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InvalidFileError(p, f"not valid JSON: {exc.msg} (delete it and run llmscout calibrate)",
                               line=exc.lineno) from None
    try:
        return Calibration.from_dict(raw)
    except InvalidValueError as exc:
        raise InvalidFileError(p, str(exc)) from None


def save_calibration(cal: Calibration, path: Path | None = None) -> Path:
    p = path or calibration_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(".tmp")
    tmp.write_text(json.dumps(cal.to_dict(), indent=2), encoding="utf-8")
    tmp.replace(p)
    return p


def file_sha256(path: str | Path) -> str:
    """sha256 of a model file, cached by (path, size, mtime) so repeated estimates stay fast."""
    p = Path(path).resolve()
    st = p.stat()
    cache = constants.cache_dir() / "sha256.json"
    key = f"{p}|{st.st_size}|{st.st_mtime_ns}"
    known: dict[str, str] = {}
    if cache.is_file():
        try:
            known = json.loads(cache.read_text())
        except json.JSONDecodeError:
            known = {}
    if key in known:
        return known[key]
    h = hashlib.sha256()
    with p.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    known[key] = h.hexdigest()
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(known))
    tmp.replace(cache)
    return known[key]


def estimate_for(
    ref: str,
    *,
    hardware: str | None = None,
    memory_gb: float | None = None,
    bandwidth_gbs: float | None = None,
    tflops: float | None = None,
    power_w: float | None = None,
    device_kind: str | None = None,
    quant: str | None = None,
    engine: str = "llamacpp",
    context: int | None = None,
    kv_cache_type: str = "f16",
    batch: int = 1,
    prompt_tokens: int = 512,
    output_tokens: int = 256,
    requests_per_month: int = 1000,
    electricity_price: float | None = None,
    hardware_price: float | None = None,
    amortisation_months: int | None = None,
    finetune: str | None = None,
    lora_rank: int = 16,
    seq_len: int = 2048,
    gpu_hour_price: float = DEFAULT_GPU_HOUR_PRICE,
    use_calibration: bool = True,
    explain: bool = True,
) -> dict[str, Any]:
    """Everything ``llmscout estimate`` shows, as its documented JSON (docs/json.md).

    Model: a catalog id, HF repo id, GGUF path or model folder. Hardware: a name, "auto"/None
    for this machine, and/or explicit figures that override the database.
    """
    from llmscout.catalog import load_catalog
    from llmscout.catalog.resolve import resolve_model
    from llmscout.estimate._estimate import estimate, estimate_to_dict
    from llmscout.estimate.cost import compare_with_cloud
    from llmscout.hardware import resolve_hardware

    model = resolve_model(ref)
    hw = resolve_hardware(hardware, memory_gb=memory_gb, bandwidth_gbs=bandwidth_gbs, tflops=tflops,
                          power_w=power_w, device_kind=device_kind)
    cal = load_calibration() if use_calibration else None
    sha = file_sha256(ref) if model.origin == "gguf" and Path(ref).expanduser().is_file() else None
    est = estimate(model, hw, quant=quant, engine=engine, context=context, kv_cache_type=kv_cache_type,
                   batch=batch, prompt_tokens=prompt_tokens, output_tokens=output_tokens,
                   calibration=cal, electricity_price=electricity_price,
                   requests_per_month=requests_per_month, hardware_price=hardware_price,
                   amortisation_months=amortisation_months, model_sha256=sha)
    out = estimate_to_dict(est, explain=explain)
    out["calibration"] = {"used": cal is not None, "path": str(calibration_path()) if cal else None}
    if model.kind == "open" and est.cost is not None:
        clouds = [m for m in load_catalog() if m.kind == "cloud"]
        out["cloud_comparison"] = compare_with_cloud(est.cost, clouds, prompt_tokens, output_tokens)
    if finetune:
        out["finetune"] = finetune_block(model, hw, finetune, lora_rank, seq_len, batch, gpu_hour_price)
    return out


def finetune_block(model: Any, hw: Any, method: str, rank: int, seq_len: int, batch: int,
                   gpu_hour_price: float = DEFAULT_GPU_HOUR_PRICE) -> dict[str, Any]:
    """Fine-tuning memory for ``method`` and, for contrast, pretraining from scratch."""
    from dataclasses import asdict

    from llmscout.errors import IncompatibleError
    from llmscout.estimate.finetune import finetune_memory, pretraining_cost

    if method not in FINETUNE_METHODS:
        raise InvalidValueError("finetune", method, "one of " + ", ".join(FINETUNE_METHODS))
    fm = finetune_memory(model, method, batch=batch, seq_len=seq_len, rank=rank, hardware=hw)  # type: ignore[arg-type]
    out: dict[str, Any] = {"method": method, "memory": asdict(fm), "fits": fm.fits}
    try:
        pre = pretraining_cost(model.params, hw, price_per_gpu_hour=gpu_hour_price)
        out["pretraining_from_scratch"] = {**asdict(pre), "price_basis": f"assumed ${gpu_hour_price}/GPU-hour"}
    except IncompatibleError as exc:
        out["pretraining_from_scratch"] = {"error": str(exc)}
    return out
