"""Knowledge of hardware: the device record, the bundled database and detection of this machine."""

from __future__ import annotations

from llmscout.hardware._db import (
    HardwareDB,
    list_hardware,
    load_hardware_db,
    lookup_hardware,
    resolve_hardware,
)
from llmscout.hardware.detect import GPUInfo, Machine, detect_machine
from llmscout.hardware.spec import (
    DEVICE_KINDS,
    GB,
    GIB,
    TARGETS,
    DeviceKind,
    Hardware,
    HardwareBasis,
    Target,
)

__all__ = [
    "DEVICE_KINDS", "GB", "GIB", "TARGETS", "DeviceKind", "GPUInfo", "Hardware", "HardwareBasis",
    "HardwareDB", "Machine", "Target", "detect_machine", "list_hardware", "load_hardware_db",
    "lookup_hardware", "resolve_hardware",
]
