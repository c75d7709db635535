"""Joules used while a block of code runs, measured where the machine allows it.

- RAPL on Linux: the powercap counters ``/sys/class/powercap/intel-rapl:N/energy_uj`` of each
  CPU package (and its DRAM zone, which is outside the package), in microjoules, wrapping at
  ``max_energy_range_uj`` (kernel Documentation/power/powercap/powercap.rst, seen at
  https://android.googlesource.com/kernel/common/+/27acfd11ba17/Documentation/power/powercap/powercap.rst).
  The counters cover the whole package, not only this process.
- NVML on NVIDIA GPUs: ``nvmlDeviceGetTotalEnergyConsumption``, millijoules since the driver was
  loaded, Volta or newer
  (https://nvidia.github.io/cuda-python/pr-preview/pr-2903/cuda-bindings/latest/module/generated/cuda.bindings.nvml.device_get_total_energy_consumption.html);
  on older GPUs ``nvmlDeviceGetPowerUsage`` (milliwatts) sampled in a thread and integrated.
  The counter updates every 20-100 ms (https://petsc.org/main/manualpages/Log/PetscLogGpuEnergyMeter),
  so blocks shorter than that read coarse figures.
- Otherwise the reading is ``unavailable`` and the caller labels its figure ``estimated`` from
  the power model.

Example:
    >>> with EnergyMeter("rapl") as meter:            # doctest: +SKIP
    ...     run_the_model()
    >>> meter.reading.joules, meter.reading.basis
    (41.7, 'measured-rapl')
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

EnergySource = Literal["auto", "rapl", "nvml", "none"]
MeasuredBasis = Literal["measured-rapl", "measured-nvml", "unavailable"]
DEFAULT_POWERCAP_ROOT = Path("/sys/class/powercap")


@dataclass(frozen=True, slots=True)
class EnergyReading:
    """Energy over one block: ``joules`` is None when nothing could measure it."""

    joules: float | None
    basis: MeasuredBasis
    domains: dict[str, float] = field(default_factory=dict)  # joules per package/DRAM/GPU
    duration_s: float = 0.0
    detail: str | None = None  # why unavailable, or how it was measured

    @property
    def measured(self) -> bool:
        return self.joules is not None and self.basis != "unavailable"


class EnergyUnavailable(Exception):
    """No reader can measure here; the message says why (shown as the reading's detail)."""


# -------------------------------------------------------------------------------------- RAPL


@dataclass(slots=True)
class _Zone:
    name: str
    energy_path: Path
    max_range_uj: int


def _read_int(path: Path) -> int:
    return int(path.read_text().strip())


def rapl_zones(root: Path = DEFAULT_POWERCAP_ROOT) -> list[_Zone]:
    """Package zones (``intel-rapl:N`` named ``package-*``) and their DRAM subzones.

    Core and uncore subzones are left out (they are inside the package, so summing them would
    count twice), as is ``psys`` (the whole platform, which includes the package).
    """
    zones: list[_Zone] = []
    packages: dict[str, str] = {}
    for d in sorted(root.glob("intel-rapl:*")):
        depth = d.name.count(":")
        try:
            name = (d / "name").read_text().strip()
            max_range = _read_int(d / "max_energy_range_uj")
        except (OSError, ValueError):
            continue
        if depth == 1 and name.startswith("package"):
            label = name if name not in packages.values() else f"{name}@{d.name}"
            packages[d.name] = label
            zones.append(_Zone(label, d / "energy_uj", max_range))
        elif depth == 2 and name == "dram":
            parent = packages.get(d.name.rsplit(":", 1)[0])
            if parent is not None:
                zones.append(_Zone(f"{parent}/{name}", d / "energy_uj", max_range))
    return zones


def wrapped_delta(start_uj: int, end_uj: int, max_range_uj: int) -> int:
    """Counter increase from ``start_uj`` to ``end_uj``, assuming at most one wrap between."""
    delta = end_uj - start_uj
    if delta < 0:  # the counter passed max_energy_range_uj and restarted from 0
        delta += max_range_uj
    return delta


class RaplReader:
    """Sums the wrapped deltas of the package counters between ``start`` and ``stop``.

    Call ``poll`` at least once per wrap period (``max_energy_range_uj`` / package power, tens
    of minutes) on long blocks; ``EnergyMeter`` does it from a thread.
    """

    basis: MeasuredBasis = "measured-rapl"

    def __init__(self, root: Path = DEFAULT_POWERCAP_ROOT) -> None:
        self.root = Path(root)
        self.zones = rapl_zones(self.root)
        if not self.zones:
            raise EnergyUnavailable(f"no RAPL package counters under {self.root}")
        self._last = self._read()  # also proves the counters are readable
        self._total_uj = [0] * len(self.zones)
        self._lock = threading.Lock()

    def _read(self) -> list[int]:
        try:
            return [_read_int(z.energy_path) for z in self.zones]
        except PermissionError as exc:
            raise EnergyUnavailable(
                f"{exc.filename}: readable only by root (kernels patched for CVE-2020-8694) - "
                "run as root or make energy_uj readable to measure CPU energy") from exc
        except (OSError, ValueError) as exc:
            raise EnergyUnavailable(f"cannot read RAPL counters under {self.root}: {exc}") from exc

    def start(self) -> None:
        with self._lock:
            self._last = self._read()
            self._total_uj = [0] * len(self.zones)

    def poll(self) -> None:
        with self._lock:
            now = self._read()
            for i, zone in enumerate(self.zones):
                self._total_uj[i] += wrapped_delta(self._last[i], now[i], zone.max_range_uj)
            self._last = now

    def stop(self) -> dict[str, float]:
        self.poll()
        return {z.name: uj / 1e6 for z, uj in zip(self.zones, self._total_uj, strict=True)}


# -------------------------------------------------------------------------------------- NVML

_nvml_ready: list[Any] = []  # modules initialised (kept alive, so identity checks are safe)
_nvml_lock = threading.Lock()


def _nvml_module(nvml: Any) -> Any:
    if nvml is not None:
        return nvml
    try:
        import pynvml  # from nvidia-ml-py: pip install 'llmscout[gpu]'
    except ImportError as exc:
        raise EnergyUnavailable("pynvml not installed: pip install 'llmscout[gpu]'") from exc
    return pynvml


def _nvml_init(nvml: Any) -> None:
    # nvmlInit is reference-counted and slow-ish; initialise once per process and keep it.
    with _nvml_lock:
        if any(m is nvml for m in _nvml_ready):
            return
        try:
            nvml.nvmlInit()
        except Exception as exc:  # NVMLError_LibraryNotFound, DriverNotLoaded ...
            raise EnergyUnavailable(f"NVML not usable (no NVIDIA driver?): {exc}") from exc
        _nvml_ready.append(nvml)


class NvmlReader:
    """GPU energy from NVML's energy counter, or by integrating sampled power."""

    basis: MeasuredBasis = "measured-nvml"

    def __init__(
        self,
        gpu_indices: list[int] | None = None,
        *,
        nvml: Any = None,
        sample_interval_s: float = 0.05,
    ) -> None:
        self.nvml = _nvml_module(nvml)
        _nvml_init(self.nvml)
        try:
            count = int(self.nvml.nvmlDeviceGetCount())
            indices = list(range(count)) if gpu_indices is None else list(gpu_indices)
            self.handles = {f"gpu{i}": self.nvml.nvmlDeviceGetHandleByIndex(i) for i in indices}
        except Exception as exc:
            raise EnergyUnavailable(f"NVML cannot open the GPUs: {exc}") from exc
        if not self.handles:
            raise EnergyUnavailable("NVML found no NVIDIA GPU")
        self.sample_interval_s = sample_interval_s
        self.counter = {name: self._counter_mj(h) is not None for name, h in self.handles.items()}
        for name, h in self.handles.items():
            if not self.counter[name] and self._power_w(h) is None:
                raise EnergyUnavailable(f"{name}: NVML reports neither energy nor power")
        self._start_mj: dict[str, int] = {}
        self._samples: dict[str, list[tuple[float, float]]] = {}
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def detail(self) -> str:
        how = ["energy counter" if c else "power sampling" for c in self.counter.values()]
        return ", ".join(f"{n}: {h}" for n, h in zip(self.counter, how, strict=True))

    def _counter_mj(self, handle: Any) -> int | None:
        try:
            return int(self.nvml.nvmlDeviceGetTotalEnergyConsumption(handle))
        except Exception:  # NVMLError_NotSupported before Volta
            return None

    def _power_w(self, handle: Any) -> float | None:
        try:
            return float(self.nvml.nvmlDeviceGetPowerUsage(handle)) / 1000.0
        except Exception:
            return None

    def _sample(self) -> None:
        t = time.perf_counter()
        for name, h in self.handles.items():
            if not self.counter[name]:
                w = self._power_w(h)
                if w is not None:
                    self._samples[name].append((t, w))

    def _sample_loop(self) -> None:
        while not self._stop_event.wait(self.sample_interval_s):
            self._sample()

    def start(self) -> None:
        self._start_mj = {n: self._counter_mj(h) or 0 for n, h in self.handles.items()
                          if self.counter[n]}
        self._samples = {n: [] for n in self.handles if not self.counter[n]}
        if self._samples:
            self._sample()
            self._stop_event.clear()
            self._thread = threading.Thread(target=self._sample_loop, name="llmscout-nvml-power",
                                            daemon=True)
            self._thread.start()

    def poll(self) -> None:
        """Nothing to do: the counter is 64-bit and sampling runs in its own thread."""

    def stop(self) -> dict[str, float]:
        if self._thread is not None:
            self._stop_event.set()
            self._thread.join()
            self._thread = None
            self._sample()
        out: dict[str, float] = {}
        for name, h in self.handles.items():
            if self.counter[name]:
                end = self._counter_mj(h)
                if end is None:
                    raise EnergyUnavailable(f"{name}: NVML energy counter stopped answering")
                out[name] = (end - self._start_mj[name]) / 1000.0
            else:
                out[name] = integrate_power(self._samples[name])
        return out


def integrate_power(samples: list[tuple[float, float]]) -> float:
    """Joules from (time s, power W) samples by the trapezoidal rule."""
    return sum((t1 - t0) * (w0 + w1) / 2 for (t0, w0), (t1, w1) in pairwise(samples))


# ------------------------------------------------------------------------------------- meter


class EnergyMeter:
    """Context manager: ``meter.reading`` holds the block's ``EnergyReading`` after it exits.

    Args:
        source: ``rapl`` (CPU packages), ``nvml`` (NVIDIA GPUs), ``auto`` (NVML when a GPU
            answers, else RAPL) or ``none``. Pick the device the model runs on when known.
        powercap_root: where the powercap tree is (tests point it at a fake one).
        gpu_indices: which GPUs to add up (default all).
        nvml: an NVML module to use instead of ``pynvml``.
        sample_interval_s: power sampling period where NVML has no energy counter.
        poll_interval_s: how often a thread reads the RAPL counters so a block longer than a
            wrap period still adds up; None: only at the start and the end.

    Never raises for measurement problems: the reading is ``unavailable`` with a ``detail``.
    """

    def __init__(
        self,
        source: EnergySource = "auto",
        *,
        powercap_root: str | Path = DEFAULT_POWERCAP_ROOT,
        gpu_indices: list[int] | None = None,
        nvml: Any = None,
        sample_interval_s: float = 0.05,
        poll_interval_s: float | None = 30.0,
    ) -> None:
        if source not in ("auto", "rapl", "nvml", "none"):
            from llmscout.errors import InvalidValueError

            raise InvalidValueError("source", source, "one of auto, rapl, nvml, none")
        self.source = source
        self.powercap_root = Path(powercap_root)
        self.gpu_indices = gpu_indices
        self.nvml = nvml
        self.sample_interval_s = sample_interval_s
        self.poll_interval_s = poll_interval_s
        self.reading: EnergyReading | None = None
        self._reader: RaplReader | NvmlReader | None = None
        self._why = ""
        self._t0 = 0.0
        self._stop_polling = threading.Event()
        self._poller: threading.Thread | None = None

    def _open_reader(self) -> RaplReader | NvmlReader | None:
        order = {"auto": ("nvml", "rapl"), "rapl": ("rapl",), "nvml": ("nvml",), "none": ()}
        reasons = []
        for kind in order[self.source]:
            try:
                if kind == "rapl":
                    return RaplReader(self.powercap_root)
                return NvmlReader(self.gpu_indices, nvml=self.nvml,
                                  sample_interval_s=self.sample_interval_s)
            except EnergyUnavailable as exc:
                reasons.append(str(exc))
        self._why = "; ".join(reasons) or "energy measurement switched off"
        return None

    def available(self) -> MeasuredBasis:
        """The basis a block measured now would get (opens the readers, measures nothing)."""
        reader = self._open_reader()
        return reader.basis if reader is not None else "unavailable"

    def __enter__(self) -> EnergyMeter:
        self.reading = None
        self._reader = self._open_reader()
        if self._reader is not None:
            try:
                self._reader.start()
            except EnergyUnavailable as exc:
                self._why, self._reader = str(exc), None
        if isinstance(self._reader, RaplReader) and self.poll_interval_s:
            self._stop_polling.clear()
            self._poller = threading.Thread(target=self._poll_loop, name="llmscout-rapl-poll",
                                            daemon=True)
            self._poller.start()
        self._t0 = time.perf_counter()
        return self

    def _poll_loop(self) -> None:
        while not self._stop_polling.wait(self.poll_interval_s or 30.0):
            try:
                self.poll()
            except EnergyUnavailable:
                return  # stop() will hit the same error and report it

    def poll(self) -> None:
        """Fold the counters' progress so far into the total (guards against a second wrap)."""
        if self._reader is not None:
            self._reader.poll()

    def __exit__(self, *exc: object) -> None:
        duration = time.perf_counter() - self._t0
        if self._poller is not None:
            self._stop_polling.set()
            self._poller.join()
            self._poller = None
        reader, self._reader = self._reader, None
        if reader is None:
            self.reading = EnergyReading(None, "unavailable", {}, duration, self._why)
            return
        try:
            domains = reader.stop()
        except EnergyUnavailable as err:
            self.reading = EnergyReading(None, "unavailable", {}, duration, str(err))
            return
        detail = reader.detail if isinstance(reader, NvmlReader) else "RAPL package counters"
        self.reading = EnergyReading(sum(domains.values()), reader.basis, domains, duration,
                                     detail)
