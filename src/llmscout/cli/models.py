"""``llmscout models``: list, show, parse, import and refresh models."""

from __future__ import annotations

import argparse

from llmscout.cli import _output as out

_EXAMPLES = """examples:
  llmscout models list --family qwen2.5 --tuning instruct
  llmscout models list --max-params 2B --format mlc
  llmscout models list --cloud --sort name
  llmscout models list --ollama            (models pulled into a running Ollama)
  llmscout models show meta-llama/Llama-3.1-8B-Instruct
  llmscout models show ./model.gguf --json
  llmscout models parse SmolLM2-360M-Instruct-q4f16_1-MLC
  llmscout models import ./my-finetune/   (adds it to $LLMSCOUT_HOME/models.d)"""


def register(sub: argparse._SubParsersAction) -> None:
    from llmscout.cli import json_flag

    p = sub.add_parser("models", help="the model catalog and other sources of models",
                       epilog=_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    msub = p.add_subparsers(dest="models_command", metavar="ACTION")
    p.set_defaults(func=lambda a: p.print_help())

    ls = msub.add_parser("list", help="list catalog models with filters")
    ls.add_argument("--family")
    ls.add_argument("--min-params", metavar="N", help="e.g. 1B")
    ls.add_argument("--max-params", metavar="N", help="e.g. 8B, 500M")
    ls.add_argument("--tuning", help="base, instruct, chat, code or reasoning")
    ls.add_argument("--specialization", "--spec", dest="specialization", help="code, math, medical ...")
    ls.add_argument("--license", help="substring of the licence, e.g. apache")
    ls.add_argument("--commercial", action="store_true", default=None, help="commercial use allowed")
    ls.add_argument("--no-gated", action="store_true", help="only repos that need no access request")
    ls.add_argument("--format", help="artifact format: gguf, mlc, safetensors, awq, gptq, onnx")
    ls.add_argument("--quant", help="an available quantization, e.g. Q4_K_M or q4f16_1")
    ls.add_argument("--min-context", metavar="TOKENS", help="e.g. 32k")
    kind = ls.add_mutually_exclusive_group()
    kind.add_argument("--open", dest="kind", action="store_const", const="open", help="open weights only")
    kind.add_argument("--cloud", dest="kind", action="store_const", const="cloud", help="cloud APIs only")
    ls.add_argument("--search", dest="text", help="substring of id or name")
    ls.add_argument("--ollama", nargs="?", const="", metavar="HOST",
                    help="list a running Ollama server's models instead (default $OLLAMA_HOST)")
    ls.add_argument("--sort", default="family", help="params, -params, name, context, released, family")
    ls.add_argument("--limit", type=int)
    json_flag(ls)
    ls.set_defaults(func=_list)

    show = msub.add_parser("show", help="everything known about one model")
    show.add_argument("model", help="catalog id, HF repo id, GGUF path or model folder")
    show.add_argument("--offline", action="store_true", help="never ask the Hugging Face Hub")
    json_flag(show)
    show.set_defaults(func=_show)

    parse = msub.add_parser("parse", help="explain a model or file name")
    parse.add_argument("name")
    json_flag(parse)
    parse.set_defaults(func=_parse)

    imp = msub.add_parser("import", help="add a GGUF, model folder or YAML file to your catalog")
    imp.add_argument("path")
    imp.add_argument("--id", dest="model_id", help="id to give the model (default: from the file)")
    json_flag(imp)
    imp.set_defaults(func=_import)

    ref = msub.add_parser("refresh", help="fetch live facts from the Hugging Face Hub into the cache")
    ref.add_argument("models", nargs="*", help="repo ids (default: every catalog model with a HF id)")
    ref.add_argument("--limit", type=int, help="at most this many models")
    json_flag(ref)
    ref.set_defaults(func=_refresh)


def _list(args: argparse.Namespace) -> int:
    from llmscout.catalog import load_catalog
    from llmscout.catalog.query import ModelFilter, parse_context, parse_count, select_models

    flt = ModelFilter(
        family=args.family,
        min_params=parse_count(args.min_params, "--min-params") if args.min_params else None,
        max_params=parse_count(args.max_params, "--max-params") if args.max_params else None,
        tuning=args.tuning, specialization=args.specialization, license=args.license,
        commercial=args.commercial, gated=False if args.no_gated else None, format=args.format,
        quant=args.quant, min_context=parse_context(args.min_context) if args.min_context else None,
        kind=args.kind, text=args.text,
    )
    if args.ollama is not None:
        from llmscout.catalog.sources.ollama import list_ollama_models

        source = list_ollama_models(args.ollama or None)
    else:
        source = list(load_catalog())
    models = select_models(source, flt, sort=args.sort, limit=args.limit)

    def render(con) -> None:
        rows = [[m.id, m.family, out.human_count(m.params), out.human_count(m.active_params) if m.active_params else "",
                 ",".join(m.tuning), out.human_count(m.context_length), m.license,
                 ",".join(dict.fromkeys(a.format for a in m.artifacts)) if m.cloud is None else m.cloud.provider]
                for m in models]
        con.print(out.table(f"{len(models)} models", ["id", "family", "params", "active", "tuning", "ctx",
                                                       "licence", "formats / provider"], rows))

    out.emit(args.json, [m.to_dict() for m in models], render)
    return 0


def _show(args: argparse.Namespace) -> int:
    from llmscout.catalog.resolve import resolve_model

    model = resolve_model(args.model, use_hub=not args.offline)
    out.emit(args.json, model.to_dict(), lambda con: _render_model(con, model))
    return 0


def _render_model(con, m) -> None:
    from rich.panel import Panel

    facts = [
        f"[bold]{m.name}[/]  ({m.id})", f"family {m.family} - developer {m.developer} - released {m.released or '?'}",
        f"params {out.human_count(m.params)}" + (f" (active {out.human_count(m.active_params)})" if m.active_params else ""),
        f"tuning {', '.join(m.tuning)}" + (f" - specialisations {', '.join(m.specializations)}" if m.specializations else ""),
        f"context {m.context_length or '?'} tokens ({m.context_source or 'unknown source'})",
        f"licence {m.license} - commercial {'yes' if m.commercial else 'no' if m.commercial is False else '?'}"
        f" - gated {'yes (accept terms, use HF_TOKEN)' if m.gated else 'no'}",
    ]
    if m.cloud:
        c = m.cloud
        facts.append(f"cloud: {c.provider}, ${c.input_per_mtok}/M in, ${c.output_per_mtok}/M out (as of {c.price_date}); closed weights")
    con.print(Panel("\n".join(facts), title="model", title_align="left"))
    a = m.architecture
    if a:
        rows = [[k, getattr(a, k)] for k in ("model_type", "kind", "num_layers", "hidden_size", "num_heads",
                                              "num_kv_heads", "head_dim", "intermediate_size", "vocab_size",
                                              "max_position_embeddings", "tied_embeddings", "sliding_window",
                                              "sliding_layers", "experts", "rope_scaling")
                if getattr(a, k) not in (None, False, 0)]
        con.print(out.table("architecture", ["field", "value"], rows))
    if m.artifacts:
        con.print(out.table("artifacts", ["format", "quant", "repo / file", "size"],
                            [[x.format, x.quant or x.precision, x.repo or x.file or x.url, out.human_bytes(x.size_bytes)]
                             for x in m.artifacts]))
    if m.benchmarks:
        con.print(out.table("benchmarks", ["name", "score", "shots", "kind", "date", "source"],
                            [[b.name, b.score, b.shots, b.kind, b.date, b.source] for b in m.benchmarks]))
    con.print(out.table("sources", ["fact", "source"], [[k, v] for k, v in m.sources.items()]))


def _parse(args: argparse.Namespace) -> int:
    from llmscout.catalog.names import parse_name

    parsed = parse_name(args.name)
    out.emit(args.json, parsed.to_dict(), lambda con: con.print(parsed.explain()))
    return 0


def _import(args: argparse.Namespace) -> int:
    from llmscout.catalog.user import import_model

    models = import_model(args.path, model_id=args.model_id)
    out.emit(args.json, [m.to_dict() for m in models],
             lambda con: con.print("\n".join(f"added {m.id}" for m in models)))
    return 0


def _refresh(args: argparse.Namespace) -> int:
    from llmscout.catalog.sources.hub import refresh

    results = refresh(args.models or None, limit=args.limit)
    out.emit(args.json, results, lambda con: con.print(out.table(
        "Hub refresh", ["model", "status"], [[r["id"], r["status"]] for r in results])))
    return 0
