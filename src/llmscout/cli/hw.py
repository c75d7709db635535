"""``llmscout hw``: this machine, the hardware database, and lookups by name."""

from __future__ import annotations

import argparse

from llmscout.cli import _output as out

_EXAMPLES = """examples:
  llmscout hw                       detect this machine
  llmscout hw list --kind gpu
  llmscout hw show "M2 Max 64GB"
  llmscout hw show "2x RTX 3090" --json"""


def register(sub: argparse._SubParsersAction) -> None:
    from llmscout.cli import json_flag

    p = sub.add_parser("hw", help="detect this machine, or look hardware up by name",
                       epilog=_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    json_flag(p)
    p.set_defaults(func=_detect)
    hsub = p.add_subparsers(dest="hw_command", metavar="ACTION")
    det = hsub.add_parser("detect", help="detect this machine (the default)")
    json_flag(det)
    det.set_defaults(func=_detect)
    ls = hsub.add_parser("list", help="the bundled hardware database")
    ls.add_argument("--kind", help="gpu, unified or cpu")
    ls.add_argument("--target", help="desktop, laptop, server, datacenter, browser, phone, sbc")
    json_flag(ls)
    ls.set_defaults(func=_list)
    show = hsub.add_parser("show", help="one device by name (fuzzy)")
    show.add_argument("name")
    json_flag(show)
    show.set_defaults(func=_show)


def _detect(args: argparse.Namespace) -> int:
    from llmscout.hardware import detect_machine

    machine = detect_machine()
    hw = machine.as_hardware()
    data = {"machine": machine.to_dict(), "hardware": hw.to_dict()}

    def render(con) -> None:
        m = data["machine"]
        rows = [[k, v] for k, v in m.items() if not isinstance(v, list | dict | tuple) and v not in (None, "")]
        rows.append(["isa", " ".join(m.get("isa") or []) or "not detected"])
        gpus = m.get("gpus") or []
        rows.append(["gpus", ", ".join(g.get("name", "?") for g in gpus) or "not detected"])
        con.print(out.table("this machine", ["field", "value"], rows))
        _render_hardware(con, hw, "what models will run on")

    out.emit(args.json, data, render)
    return 0


def _render_hardware(con, hw, title: str) -> None:
    rows = [
        ["name", f"{hw.count}x {hw.name}" if hw.count > 1 else hw.name],
        ["kind / target", f"{hw.device_kind} / {hw.target}"],
        ["memory", out.human_bytes(hw.memory_bytes) + (f" each, {out.human_bytes(hw.total_memory_bytes)} total" if hw.count > 1 else "")],
        ["bandwidth", f"{hw.bandwidth_gbs:g} GB/s"],
        ["FP16 / INT8", f"{hw.fp16_tflops or '?'} TFLOPS / {hw.int8_tops or '?'} TOPS"],
        ["power (load / idle)", f"{hw.tdp_w or '?'} W / {hw.idle_w or '?'} W"],
        ["basis", hw.basis], ["source", hw.source],
    ]
    if hw.notes:
        rows.append(["notes", hw.notes])
    con.print(out.table(title, ["field", "value"], rows))


def _list(args: argparse.Namespace) -> int:
    from llmscout.hardware import list_hardware

    devices = list_hardware(kind=args.kind, target=args.target)

    def render(con) -> None:
        rows = [[d.id, d.name, d.device_kind, d.target, out.human_bytes(d.memory_bytes), f"{d.bandwidth_gbs:g}",
                 d.fp16_tflops or "", d.tdp_w or ""] for d in devices]
        con.print(out.table(f"{len(devices)} devices", ["id", "name", "kind", "target", "memory", "GB/s",
                                                         "FP16 TFLOPS", "TDP W"], rows))

    out.emit(args.json, [d.to_dict() for d in devices], render)
    return 0


def _show(args: argparse.Namespace) -> int:
    from llmscout.hardware import lookup_hardware

    hw = lookup_hardware(args.name)
    out.emit(args.json, hw.to_dict(), lambda con: _render_hardware(con, hw, hw.name))
    return 0
