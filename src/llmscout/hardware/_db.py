"""The hardware database: bundled YAML under ``hardware/data``, looked up by (fuzzy) name.

A data file is YAML with ``devices:`` (a list of entries with the fields of ``spec.Hardware``) and
optional ``defaults:`` merged into every entry of that file. Entries may also give:

- ``memory_gb``: the default of ``memory_options_gb`` (else the first option). Sizes are the
  spec-sheet "GB" of DRAM, which are binary: ``memory_bytes = memory_gb * 2**30``.
- ``sources``: ``{field: url}`` for figures that come from another page than ``source``.

Several devices may share an alias ("h100", "m4 max"): the first one in file order is the
default variant, and a memory size in the name ("M4 Max 36GB") picks the variant that offers it.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from llmscout.catalog._load import read_document
from llmscout.errors import InvalidFileError, InvalidValueError, UnknownHardwareError
from llmscout.hardware.spec import DEVICE_KINDS, GIB, TARGETS, Hardware, HardwareBasis

DATA_DIR = Path(__file__).parent / "data"

_FIELDS = {f.name: f for f in dataclasses.fields(Hardware)}
_YAML_ONLY = {"memory_gb", "sources"}
_REQUIRED = ("id", "name", "vendor", "device_kind", "bandwidth_gbs", "source")
_POSITIVE_FLOATS = (
    "bandwidth_gbs", "fp16_tflops", "int8_tops", "fp32_tflops", "tdp_w", "idle_w",
    "interconnect_gbs", "host_bandwidth_gbs",
)
_POSITIVE_INTS = ("count", "cores", "threads", "max_allocation_bytes", "host_memory_bytes", "memory_bytes")
_BRAND_WORDS = {
    "nvidia", "geforce", "amd", "radeon", "intel", "apple", "qualcomm", "google", "tesla", "instinct",
}
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9.+-]*$")
_COUNT_PREFIX = re.compile(r"^\s*(\d+)\s*(?:x\s+|[×*]\s*)(.+)$", re.IGNORECASE)
_COUNT_SUFFIX = re.compile(r"^(.+?)\s+[x×*]\s*(\d+)\s*$", re.IGNORECASE)
_MEMORY = re.compile(r"\b(\d+(?:\.\d+)?)\s*(?:gb|gib|g)\b", re.IGNORECASE)

# Limits beyond which a user-given figure is a typo, not a machine (per device).
MAX_MEMORY_GB = 65536.0  # 64 TiB
MAX_BANDWIDTH_GBS = 100_000.0  # 100 TB/s
MAX_TFLOPS = 100_000.0
MAX_POWER_W = 100_000.0
MAX_COUNT = 4096


class _EntryError(Exception):
    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field_name
        self.problem = problem


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9+]+", "", text.lower())


def _unbranded(text: str) -> str:
    words = re.split(r"[^a-z0-9+]+", text.lower())
    return "".join(w for w in words if w and w not in _BRAND_WORDS)


# ---------------------------------------------------------------------------------------------
# Parsing one file
# ---------------------------------------------------------------------------------------------

def _number(value: Any, name: str, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _EntryError(name, f"expected a number, got {value!r}")
    if not math.isfinite(value) or (positive and value <= 0):
        raise _EntryError(name, f"expected a positive number, got {value!r}")
    return float(value)


def _whole(value: Any, name: str) -> int:
    number = _number(value, name)
    if number != int(number):
        raise _EntryError(name, f"expected a whole number, got {value!r}")
    return int(number)


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise _EntryError(name, f"expected a list of strings, got {value!r}")
    return tuple(str(v) for v in value)


def _memory(data: dict[str, Any]) -> tuple[int, tuple[float, ...]]:
    options: tuple[float, ...] = ()
    if "memory_options_gb" in data:
        raw = data["memory_options_gb"]
        if not isinstance(raw, list) or not raw:
            raise _EntryError("memory_options_gb", f"expected a non-empty list of sizes, got {raw!r}")
        options = tuple(_number(v, "memory_options_gb") for v in raw)
    if data.get("memory_bytes") is not None:
        return _whole(data["memory_bytes"], "memory_bytes"), options
    if not options:
        raise _EntryError("memory_options_gb", "a device needs memory_options_gb (or memory_bytes)")
    default = data.get("memory_gb", options[0])
    default = _number(default, "memory_gb")
    if default not in options:
        raise _EntryError("memory_gb", f"{default:g} is not one of memory_options_gb {list(options)}")
    return int(default * GIB), options


def _check_choice(data: Mapping[str, Any], key: str, allowed: tuple[str, ...]) -> None:
    if key in data and data[key] not in allowed:
        raise _EntryError(key, f"'{data[key]}' is not one of {', '.join(allowed)}")


def _notes(defaults: Mapping[str, Any], entry: Mapping[str, Any]) -> str | None:
    parts = [entry.get("notes"), defaults.get("notes")]
    text = " ".join(str(p).strip() for p in parts if p)
    return text or None


def _build_device(entry: Mapping[str, Any], defaults: Mapping[str, Any]) -> Hardware:
    """One ``Hardware`` from a data-file entry; raises ``_EntryError`` naming the bad field."""
    data = {**defaults, **entry}
    unknown = set(data) - set(_FIELDS) - _YAML_ONLY
    if unknown:
        raise _EntryError(sorted(unknown)[0], "unknown field (known: "
                          + ", ".join(sorted(set(_FIELDS) | _YAML_ONLY)) + ")")
    for key in _REQUIRED:
        if data.get(key) in (None, ""):
            raise _EntryError(key, "required")
    for key in ("id", "name", "vendor", "source"):
        if not isinstance(data[key], str):
            raise _EntryError(key, f"expected text, got {data[key]!r}")
    if not _ID_RE.match(data["id"]):
        raise _EntryError("id", f"'{data['id']}' must be lower-case letters, digits, '.', '+' or '-'")
    _check_choice(data, "device_kind", DEVICE_KINDS)
    _check_choice(data, "target", TARGETS)
    memory_bytes, options = _memory(data)
    kwargs: dict[str, Any] = {k: v for k, v in data.items() if k in _FIELDS}
    kwargs.update(memory_bytes=memory_bytes, memory_options_gb=options, notes=_notes(defaults, entry))
    for key in _POSITIVE_FLOATS:
        if kwargs.get(key) is not None:
            kwargs[key] = _number(kwargs[key], key)
    for key in _POSITIVE_INTS:
        if kwargs.get(key) is not None:
            kwargs[key] = _whole(kwargs[key], key)
    fraction = kwargs.get("usable_memory_fraction")
    if fraction is not None and not 0 < _number(fraction, "usable_memory_fraction") <= 1:
        raise _EntryError("usable_memory_fraction", f"expected a fraction in (0, 1], got {fraction!r}")
    for key in ("isa", "aliases"):
        if key in kwargs:
            kwargs[key] = _strings(kwargs[key], key)
    extra = dict(data.get("extra") or {})
    if not isinstance(data.get("extra") or {}, Mapping):
        raise _EntryError("extra", "expected a mapping")
    sources = data.get("sources") or {}
    if not isinstance(sources, Mapping) or not all(isinstance(v, str) for v in sources.values()):
        raise _EntryError("sources", "expected a mapping of field names to URLs")
    if sources:
        extra["sources"] = dict(sources)
    kwargs["extra"] = extra
    return Hardware(**kwargs)


def _id_lines(path: Path) -> dict[str, int]:
    """Line number of each ``id:`` in a data file (for error messages)."""
    out: dict[str, int] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip().lstrip("-").strip()
        if stripped.startswith("id:"):
            out.setdefault(stripped[3:].strip().strip("'\""), number)
    return out


def parse_hardware_file(path: Path) -> list[Hardware]:
    """The devices of one data file; errors name the file, the entry's line and the field."""
    doc = read_document(path)
    if doc is None:
        return []
    if not isinstance(doc, Mapping):
        raise InvalidFileError(path, "expected a mapping with 'devices:'")
    unknown = set(doc) - {"defaults", "devices"}
    if unknown:
        raise InvalidFileError(path, f"unknown top-level keys {sorted(unknown)} (allowed: defaults, devices)")
    defaults = doc.get("defaults") or {}
    entries = doc.get("devices") or []
    if not isinstance(defaults, Mapping):
        raise InvalidFileError(path, "'defaults' must be a mapping", field="defaults")
    if not isinstance(entries, list):
        raise InvalidFileError(path, "'devices' must be a list", field="devices")
    devices: list[Hardware] = []
    for index, entry in enumerate(entries):
        try:
            if not isinstance(entry, Mapping):
                raise _EntryError("", f"expected a mapping, got {type(entry).__name__}")
            devices.append(_build_device(entry, defaults))
        except _EntryError as exc:
            entry_id = entry.get("id") if isinstance(entry, Mapping) else None
            line = _id_lines(path).get(str(entry_id)) if entry_id else None
            field = f"devices[{index}]" + (f".{exc.field}" if exc.field else "")
            raise InvalidFileError(path, exc.problem, line=line, field=field) from None
    return devices


