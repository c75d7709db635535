"""GGUF files as a model source: a fast header reader and the ``ModelSpec`` it implies.

``read_gguf_header`` parses the GGUF v2/v3 header with ``struct`` over a memory map. Large
array values (the tokenizer's token strings, scores, merges) are stepped over, keeping only
their element type and length, so a 262,144-token vocabulary reads in well under 0.1 s where
``gguf.GGUFReader`` takes 8-18 s. Layout: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md

Example:
    >>> from llmscout.catalog.sources.gguf import gguf_to_spec
    >>> spec = gguf_to_spec("gemma-3-270m-Q4_K_M.gguf")  # doctest: +SKIP
    >>> spec.architecture.num_layers, spec.artifacts[0].quant  # doctest: +SKIP
    (18, 'Q4_K_M')
"""

from __future__ import annotations

import mmap
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmscout.catalog.spec import Architecture, Experts, ModelSpec, SpecError
from llmscout.errors import InvalidFileError, MissingFileError

GGUF_MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
DEFAULT_ALIGNMENT = 32
MAX_DIMS = 4  # GGML_MAX_DIMS in ggml.h
MAX_KV = 1 << 20  # sanity limits: real files have tens of keys and at most tens of thousands
MAX_TENSORS = 1 << 22  # of tensors; anything beyond is a corrupt count, not a model
MAX_KEPT_ARRAY = 64  # arrays up to this length keep their values
MAX_KEPT_HPARAM_ARRAY = 1 << 16  # numeric per-layer hyperparameter arrays (not tokenizer.*)
MAX_KEY_BYTES = 65_535  # gguf.md: keys are at most 2^16-1 bytes
MAX_ARRAY_DEPTH = 8


@dataclass(frozen=True, slots=True)
class GGMLType:
    """A ggml tensor type: ``block_size`` weights are stored in ``type_size`` bytes."""

    id: int
    name: str
    block_size: int
    type_size: int

    @property
    def bits_per_weight(self) -> float:
        return 8 * self.type_size / self.block_size

    @property
    def is_float(self) -> bool:
        return self.name in ("F32", "F16", "BF16", "F64")


# Source: ggml type ids from ggml/include/ggml.h, block and byte sizes from the type traits in
# ggml/src/ggml.c, as mirrored by GGML_QUANT_SIZES in
# https://github.com/ggml-org/llama.cpp/blob/master/gguf-py/gguf/constants.py. Checked against ggml_blck_size/ggml_type_size of libggml-base 0.25.3
# (llama-cpp-python 0.3.36), which also gave Q2_0 (id 42).
_GGML_TYPE_ROWS = (
    (0, "F32", 1, 4), (1, "F16", 1, 2), (2, "Q4_0", 32, 18), (3, "Q4_1", 32, 20),
    (6, "Q5_0", 32, 22), (7, "Q5_1", 32, 24), (8, "Q8_0", 32, 34), (9, "Q8_1", 32, 36),
    (10, "Q2_K", 256, 84), (11, "Q3_K", 256, 110), (12, "Q4_K", 256, 144),
    (13, "Q5_K", 256, 176), (14, "Q6_K", 256, 210), (15, "Q8_K", 256, 292),
    (16, "IQ2_XXS", 256, 66), (17, "IQ2_XS", 256, 74), (18, "IQ3_XXS", 256, 98),
    (19, "IQ1_S", 256, 50), (20, "IQ4_NL", 32, 18), (21, "IQ3_S", 256, 110),
    (22, "IQ2_S", 256, 82), (23, "IQ4_XS", 256, 136), (24, "I8", 1, 1), (25, "I16", 1, 2),
    (26, "I32", 1, 4), (27, "I64", 1, 8), (28, "F64", 1, 8), (29, "IQ1_M", 256, 56),
    (30, "BF16", 1, 2), (34, "TQ1_0", 256, 54), (35, "TQ2_0", 256, 66), (39, "MXFP4", 32, 17),
    (40, "NVFP4", 64, 36), (41, "Q1_0", 128, 18), (42, "Q2_0", 64, 18),
)
GGML_TYPES: dict[int, GGMLType] = {row[0]: GGMLType(*row) for row in _GGML_TYPE_ROWS}
GGML_TYPES_BY_NAME: dict[str, GGMLType] = {t.name: t for t in GGML_TYPES.values()}

