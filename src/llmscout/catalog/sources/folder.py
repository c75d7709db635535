"""A local Hugging Face model folder: ``config.json`` plus safetensors headers.

``config.json`` is read as JSON (importing transformers costs seconds). Safetensors files start
with an 8-byte little-endian header length and a JSON header listing every tensor's dtype and
shape, so exact parameter counts and dtypes come without reading the weights. A folder holding
only ``config.json`` is valid: the architecture without weights (parameters are computed).
"""

from __future__ import annotations

import json
import struct
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmscout.catalog.params import count_params
from llmscout.catalog.sources.hf_config import config_to_architecture, context_from_config
from llmscout.catalog.spec import Artifact, ModelSpec, SpecError
from llmscout.errors import InvalidFileError, MissingFileError

_MAX_HEADER = 100 * 1024 * 1024  # safetensors caps its header at 100 MB
_DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
                "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1, "U32": 4, "I4": 0.5, "U4": 0.5}


@dataclass(frozen=True, slots=True)
class SafetensorsSummary:
    files: tuple[str, ...]
    params: int
    bytes: int
    params_by_dtype: dict[str, int]


def read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidFileError(path, "not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidFileError(path, f"not valid JSON: {exc.msg}", line=exc.lineno) from None


def read_safetensors_header(path: Path) -> dict[str, Any]:
    """The JSON header of one ``.safetensors`` file (tensor name → dtype, shape, offsets)."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise InvalidFileError(path, "truncated safetensors file (no header length)")
        (length,) = struct.unpack("<Q", head)
        if length > min(_MAX_HEADER, size - 8):
            raise InvalidFileError(path, f"corrupt safetensors header length {length}")
        raw = fh.read(length)
    try:
        header = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidFileError(path, "corrupt safetensors header (not JSON)") from None
    if not isinstance(header, dict):
        raise InvalidFileError(path, "corrupt safetensors header (not an object)")
    return header


def summarise_safetensors(files: list[Path]) -> SafetensorsSummary:
    by_dtype: Counter[str] = Counter()
    total_bytes = 0
    for f in files:
        for name, info in read_safetensors_header(f).items():
            if name == "__metadata__" or not isinstance(info, dict):
                continue
            n = 1
            for dim in info.get("shape", []):
                n *= int(dim)
            dtype = str(info.get("dtype", "?"))
            by_dtype[dtype] += n
            total_bytes += int(n * _DTYPE_BYTES.get(dtype, 2))
    return SafetensorsSummary(tuple(f.name for f in files), sum(by_dtype.values()), total_bytes,
                              dict(by_dtype))


def _safetensors_files(folder: Path) -> list[Path]:
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        data = read_json(index)
        names = sorted(set((data.get("weight_map") or {}).values()))
        missing = [n for n in names if not (folder / n).is_file()]
        if missing:  # an index without its shards: count from what is there
            names = [n for n in names if n not in missing]
        return [folder / n for n in names]
    return sorted(folder.glob("*.safetensors"))


def folder_to_spec(folder: str | Path) -> ModelSpec:
    """A ``ModelSpec`` for a local model folder (``config.json`` required)."""
    path = Path(folder).expanduser().resolve()
    if not path.exists():
        raise MissingFileError(path)
    config_path = path / "config.json"
    if not config_path.is_file():
        raise InvalidFileError(path, "no config.json in this folder (not a Hugging Face model folder)")
    config = read_json(config_path)
    if not isinstance(config, dict):
        raise InvalidFileError(config_path, "expected a JSON object")
    try:
        arch = config_to_architecture(config, source=f"file:{config_path}")
    except SpecError as exc:
        raise InvalidFileError(config_path, exc.problem, field=exc.field) from None
    except (TypeError, ValueError) as exc:
        raise InvalidFileError(config_path, f"unexpected value: {exc}") from None
    context, context_source = context_from_config(config)
    files = _safetensors_files(path)
    summary = summarise_safetensors(files) if files else None
    computed = count_params(arch)
    params = summary.params if summary else computed.total
    precision = str(config.get("torch_dtype") or config.get("dtype") or "") or None
    artifacts: tuple[Artifact, ...] = ()
    sources = {"identity": f"file:{path}", "architecture": f"file:{config_path}"}
    if summary:
        main_dtype = max(summary.params_by_dtype, key=summary.params_by_dtype.__getitem__)
        artifacts = (Artifact(format="safetensors", precision=main_dtype.lower(), file=",".join(summary.files),
                              url=f"file:{path}", size_bytes=summary.bytes, source="safetensors headers"),)
        sources["params"] = "safetensors headers (exact)"
    else:
        sources["params"] = "computed from config.json (no weights in folder)"
    quant_cfg = config.get("quantization_config") or {}
    notes = [f"torch_dtype {precision}"] if precision else []
    if quant_cfg:
        notes.append(f"quantization_config: {quant_cfg.get('quant_method', '?')} {quant_cfg.get('bits', '')}".strip())
    name = path.name
    return ModelSpec(
        id=f"folder:{path}", name=name, family=arch.model_type, developer="unknown", kind="open",
        tuning=("base",), license="unknown", sources=sources, params=params,
        active_params=computed.active if arch.experts else None, architecture=arch,
        context_length=context, context_source=context_source, artifacts=artifacts,
        notes="; ".join(notes) or None, origin="folder",
    )
