"""The bundled hardware database: well-formed, sourced, and found by the names people type."""

from __future__ import annotations

import math

import pytest

from llmscout.errors import InvalidFileError, InvalidValueError, UnknownHardwareError
from llmscout.hardware import (
    DEVICE_KINDS,
    GIB,
    TARGETS,
    list_hardware,
    load_hardware_db,
    lookup_hardware,
    resolve_hardware,
)

DB = load_hardware_db()
DEVICES = list(DB)

# Every device the task names, by a name a user would type -> the id it must resolve to.
REQUIRED = {
    "GTX 1650": "gtx-1650", "GTX 1660 Ti": "gtx-1660-ti", "RTX 2060": "rtx-2060", "RTX 2070": "rtx-2070",
    "RTX 2080 Ti": "rtx-2080-ti", "RTX 3050": "rtx-3050", "RTX 3060 12GB": "rtx-3060",
    "RTX 3060 Ti": "rtx-3060-ti", "RTX 3070": "rtx-3070", "RTX 3080": "rtx-3080", "RTX 3080 Ti": "rtx-3080-ti",
    "RTX 3090": "rtx-3090", "RTX 3090 Ti": "rtx-3090-ti", "RTX 4060": "rtx-4060",
    "RTX 4060 Ti 8GB": "rtx-4060-ti-8gb", "RTX 4060 Ti 16GB": "rtx-4060-ti-16gb", "RTX 4070": "rtx-4070",
    "RTX 4070 Ti": "rtx-4070-ti", "RTX 4070 Ti Super": "rtx-4070-ti-super", "RTX 4080": "rtx-4080",
    "RTX 4080 Super": "rtx-4080-super", "RTX 4090": "rtx-4090", "RTX 5060 Ti 16GB": "rtx-5060-ti-16gb",
    "RTX 5070": "rtx-5070", "RTX 5070 Ti": "rtx-5070-ti", "RTX 5080": "rtx-5080", "RTX 5090": "rtx-5090",
    "RTX 4060 Laptop": "rtx-4060-laptop", "RTX 4090 Laptop": "rtx-4090-laptop",
    "T4": "t4", "L4": "l4", "A10": "a10", "A10G": "a10g", "A100 40GB": "a100-sxm-40gb",
    "A100 80GB": "a100-sxm-80gb", "A100 PCIe 80GB": "a100-pcie-80gb", "A100 PCIe 40GB": "a100-pcie-40gb",
    "H100 SXM": "h100-sxm", "H100 PCIe": "h100-pcie", "H200": "h200-sxm", "L40S": "l40s", "V100": "v100-sxm2",
    "RX 6600": "rx-6600", "RX 6700 XT": "rx-6700-xt", "RX 6800 XT": "rx-6800-xt", "RX 6900 XT": "rx-6900-xt",
    "RX 7600": "rx-7600", "RX 7800 XT": "rx-7800-xt", "RX 7900 XT": "rx-7900-xt", "RX 7900 XTX": "rx-7900-xtx",
    "RX 9070": "rx-9070", "RX 9070 XT": "rx-9070-xt", "MI250": "mi250", "MI300X": "mi300x",
    "Ryzen AI Max+ 395": "ryzen-ai-max-395", "M1": "apple-m1", "M1 Pro": "apple-m1-pro",
    "M1 Max": "apple-m1-max", "M1 Ultra": "apple-m1-ultra", "M2": "apple-m2", "M2 Pro": "apple-m2-pro",
    "M2 Max": "apple-m2-max", "M2 Ultra": "apple-m2-ultra", "M3": "apple-m3", "M3 Pro": "apple-m3-pro",
    "M3 Max": "apple-m3-max", "M4": "apple-m4", "M4 Pro": "apple-m4-pro", "M4 Max": "apple-m4-max",
    "Arc A770": "arc-a770", "Arc A750": "arc-a750", "Arc B580": "arc-b580",
    "DDR4-3200": "cpu-ddr4-3200-2ch", "DDR5-5600": "cpu-ddr5-5600-2ch", "laptop LPDDR5X": "cpu-laptop-lpddr5x",
    "server DDR5": "server-ddr5-4800-8ch", "EPYC Genoa": "epyc-genoa", "Sapphire Rapids": "xeon-sapphire-rapids",
    "Raspberry Pi 5": "raspberry-pi-5", "A17 Pro": "apple-a17-pro", "A18 Pro": "apple-a18-pro",
    "Snapdragon 8 Gen 3": "snapdragon-8-gen-3", "Snapdragon 8 Elite": "snapdragon-8-elite",
    "Tensor G4": "google-tensor-g4", "browser": "browser", "browser-discrete": "browser-discrete",
    "browser-phone": "browser-phone",
}


# ---- the data -------------------------------------------------------------------------------