def bundled_files() -> list[Path]:
    return sorted(p for p in DATA_DIR.iterdir() if p.suffix in {".yaml", ".yml", ".json"})


# ---------------------------------------------------------------------------------------------
# The database and look-ups
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class _Query:
    text: str
    key: str
    count: int | None


class HardwareDB:
    """Devices indexed by id, name and aliases (case, spaces and punctuation ignored)."""

    def __init__(self, devices: Iterable[Hardware]) -> None:
        self._devices: dict[str, Hardware] = {}
        self._index: dict[str, list[str]] = {}
        for device in devices:
            self.add(device)

    def add(self, device: Hardware) -> None:
        if device.id in self._devices:
            raise ValueError(f"duplicate hardware id '{device.id}'")
        self._devices[device.id] = device
        for text in (device.id, device.name, *device.aliases):
            for key in {_norm(text), _unbranded(text)}:
                ids = self._index.setdefault(key, [])
                if key and device.id not in ids:
                    ids.append(device.id)

    def __iter__(self) -> Iterator[Hardware]:
        return iter(self._devices.values())

    def __len__(self) -> int:
        return len(self._devices)

    def __contains__(self, device_id: object) -> bool:
        return isinstance(device_id, str) and device_id in self._devices

    def get(self, device_id: str) -> Hardware:
        """The device with exactly this id."""
        if device_id not in self._devices:
            raise UnknownHardwareError(device_id, self.names())
        return self._devices[device_id]

    def names(self) -> list[str]:
        """Ids and aliases, for suggestions and CLI completion."""
        out: list[str] = []
        for device in self._devices.values():
            out += [device.id, *device.aliases]
        return list(dict.fromkeys(out))

    def select(self, kind: str | None = None, target: str | None = None) -> list[Hardware]:
        """Devices of one ``device_kind`` and/or ``target`` (both optional), in file order."""
        if kind is not None and kind not in DEVICE_KINDS:
            raise InvalidValueError("kind", kind, "one of " + ", ".join(DEVICE_KINDS))
        if target is not None and target not in TARGETS:
            raise InvalidValueError("target", target, "one of " + ", ".join(TARGETS))
        return [d for d in self._devices.values()
                if (kind is None or d.device_kind == kind) and (target is None or d.target == target)]

    def candidates(self, name: str) -> tuple[list[Hardware], float | None, int | None]:
        """Devices matching ``name`` (default variant first), with any memory size and count in it."""
        query = _parse_query(name)
        ids = self._match(query.key) or self._match(_unbranded(query.text))
        memory = None
        match = _MEMORY.search(query.text)
        if not ids and match:
            stripped = _MEMORY.sub(" ", query.text, count=1)
            ids = self._match(_norm(stripped)) or self._match(_unbranded(stripped))
            memory = float(match.group(1)) if ids else None
        if not ids:
            ids = self._suffix_match(query.key)
        if not ids:
            raise UnknownHardwareError(name, self.names())
        return [self._devices[i] for i in ids], memory, query.count

    def lookup(self, name: str) -> Hardware:
        """The device called ``name``: ``"RTX 4090"``, ``"rtx4090"``, ``"M2 Max 64GB"``, ``"2x RTX 3090"``.

        A memory size in the name picks that option (and the variant offering it); a count
        prefix (``2x``) sets ``count``. When several variants share the name, the default one is
        returned and ``extra["lookup"]`` / ``notes`` say which was chosen and what else matched.

        Raises:
            UnknownHardwareError: no device matches (the message suggests close names).
            InvalidValueError: the memory size in the name is not an option of that device.
        """
        devices, memory, count = self.candidates(name)
        chosen = devices[0]
        if memory is not None:
            offering = [d for d in devices if _offers(d, memory)]
            if not offering:
                sizes = sorted({o for d in devices for o in d.memory_options_gb})
                raise InvalidValueError("memory", f"{memory:g} GB", f"one of {', '.join(f'{s:g}' for s in sizes)} GB "
                                        f"for {devices[0].name} (or give --memory-gb to override)")
            chosen = offering[0]
            chosen = dataclasses.replace(chosen, memory_bytes=int(memory * GIB))
        others = [d.id for d in devices if d.id != chosen.id]
        extra = {**chosen.extra, "lookup": {"query": name, "matched": chosen.id, "alternatives": others}}
        notes = chosen.notes
        if others:
            lead = f"'{name}' matched {chosen.id} (default variant; also: {', '.join(others)})."
            notes = f"{lead} {notes}" if notes else lead
        chosen = dataclasses.replace(chosen, extra=extra, notes=notes)
        if count is not None:
            chosen = dataclasses.replace(chosen, count=count)
        return chosen

    def _match(self, key: str) -> list[str]:
        return list(self._index.get(key, [])) if key else []

    def _suffix_match(self, key: str) -> list[str]:
        """Ids whose name or alias ends with ``key`` (e.g. "4090"), when that is a single device."""
        if len(key) < 3:
            return []
        hits = {i for k, ids in self._index.items() if k.endswith(key) for i in ids}
        return sorted(hits) if len(hits) == 1 else []