# Source: enum llama_ftype in https://github.com/ggml-org/llama.cpp/blob/master/include/llama.h
# (the LLAMA_FTYPE_MOSTLY_ prefix dropped); the value of general.file_type in a GGUF.
LLAMA_FTYPES: dict[int, str] = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
    17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS",
    23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M",
    30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0", 37: "TQ2_0", 38: "MXFP4_MOE",
    39: "NVFP4", 40: "Q1_0", 41: "Q2_0",
}
LLAMA_FTYPE_IDS: dict[str, int] = {name: i for i, name in LLAMA_FTYPES.items()}
_FLOAT_PRECISION = {"F32": "fp32", "F16": "fp16", "BF16": "bf16"}

# GGUF metadata value types (gguf.md "gguf_metadata_value_type")
_SCALARS: dict[int, tuple[str, struct.Struct]] = {
    0: ("uint8", struct.Struct("<B")), 1: ("int8", struct.Struct("<b")),
    2: ("uint16", struct.Struct("<H")), 3: ("int16", struct.Struct("<h")),
    4: ("uint32", struct.Struct("<I")), 5: ("int32", struct.Struct("<i")),
    6: ("float32", struct.Struct("<f")), 7: ("bool", struct.Struct("<?")),
    10: ("uint64", struct.Struct("<Q")), 11: ("int64", struct.Struct("<q")),
    12: ("float64", struct.Struct("<d")),
}
_STRING, _ARRAY = 8, 9
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


@dataclass(frozen=True, slots=True)
class GGUFArray:
    """An array value: its element type and length; ``values`` only for short arrays."""

    element_type: str
    length: int
    values: tuple[Any, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": "array", "element_type": self.element_type,
                             "length": self.length}
        if self.values is not None:
            d["values"] = [v.to_dict() if isinstance(v, GGUFArray) else v for v in self.values]
        return d


