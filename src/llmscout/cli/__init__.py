"""``llmscout`` command line: parse, call one library function, render. Nothing else lives here.

Each command module exposes ``register(subparsers)``; modules import the library lazily inside
their handlers so that ``llmscout --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Command modules, in --help order.
_COMMANDS = ("models", "hw", "estimate", "recommend", "trial", "report", "serve", "explain")

_EPILOG = """examples:
  llmscout models list --max-params 4B --tuning instruct
  llmscout models show Qwen/Qwen2.5-7B-Instruct
  llmscout models parse Llama-3.2-3B-Instruct-Q4_K_M.gguf
  llmscout hw
  llmscout estimate meta-llama/Llama-3.1-8B-Instruct --hardware "RTX 4060" --context 8k
  llmscout recommend --task code --hardware "RTX 4060"
  llmscout trial sample --models packaged --shots 0,1,3
  llmscout run                              (the main job, offline)
  llmscout serve                            (the web app on 127.0.0.1)

Every command takes --json for stable, documented output (docs/json.md).
Environment: LLMSCOUT_HOME (state folder), LLMSCOUT_DEBUG=1 (tracebacks)."""


def build_parser() -> argparse.ArgumentParser:
    from llmscout import __version__

    parser = argparse.ArgumentParser(
        prog="llmscout",
        description="Which LLM should I use for my task, on my hardware? Estimate, then verify.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"llmscout {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMANDS:
        importlib.import_module(f"llmscout.cli.{name}").register(sub)
    return parser


def json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print stable JSON (docs/json.md)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from llmscout.cli._errors import run_guarded

    return run_guarded(args.func, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
