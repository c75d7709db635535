"""Energy readers: RAPL on a powercap tree built in tmp_path, NVML through stand-in modules.

This machine has neither RAPL nor NVML (see /work/shared/LOCAL-MODELS.md): the RAPL tests lay
out files the way the kernel does and advance the counters while the block runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from llmscout.errors import InvalidValueError
from llmscout.trial.energy import EnergyMeter, integrate_power, rapl_zones, wrapped_delta

MAX_UJ = 262_143_328_850  # a typical package max_energy_range_uj


def _zone(root: Path, dirname: str, name: str, energy_uj: int, max_uj: int = MAX_UJ) -> Path:
    d = root / dirname
    d.mkdir(parents=True)
    (d / "name").write_text(name + "\n")
    (d / "energy_uj").write_text(f"{energy_uj}\n")
    (d / "max_energy_range_uj").write_text(f"{max_uj}\n")
    return d / "energy_uj"


def _set(counter: Path, value: int) -> None:
    """Replace the counter file in one step, so a polling reader never sees it half written."""
    tmp = counter.with_name("energy_uj.tmp")
    tmp.write_text(f"{value}\n")
    os.replace(tmp, counter)


@pytest.fixture
def powercap(tmp_path):
    """One package with core and DRAM subzones, as /sys/class/powercap lays them out."""
    root = tmp_path / "powercap"
    (root / "intel-rapl").mkdir(parents=True)  # the control type folder: no counters
    return root


# -------------------------------------------------------------------------------------- RAPL


def test_rapl_reads_the_package_counter_increase_in_joules(powercap):
    pkg = _zone(powercap, "intel-rapl:0", "package-0", 1_000_000)
    with EnergyMeter("rapl", powercap_root=powercap) as meter:
        _set(pkg, 3_500_000)
    r = meter.reading
    assert (r.joules, r.basis, r.domains) == (2.5, "measured-rapl", {"package-0": 2.5})
    assert r.duration_s >= 0


def test_rapl_adds_packages_and_dram_but_not_core_psys_or_mmio_copies(powercap):
    p0 = _zone(powercap, "intel-rapl:0", "package-0", 0)
    core = _zone(powercap, "intel-rapl:0:0", "core", 0)
    dram = _zone(powercap, "intel-rapl:0:1", "dram", 0)
    p1 = _zone(powercap, "intel-rapl:1", "package-1", 0)
    psys = _zone(powercap, "intel-rapl:2", "psys", 0)
    mmio = _zone(powercap, "intel-rapl-mmio:0", "package-0", 0)
    with EnergyMeter("rapl", powercap_root=powercap) as meter:
        for counter, uj in ((p0, 10_000_000), (core, 7_000_000), (dram, 2_000_000),
                            (p1, 5_000_000), (psys, 99_000_000), (mmio, 10_000_000)):
            _set(counter, uj)
    assert meter.reading.domains == {"package-0": 10.0, "package-0/dram": 2.0, "package-1": 5.0}
    assert meter.reading.joules == 17.0


def test_rapl_counter_wrapping_during_the_block_is_added_back(powercap):
    pkg = _zone(powercap, "intel-rapl:0", "package-0", MAX_UJ - 1_000_000)
    with EnergyMeter("rapl", powercap_root=powercap) as meter:
        _set(pkg, 500_000)
    assert meter.reading.joules == 1.5


def test_polling_keeps_count_across_two_wraps_in_one_long_block(powercap):
    pkg = _zone(powercap, "intel-rapl:0", "package-0", MAX_UJ - 1_000_000)
    with EnergyMeter("rapl", powercap_root=powercap, poll_interval_s=None) as meter:
        _set(pkg, MAX_UJ // 2)  # wrapped once
        meter.poll()
        _set(pkg, 1_000_000)  # wrapped again: start and end alone would say 2 J
    assert meter.reading.joules == pytest.approx((MAX_UJ + 2_000_000) / 1e6)


def test_the_poll_thread_folds_counters_in_while_the_block_runs(powercap):
    pkg = _zone(powercap, "intel-rapl:0", "package-0", MAX_UJ - 1_000_000)
    with EnergyMeter("rapl", powercap_root=powercap, poll_interval_s=0.01) as meter:
        _set(pkg, MAX_UJ // 2)
        time.sleep(0.2)  # many polls see the first wrap
        _set(pkg, 1_000_000)
    assert meter.reading.joules == pytest.approx((MAX_UJ + 2_000_000) / 1e6)


def test_wrapped_delta_arithmetic():
    assert wrapped_delta(10, 30, 100) == 20
    assert wrapped_delta(90, 5, 100) == 15
    assert wrapped_delta(42, 42, 100) == 0


def test_rapl_zones_skip_folders_without_a_name_or_range(powercap):
    _zone(powercap, "intel-rapl:0", "package-0", 0)
    (powercap / "intel-rapl:1").mkdir()  # half-populated: no name, no counters
    assert [z.name for z in rapl_zones(powercap)] == ["package-0"]


def test_no_powercap_tree_means_unavailable_with_the_reason(tmp_path):
    with EnergyMeter("rapl", powercap_root=tmp_path / "absent") as meter:
        pass
    r = meter.reading
    assert (r.joules, r.basis, r.domains) == (None, "unavailable", {})
    assert "no RAPL package counters" in r.detail


_UNREADABLE = textwrap.dedent("""
    import os, sys
    from llmscout.trial.energy import EnergyMeter
    if os.geteuid() == 0:
        os.setgid(65534)
        os.setuid(65534)  # root reads any file: become nobody to meet the permission bits
    with EnergyMeter("rapl", powercap_root=sys.argv[1]) as m:
        pass
    print(m.reading.basis, "|", m.reading.detail)