def test_database_holds_at_least_90_devices():
    assert len(DB) >= 90


@pytest.mark.parametrize(("name", "device_id"), REQUIRED.items())
def test_every_named_device_is_found(name, device_id):
    assert lookup_hardware(name).id == device_id


@pytest.mark.parametrize("device", DEVICES, ids=lambda d: d.id)
def test_every_device_cites_a_url_for_its_figures(device):
    assert device.source.startswith("https://")
    for field_name, url in device.extra.get("sources", {}).items():
        assert url.startswith("https://"), (field_name, url)


@pytest.mark.parametrize("device", DEVICES, ids=lambda d: d.id)
def test_every_device_has_plausible_figures(device):
    assert device.device_kind in DEVICE_KINDS and device.target in TARGETS
    assert 0.1 < device.bandwidth_gbs < 20_000
    assert 1 * GIB <= device.memory_bytes <= 2048 * GIB
    if device.memory_options_gb:
        assert device.memory_bytes / GIB in device.memory_options_gb
    if device.fp16_tflops and device.int8_tops:
        assert device.int8_tops >= device.fp16_tflops * 0.99  # INT8 is never slower than FP16
    if device.idle_w and device.tdp_w:
        assert device.idle_w < device.tdp_w


def test_apple_chips_are_unified_with_one_entry_per_stated_bandwidth():
    apple = [d for d in DB if d.vendor == "Apple" and d.target != "phone"]
    assert apple and all(d.device_kind == "unified" for d in apple)
    assert lookup_hardware("M4 Max 36GB").bandwidth_gbs == 410
    assert lookup_hardware("M4 Max 128GB").bandwidth_gbs == 546


def test_tensor_figures_of_flagships_match_whitepapers():
    assert lookup_hardware("RTX 4090").fp16_tflops == 165.2
    assert lookup_hardware("RTX 3090").int8_tops == 284.0
    assert lookup_hardware("H100").fp16_tflops == 989.0


def test_browser_targets_carry_webgpu_limits_and_a_small_budget():
    for device in list_hardware(target="browser"):
        assert device.max_allocation_bytes and device.usable_memory_fraction
        assert "maxStorageBufferBindingSize" in device.notes
    tab = lookup_hardware("browser")
    usable_gb = tab.memory_bytes * tab.usable_memory_fraction / GIB
    assert 2 <= usable_gb <= 4  # ~1B-3B parameters at 4 bit
    assert lookup_hardware("browser-phone").max_allocation_bytes == 128 * 2**20


# ---- look-up by name ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["RTX 4090", "rtx4090", "4090", "NVIDIA GeForce RTX 4090", "  rtx-4090 "])
def test_spellings_of_a_name_find_the_same_device(name):
    assert lookup_hardware(name).id == "rtx-4090"


def test_memory_in_the_name_chooses_that_option():
    device = lookup_hardware("M2 Max 64GB")
    assert device.id == "apple-m2-max" and device.memory_bytes == 64 * GIB


def test_memory_that_is_not_an_option_is_refused_with_the_options():
    with pytest.raises(InvalidValueError, match="32, 64, 96"):
        lookup_hardware("M2 Max 48GB")


def test_count_prefix_sets_count_and_total_memory():
    device = lookup_hardware("2x RTX 3090")
    assert device.count == 2 and device.total_memory_bytes == 48 * GIB


@pytest.mark.parametrize("name", ["rtx 3090 x 2", "2 x rtx 3090", "2×RTX 3090"])
def test_other_count_spellings(name):
    assert lookup_hardware(name).count == 2


def test_x_inside_a_name_is_not_a_count():
    device = lookup_hardware("7900 XTX")
    assert device.id == "rx-7900-xtx" and device.count == 1


def test_ambiguous_name_picks_the_default_variant_and_says_which():
    device = lookup_hardware("H100")
    assert device.id == "h100-sxm"
    assert device.extra["lookup"]["alternatives"] == ["h100-pcie"]
    assert "h100-pcie" in device.notes


def test_memory_picks_the_variant_that_offers_it():
    device = lookup_hardware("a100 80gb")
    assert device.id == "a100-sxm-80gb" and device.memory_bytes == 80 * GIB
    assert lookup_hardware("A100 40GB").bandwidth_gbs == 1555


@pytest.mark.parametrize(("reported", "device_id"), [
    ("NVIDIA H100 80GB HBM3", "h100-sxm"), ("NVIDIA A100-SXM4-40GB", "a100-sxm-40gb"),
    ("NVIDIA A100 80GB PCIe", "a100-pcie-80gb"), ("Tesla T4", "t4"), ("NVIDIA A10G", "a10g"),
    ("NVIDIA GeForce RTX 4090 Laptop GPU", "rtx-4090-laptop"), ("Tesla V100-SXM2-32GB", "v100-sxm2"),
])
def test_names_as_nvidia_smi_reports_them(reported, device_id):
    assert lookup_hardware(reported).id == device_id


