"""Detecting the machine: real files laid out like /proc and /sys, canned tool output, and this VM."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmscout.hardware import GIB, detect_machine
from llmscout.hardware.detect import DEFAULT_CPU_BANDWIDTH_GBS, UNKNOWN_GPU_BANDWIDTH_GBS

X86_CPUINFO = """\
processor	: {n}
vendor_id	: GenuineIntel
model name	: Intel(R) Xeon(R) Platinum 8480+
physical id	: 0
core id		: {core}
cpu MHz		: 2000.000
flags		: fpu sse2 avx avx2 fma f16c avx512f avx512bw avx512_vnni avx512_bf16 amx_tile amx_bf16 amx_int8
"""
ARM_CPUINFO = """\
processor	: {n}
BogoMIPS	: 108.00
Features	: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp
CPU implementer	: 0x41
CPU part	: 0xd0b
"""
MEMINFO = "MemTotal:       {total} kB\nMemFree:         1000 kB\nMemAvailable:   {avail} kB\n"


def make_proc(root: Path, cpuinfo: str, total_kb: int = 64 * 2**20, avail_kb: int = 48 * 2**20) -> Path:
    proc = root / "proc"
    proc.mkdir(parents=True)
    (proc / "cpuinfo").write_text(cpuinfo)
    (proc / "meminfo").write_text(MEMINFO.format(total=total_kb, avail=avail_kb))
    return proc


def x86_cpuinfo(cores: int = 2, threads_per_core: int = 2) -> str:
    blocks = [X86_CPUINFO.format(n=i, core=i % cores) for i in range(cores * threads_per_core)]
    return "\n".join(blocks)


@pytest.fixture
def x86(tmp_path):
    proc = make_proc(tmp_path, x86_cpuinfo())
    sys = tmp_path / "sys"
    sys.mkdir()
    return proc, sys


def detect(roots, **commands):
    proc, sys = roots
    return detect_machine(proc_root=proc, sys_root=sys, commands=commands, system="Linux")


# ---- CPU and memory --------------------------------------------------------------------------

def test_cpu_model_cores_threads_and_ram_from_proc(x86):
    machine = detect(x86)
    assert machine.cpu_model == "Intel(R) Xeon(R) Platinum 8480+" and machine.cpu_vendor == "Intel"
    assert (machine.physical_cores, machine.threads) == (2, 4)
    assert machine.ram_total_bytes == 64 * GIB and machine.ram_available_bytes == 48 * GIB


def test_x86_isa_flags(x86):
    isa = detect(x86).isa
    assert {"avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_int8"} <= set(isa)
    assert "neon" not in isa


def test_arm_features_map_to_isa_names(tmp_path):
    proc = make_proc(tmp_path, "\n".join(ARM_CPUINFO.format(n=i) for i in range(4)))
    machine = detect_machine(proc_root=proc, sys_root=tmp_path / "nosys", commands={}, system="Linux")
    assert {"neon", "fp16", "dotprod"} <= set(machine.isa)
    assert machine.threads == 4 and machine.cpu_vendor == "Arm"


def test_without_gpus_the_device_is_the_cpu_with_available_ram(x86):
    device = detect(x86).as_hardware()
    assert device.device_kind == "cpu" and device.basis == "detected"
    assert device.memory_bytes == 48 * GIB and device.host_memory_bytes == 64 * GIB
    assert device.threads == 4 and "amx_tile" in device.isa
    assert device.bandwidth_gbs == DEFAULT_CPU_BANDWIDTH_GBS and "estimate" in device.notes
    assert device.fp32_tflops == pytest.approx(2 * 2.0 * 64 / 1000)  # cores x GHz x FLOPs/cycle


DMIDECODE = """\
Handle 0x0040, DMI type 17, 92 bytes
Memory Device
	Size: 32 GB
	Locator: DIMM_A2
	Bank Locator: BANK 0 CHANNEL A
	Type: DDR5
	Speed: 6000 MT/s
	Configured Memory Speed: 5600 MT/s

Handle 0x0041, DMI type 17, 92 bytes
Memory Device
	Size: No Module Installed
	Locator: DIMM_B1
	Type: Unknown

Handle 0x0042, DMI type 17, 92 bytes
Memory Device
	Size: 32 GB
	Locator: DIMM_B2
	Bank Locator: BANK 0 CHANNEL B
	Type: DDR5
	Speed: 6000 MT/s
	Configured Memory Speed: 5600 MT/s
