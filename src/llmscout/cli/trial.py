"""``llmscout trial``, ``llmscout runs list|show`` and ``llmscout run`` (the main job)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from llmscout.cli import _output as out

_TRIAL_EXAMPLES = """examples:
  llmscout trial sample --models packaged               (the bundled task on Gemma 3 270M)
  llmscout trial task.yaml --models ./small.gguf,ollama:llama3.2 --shots 0,1,3
  llmscout trial task.yaml --max-examples 30 --report report.html
  llmscout trial --resume 3f2a9c1b0d4e                  (continue a stopped or killed run)
  llmscout trial --resume 3f2a9c1b0d4e --retry-errors   (and rerun the calls that failed)

Models: 'packaged' (Gemma 3 270M from PyPI), a .gguf file, a model folder, ENDPOINT:MODEL
(ollama, lm-studio, vllm, llama-cpp-server, openai, ... or $LLMSCOUT_HOME/endpoints.yaml),
or a catalog id. They are tried smallest first; the first that meets the bar wins."""

_RUNS_EXAMPLES = """examples:
  llmscout runs list
  llmscout runs show 3f2a9c1b0d4e --json"""


def register(sub: argparse._SubParsersAction) -> None:
    from llmscout.cli import json_flag

    p = sub.add_parser("trial", help="verify on your examples: smallest model that meets the bar",
                       epilog=_TRIAL_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("task", nargs="?", help="task file (YAML/JSON), or 'sample' for the bundled one")
    p.add_argument("--models", type=_names, help="comma-separated models instead of the task's")
    p.add_argument("--shots", type=_ints, help="comma-separated shot counts, e.g. 0,1,3")
    p.add_argument("--max-examples", type=int, help="score a seeded sample of at most N examples")
    p.add_argument("--resume", metavar="RUN", help="continue a stored run (see 'llmscout runs list')")
    p.add_argument("--retry-errors", action="store_true", help="with --resume: rerun failed calls")
    p.add_argument("--volume", type=int, default=1000, help="requests per month for the cost "
                   "(default 1000)")
    p.add_argument("--judge", metavar="MODEL", help="the model that scores a 'judge' metric")
    p.add_argument("--no-cache", action="store_true", help="rerun deterministic calls even when "
                   "an earlier run answered the same prompt")
    p.add_argument("--report", metavar="FILE", help="also write an HTML report")
    json_flag(p)
    p.set_defaults(func=_trial)

    runs = sub.add_parser("runs", help="stored runs: list them, show one",
                          epilog=_RUNS_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    rsub = runs.add_subparsers(dest="runs_command", metavar="COMMAND", required=True)
    ls = rsub.add_parser("list", help="runs, newest first")
    ls.add_argument("--limit", type=int, default=50)
    json_flag(ls)
    ls.set_defaults(func=_runs_list)
    show = rsub.add_parser("show", help="one run: verdict, rungs, models")
    show.add_argument("run", metavar="RUN")
    json_flag(show)
    show.set_defaults(func=_runs_show)

    job = sub.add_parser("run", help="the main job: this machine, the sample task, Gemma 3 270M",
                         epilog="examples:\n  llmscout run\n  llmscout run --report report.html",
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    job.add_argument("--max-examples", type=int, help="score at most N of the sample's examples")
    job.add_argument("--report", metavar="FILE", help="where to write the HTML report")
    json_flag(job)
    job.set_defaults(func=_run_job)


def _names(text: str) -> list[str]:
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give at least one model, e.g. packaged,./model.gguf")
    return names


def _ints(text: str) -> list[int]:
    try:
        return [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected whole numbers, e.g. 0,1,3") from None


# -- progress ------------------------------------------------------------------------------------


class _Bars:
    """Two rich progress bars on stderr (models, examples of the current rung); plain lines
    when stderr is not a terminal."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()
        self.con = out.console(stderr=True)
        self.bars: Any = None
        self.models = self.examples = None

    def __call__(self, ev: Any) -> None:
        if ev.kind == "start":
            self._say(f"{ev.message}: {ev.models_total} model(s), {ev.examples} example(s)")
            if self.live:
                self._start(ev)
        elif ev.kind == "load" and not ev.message.startswith("loading"):
            self._say(ev.message)
        elif ev.kind == "load" and self.bars is not None:
            self.bars.update(self.models, completed=ev.models_done, description=f"model {ev.model}")
        elif ev.kind == "call" and self.bars is not None:
            self.bars.update(self.examples, completed=ev.n, description=ev.rung.label())
        elif ev.kind == "rung":
            self._say(ev.message)
        elif ev.kind == "done":
            if self.bars is not None:
                self.bars.update(self.models, completed=ev.models_total)
            self.close()

    def _start(self, ev: Any) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.bars = Progress(TextColumn("{task.description}", markup=False), BarColumn(),
                             MofNCompleteColumn(), TimeElapsedColumn(), console=self.con)
        self.bars.start()
        self.models = self.bars.add_task("models", total=ev.models_total)
        self.examples = self.bars.add_task("examples", total=ev.examples)

    def _say(self, message: str) -> None:
        self.con.print(message, markup=False, highlight=False)

    def close(self) -> None:
        if self.bars is not None:
            self.bars.stop()
            self.bars = None