def _offers(device: Hardware, memory_gb: float) -> bool:
    if any(abs(o - memory_gb) < 0.01 for o in device.memory_options_gb):
        return True
    return not device.memory_options_gb and abs(device.memory_bytes - memory_gb * GIB) < GIB / 100


def _parse_query(name: str) -> _Query:
    if not isinstance(name, str) or not name.strip():
        raise InvalidValueError("hardware", name, "a device name such as 'RTX 4090' or 'M2 Max 64GB'")
    text, count = name.strip(), None
    for pattern, count_group, rest_group in ((_COUNT_PREFIX, 1, 2), (_COUNT_SUFFIX, 2, 1)):
        match = pattern.match(text)
        if match:
            count = int(match.group(count_group))
            text = match.group(rest_group).strip()
            break
    if count is not None and not 1 <= count <= MAX_COUNT:
        raise InvalidValueError("count", count, f"a whole number of devices from 1 to {MAX_COUNT}")
    return _Query(text=text, key=_norm(text), count=count)


@lru_cache(maxsize=1)
def _bundled_db() -> HardwareDB:
    return _load(bundled_files())


def _load(paths: Iterable[Path]) -> HardwareDB:
    db = HardwareDB(())
    for path in paths:
        for device in parse_hardware_file(path):
            try:
                db.add(device)
            except ValueError as exc:
                raise InvalidFileError(path, str(exc), line=_id_lines(path).get(device.id), field="id") from None
    return db


