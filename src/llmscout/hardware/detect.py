"""What this machine has: CPU, memory and GPUs, read from the OS without ever crashing.

Every probe is wrapped: a missing tool, library, file or permission gives "not detected" (noted in
``Machine.probes``), never an exception. Probes read files under ``proc_root`` / ``sys_root`` and
the output of tools through ``commands``, so tests lay out fake ``/proc`` and ``/sys`` trees and
pass canned tool output (a tool absent from ``commands`` counts as not installed).
"""

from __future__ import annotations

import dataclasses
import json
import platform
import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from llmscout.hardware.spec import GIB, Hardware, Target

# A CPU's memory bandwidth when the memory type and channels cannot be read (a VM, no dmidecode,
# no root): dual-channel DDR4-2666..3200 gives 42.7-51.2 GB/s; 40 GB/s is a deliberately
# conservative middle. A VM's share of the host's bandwidth is unknown anyway.
DEFAULT_CPU_BANDWIDTH_GBS = 40.0
# A GPU whose name is not in the database: a placeholder so estimates can run; flagged in notes.
UNKNOWN_GPU_BANDWIDTH_GBS = 200.0
# GPUs with less memory than this (APU carve-outs, display adapters) are not worth running on.
MIN_GPU_MEMORY_BYTES = 2 * GIB
DEFAULT_CPU_GHZ = 3.0
TOOL_TIMEOUT_S = 10.0

# /proc/cpuinfo flag (x86 "flags" or Arm "Features") -> llmscout ISA name.
_ISA_FLAGS = {
    "avx": "avx", "avx2": "avx2", "fma": "fma", "f16c": "f16c", "avx512f": "avx512f",
    "avx512bw": "avx512bw", "avx512vl": "avx512vl", "avx512_vnni": "avx512_vnni",
    "avx512_bf16": "avx512_bf16", "avx512_fp16": "avx512_fp16", "avx_vnni": "avx_vnni",
    "amx_tile": "amx_tile", "amx_bf16": "amx_bf16", "amx_int8": "amx_int8",
    "asimd": "neon", "fphp": "fp16", "asimdhp": "fp16", "asimddp": "dotprod", "i8mm": "i8mm",
    "bf16": "bf16", "sve": "sve", "sve2": "sve2", "sme": "sme",
}
# macOS sysctl hw.optional.* keys (value 1) -> ISA name.
_SYSCTL_ISA = {
    "hw.optional.neon": "neon", "hw.optional.arm.FEAT_FP16": "fp16",
    "hw.optional.arm.FEAT_DotProd": "dotprod", "hw.optional.arm.FEAT_I8MM": "i8mm",
    "hw.optional.arm.FEAT_BF16": "bf16", "hw.optional.arm.FEAT_SME": "sme",
    "hw.optional.avx2_0": "avx2", "hw.optional.avx512f": "avx512f", "hw.optional.fma": "fma",
}
_PCI_VENDORS = {"0x10de": "NVIDIA", "0x1002": "AMD", "0x8086": "Intel"}
_NVIDIA_SMI_ARGS = ["--query-gpu=name,memory.total,memory.free,power.limit,driver_version",
                    "--format=csv,noheader,nounits"]
_COMMANDS: dict[str, list[str]] = {
    "nvidia-smi": ["nvidia-smi", *_NVIDIA_SMI_ARGS],
    "rocm-smi": ["rocm-smi", "--showproductname", "--showmeminfo", "vram", "--json"],
    "sysctl": ["sysctl", "-a"],
    "system_profiler": ["system_profiler", "SPDisplaysDataType", "-json"],
    "dmidecode": ["dmidecode", "--type", "17"],
}


@dataclass(frozen=True, slots=True)
class GPUInfo:
    """One GPU as the OS reports it."""

    vendor: str
    name: str
    memory_bytes: int | None  # None: not reported (e.g. Intel through sysfs)
    source: str  # nvml, nvidia-smi, rocm-smi, sysfs, system_profiler
    memory_free_bytes: int | None = None
    power_limit_w: float | None = None
    driver: str | None = None
    unified: bool = False  # shares system memory (Apple silicon)
    cores: int | None = None  # Apple GPU cores (tells binned chips apart)
    pci_id: str | None = None


