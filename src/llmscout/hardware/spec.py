"""The hardware record: what the estimator needs to know about a machine or device."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

DeviceKind = Literal["gpu", "unified", "cpu"]
Target = Literal["desktop", "laptop", "server", "datacenter", "browser", "phone", "sbc"]
HardwareBasis = Literal["database", "detected", "user", "mixed"]

DEVICE_KINDS: tuple[str, ...] = get_args(DeviceKind)
TARGETS: tuple[str, ...] = get_args(Target)

GB = 1_000_000_000
GIB = 1024**3


@dataclass(frozen=True, slots=True)
class Hardware:
    """One device (or ``count`` identical devices) that a model runs on.

    ``memory_bytes`` is the memory the model can use on the device: VRAM for a GPU, the unified
    pool for Apple/phone/APU, system RAM for a CPU. ``bandwidth_gbs`` is its peak (spec-sheet)
    bandwidth; the estimator applies an efficiency factor (calibrated where measured).
    Throughputs are dense (no structured sparsity), per device.
    """

    id: str
    name: str
    vendor: str
    device_kind: DeviceKind
    memory_bytes: int
    bandwidth_gbs: float
    source: str
    target: Target = "desktop"
    fp16_tflops: float | None = None  # dense FP16/BF16 tensor (or vector, for CPUs) throughput
    int8_tops: float | None = None
    fp32_tflops: float | None = None
    tdp_w: float | None = None  # board power / package TDP under load
    idle_w: float | None = None
    memory_options_gb: tuple[float, ...] = ()
    count: int = 1  # identical devices (multi-GPU); memory/bandwidth above are per device
    interconnect_gbs: float | None = None  # between devices (PCIe/NVLink), per direction
    host_memory_bytes: int | None = None  # system RAM behind a discrete GPU (offload target)
    host_bandwidth_gbs: float | None = None
    max_allocation_bytes: int | None = None  # largest single buffer (WebGPU limits, phones)
    usable_memory_fraction: float | None = None  # e.g. browser tab / OS reserve; None = default
    cores: int | None = None
    threads: int | None = None
    isa: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    notes: str | None = None
    basis: HardwareBasis = "database"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def total_memory_bytes(self) -> int:
        return self.memory_bytes * self.count

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["total_memory_bytes"] = self.total_memory_bytes
        return d