def load_hardware_db(paths: Iterable[Path | str] | None = None) -> HardwareDB:
    """The bundled hardware database, or one built from the given data files.

    Raises:
        InvalidFileError: a file is malformed or has a bad entry (names file, line and field).
    """
    if paths is None:
        return _bundled_db()
    return _load(Path(p) for p in paths)


def list_hardware(kind: str | None = None, target: str | None = None) -> list[Hardware]:
    """Bundled devices, optionally of one ``device_kind`` ("gpu", "unified", "cpu") and/or target."""
    return load_hardware_db().select(kind=kind, target=target)


def lookup_hardware(name: str) -> Hardware:
    """A bundled device by fuzzy name, e.g. ``lookup_hardware("2x RTX 3090").count == 2``."""
    return load_hardware_db().lookup(name)


# ---------------------------------------------------------------------------------------------
# Resolving what the user asked for
# ---------------------------------------------------------------------------------------------

def _check_figure(name: str, value: Any, limit: float, unit: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidValueError(name, value, f"a number of {unit}")
    if not 0 < value <= limit:
        raise InvalidValueError(name, value, f"a positive number of {unit}, at most {limit:g}")
    return float(value)


def _check_count(count: Any) -> int | None:
    if count is None:
        return None
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        raise InvalidValueError("count", count, f"a whole number of devices from 1 to {MAX_COUNT}")
    return count


def _custom_device(memory_gb: float | None, bandwidth_gbs: float | None, kind: str | None) -> Hardware:
    if memory_gb is None or bandwidth_gbs is None:
        missing = "memory_gb" if memory_gb is None else "bandwidth_gbs"
        raise InvalidValueError(missing, None, "a number when no hardware name is given "
                                "(give both --memory-gb and --bandwidth-gbs, or name a device such as 'RTX 4090')")
    kind = kind or "gpu"
    return Hardware(
        id="custom", name=f"Custom {kind} ({memory_gb:g} GB, {bandwidth_gbs:g} GB/s)", vendor="user",
        device_kind=kind,  # type: ignore[arg-type]
        memory_bytes=int(memory_gb * GIB), bandwidth_gbs=bandwidth_gbs, source="user-supplied figures",
        basis="user", notes="Built from the figures given; nothing looked up.",
    )


def resolve_hardware(
    name: str | None = None,
    memory_gb: float | None = None,
    bandwidth_gbs: float | None = None,
    tflops: float | None = None,
    power_w: float | None = None,
    device_kind: str | None = None,
    count: int | None = None,
) -> Hardware:
    """The device to estimate for: a database entry, this machine, or figures the user gives.

    ``name``: a device name (see ``lookup_hardware``), ``"auto"`` for this machine, or None. With
    no name, the figures describe a custom device (``memory_gb`` and ``bandwidth_gbs`` needed);
    with no name and no figures, this machine is detected. Figures given override the entry's
    (``tflops`` -> ``fp16_tflops``, ``power_w`` -> ``tdp_w``); ``basis`` becomes "user" for a
    custom device and "mixed" when figures override a looked-up or detected one.

    Example:
        >>> resolve_hardware("RTX 4090", memory_gb=48).basis
        'mixed'

    Raises:
        InvalidValueError: a figure is not a positive, finite, plausible number.
        UnknownHardwareError: no device has that name.
    """
    memory_gb = _check_figure("memory_gb", memory_gb, MAX_MEMORY_GB, "GB")
    bandwidth_gbs = _check_figure("bandwidth_gbs", bandwidth_gbs, MAX_BANDWIDTH_GBS, "GB/s")
    tflops = _check_figure("tflops", tflops, MAX_TFLOPS, "TFLOPS")
    power_w = _check_figure("power_w", power_w, MAX_POWER_W, "watts")
    count = _check_count(count)
    if device_kind is not None and device_kind not in DEVICE_KINDS:
        raise InvalidValueError("device_kind", device_kind, "one of " + ", ".join(DEVICE_KINDS))
    figures = {"memory_gb": memory_gb, "bandwidth_gbs": bandwidth_gbs, "tflops": tflops,
               "power_w": power_w, "device_kind": device_kind, "count": count}
    given = {k: v for k, v in figures.items() if v is not None}
    if name is None and (memory_gb is not None or bandwidth_gbs is not None):
        base = _custom_device(memory_gb, bandwidth_gbs, device_kind)
    elif name is None or name.strip().lower() == "auto":
        from llmscout.hardware.detect import detect_machine

        base = detect_machine().as_hardware()
    else:
        base = lookup_hardware(name)
    return _override(base, given)


def _override(base: Hardware, given: Mapping[str, Any]) -> Hardware:
    if not given:
        return base
    changes: dict[str, Any] = {}
    if "memory_gb" in given:
        changes["memory_bytes"] = int(given["memory_gb"] * GIB)
    if "bandwidth_gbs" in given:
        changes["bandwidth_gbs"] = given["bandwidth_gbs"]
    if "tflops" in given:
        changes["fp16_tflops"] = given["tflops"]
    if "power_w" in given:
        changes["tdp_w"] = given["power_w"]
    if "device_kind" in given:
        changes["device_kind"] = given["device_kind"]
    if "count" in given:
        changes["count"] = given["count"]
    basis: HardwareBasis = "user" if base.basis == "user" else "mixed"
    extra = {**base.extra, "overrides": dict(given)}
    return dataclasses.replace(base, basis=basis, extra=extra, **changes)