""")


def test_counters_readable_only_by_root_mean_unavailable_not_a_crash():
    # Not tmp_path: pytest's base folder is private to its user, and the reader may be nobody.
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "powercap"
        root.mkdir()
        counter = _zone(root, "intel-rapl:0", "package-0", 123)
        counter.chmod(0o400)  # what kernels patched for CVE-2020-8694 do
        for p in (Path(tmp), root, counter.parent):
            p.chmod(0o755)
        res = subprocess.run([sys.executable, "-c", _UNREADABLE, str(root)],
                             capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    basis, detail = res.stdout.strip().split(" | ")
    assert basis == "unavailable"
    assert "energy_uj: readable only by root" in detail


def test_an_exception_in_the_block_propagates_and_the_reading_is_still_taken(powercap):
    pkg = _zone(powercap, "intel-rapl:0", "package-0", 0)
    meter = EnergyMeter("rapl", powercap_root=powercap)
    with pytest.raises(RuntimeError, match="model crashed"), meter:
        _set(pkg, 4_000_000)
        raise RuntimeError("model crashed")
    assert meter.reading.joules == 4.0


def test_source_none_measures_nothing(powercap):
    _zone(powercap, "intel-rapl:0", "package-0", 0)
    with EnergyMeter("none", powercap_root=powercap) as meter:
        pass
    assert meter.reading.basis == "unavailable" and meter.reading.joules is None


def test_an_unknown_source_is_refused():
    with pytest.raises(InvalidValueError, match="source='battery'"):
        EnergyMeter("battery")  # type: ignore[arg-type]


# -------------------------------------------------------------------------------------- NVML


class _NVMLError(Exception):
    pass


def _fake_nvml(energy_mj: list[int] | None = None, power_mw: list[int] | None = None,
               init_fails: bool = False) -> SimpleNamespace:
    """A stand-in for ``pynvml`` (no NVIDIA driver here); counters live in mutable lists."""

    def init():
        if init_fails:
            raise _NVMLError("NVML Shared Library Not Found")

    def energy(i):
        if energy_mj is None:
            raise _NVMLError("Not Supported")
        return energy_mj[i]

    def power(i):
        if power_mw is None:
            raise _NVMLError("Not Supported")
        return power_mw[i]

    n = len(energy_mj if energy_mj is not None else power_mw or [])
    return SimpleNamespace(
        NVMLError=_NVMLError, nvmlInit=init, nvmlDeviceGetCount=lambda: n,
        nvmlDeviceGetHandleByIndex=lambda i: i, nvmlDeviceGetTotalEnergyConsumption=energy,
        nvmlDeviceGetPowerUsage=power,
    )


def test_nvml_energy_counter_difference_is_reported_per_gpu_in_joules():
    counters = [1_000, 50_000]
    nvml = _fake_nvml(energy_mj=counters)
    with EnergyMeter("nvml", nvml=nvml) as meter:
        counters[0] += 250_000
        counters[1] += 1_500
    r = meter.reading
    assert (r.basis, r.domains, r.joules) == ("measured-nvml", {"gpu0": 250.0, "gpu1": 1.5}, 251.5)


def test_nvml_measures_only_the_gpus_asked_for():
    counters = [0, 0]
    with EnergyMeter("nvml", nvml=_fake_nvml(energy_mj=counters), gpu_indices=[1]) as meter:
        counters[0] += 9_000
        counters[1] += 2_000
    assert meter.reading.domains == {"gpu1": 2.0}


def test_nvml_without_an_energy_counter_integrates_sampled_power():
    nvml = _fake_nvml(power_mw=[200_000])  # 200 W, before Volta: no energy counter
    with EnergyMeter("nvml", nvml=nvml, sample_interval_s=0.01) as meter:
        time.sleep(0.3)
    r = meter.reading
    assert r.basis == "measured-nvml" and "power sampling" in r.detail
    assert r.joules == pytest.approx(200 * r.duration_s, abs=200 * 0.05)


def test_integrate_power_uses_the_trapezoid_rule():
    assert integrate_power([(0.0, 100.0), (1.0, 100.0), (3.0, 200.0)]) == 400.0
    assert integrate_power([(5.0, 80.0)]) == 0.0


def test_auto_falls_back_to_rapl_when_nvml_cannot_start(powercap):
    pkg = _zone(powercap, "intel-rapl:0", "package-0", 0)
    with EnergyMeter("auto", powercap_root=powercap, nvml=_fake_nvml(init_fails=True)) as meter:
        _set(pkg, 1_000_000)
    assert (meter.reading.basis, meter.reading.joules) == ("measured-rapl", 1.0)


def test_auto_with_nothing_available_says_why_for_each_reader(tmp_path):
    meter = EnergyMeter("auto", powercap_root=tmp_path, nvml=_fake_nvml(init_fails=True))
    assert meter.available() == "unavailable"
    with meter:
        pass
    assert "NVML not usable" in meter.reading.detail
    assert "no RAPL package counters" in meter.reading.detail


def test_real_nvml_when_this_machine_has_an_nvidia_gpu():
    pynvml = pytest.importorskip("pynvml")
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        pytest.skip("no NVIDIA driver on this machine")
    with EnergyMeter("nvml") as meter:
        time.sleep(0.5)
    assert meter.reading.basis == "measured-nvml" and meter.reading.joules >= 0


def test_importing_the_energy_module_loads_no_gpu_library():
    code = "import sys, llmscout.trial.energy; print('pynvml' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, env={**os.environ})
    assert res.stdout.strip() == "False", res.stderr
