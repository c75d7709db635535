"""``llmscout explain TERM``: the vocabulary of model selection in a few plain sentences."""

from __future__ import annotations

import argparse
import dataclasses

from llmscout.cli import _output as out


def register(sub: argparse._SubParsersAction) -> None:
    from llmscout.cli import json_flag

    p = sub.add_parser("explain", help="explain a term: quantization, q4f16_1, KV cache, MoE, LoRA ...",
                       epilog="examples:\n  llmscout explain q4f16_1\n  llmscout explain 'kv cache'\n"
                              "  llmscout explain --list",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("term", nargs="*", help="the term (fuzzy: case, typos and aliases are fine)")
    p.add_argument("--list", action="store_true", help="list every term")
    json_flag(p)
    p.set_defaults(func=_explain)


def _explain(args: argparse.Namespace) -> int:
    from llmscout.recommend.glossary import explain_term, glossary_terms

    if args.list or not args.term:
        terms = glossary_terms()
        out.emit(args.json, terms, lambda con: con.print("\n".join(terms)))
        return 0
    entry = explain_term(" ".join(args.term))
    data = dataclasses.asdict(entry)

    def render(con) -> None:
        con.print(f"[bold]{entry.title}[/]\n")
        con.print(entry.text)
        if entry.related:
            con.print("\nsee also: " + ", ".join(entry.related))
        con.print(f"source: {entry.source}")

    out.emit(args.json, data, render)
    return 0