# -- commands ------------------------------------------------------------------------------------


def _trial(args: argparse.Namespace) -> int:
    from llmscout.errors import InvalidValueError
    from llmscout.trial.runner import run_trial

    if args.task is None and args.resume is None:
        raise InvalidValueError("task", None, "a task file or 'sample' (or --resume RUN)")
    bars = _Bars()
    try:
        result = run_trial(args.task, models=args.models, shots=args.shots,
                           max_examples=args.max_examples, resume=args.resume,
                           retry_errors=args.retry_errors, progress=bars, judge=args.judge,
                           volume=args.volume, cache=not args.no_cache)
    finally:
        bars.close()
    data = result.to_dict()
    if args.report:
        data["report"] = _write_report(result.run_id, args.report)
    out.emit(args.json, data, lambda con: render_result(con, data))
    return 0


def _write_report(run_id: str, path: str) -> str | None:
    """Write the HTML (and Markdown) report of a run."""
    from llmscout.report import write_report

    write_report(run_id, path)
    return str(path)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


def _num(x: float | None, fmt: str = ".1f") -> str:
    return "-" if x is None else format(x, fmt)


def render_result(con: Any, d: dict[str, Any]) -> None:
    """A trial result for people: verdict, rungs, models, advice, cost."""
    v = d["verdict"]
    task = d["task"]
    con.print(f"task {task['name']}: {task['examples']} examples, bar {_pct(task['bar'])} at "
              f"{_pct(task['confidence'])} confidence", markup=False)
    rows = [[r["model"], r["shots"], r["system_prompt_idx"], f"{r['passes']}/{r['n']}",
             _pct(r["pass_rate"]), f"{_pct(r['interval'][0])}-{_pct(r['interval'][1])}",
             {"continue": "not reached" if not r["n"] else "undecided"}.get(r["decision"],
                                                                             r["decision"])]
            for r in d["ladder"]["rungs"]]
    if rows:
        con.print(out.table("rungs (smallest first)", ["model", "shots", "prompt", "passed",
                                                       "rate", "interval", "decision"], rows))
    con.print(out.table("models", ["model", "load", "decode tok/s (est.)", "TTFT s (est.)",
                                   "peak memory", "energy/call"], [_model_row(m) for m in d["models"]]))
    con.print(("verdict: " + v["message"]), markup=False)
    for a in v.get("advice") or []:
        con.print(f"  - {a['message']}", markup=False)
    c = d.get("cost_at_volume")
    if c and c.get("available"):
        basis = f", energy {c['energy_basis']}" if c.get("energy_basis") else ""
        con.print(f"cost: ${c['per_month']:.4f}/month at {c['requests_per_month']} requests "
                  f"({c['kind']}{basis})", markup=False)
    con.print(f"run {d['run_id']} - details: llmscout runs show {d['run_id']}", markup=False)


