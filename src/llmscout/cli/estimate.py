"""``llmscout estimate`` and ``llmscout calibrate``."""

from __future__ import annotations

import argparse

from llmscout.cli import _output as out

_EXAMPLES = """examples:
  llmscout estimate meta-llama/Llama-3.1-8B-Instruct --hardware "RTX 4060" --context 8k
  llmscout estimate Qwen/Qwen2.5-7B-Instruct --quant Q4_K_M --hardware "M2 Max 64GB" --explain
  llmscout estimate ./model.gguf                      (this machine; says 'measured' after calibrate)
  llmscout estimate google/gemma-3-270m --finetune qlora --hardware "RTX 3060 12GB"
  llmscout estimate mistralai/Mistral-7B-Instruct-v0.3 --memory-gb 8 --bandwidth-gbs 272 --device-kind gpu"""


def register(sub: argparse._SubParsersAction) -> None:
    from llmscout.cli import json_flag
    from llmscout.cli._hwargs import add_hardware_args

    p = sub.add_parser("estimate", help="will it fit, how fast, at what energy and cost",
                       epilog=_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="catalog id, HF repo id, GGUF path or model folder")
    p.add_argument("--quant", help="Q4_K_M, Q8_0, F16, q4f16_1, bf16, awq ... (default: best that fits)")
    p.add_argument("--context", help="tokens per sequence, e.g. 8192 or 32k")
    p.add_argument("--engine", default="llamacpp", choices=("llamacpp", "transformers", "vllm", "mlc"))
    p.add_argument("--kv-cache-type", default="f16", help="f16, q8_0, q4_0 (llama.cpp), fp8 (vLLM)")
    p.add_argument("--batch", type=int, default=1, help="sequences decoded together")
    p.add_argument("--prompt-tokens", type=int, default=512)
    p.add_argument("--output-tokens", type=int, default=256)
    add_hardware_args(p)
    c = p.add_argument_group("cost")
    c.add_argument("--volume", type=int, default=1000, help="requests per month (default 1000)")
    c.add_argument("--electricity-price", type=float, help="per kWh (default $LLMSCOUT_ELECTRICITY_PRICE or 0.30)")
    c.add_argument("--hardware-price", type=float, help="purchase price, amortised over --amortisation-months")
    c.add_argument("--amortisation-months", type=int)
    f = p.add_argument_group("fine-tuning")
    f.add_argument("--finetune", choices=("full", "lora", "qlora"))
    f.add_argument("--lora-rank", type=int, default=16)
    f.add_argument("--seq-len", type=int, default=2048)
    p.add_argument("--explain", action="store_true", help="show the working: inputs, formulas, sources")
    p.add_argument("--no-calibration", action="store_true", help="ignore this machine's calibration")
    json_flag(p)
    p.set_defaults(func=_estimate)

    cal = sub.add_parser("calibrate", help="measure this machine with llama.cpp and fit the estimator",
                         epilog="examples:\n  llmscout calibrate                 (packaged Gemma 3 270M)\n"
                                "  llmscout calibrate ./model.gguf --context 8192",
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    cal.add_argument("gguf", nargs="?", help="a GGUF file (default: the packaged Gemma 3 270M)")
    cal.add_argument("--hardware", help="the hardware this machine is (default: detected)")
    cal.add_argument("--context", type=int, default=4096)
    json_flag(cal)
    cal.set_defaults(func=_calibrate)


def _estimate(args: argparse.Namespace) -> int:
    from llmscout.catalog.query import parse_context
    from llmscout.cli._hwargs import hardware_kwargs
    from llmscout.estimate.service import estimate_for

    data = estimate_for(
        args.model, **hardware_kwargs(args), quant=args.quant, engine=args.engine,
        context=parse_context(args.context) if args.context else None, kv_cache_type=args.kv_cache_type,
        batch=args.batch, prompt_tokens=args.prompt_tokens, output_tokens=args.output_tokens,
        requests_per_month=args.volume, electricity_price=args.electricity_price,
        hardware_price=args.hardware_price, amortisation_months=args.amortisation_months,
        finetune=args.finetune, lora_rank=args.lora_rank, seq_len=args.seq_len,
        use_calibration=not args.no_calibration, explain=True)
    if not args.explain and not args.json:
        data.pop("explain", None)
    out.emit(args.json, data, lambda con: _render(con, data, args.explain))
    return 0


def _band(value, low, high, unit: str) -> str:
    if value is None:
        return "-"
    return f"{value:,.1f} {unit} ({low:,.1f}-{high:,.1f})"


def _render(con, d: dict, explain: bool) -> None:
    hw = d["hardware"]
    mem = d.get("memory") or {}
    sp = d.get("speed") or {}
    en = d.get("energy") or {}
    cost = d.get("cost") or {}
    fits = "yes" if d.get("fits") else "NO"
    rows = [
        ["model", f"{d['model']['id']} ({out.human_count(d['model'].get('params'))} params)"],
        ["quant / engine", f"{d.get('quant')} / {d.get('engine')}  (file {out.human_bytes(d.get('file_size_bytes'))},"
                           f" {d.get('file_size_source', '')})"],
        ["hardware", f"{hw['name']} ({out.human_bytes(hw['memory_bytes'])}, {hw['bandwidth_gbs']:g} GB/s, {hw.get('basis', 'database')})"],
        ["context", f"{d.get('context')} tokens (largest that fits: {d.get('max_context')})"],
    ]
    if mem:
        rows += [["memory", f"weights {out.human_bytes(mem.get('weights_bytes'))} + KV {out.human_bytes(mem.get('kv_cache_bytes'))}"
                            f" + buffers {out.human_bytes(mem.get('compute_buffer_bytes'))} + overhead "
                            f"{out.human_bytes(mem.get('overhead_bytes'))} = {out.human_bytes(mem.get('total_bytes'))}"],
                 ["fits", f"{fits} - {d.get('placement')}, headroom {out.human_bytes(mem.get('headroom_bytes'))}"]]
    if sp:
        rows += [["decode", _band(sp.get("decode_tokens_per_s"), sp.get("decode_low"), sp.get("decode_high"), "tok/s")
                  + f"  [{sp.get('basis')}]"],
                 ["prefill", _band(sp.get("prefill_tokens_per_s"), sp.get("prefill_low"), sp.get("prefill_high"), "tok/s")],
                 ["first token", f"{sp.get('ttft_s', 0):.2f} s for {d.get('prompt_tokens')} prompt tokens"]]
    if en:
        rows.append(["energy", f"{en.get('joules_per_token', 0):.3g} J/token, {en.get('wh_per_request', 0):.3g} Wh/request"
                               f" (= {en.get('microwave_seconds', 0):.2g} s of a 1000 W microwave) [{en.get('basis')}]"])
    if cost:
        rows.append(["cost", f"${cost.get('per_request', 0):.6f}/request, ${cost.get('per_month', 0):.2f}/month at "
                             f"{cost.get('requests_per_month')} requests ({cost.get('kind')})"])
    con.print(out.table("estimate", ["", ""], rows, show_header=False))
    clouds = d.get("cloud_comparison") or []
    if clouds:
        cheapest = sorted(clouds, key=lambda r: r["per_month"])[:5]
        con.print(out.table("vs cloud (cheapest 5)", ["model", "$/month", "local cheaper from (req/month)"],
                            [[r["model"], f"{r['per_month']:.2f}", r["break_even_requests_per_month"]
                              if r["break_even_requests_per_month"] is not None else "never"] for r in cheapest]))
    ft = d.get("finetune")
    if ft:
        fm = ft["memory"]
        con.print(f"fine-tuning ({ft['method']}): {out.human_bytes(fm['total_bytes'])} "
                  f"({'fits' if ft['fits'] else 'does not fit'}); trainable {out.human_count(fm['trainable_params'])}")
        pre = ft.get("pretraining_from_scratch") or {}
        if "gpu_hours" in pre:
            con.print(f"pretraining from scratch instead: {pre['gpu_hours']:,.0f} GPU-hours"
                      f" (~${pre.get('cost') or 0:,.0f} at {pre.get('price_basis')})")
    for note in d.get("notes") or []:
        con.print(f"note: {note}", markup=False)
    if explain:
        from rich.markup import escape

        for step in d.get("explain") or []:
            step = {k: escape(str(v)) if isinstance(v, str) else v for k, v in step.items()}
            con.print(f"[bold]{step.get('step')}[/]: {step.get('value')} {step.get('unit', '')}")
            con.print(f"  {step.get('formula')}")
            if step.get("inputs"):
                con.print("  inputs: " + ", ".join(f"{k}={v}" for k, v in step["inputs"].items()))
            if step.get("source"):
                con.print(f"  source: {step['source']}")


def _calibrate(args: argparse.Namespace) -> int:
    from llmscout.estimate.calibrate import calibrate

    data = calibrate(args.gguf, hardware=args.hardware, context=args.context)

    def render(con) -> None:
        m = data["measured"]
        b, a = data["before"], data["after"]
        con.print(f"measured {data['model']} on {data['hardware']['name']} ({data['threads']} threads):")
        con.print(f"  prefill {m['prefill_tokens_per_s']:.1f} tok/s; decode "
                  + ", ".join(f"{x['decode_tokens_per_s']:.1f} tok/s at depth {x['depth']}" for x in m["decode"]))
        con.print(f"  llama.cpp buffers {out.human_bytes(m['llama_total_bytes'])}, peak RSS {out.human_bytes(m['rss_peak_bytes'])}")
        con.print(f"formula before: decode {b['decode_tokens_per_s']:.1f}, prefill {b['prefill_tokens_per_s']:.1f} tok/s")
        con.print(f"calibrated: bandwidth efficiency {a['bandwidth_efficiency']:.3f}, compute efficiency "
                  f"{a['compute_efficiency']:.3f} -> decode {a['decode_tokens_per_s']:.1f}, prefill {a['prefill_tokens_per_s']:.1f}")
        con.print(f"saved to {data['saved_to']}")

    out.emit(args.json, data, render)
    return 0