@dataclass(frozen=True, slots=True)
class Machine:
    """This machine as detected; ``as_hardware()`` turns it into the device to estimate for."""

    os: str
    os_version: str
    arch: str
    cpu_model: str | None
    cpu_vendor: str | None
    physical_cores: int | None
    threads: int | None
    isa: tuple[str, ...]
    ram_total_bytes: int | None
    ram_available_bytes: int | None
    cpu_mhz: float | None = None
    virtual: bool = False
    memory_type: str | None = None  # DDR4, DDR5, LPDDR5 ... (from dmidecode)
    memory_speed_mts: int | None = None
    memory_channels: int | None = None
    board: str | None = None  # device-tree model, e.g. "Raspberry Pi 5 Model B Rev 1.0"
    on_battery_device: bool = False
    gpus: tuple[GPUInfo, ...] = ()
    probes: tuple[str, ...] = ()  # one line per probe: what it found or why not

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def as_hardware(self, db: Any = None) -> Hardware:
        """The best device here for running models (see the module docstring of ``_db``).

        The GPU with the most memory (at least 2 GiB) wins, merged with its database entry for
        bandwidth and TFLOPs when the name matches; Apple silicon is its unified chip entry;
        otherwise the CPU, with ``memory_bytes`` = available RAM and an estimated bandwidth.
        """
        from llmscout.hardware._db import load_hardware_db

        db = db if db is not None else load_hardware_db()
        gpu = self._best_gpu()
        if gpu is not None and gpu.unified:
            return _unified_hardware(self, gpu, db)
        if gpu is not None:
            return _gpu_hardware(self, gpu, db)
        board = _board_hardware(self, db)
        return board if board is not None else _cpu_hardware(self)

    def _best_gpu(self) -> GPUInfo | None:
        usable = [g for g in self.gpus if (g.memory_bytes or 0) >= MIN_GPU_MEMORY_BYTES]
        return max(usable, key=lambda g: g.memory_bytes or 0) if usable else None

    def cpu_bandwidth_gbs(self) -> tuple[float, str]:
        """Estimated memory bandwidth of the CPU and how it was estimated."""
        if self.memory_speed_mts and self.memory_channels:
            bw = self.memory_channels * 8 * self.memory_speed_mts / 1000
            kind = self.memory_type or "memory"
            return bw, (f"estimated from dmidecode: {self.memory_channels} x 64-bit {kind} at "
                        f"{self.memory_speed_mts} MT/s = {bw:g} GB/s (peak)")
        why = "a VM" if self.virtual else "memory type not readable"
        return DEFAULT_CPU_BANDWIDTH_GBS, (f"{why}: bandwidth is the documented default "
                                           f"{DEFAULT_CPU_BANDWIDTH_GBS:g} GB/s, an estimate")


# ---------------------------------------------------------------------------------------------
# Running probes safely
# ---------------------------------------------------------------------------------------------