def test_unknown_name_raises_with_suggestions():
    with pytest.raises(UnknownHardwareError) as info:
        lookup_hardware("rtx 9999")
    assert info.value.suggestions and all("rtx" in s for s in info.value.suggestions)
    assert isinstance(info.value, KeyError)


def test_list_filters_by_kind_and_target():
    assert {d.device_kind for d in list_hardware(kind="unified")} == {"unified"}
    assert len(list_hardware(target="phone")) >= 5
    with pytest.raises(InvalidValueError):
        list_hardware(kind="tpu")


# ---- resolving what the user asked for ------------------------------------------------------

def test_figures_override_a_named_device():
    device = resolve_hardware("RTX 4090", memory_gb=48, tflops=100, power_w=300)
    assert device.memory_bytes == 48 * GIB and device.fp16_tflops == 100 and device.tdp_w == 300
    assert device.bandwidth_gbs == 1008 and device.basis == "mixed"


def test_no_name_builds_a_custom_device():
    device = resolve_hardware(memory_gb=16, bandwidth_gbs=120, tflops=10, device_kind="unified")
    assert device.basis == "user" and device.device_kind == "unified"
    assert device.memory_bytes == 16 * GIB and device.bandwidth_gbs == 120


def test_custom_device_needs_bandwidth():
    with pytest.raises(InvalidValueError, match="bandwidth_gbs"):
        resolve_hardware(memory_gb=16)


def test_count_argument_sets_devices():
    assert resolve_hardware("H100", count=8).total_memory_bytes == 8 * 80 * GIB


def test_auto_detects_this_machine():
    device = resolve_hardware("auto")
    assert device.basis == "detected" and device.memory_bytes > 0


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"memory_gb": -1}, "memory_gb"), ({"memory_gb": 0}, "memory_gb"), ({"memory_gb": 1e9}, "memory_gb"),
    ({"bandwidth_gbs": 0}, "bandwidth_gbs"), ({"bandwidth_gbs": math.inf}, "bandwidth_gbs"),
    ({"tflops": -5}, "tflops"), ({"tflops": math.nan}, "tflops"), ({"power_w": 1e7}, "power_w"),
    ({"count": 0}, "count"), ({"count": 2.5}, "count"), ({"memory_gb": True}, "memory_gb"),
    ({"device_kind": "tpu"}, "device_kind"),
])
def test_bad_figures_are_refused(kwargs, field):
    with pytest.raises(InvalidValueError) as info:
        resolve_hardware("RTX 4090", **kwargs)
    assert info.value.field == field


# ---- data files ------------------------------------------------------------------------------

GOOD = """\
devices:
  - id: test-gpu
    name: Test GPU
    vendor: Test
    device_kind: gpu
    memory_options_gb: [8, 16]
    memory_gb: 16
    bandwidth_gbs: 500
    source: https://example.org/test-gpu
"""


def test_a_users_file_loads(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(GOOD)
    db = load_hardware_db([path])
    assert db.lookup("test gpu").memory_bytes == 16 * GIB


def test_malformed_yaml_names_file_and_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(GOOD.replace("    vendor: Test", "   vendor: Test"))  # line 4 mis-indented
    with pytest.raises(InvalidFileError) as info:
        load_hardware_db([path])
    assert info.value.path == str(path) and info.value.line == 4


def test_missing_field_names_entry_line_and_field(tmp_path):
    path = tmp_path / "partial.yaml"
    path.write_text(GOOD.replace("    bandwidth_gbs: 500\n", ""))
    with pytest.raises(InvalidFileError) as info:
        load_hardware_db([path])
    assert info.value.field == "devices[0].bandwidth_gbs" and info.value.line == 2


@pytest.mark.parametrize(("old", "new", "field"), [
    ("    bandwidth_gbs: 500", "    bandwidth_gbs: -3", "bandwidth_gbs"),
    ("    memory_gb: 16", "    memory_gb: 12", "memory_gb"),
    ("    device_kind: gpu", "    device_kind: npu", "device_kind"),
    ("    vendor: Test", "    vendor: Test\n    colour: red", "colour"),
])
def test_bad_field_is_named(tmp_path, old, new, field):
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace(old, new))
    with pytest.raises(InvalidFileError) as info:
        load_hardware_db([path])
    assert info.value.field == f"devices[0].{field}"


def test_duplicate_ids_across_files_are_refused(tmp_path):
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(GOOD)
    second.write_text(GOOD)
    with pytest.raises(InvalidFileError, match="duplicate"):
        load_hardware_db([first, second])