"""


def test_cpu_bandwidth_from_memory_type_and_channels(x86):
    machine = detect(x86, dmidecode=DMIDECODE)
    assert (machine.memory_type, machine.memory_speed_mts, machine.memory_channels) == ("DDR5", 5600, 2)
    device = machine.as_hardware()
    assert device.bandwidth_gbs == pytest.approx(89.6)
    assert "dmidecode" in device.notes


def test_raspberry_pi_board_maps_to_its_database_entry(tmp_path):
    proc = make_proc(tmp_path, "\n".join(ARM_CPUINFO.format(n=i) for i in range(4)),
                     total_kb=8 * 2**20, avail_kb=7 * 2**20)
    (proc / "device-tree").mkdir()
    (proc / "device-tree" / "model").write_text("Raspberry Pi 5 Model B Rev 1.0\x00")
    device = detect_machine(proc_root=proc, sys_root=tmp_path / "sys", commands={}, system="Linux").as_hardware()
    assert device.id == "raspberry-pi-5" and device.memory_bytes == 7 * GIB
    assert device.bandwidth_gbs == pytest.approx(17.1)


def test_a_battery_makes_the_cpu_a_laptop(x86):
    proc, sys = x86
    (sys / "class" / "power_supply" / "BAT0").mkdir(parents=True)
    assert detect(x86).as_hardware().target == "laptop"


# ---- NVIDIA ----------------------------------------------------------------------------------

SMI_TWO_3090 = ("NVIDIA GeForce RTX 3090, 24576, 24000, 350.00, 550.54.14\n"
                "NVIDIA GeForce RTX 3090, 24576, 23000, 350.00, 550.54.14\n")


def test_nvidia_smi_gpus_are_parsed(x86):
    machine = detect(x86, **{"nvidia-smi": SMI_TWO_3090})
    assert len(machine.gpus) == 2
    gpu = machine.gpus[0]
    assert (gpu.name, gpu.memory_bytes, gpu.power_limit_w, gpu.driver) == (
        "NVIDIA GeForce RTX 3090", 24 * GIB, 350.0, "550.54.14")


def test_detected_gpus_merge_with_the_database_entry(x86):
    device = detect(x86, **{"nvidia-smi": SMI_TWO_3090}).as_hardware()
    assert device.id == "rtx-3090" and device.count == 2 and device.basis == "detected"
    assert device.bandwidth_gbs == 936.2 and device.fp16_tflops == 71.0  # from the database
    assert device.memory_bytes == 24 * GIB and device.host_memory_bytes == 64 * GIB


def test_the_biggest_gpu_wins(x86):
    smi = "NVIDIA GeForce RTX 3060, 12288, 12000, 170.00, 550\nNVIDIA A100-SXM4-80GB, 81920, 81000, 400.00, 550\n"
    device = detect(x86, **{"nvidia-smi": smi}).as_hardware()
    assert device.id == "a100-sxm-80gb" and device.count == 1


def test_driver_memory_picks_the_matching_variant(x86):
    smi = "NVIDIA GeForce RTX 4060 Ti, 16380, 16000, 165.00, 550\n"
    assert detect(x86, **{"nvidia-smi": smi}).as_hardware().id == "rtx-4060-ti-16gb"


def test_unknown_gpu_gets_a_flagged_placeholder(x86):
    smi = "NVIDIA Quadro Z9000, 49152, 49000, [N/A], 550\n"
    machine = detect(x86, **{"nvidia-smi": smi})
    assert machine.gpus[0].power_limit_w is None
    device = machine.as_hardware()
    assert device.id == "detected-gpu" and device.memory_bytes == 48 * GIB
    assert device.bandwidth_gbs == UNKNOWN_GPU_BANDWIDTH_GBS and "not in the hardware database" in device.notes


def test_garbage_tool_output_is_not_a_crash(x86):
    machine = detect(x86, **{"nvidia-smi": "Failed to initialize NVML", "rocm-smi": "{not json"})
    assert machine.as_hardware().device_kind == "cpu"
    assert any(p.startswith("rocm-smi: failed") for p in machine.probes)


def test_missing_tools_say_not_detected(x86):
    machine = detect(x86)
    assert machine.gpus == ()
    assert "nvidia-smi: not detected" in machine.probes and "rocm-smi: not detected" in machine.probes


# ---- AMD and Intel ---------------------------------------------------------------------------

def test_rocm_smi_json(x86):
    rocm = json.dumps({"card0": {"Card Series": "Radeon RX 7900 XTX", "VRAM Total Memory (B)": "25753026560",
                                 "VRAM Total Used Memory (B)": "753026560"}})
    machine = detect(x86, **{"rocm-smi": rocm})
    assert machine.gpus[0].memory_free_bytes == 25_000_000_000
    assert machine.as_hardware().id == "rx-7900-xtx"


def make_card(sys: Path, n: int, vendor: str, device: str, vram: int | None = None) -> None:
    dev = sys / "class" / "drm" / f"card{n}" / "device"
    dev.mkdir(parents=True)
    (dev / "vendor").write_text(vendor + "\n")
    (dev / "device").write_text(device + "\n")
    if vram is not None:
        (dev / "mem_info_vram_total").write_text(f"{vram}\n")
    (sys / "class" / "drm" / f"card{n}-DP-1").mkdir()  # connectors are not cards


def test_amd_vram_from_sysfs(x86):
    make_card(x86[1], 0, "0x1002", "0x744c", vram=24 * GIB)
    machine = detect(x86)
    (gpu,) = machine.gpus
    assert (gpu.vendor, gpu.memory_bytes, gpu.source) == ("AMD", 24 * GIB, "sysfs")
    assert "0x744c" in gpu.name


def test_small_apu_carve_out_does_not_beat_the_cpu(x86):
    make_card(x86[1], 0, "0x1002", "0x15bf", vram=512 * 2**20)
    assert detect(x86).as_hardware().device_kind == "cpu"


def test_intel_gpu_is_listed_without_memory(x86):
    make_card(x86[1], 1, "0x8086", "0x56a0")
    (gpu,) = detect(x86).gpus
    assert gpu.vendor == "Intel" and gpu.memory_bytes is None


# ---- Apple -----------------------------------------------------------------------------------

SYSCTL = """\
hw.memsize: 68719476736
hw.physicalcpu: 12
hw.logicalcpu: 12
hw.machine: arm64
machdep.cpu.brand_string: Apple M2 Max
hw.optional.neon: 1
hw.optional.arm.FEAT_DotProd: 1
hw.optional.arm.FEAT_BF16: 0
"""
PROFILER = json.dumps({"SPDisplaysDataType": [{
    "_name": "Apple M2 Max", "sppci_model": "Apple M2 Max", "sppci_cores": "38",
    "spdisplays_vendor": "sppci_vendor_Apple"}]})


def test_apple_silicon_is_its_unified_chip_entry():
    machine = detect_machine(commands={"sysctl": SYSCTL, "system_profiler": PROFILER}, system="Darwin")
    assert machine.cpu_model == "Apple M2 Max" and machine.physical_cores == 12 and machine.arch == "arm64"
    assert set(machine.isa) == {"neon", "dotprod"}
    device = machine.as_hardware()
    assert device.id == "apple-m2-max" and device.device_kind == "unified"
    assert device.memory_bytes == 64 * GIB and device.bandwidth_gbs == 400


def test_apple_gpu_cores_pick_the_binned_chip():
    sysctl = SYSCTL.replace("68719476736", str(36 * GIB)).replace("M2 Max", "M4 Max")
    profiler = PROFILER.replace("M2 Max", "M4 Max").replace('"38"', '"32"')
    device = detect_machine(commands={"sysctl": sysctl, "system_profiler": profiler}, system="Darwin").as_hardware()
    assert device.id == "apple-m4-max-32c" and device.bandwidth_gbs == 410


# ---- this machine ----------------------------------------------------------------------------

def test_this_machine():
    machine = detect_machine()
    assert machine.threads and machine.threads >= 1
    assert machine.ram_total_bytes and machine.ram_available_bytes
    assert 0 < machine.ram_available_bytes <= machine.ram_total_bytes
    assert json.loads(json.dumps(machine.to_dict()))["os"] == machine.os
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    if " avx2 " in flags:
        assert "avx2" in machine.isa
    device = machine.as_hardware()
    assert device.memory_bytes > 0 and device.bandwidth_gbs > 0 and device.basis == "detected"