class _Probes:
    """Runs probes, turning any failure into a note; gives tool output (real or injected)."""

    def __init__(self, commands: Mapping[str, str | None] | None) -> None:
        self.commands = commands
        self.log: list[str] = []

    def run(self, label: str, probe: Callable[[], Any], default: Any) -> Any:
        try:
            return probe()
        except Exception as exc:  # a probe must never break detection
            self.log.append(f"{label}: failed ({type(exc).__name__}: {exc})")
            return default

    def tool(self, name: str) -> str | None:
        if self.commands is not None:
            return self.commands.get(name)
        try:
            done = subprocess.run(_COMMANDS[name], capture_output=True, text=True,
                                  timeout=TOOL_TIMEOUT_S, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout if done.returncode == 0 else None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


# ---------------------------------------------------------------------------------------------
# CPU and memory
# ---------------------------------------------------------------------------------------------

def parse_cpuinfo(text: str) -> dict[str, Any]:
    """Model, vendor, cores, threads, MHz, ISA and VM flag from /proc/cpuinfo (x86 or Arm)."""
    blocks = [b for b in re.split(r"\n\s*\n", text) if b.strip()]
    threads, cores, flags = 0, set(), set()
    info: dict[str, Any] = {}
    for block in blocks:
        fields = {}
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields[key.strip().lower()] = value.strip()
        if "processor" in fields and fields["processor"].isdigit():
            threads += 1
            cores.add((fields.get("physical id", "0"), fields.get("core id", fields["processor"])))
        flags |= set((fields.get("flags") or fields.get("features") or "").split())
        for key, out in (("model name", "model"), ("vendor_id", "vendor"), ("cpu mhz", "mhz"),
                         ("hardware", "hardware"), ("model", "board_model"), ("cpu implementer", "implementer")):
            if key in fields and out not in info:
                info[out] = fields[key]
    info["threads"] = threads or None
    info["cores"] = len(cores) or None
    info["isa"] = tuple(sorted({_ISA_FLAGS[f] for f in flags if f in _ISA_FLAGS}))
    info["virtual"] = "hypervisor" in flags
    return info


def parse_meminfo(text: str) -> tuple[int | None, int | None]:
    """MemTotal and MemAvailable in bytes from /proc/meminfo."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        match = re.match(r"(\w+):\s+(\d+)\s*kB", line)
        if match:
            values[match.group(1)] = int(match.group(2)) * 1024
    return values.get("MemTotal"), values.get("MemAvailable", values.get("MemFree"))


def parse_dmidecode(text: str) -> dict[str, Any]:
    """Memory type, speed (MT/s) and channel count from ``dmidecode --type 17`` output."""
    devices = [b for b in text.split("Memory Device") if "Size:" in b]
    populated = [b for b in devices if not re.search(r"Size:\s*(No Module|0\b|Not Installed)", b)]
    if not populated:
        return {}
    types = {m.group(1) for b in populated for m in [re.search(r"^\s*Type:\s*(\S+)", b, re.M)] if m}
    speeds = [int(m.group(1)) for b in populated
              for m in [re.search(r"Configured (?:Memory|Clock) Speed:\s*(\d+)", b)
                        or re.search(r"^\s*Speed:\s*(\d+)", b, re.M)] if m]
    channels = {m.group(1).upper() for b in populated
                for m in [re.search(r"(?:CHANNEL|Channel)\s*([A-Z0-9]+)", b)] if m}
    return {
        "memory_type": sorted(types)[0] if types else None,
        "memory_speed_mts": min(speeds) if speeds else None,
        # Without channel names, one module per channel is assumed (true for typical 2-DIMM PCs).
        "memory_channels": len(channels) or len(populated),
    }


def parse_sysctl(text: str) -> dict[str, str]:
    """``key: value`` (or ``key = value``) lines of ``sysctl -a``."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        match = re.match(r"^([\w.\-]+)\s*[:=]\s*(.*)$", line)
        if match:
            out[match.group(1)] = match.group(2).strip()
    return out


def _linux_cpu(proc: Path, probes: _Probes) -> dict[str, Any]:
    text = _read(proc / "cpuinfo")
    if text is None:
        probes.log.append("cpu: /proc/cpuinfo not readable")
        return {}
    info = parse_cpuinfo(text)
    probes.log.append(f"cpu: {info.get('model') or info.get('hardware') or 'unnamed'} "
                      f"({info.get('cores')} cores / {info.get('threads')} threads)")
    return info


def _linux_memory(proc: Path, probes: _Probes) -> tuple[int | None, int | None]:
    text = _read(proc / "meminfo")
    if text is None:
        probes.log.append("ram: /proc/meminfo not readable, using psutil")
        return _psutil_memory()
    return parse_meminfo(text)


def _psutil_memory() -> tuple[int | None, int | None]:
    try:
        import psutil
    except ImportError:
        return None, None
    vm = psutil.virtual_memory()
    return int(vm.total), int(vm.available)


def _board_model(proc: Path, sys: Path) -> str | None:
    for path in (proc / "device-tree" / "model", sys / "firmware" / "devicetree" / "base" / "model"):
        text = _read(path)
        if text:
            return text.strip("\x00\n ")
    return None


def _has_battery(sys: Path) -> bool:
    supply = sys / "class" / "power_supply"
    return supply.is_dir() and any(p.name.startswith("BAT") for p in supply.iterdir())


# ---------------------------------------------------------------------------------------------
# GPUs
# ---------------------------------------------------------------------------------------------

def _nvml_gpus(probes: _Probes) -> list[GPUInfo]:
    try:
        import pynvml
    except ImportError:
        probes.log.append("nvml: not detected (nvidia-ml-py not installed)")
        return []
    try:
        pynvml.nvmlInit()
    except Exception as exc:  # pynvml.NVMLError and friends: no driver, no GPU
        probes.log.append(f"nvml: not detected ({exc})")
        return []
    try:
        driver = _text(pynvml.nvmlSystemGetDriverVersion())
        gpus = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(i)
            mem = pynvml.nvmlDeviceGetMemoryInfo(handle)
            try:
                power = pynvml.nvmlDeviceGetEnforcedPowerLimit(handle) / 1000
            except Exception:
                power = None
            gpus.append(GPUInfo("NVIDIA", _text(pynvml.nvmlDeviceGetName(handle)), int(mem.total), "nvml",
                                memory_free_bytes=int(mem.free), power_limit_w=power, driver=driver))
        return gpus
    finally:
        pynvml.nvmlShutdown()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _float_or_none(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:  # "[N/A]", "[Not Supported]"
        return None


def parse_nvidia_smi(text: str) -> list[GPUInfo]:
    """GPUs from ``nvidia-smi --query-gpu=name,memory.total,memory.free,power.limit,driver_version
    --format=csv,noheader,nounits`` (memory in MiB)."""
    gpus = []
    for line in text.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 2 or not parts[0]:
            continue
        total = _float_or_none(parts[1])
        free = _float_or_none(parts[2]) if len(parts) > 2 else None
        gpus.append(GPUInfo(
            "NVIDIA", parts[0], int(total * 2**20) if total else None, "nvidia-smi",
            memory_free_bytes=int(free * 2**20) if free is not None else None,
            power_limit_w=_float_or_none(parts[3]) if len(parts) > 3 else None,
            driver=parts[4] if len(parts) > 4 and parts[4] else None,
        ))
    return gpus


def parse_rocm_smi(text: str) -> list[GPUInfo]:
    """AMD GPUs from ``rocm-smi --showproductname --showmeminfo vram --json``."""
    data = json.loads(text)
    gpus = []
    for card, fields in sorted(data.items()):
        if not card.lower().startswith("card") or not isinstance(fields, dict):
            continue
        lower = {k.lower(): v for k, v in fields.items()}
        name = next((str(lower[k]) for k in ("card series", "card model", "marketing name", "card sku")
                     if lower.get(k)), f"AMD GPU ({card})")
        total = lower.get("vram total memory (b)")
        used = lower.get("vram total used memory (b)")
        total_b = int(total) if total is not None else None
        free = total_b - int(used) if total_b is not None and used is not None else None
        gpus.append(GPUInfo("AMD", name, total_b, "rocm-smi", memory_free_bytes=free))
    return gpus


def sysfs_gpus(sys: Path) -> list[GPUInfo]:
    """AMD and Intel GPUs from /sys/class/drm/card*/device (vendor, VRAM for amdgpu)."""
    drm = sys / "class" / "drm"
    if not drm.is_dir():
        return []
    gpus = []
    for card in sorted(p for p in drm.iterdir() if re.fullmatch(r"card\d+", p.name)):
        device = card / "device"
        vendor = _PCI_VENDORS.get((_read(device / "vendor") or "").strip().lower())
        if vendor not in ("AMD", "Intel"):
            continue
        pci_id = (_read(device / "device") or "").strip().lower() or None
        vram = (_read(device / "mem_info_vram_total") or "").strip()
        name = (_read(device / "product_name") or "").strip() or f"{vendor} GPU (PCI {pci_id})"
        gpus.append(GPUInfo(vendor, name, int(vram) if vram.isdigit() else None, "sysfs", pci_id=pci_id))
    return gpus


def parse_system_profiler(text: str, memory_bytes: int | None) -> list[GPUInfo]:
    """Apple GPUs from ``system_profiler SPDisplaysDataType -json`` (unified: system memory)."""
    gpus = []
    for item in json.loads(text).get("SPDisplaysDataType", []):
        name = item.get("sppci_model") or item.get("_name") or "GPU"
        cores = item.get("sppci_cores")
        apple = "apple" in str(item.get("spdisplays_vendor", "")).lower() or name.startswith("Apple")
        gpus.append(GPUInfo("Apple" if apple else "unknown", name, memory_bytes if apple else None,
                            "system_profiler", unified=apple,
                            cores=int(cores) if str(cores or "").isdigit() else None))
    return gpus


def _linux_gpus(sys: Path, probes: _Probes, use_nvml: bool) -> list[GPUInfo]:
    gpus: list[GPUInfo] = probes.run("nvml", lambda: _nvml_gpus(probes), []) if use_nvml else []
    if not gpus:
        out = probes.tool("nvidia-smi")
        gpus = probes.run("nvidia-smi", lambda: parse_nvidia_smi(out or ""), []) if out else []
        probes.log.append(f"nvidia-smi: {len(gpus)} GPU(s)" if out else "nvidia-smi: not detected")
    else:
        probes.log.append(f"nvml: {len(gpus)} GPU(s)")
    out = probes.tool("rocm-smi")
    amd = probes.run("rocm-smi", lambda: parse_rocm_smi(out or ""), []) if out else []
    probes.log.append(f"rocm-smi: {len(amd)} GPU(s)" if amd else "rocm-smi: not detected")
    sysfs = probes.run("sysfs", lambda: sysfs_gpus(sys), [])
    if amd:  # rocm-smi already named the AMD cards
        sysfs = [g for g in sysfs if g.vendor != "AMD"]
    probes.log.append(f"sysfs drm: {len(sysfs)} AMD/Intel GPU(s)")
    return gpus + amd + sysfs


# ---------------------------------------------------------------------------------------------
# Putting it together
# ---------------------------------------------------------------------------------------------

def detect_machine(
    proc_root: str | Path = "/proc",
    sys_root: str | Path = "/sys",
    commands: Mapping[str, str | None] | None = None,
    use_nvml: bool | None = None,
    system: str | None = None,
) -> Machine:
    """Detect this machine's CPU, memory and GPUs.

    Args:
        proc_root, sys_root: where to read ``/proc`` and ``/sys`` (tests pass tmp trees).
        commands: canned output per tool ("nvidia-smi", "rocm-smi", "sysctl",
            "system_profiler", "dmidecode"); None runs the real tools. A tool missing from the
            mapping (or mapped to None) counts as not installed.
        use_nvml: query NVIDIA's NVML library (nvidia-ml-py) first; default: only when
            ``commands`` is None.
        system: "Linux", "Darwin" or "Windows" (default: ``platform.system()``).

    Example:
        >>> detect_machine().as_hardware().device_kind in ("gpu", "unified", "cpu")
        True
    """
    system = system or platform.system()
    probes = _Probes(commands)
    use_nvml = commands is None if use_nvml is None else use_nvml
    proc, sys = Path(proc_root), Path(sys_root)
    fields: dict[str, Any] = {
        "cpu_model": None, "cpu_vendor": None, "physical_cores": None, "threads": None, "isa": (),
        "ram_total_bytes": None, "ram_available_bytes": None,
    }
    if system == "Darwin":
        fields.update(probes.run("macos", lambda: _darwin(probes), {}))
    else:
        fields.update(probes.run("linux", lambda: _linux(proc, sys, probes, use_nvml), {}))
    if not fields["cpu_model"] and commands is None:
        fields["cpu_model"] = platform.processor() or None
    arch = fields.pop("arch", None) or platform.machine()
    return Machine(os=system, os_version=platform.release(), arch=arch, probes=tuple(probes.log), **fields)


def _linux(proc: Path, sys: Path, probes: _Probes, use_nvml: bool) -> dict[str, Any]:
    cpu = probes.run("cpu", lambda: _linux_cpu(proc, probes), {})
    total, available = probes.run("ram", lambda: _linux_memory(proc, probes), (None, None))
    dmi_text = probes.tool("dmidecode")
    dmi = probes.run("dmidecode", lambda: parse_dmidecode(dmi_text or ""), {}) if dmi_text else {}
    probes.log.append(f"memory type: {dmi.get('memory_type')} x{dmi.get('memory_channels')}"
                      if dmi else "memory type: not detected (dmidecode missing, not root, or a VM)")
    gpus = _linux_gpus(sys, probes, use_nvml)
    board = probes.run("board", lambda: _board_model(proc, sys), None)
    return {
        "cpu_model": cpu.get("model") or cpu.get("hardware") or cpu.get("board_model"),
        "cpu_vendor": _cpu_vendor(cpu), "physical_cores": cpu.get("cores"), "threads": cpu.get("threads"),
        "isa": cpu.get("isa", ()), "cpu_mhz": _float_or_none(cpu.get("mhz") or ""),
        "virtual": bool(cpu.get("virtual")), "ram_total_bytes": total, "ram_available_bytes": available,
        "memory_type": dmi.get("memory_type"), "memory_speed_mts": dmi.get("memory_speed_mts"),
        "memory_channels": dmi.get("memory_channels"), "board": board,
        "on_battery_device": probes.run("battery", lambda: _has_battery(sys), False), "gpus": tuple(gpus),
    }


def _cpu_vendor(cpu: Mapping[str, Any]) -> str | None:
    vendor = cpu.get("vendor")
    if vendor:
        return {"GenuineIntel": "Intel", "AuthenticAMD": "AMD"}.get(vendor, vendor)
    return "Arm" if cpu.get("implementer") else None


def _darwin(probes: _Probes) -> dict[str, Any]:
    out = probes.tool("sysctl")
    ctl = parse_sysctl(out) if out else {}
    probes.log.append("sysctl: read" if ctl else "sysctl: not detected")
    memsize = int(ctl["hw.memsize"]) if ctl.get("hw.memsize", "").isdigit() else None
    _total, available = _psutil_memory() if probes.commands is None else (None, None)
    profiler = probes.tool("system_profiler")
    gpus = probes.run("system_profiler", lambda: parse_system_profiler(profiler or "{}", memsize), []) if profiler else []
    probes.log.append(f"system_profiler: {len(gpus)} GPU(s)" if profiler else "system_profiler: not detected")
    isa = tuple(sorted({name for key, name in _SYSCTL_ISA.items() if ctl.get(key) == "1"}))
    brand = ctl.get("machdep.cpu.brand_string")
    return {
        "cpu_model": brand, "cpu_vendor": "Apple" if (brand or "").startswith("Apple") else None,
        "physical_cores": _int(ctl.get("hw.physicalcpu")), "threads": _int(ctl.get("hw.logicalcpu")),
        "isa": isa, "ram_total_bytes": memsize, "ram_available_bytes": available or memsize,
        "gpus": tuple(gpus), "arch": ctl.get("hw.machine", ""),
    }


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


# ---------------------------------------------------------------------------------------------
# Machine -> Hardware
# ---------------------------------------------------------------------------------------------

def _try_candidates(db: Any, name: str) -> list[Hardware]:
    from llmscout.errors import LlmscoutError

    try:
        return db.candidates(name)[0]
    except LlmscoutError:
        return []


def _gpu_hardware(machine: Machine, gpu: GPUInfo, db: Any) -> Hardware:
    same = [g for g in machine.gpus if g.name == gpu.name and g.memory_bytes == gpu.memory_bytes]
    host_bw, how = machine.cpu_bandwidth_gbs()
    matches = _try_candidates(db, gpu.name)
    memory_gb = (gpu.memory_bytes or 0) / GIB
    # Prefer the variant whose memory is closest to what the driver reports (A100 40 vs 80 GB).
    entry = min(matches, key=lambda d: abs(d.memory_bytes / GIB - memory_gb)) if matches else None
    detected = {"name": gpu.name, "source": gpu.source, "driver": gpu.driver, "count": len(same),
                "host_bandwidth_estimate": how}
    common: dict[str, Any] = dict(
        memory_bytes=gpu.memory_bytes or 0, count=len(same), host_memory_bytes=machine.ram_total_bytes,
        host_bandwidth_gbs=host_bw, basis="detected", cores=machine.physical_cores,
        threads=machine.threads, isa=machine.isa,
    )
    if entry is not None:
        note = (f"Detected {len(same)} x {gpu.name} via {gpu.source}; bandwidth and TFLOPs from database entry "
                f"'{entry.id}', memory as the driver reports it.")
        return dataclasses.replace(
            entry, **common, tdp_w=gpu.power_limit_w or entry.tdp_w, notes=note,
            extra={**entry.extra, "detected": detected},
        )
    return Hardware(
        id="detected-gpu", name=gpu.name, vendor=gpu.vendor, device_kind="gpu",
        bandwidth_gbs=UNKNOWN_GPU_BANDWIDTH_GBS, source=f"detected via {gpu.source}",
        tdp_w=gpu.power_limit_w, extra={"detected": detected}, **common,
        notes=(f"'{gpu.name}' is not in the hardware database: bandwidth {UNKNOWN_GPU_BANDWIDTH_GBS:g} GB/s is a "
               "placeholder and TFLOPs are unknown; give --bandwidth-gbs and --tflops for real estimates."),
    )


def _unified_hardware(machine: Machine, gpu: GPUInfo, db: Any) -> Hardware:
    matches = _try_candidates(db, gpu.name) or _try_candidates(db, machine.cpu_model or "")
    memory = gpu.memory_bytes or machine.ram_total_bytes or 0
    if gpu.cores is not None:
        matches = sorted(matches, key=lambda d: d.extra.get("gpu_cores") != gpu.cores)
    detected = {"name": gpu.name, "gpu_cores": gpu.cores, "source": gpu.source}
    if matches:
        entry = matches[0]
        return dataclasses.replace(
            entry, memory_bytes=memory, basis="detected", cores=machine.physical_cores,
            threads=machine.threads, isa=machine.isa, extra={**entry.extra, "detected": detected},
            notes=f"Detected {gpu.name} ({gpu.cores} GPU cores, {memory / GIB:g} GiB unified) via {gpu.source}; "
                  f"figures from database entry '{entry.id}'.",
        )
    return Hardware(
        id="detected-unified", name=gpu.name, vendor=gpu.vendor, device_kind="unified", memory_bytes=memory,
        bandwidth_gbs=UNKNOWN_GPU_BANDWIDTH_GBS, source=f"detected via {gpu.source}", basis="detected",
        target="laptop", extra={"detected": detected},
        notes=f"'{gpu.name}' is not in the hardware database: bandwidth is a placeholder; give --bandwidth-gbs.",
    )


def _board_hardware(machine: Machine, db: Any) -> Hardware | None:
    if not machine.board or "raspberry pi 5" not in machine.board.lower():
        return None
    entry = db.get("raspberry-pi-5") if "raspberry-pi-5" in db else None
    if entry is None:
        return None
    return dataclasses.replace(
        entry, memory_bytes=machine.ram_available_bytes or entry.memory_bytes, host_memory_bytes=machine.ram_total_bytes,
        basis="detected", threads=machine.threads, cores=machine.physical_cores, isa=machine.isa or entry.isa,
        notes=f"Detected board '{machine.board}'; memory_bytes is the RAM available now. {entry.notes or ''}".strip(),
    )


def _cpu_flops_per_cycle(isa: tuple[str, ...]) -> int:
    """FP32 FLOPs per core per cycle: two FMA pipes of the widest vector unit (typical)."""
    if "avx512f" in isa:
        return 64
    if "avx2" in isa or "fma" in isa:
        return 32
    if "neon" in isa:
        return 16
    return 8


def _cpu_hardware(machine: Machine) -> Hardware:
    bandwidth, how = machine.cpu_bandwidth_gbs()
    cores = machine.physical_cores or machine.threads or 1
    ghz = (machine.cpu_mhz or DEFAULT_CPU_GHZ * 1000) / 1000
    fp32 = cores * ghz * _cpu_flops_per_cycle(machine.isa) / 1000
    int8 = fp32 * 4 if {"avx512_vnni", "avx_vnni", "dotprod", "amx_int8"} & set(machine.isa) else None
    tdp = min(400.0, 15.0 + 10.0 * cores)
    target: Target = "laptop" if machine.on_battery_device else ("server" if cores >= 32 else "desktop")
    return Hardware(
        id="detected-cpu", name=machine.cpu_model or "CPU", vendor=machine.cpu_vendor or "unknown",
        device_kind="cpu", memory_bytes=machine.ram_available_bytes or machine.ram_total_bytes or 0,
        bandwidth_gbs=bandwidth, source="detected on this machine", target=target,
        fp32_tflops=round(fp32, 3), fp16_tflops=round(fp32, 3), int8_tops=round(int8, 3) if int8 else None,
        tdp_w=tdp, idle_w=round(tdp * 0.2, 1), host_memory_bytes=machine.ram_total_bytes, cores=machine.physical_cores,
        threads=machine.threads, isa=machine.isa, basis="detected",
        extra={"bandwidth_estimate": how, "memory_type": machine.memory_type, "virtual": machine.virtual},
        notes=(f"CPU device: memory_bytes is the RAM available now; {how}. Compute is an estimate: "
               f"{cores} cores x {ghz:.2f} GHz x {_cpu_flops_per_cycle(machine.isa)} FP32 FLOPs/cycle"
               f"{' (x4 for INT8 dot products)' if int8 else ''}; tdp_w {tdp:g} W = 15 W + 10 W per core, estimated."),
    )
