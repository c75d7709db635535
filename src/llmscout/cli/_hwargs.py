"""Hardware options shared by estimate, recommend and compare (one definition)."""

from __future__ import annotations

import argparse
from typing import Any


def add_hardware_args(p: argparse.ArgumentParser) -> Any:
    """The hardware option group (returned, so a command can add its own options to it)."""
    g = p.add_argument_group("hardware (default: this machine)")
    g.add_argument("--hardware", "--hw", dest="hardware", metavar="NAME",
                   help='"auto", or a device name: "RTX 4090", "M2 Max 64GB", "2x RTX 3090", "browser"')
    g.add_argument("--memory-gb", type=float, help="usable memory of the device (overrides the database)")
    g.add_argument("--bandwidth-gbs", type=float, help="memory bandwidth in GB/s")
    g.add_argument("--tflops", type=float, help="dense FP16 TFLOPS")
    g.add_argument("--power-w", type=float, help="power under load in watts")
    g.add_argument("--device-kind", choices=("gpu", "unified", "cpu"))
    return g


def hardware_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {"hardware": args.hardware, "memory_gb": args.memory_gb, "bandwidth_gbs": args.bandwidth_gbs,
            "tflops": args.tflops, "power_w": args.power_w, "device_kind": args.device_kind}