def _model_row(m: dict[str, Any]) -> list[Any]:
    load, meas, pred = m.get("load") or {}, m["measured"], m.get("predicted") or {}
    loaded = f"{_num(load.get('load_s'))} s" if load.get("ok") else (load.get("error") or "-")
    energy = meas.get("energy_j")
    return [m["model"], loaded,
            f"{_num(meas.get('decode_tokens_per_s'))} ({_num(pred.get('decode_tokens_per_s'))})",
            f"{_num(meas.get('ttft_s'), '.2f')} ({_num(pred.get('ttft_s'), '.2f')})",
            out.human_bytes(meas.get("peak_memory_bytes")),
            "-" if energy is None else f"{energy:.2f} J ({meas.get('energy_basis')})"]


def _runs_list(args: argparse.Namespace) -> int:
    from llmscout.store import Store

    with Store() as store:
        runs = store.list_runs(limit=args.limit)
    data = [_run_summary(r) for r in runs]

    def render(con: Any) -> None:
        if not data:
            con.print("no runs yet: try 'llmscout trial sample --models packaged'")
            return
        con.print(out.table("runs", ["id", "kind", "status", "created", "task", "verdict"],
                            [[r["id"], r["kind"], r["status"], r["created_at"][:19], r["task"],
                              r["verdict"]] for r in data]))

    out.emit(args.json, data, render)
    return 0


def _run_summary(run: Any) -> dict[str, Any]:
    result = run.result if isinstance(run.result, dict) else {}
    verdict = result["verdict"] if isinstance(result.get("verdict"), dict) else {}
    return {"id": run.id, "kind": run.kind, "status": run.status, "created_at": run.created_at,
            "updated_at": run.updated_at, "task": run.config.get("task_name"),
            "winner": verdict.get("winner"), "verdict": verdict.get("message", "")}


def _runs_show(args: argparse.Namespace) -> int:
    from llmscout.store import Store

    with Store() as store:
        run = store.get_run(args.run)
        calls = store.calls_for(run.id)
        events = store.events_since(run.id)
    if run.result and run.kind == "trial":
        data = run.result
        out.emit(args.json, data, lambda con: render_result(con, data))
        return 0
    if run.result:  # another kind of run: its stored JSON as it is
        out.emit(True, run.result)
        return 0
    data = {**_run_summary(run), "calls": len(calls),
            "failed_calls": sum(c.result.error is not None for c in calls),
            "events": [{"at": e.at, "kind": e.kind, "message": e.message} for e in events]}

    def render(con: Any) -> None:
        con.print(f"run {run.id} ({run.kind}) is {run.status}: {data['calls']} calls stored "
                  f"({data['failed_calls']} failed)", markup=False)
        for e in data["events"][-10:]:
            con.print(f"  {e['at'][:19]} {e['kind']}: {e['message']}", markup=False)
        if run.kind == "trial" and run.status != "done":
            con.print(f"resume with: llmscout trial --resume {run.id}", markup=False)

    out.emit(args.json, data, render)
    return 0


def _run_job(args: argparse.Namespace) -> int:
    from llmscout.main_job import run_main_job

    bars = _Bars()
    try:
        data = run_main_job(report=args.report, max_examples=args.max_examples, progress=bars,
                            say=None if args.json else _say, print_verdict=False)
    finally:
        bars.close()
    out.emit(args.json, data, lambda con: render_result(con, data["trial"]))
    return 0


def _say(text: str) -> None:
    out.console().print(text, markup=False, highlight=False)


def main(argv: Sequence[str] | None = None) -> int:
    """These commands on their own (``python -m llmscout.cli.trial trial sample ...``)."""
    from llmscout.cli._errors import run_guarded

    parser = argparse.ArgumentParser(prog="llmscout")
    register(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))
    args = parser.parse_args(argv)
    return run_guarded(args.func, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