@dataclass(frozen=True, slots=True)
class TensorInfo:
    """One tensor's header entry; ``shape`` is in ggml order (``shape[0]`` is the row length)."""

    name: str
    shape: tuple[int, ...]
    ggml_type: int
    offset: int  # from the start of the data section

    @property
    def type(self) -> GGMLType:
        return GGML_TYPES[self.ggml_type]

    @property
    def type_name(self) -> str:
        return self.type.name

    @property
    def n_elements(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def n_bytes(self) -> int:
        t = self.type
        return self.n_elements // t.block_size * t.type_size

    @property
    def bits_per_weight(self) -> float:
        return self.type.bits_per_weight


@dataclass(frozen=True)
class GGUFHeader:
    """Everything before the tensor data: metadata key/values and tensor infos."""

    path: Path
    version: int
    file_size: int
    alignment: int
    data_offset: int
    metadata: dict[str, Any]
    tensors: tuple[TensorInfo, ...]

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", "unknown"))

    def get(self, key: str, default: Any = None) -> Any:
        return self.metadata.get(key, default)

    def arch_get(self, suffix: str, default: Any = None) -> Any:
        """``{arch}.suffix``, e.g. ``arch_get("block_count")``."""
        return self.metadata.get(f"{self.architecture}.{suffix}", default)

    def tensor(self, name: str) -> TensorInfo | None:
        for t in self.tensors:
            if t.name == name:
                return t
        return None


# -- reading ---------------------------------------------------------------------------------


class _Cursor:
    """Reads little-endian GGUF values from a buffer, refusing to read past its end."""

    def __init__(self, buf: Any, size: int, path: Path) -> None:
        self.buf = buf
        self.size = size
        self.path = path
        self.pos = 0

    def fail(self, problem: str) -> InvalidFileError:
        return InvalidFileError(self.path, problem)

    def need(self, n: int, what: str) -> None:
        if n < 0 or self.pos + n > self.size:
            raise self.fail(
                f"truncated: {what} at byte {self.pos} needs {n} bytes but the file has "
                f"{self.size} bytes - the download is probably incomplete")

    def u32(self, what: str) -> int:
        self.need(4, what)
        v = _U32.unpack_from(self.buf, self.pos)[0]
        self.pos += 4
        return v

    def u64(self, what: str) -> int:
        self.need(8, what)
        v = _U64.unpack_from(self.buf, self.pos)[0]
        self.pos += 8
        return v

    def string(self, what: str, limit: int | None = None) -> str:
        n = self.u64(what)
        if limit is not None and n > limit:
            raise self.fail(f"corrupt header: {what} is {n:,} bytes long (at most {limit:,})")
        self.need(n, what)
        raw = self.buf[self.pos:self.pos + n]
        self.pos += n
        return bytes(raw).decode("utf-8", errors="replace")

    def value(self, vtype: int, key: str) -> Any:
        if vtype in _SCALARS:
            name, st = _SCALARS[vtype]
            self.need(st.size, f"value of '{key}'")
            v = st.unpack_from(self.buf, self.pos)[0]
            self.pos += st.size
            return v
        if vtype == _STRING:
            return self.string(f"value of '{key}'")
        if vtype == _ARRAY:
            return self.array(key, 0)
        raise self.fail(f"key '{key}' has unknown value type {vtype} at byte {self.pos - 4}")

    def array(self, key: str, depth: int) -> GGUFArray:
        if depth > MAX_ARRAY_DEPTH:
            raise self.fail(f"corrupt header: key '{key}' nests arrays {depth} deep")
        etype = self.u32(f"array type of '{key}'")
        n = self.u64(f"array length of '{key}'")
        if etype in _SCALARS:
            ename, st = _SCALARS[etype]
            if n * st.size > self.size - self.pos:
                raise self._past_end(key, n, ename)
            keep = n <= MAX_KEPT_ARRAY or (
                n <= MAX_KEPT_HPARAM_ARRAY and not key.startswith("tokenizer."))
            values = None
            if keep:
                raw = self.buf[self.pos:self.pos + n * st.size]
                values = tuple(v[0] for v in st.iter_unpack(raw))
            self.pos += n * st.size
            return GGUFArray(ename, n, values)
        if etype == _STRING:
            if n > MAX_KEPT_ARRAY:
                self._skip_strings(n, key)
                return GGUFArray("string", n)
            return GGUFArray("string", n, tuple(self.string(f"item of '{key}'") for _ in range(n)))
        if etype == _ARRAY:
            if n * 12 > self.size - self.pos:
                raise self._past_end(key, n, "arrays")
            items = tuple(self.array(key, depth + 1) for _ in range(n))
            return GGUFArray("array", n, items if n <= MAX_KEPT_ARRAY else None)
        raise self.fail(f"key '{key}' is an array of unknown type {etype}")

    def _past_end(self, key: str, n: int, what: str) -> InvalidFileError:
        return self.fail(f"truncated or corrupt: key '{key}' claims {n:,} {what}, "
                         "past the end of the file")

    def _skip_strings(self, n: int, key: str) -> None:
        if n * 8 > self.size - self.pos:
            raise self._past_end(key, n, "strings")
        buf, pos, end, unpack = self.buf, self.pos, self.size, _U64.unpack_from
        for _ in range(n):  # the hot loop for 262k-token vocabularies: keep it bare
            if pos + 8 > end:
                break
            pos += 8 + unpack(buf, pos)[0]
        else:
            if pos <= end:
                self.pos = pos
                return
        self.pos = min(pos, end)
        raise self.fail(f"truncated: the strings of '{key}' run past the end of the file")

    def tensor_info(self, index: int) -> TensorInfo:
        name = self.string(f"name of tensor #{index}")
        n_dims = self.u32(f"dimensions of tensor '{name}'")
        if not 1 <= n_dims <= MAX_DIMS:
            raise self.fail(f"tensor '{name}' has {n_dims} dimensions "
                            f"(ggml allows 1 to {MAX_DIMS})")
        shape = tuple(self.u64(f"shape of tensor '{name}'") for _ in range(n_dims))
        gtype = self.u32(f"type of tensor '{name}'")
        offset = self.u64(f"offset of tensor '{name}'")
        t = GGML_TYPES.get(gtype)
        if t is None:
            raise self.fail(f"tensor '{name}' has ggml type {gtype}, unknown to llmscout "
                            "(a newer quantization format? update llmscout)")
        if shape[0] % t.block_size:
            raise self.fail(f"tensor '{name}': row length {shape[0]} is not a multiple of the "
                            f"{t.name} block size {t.block_size}")
        return TensorInfo(name, shape, gtype, offset)


def read_gguf_header(path: str | Path) -> GGUFHeader:
    """Read a GGUF file's metadata and tensor infos without touching the tensor data.

    Args:
        path: a ``.gguf`` file (v2 or v3).

    Returns:
        The header; array values longer than 64 items keep only their type and length.

    Raises:
        MissingFileError: no such file.
        InvalidFileError: not GGUF, an unsupported version, a truncated or corrupt file.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise MissingFileError(p, "give the path of a .gguf file")
    if p.is_dir():
        raise InvalidFileError(p, "is a folder, not a GGUF file")
    try:
        with p.open("rb") as f:
            size = p.stat().st_size
            if size < 24:
                raise InvalidFileError(p, f"only {size} bytes: too short to be a GGUF file")
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                return _parse(mm, size, p)
    except OSError as exc:
        raise InvalidFileError(p, f"cannot be read: {exc.strerror or exc}") from None


def _parse(buf: Any, size: int, path: Path) -> GGUFHeader:
    cur = _Cursor(buf, size, path)
    magic = bytes(buf[0:4])
    if magic != GGUF_MAGIC:
        raise cur.fail(f"not a GGUF file (starts with {magic!r}, expected b'GGUF')")
    cur.pos = 4
    version = cur.u32("version")
    if version not in SUPPORTED_VERSIONS:
        hint = " (big-endian files are not supported)" if version >= 1 << 16 else ""
        raise cur.fail(f"GGUF version {version} is not supported (only 2 and 3){hint}")
    n_tensors = cur.u64("tensor count")
    n_kv = cur.u64("key/value count")
    if n_kv > MAX_KV or n_kv * 13 > size:
        raise cur.fail(f"corrupt header: claims {n_kv:,} metadata keys")
    if n_tensors > MAX_TENSORS or n_tensors * 24 > size:
        raise cur.fail(f"corrupt header: claims {n_tensors:,} tensors")
    metadata: dict[str, Any] = {}
    for i in range(n_kv):
        key = cur.string(f"key #{i}", limit=MAX_KEY_BYTES)
        vtype = cur.u32(f"value type of '{key}'")
        metadata[key] = cur.value(vtype, key)
    tensors = tuple(cur.tensor_info(i) for i in range(n_tensors))
    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if not isinstance(alignment, int) or alignment <= 0 or alignment & (alignment - 1):
        raise cur.fail(f"general.alignment is {alignment!r}, expected a power of two")
    data_offset = -(-cur.pos // alignment) * alignment
    header = GGUFHeader(path, version, size, alignment, data_offset, metadata, tensors)
    _check_extents(header)
    return header


def _check_extents(h: GGUFHeader) -> None:
    end = h.data_offset
    last = None
    for t in h.tensors:
        stop = h.data_offset + t.offset + t.n_bytes
        if stop > end:
            end, last = stop, t
    if end > h.file_size:
        name = last.name if last else "?"
        raise InvalidFileError(
            h.path, f"truncated: tensor '{name}' ends at byte {end:,} but the file has "
            f"{h.file_size:,} bytes - the download is probably incomplete")


# -- header-level facts ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TypeStats:
    """How many tensors, weights and bytes one ggml type accounts for."""

    count: int
    params: int
    bytes: int

    @property
    def bits_per_weight(self) -> float:
        return 8 * self.bytes / self.params if self.params else 0.0


@dataclass(frozen=True)
class GGUFInfo:
    """Facts read from a GGUF header, for ``llmscout models show x.gguf``."""

    path: str
    file_size: int
    version: int
    architecture: str
    name: str | None
    quant: str
    quant_guessed: bool  # True when general.file_type is missing and the quant was inferred
    file_type: int | None
    params: int
    active_params: int
    tensor_bytes: int
    tensor_count: int
    kv_count: int
    type_histogram: dict[str, TypeStats]
    vocab_size: int | None
    context_length: int | None
    tokenizer_model: str | None
    chat_template: str | None
    split_count: int = 1
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def has_chat_template(self) -> bool:
        return bool(self.chat_template)

    @property
    def bits_per_weight(self) -> float:
        return 8 * self.tensor_bytes / self.params if self.params else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form; array metadata values appear as ``{type, element_type, length}``."""
        return {
            "path": self.path, "file_size": self.file_size, "version": self.version,
            "architecture": self.architecture, "name": self.name, "quant": self.quant,
            "quant_guessed": self.quant_guessed, "file_type": self.file_type,
            "params": self.params, "active_params": self.active_params,
            "tensor_bytes": self.tensor_bytes, "bits_per_weight": round(self.bits_per_weight, 4),
            "tensor_count": self.tensor_count, "kv_count": self.kv_count,
            "type_histogram": {
                k: {"count": s.count, "params": s.params, "bytes": s.bytes,
                    "bits_per_weight": round(s.bits_per_weight, 4)}
                for k, s in self.type_histogram.items()
            },
            "vocab_size": self.vocab_size, "context_length": self.context_length,
            "tokenizer_model": self.tokenizer_model,
            "has_chat_template": self.has_chat_template, "chat_template": self.chat_template,
            "split_count": self.split_count,
            "metadata": {k: _json_value(v) for k, v in self.metadata.items()},
        }


def _json_value(v: Any) -> Any:
    if isinstance(v, GGUFArray):
        return v.to_dict()
    if isinstance(v, float) and v != v:  # NaN is not JSON
        return None
    return v


def type_histogram(tensors: tuple[TensorInfo, ...] | list[TensorInfo]) -> dict[str, TypeStats]:
    """Tensor count, weights and bytes per ggml type, largest share of bytes first."""
    acc: dict[str, list[int]] = {}
    for t in tensors:
        row = acc.setdefault(t.type_name, [0, 0, 0])
        row[0] += 1
        row[1] += t.n_elements
        row[2] += t.n_bytes
    ordered = sorted(acc.items(), key=lambda kv: -kv[1][2])
    return {k: TypeStats(*v) for k, v in ordered}


def _guess_quant(tensors: tuple[TensorInfo, ...]) -> str:
    """The ggml type holding most weights of the 2-D+ tensors (files without general.file_type)."""
    weights: dict[str, int] = {}
    for t in tensors:
        if len(t.shape) >= 2:
            weights[t.type_name] = weights.get(t.type_name, 0) + t.n_elements
    return max(weights, key=weights.__getitem__) if weights else "F32"


def _quant_of(h: GGUFHeader, tensors: tuple[TensorInfo, ...]) -> tuple[str, bool, int | None]:
    ftype = h.get("general.file_type")
    if isinstance(ftype, int) and ftype in LLAMA_FTYPES:
        return LLAMA_FTYPES[ftype], False, ftype
    return _guess_quant(tensors), True, ftype if isinstance(ftype, int) else None


def _active_params(h: GGUFHeader, tensors: tuple[TensorInfo, ...], total: int) -> int:
    """Weights used per token: experts count ``expert_used_count / expert_count`` of theirs."""
    n_exp = _int(h.arch_get("expert_count"))
    n_used = _int(h.arch_get("expert_used_count"))
    if not n_exp or not n_used:
        return total
    routed = sum(t.n_elements for t in tensors if "_exps." in t.name)
    return total - routed + routed * n_used // n_exp


def _vocab_size(h: GGUFHeader) -> int | None:
    tokens = h.get("tokenizer.ggml.tokens")
    if isinstance(tokens, GGUFArray) and tokens.length:
        return tokens.length
    size = _int(h.arch_get("vocab_size"))
    if size:
        return size
    emb = h.tensor("token_embd.weight")
    return emb.shape[1] if emb and len(emb.shape) >= 2 else None


def _split_paths(h: GGUFHeader) -> list[Path]:
    """The other shards of a split GGUF (``name-00001-of-00003.gguf``), in order."""
    count = _int(h.get("split.count")) or 1
    if count <= 1:
        return []
    m = re.match(r"^(.*)-(\d{5})-of-(\d{5})\.gguf$", h.path.name)
    if not m:
        raise InvalidFileError(h.path, f"split.count is {count} but the name does not follow "
                               "'<name>-00001-of-0000N.gguf': give the first shard")
    stem = m.group(1)
    others = [h.path.with_name(f"{stem}-{i:05d}-of-{count:05d}.gguf") for i in range(1, count + 1)]
    return [p for p in others if p != h.path]


def _all_tensors(h: GGUFHeader) -> tuple[TensorInfo, ...]:
    tensors = list(h.tensors)
    for shard in _split_paths(h):
        if not shard.exists():
            raise MissingFileError(shard, f"shard of the split model {h.path.name}")
        tensors.extend(read_gguf_header(shard).tensors)
    return tuple(tensors)


def info_from_header(h: GGUFHeader) -> GGUFInfo:
    """Header-level facts (parameter count exact from tensor shapes)."""
    tensors = _all_tensors(h)
    params = sum(t.n_elements for t in tensors)
    quant, guessed, ftype = _quant_of(h, tensors)
    template = h.get("tokenizer.chat_template")
    tmpl_model = h.get("tokenizer.ggml.model")
    metadata = {k: v for k, v in h.metadata.items() if k != "tokenizer.chat_template"}
    return GGUFInfo(
        path=str(h.path.resolve()), file_size=h.file_size, version=h.version,
        architecture=h.architecture, name=_str(h.get("general.name")), quant=quant,
        quant_guessed=guessed, file_type=ftype, params=params,
        active_params=_active_params(h, tensors, params),
        tensor_bytes=sum(t.n_bytes for t in tensors), tensor_count=len(tensors),
        kv_count=len(h.metadata), type_histogram=type_histogram(tensors),
        vocab_size=_vocab_size(h), context_length=_int(h.arch_get("context_length")),
        tokenizer_model=_str(tmpl_model), chat_template=_str(template),
        split_count=_int(h.get("split.count")) or 1, metadata=metadata,
    )


def gguf_info(path: str | Path) -> GGUFInfo:
    """``info_from_header(read_gguf_header(path))``."""
    return info_from_header(read_gguf_header(path))


# -- the ModelSpec -------------------------------------------------------------------------------


def _int(v: Any) -> int | None:
    """An integer hyperparameter; per-layer arrays give their largest value."""
    if isinstance(v, GGUFArray):
        vals = [x for x in (v.values or ())
                if isinstance(x, int | float) and not isinstance(x, bool)]
        return int(max(vals)) if vals else None
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return int(v)


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


# Sliding-window layer patterns that llama.cpp assumes when a file has no
# {arch}.attention.sliding_window_pattern key (hparams.set_swa_pattern in src/llama-model.cpp,
# https://github.com/ggml-org/llama.cpp): with period n, layer il slides when il % n < n - 1.
_SWA_PATTERN = {"gemma2": 2, "gemma3": 6}


def _sliding_layers(h: GGUFHeader, n_layers: int, window: int | None) -> int | None:
    """How many layers use the sliding window (None: all of them, or no window)."""
    if not window:
        return None
    pattern = h.arch_get("attention.sliding_window_pattern")
    if isinstance(pattern, GGUFArray) and pattern.values is not None:  # one flag per layer
        return sum(1 for v in pattern.values[:n_layers] if v)
    period = pattern if isinstance(pattern, int) and not isinstance(pattern, bool) else None
    if period is None:
        period = _SWA_PATTERN.get(h.architecture)
    if period is None or period == 0:  # llama.cpp: period 0 means every layer slides
        return None
    return sum(1 for il in range(n_layers) if il % period < period - 1)


def _experts(h: GGUFHeader, tensors: tuple[TensorInfo, ...]) -> dict[str, Any] | None:
    n_exp = _int(h.arch_get("expert_count"))
    if not n_exp:
        return None
    by_name = {t.name: t for t in tensors}
    gate = by_name.get("blk.0.ffn_gate_exps.weight") or by_name.get("blk.0.ffn_up_exps.weight")
    exp_ffn = _int(h.arch_get("expert_feed_forward_length")) or (gate.shape[1] if gate else None)
    exp_ffn = exp_ffn or _int(h.arch_get("feed_forward_length"))
    moe_layers = sum(1 for t in tensors if t.name.endswith(".ffn_gate_inp.weight"))
    n_layers = _int(h.arch_get("block_count")) or 0
    out: dict[str, Any] = {
        "num_experts": n_exp,
        "experts_per_token": _int(h.arch_get("expert_used_count")) or 1,
        "expert_intermediate_size": exp_ffn or 0,
        "num_shared_experts": _int(h.arch_get("expert_shared_count")) or 0,
        "num_moe_layers": moe_layers if moe_layers and moe_layers != n_layers else None,
    }
    shared_ffn = _int(h.arch_get("expert_shared_feed_forward_length"))
    if shared_ffn:
        out["shared_intermediate_size"] = shared_ffn
    return out


def _architecture(
    h: GGUFHeader, tensors: tuple[TensorInfo, ...], source: str
) -> dict[str, Any] | None:
    """The ``architecture`` mapping, or None when the header lacks a transformer's shape."""
    names = {t.name for t in tensors}
    n_layers = _int(h.arch_get("block_count"))
    hidden = _int(h.arch_get("embedding_length"))
    heads = _int(h.arch_get("attention.head_count"))
    kv_heads = _int(h.arch_get("attention.head_count_kv")) or heads
    experts = _experts(h, tensors)
    ffn = _int(h.arch_get("feed_forward_length")) or (experts or {}).get("expert_intermediate_size")
    if not (n_layers and hidden and heads and kv_heads and ffn):
        return None
    head_dim = _int(h.arch_get("attention.key_length")) or hidden // heads
    window = _int(h.arch_get("attention.sliding_window")) or None
    gated = any(".ffn_gate." in n or ".ffn_gate_exps." in n for n in names)
    return {
        "model_type": h.architecture, "num_layers": n_layers, "hidden_size": hidden,
        "num_heads": heads, "num_kv_heads": kv_heads, "head_dim": head_dim,
        "intermediate_size": ffn, "vocab_size": _vocab_size(h),
        "max_position_embeddings": _int(h.arch_get("context_length")) or 0,
        "source": source, "tied_embeddings": "output.weight" not in names,
        "mlp": "gated" if gated else "plain",
        "attention_bias": "blk.0.attn_q.bias" in names or "blk.0.attn_qkv.bias" in names,
        "rope_theta": h.arch_get("rope.freq_base"), "sliding_window": window,
        "num_sliding_layers": _sliding_layers(h, n_layers, window), "experts": experts,
    }


_TUNING_WORDS = (("instruct", "instruct"), ("it", "instruct"), ("chat", "chat"),
                 ("coder", "code"), ("code", "code"), ("reasoning", "reasoning"))


def _tuning(h: GGUFHeader) -> list[str]:
    """From general.finetune / general.name / the file name; 'base' when nothing says more."""
    text = " ".join(str(h.get(k) or "") for k in ("general.finetune", "general.name"))
    words = set(re.split(r"[^a-z0-9]+", f"{text} {h.path.stem}".lower()))
    found = [t for w, t in _TUNING_WORDS if w in words]
    if found and found != ["code"]:
        return list(dict.fromkeys(found))
    return ["base", *found]


def spec_dict_from_header(h: GGUFHeader, info: GGUFInfo | None = None) -> dict[str, Any]:
    """The raw ``ModelSpec`` mapping for a GGUF (what ``ModelSpec.from_dict`` parses)."""
    info = info or info_from_header(h)
    tensors = _all_tensors(h)
    path = Path(info.path)
    src = f"file:{path}"
    arch = _architecture(h, tensors, src)
    precision = _FLOAT_PRECISION.get(info.quant)
    artifact = {"format": "gguf", "quant": None if precision else info.quant,
                "precision": precision, "file": path.name, "size_bytes": info.file_size,
                "source": src}
    notes = None if info.has_chat_template else "no chat template (tokenizer.chat_template)"
    sources = {"identity": src, "params": f"{src} (tensor shapes)"}
    if arch:
        sources["architecture"] = f"{src} (GGUF metadata {h.architecture}.*)"
    return {
        "id": f"gguf:{path}", "name": info.name or path.stem,
        "family": _str(h.get("general.basename")) or h.architecture,
        "developer": _str(h.get("general.organization")) or "unknown",
        "kind": "open", "tuning": _tuning(h),
        "license": _str(h.get("general.license")) or "unknown",
        "sources": sources, "params": info.params,
        "active_params": info.active_params if info.active_params != info.params else None,
        "architecture": arch, "context_length": info.context_length,
        "context_source": (
            f"{src} ({h.architecture}.context_length)" if info.context_length else None),
        "artifacts": [artifact], "notes": notes, "origin": "gguf",
    }


def gguf_to_spec(path: str | Path) -> ModelSpec:
    """A ``ModelSpec`` for a local GGUF file: shape from metadata, exact parameter count.

    Raises:
        MissingFileError: no such file (or a missing shard of a split model).
        InvalidFileError: not a readable GGUF, or metadata that contradicts itself.
    """
    header = read_gguf_header(path)
    raw = spec_dict_from_header(header)
    try:
        return ModelSpec.from_dict(_drop_none(raw))
    except SpecError as exc:
        raise InvalidFileError(header.path, exc.problem, field=exc.field) from None


def _drop_none(d: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if v is None:
            continue
        if isinstance(v, Mapping):
            v = _drop_none(v)
        elif isinstance(v, list):
            v = [_drop_none(x) if isinstance(x, Mapping) else x for x in v]
        out[k] = v
    return out


__all__ = [
    "GGML_TYPES", "GGML_TYPES_BY_NAME", "LLAMA_FTYPES", "LLAMA_FTYPE_IDS", "GGMLType", "GGUFArray",
    "GGUFHeader", "GGUFInfo", "TensorInfo", "TypeStats", "gguf_info", "gguf_to_spec",
    "info_from_header", "read_gguf_header", "spec_dict_from_header", "type_histogram",
]


# -- GGUF metadata without tensors (Ollama's /api/show model_info) ------------------------------

_PLAIN_MLP_ARCHS = {"gpt2", "phi2", "falcon", "starcoder", "gptneox", "bloom", "mpt"}


def metadata_to_architecture(metadata: dict[str, Any], source: str) -> Architecture | None:
    """An ``Architecture`` from GGUF metadata alone (no tensor infos).

    Without tensors two facts are not in the metadata: whether the MLP is gated (known per
    architecture) and whether the output head is tied to the embeddings, which is decided by
    which choice reproduces ``general.parameter_count``. Returns None when the vocabulary size
    is not reported (Ollama omits token arrays unless asked verbosely).
    """
    from llmscout.catalog.params import count_params

    h = GGUFHeader(path=Path(source), version=3, file_size=0, alignment=32, data_offset=0,
                   metadata=dict(metadata), tensors=())
    raw = _architecture(h, (), source)
    vocab = _int(h.arch_get("vocab_size")) or (raw or {}).get("vocab_size")
    if not raw or not vocab:
        return None
    raw.update(vocab_size=vocab, mlp="plain" if h.architecture in _PLAIN_MLP_ARCHS else "gated",
               attention_bias=h.architecture in {"qwen2", "qwen2moe"})
    if raw.get("experts"):
        raw["experts"] = Experts(**raw["experts"])
    candidates = [Architecture(**{**raw, "tied_embeddings": tied}) for tied in (False, True)]
    stated = _int(h.get("general.parameter_count"))
    if stated:
        return min(candidates, key=lambda a: abs(count_params(a).total - stated))
    return candidates[0]
