"""``llmscout serve``: the local web app (FastAPI + uvicorn), on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import argparse
import ipaddress

from llmscout.errors import InvalidValueError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765

_EXAMPLES = """examples:
  llmscout serve                                   http://127.0.0.1:8765
  llmscout serve --port 9000
  llmscout serve --host 0.0.0.0 --allow-remote --token "$(openssl rand -hex 16)"
      (then open http://HOST:PORT/login?token=TOKEN once, or send 'Authorization: Bearer TOKEN')"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="the web app: pick hardware, rank models, run trials, see reports",
                       epilog=_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a non-loopback --host (needs --token)")
    p.add_argument("--token", help="secret every request must carry (Authorization: Bearer TOKEN)")
    p.set_defaults(func=_serve)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and 'localhost'."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_bind(host: str, port: int, allow_remote: bool, token: str | None) -> None:
    """Refuse settings that would expose the app without protection (one-line errors)."""
    if not 0 < port < 65536:
        raise InvalidValueError("--port", port, "a port number from 1 to 65535")
    if token is not None and len(token.strip()) < 8:
        raise InvalidValueError("--token", "***", "a secret of at least 8 characters")
    if is_loopback(host):
        return
    if not allow_remote or not token:
        missing = " and ".join(x for x, ok in (("--allow-remote", allow_remote), ("--token TOKEN", token))
                               if not ok)
        raise InvalidValueError(
            "--host", host, f"a loopback address (127.0.0.1, ::1, localhost); listening on {host} "
            f"makes the app reachable from other machines, so it needs {missing}")


def _serve(args: argparse.Namespace) -> int:
    check_bind(args.host, args.port, args.allow_remote, args.token)
    try:
        import uvicorn
    except ImportError:
        from llmscout.errors import MissingDependencyError

        raise MissingDependencyError("llmscout serve", "web", "fastapi, uvicorn") from None
    from llmscout.web import create_app

    hosts = None if not is_loopback(args.host) else ["127.0.0.1", "localhost", "::1"]
    app = create_app(token=args.token, allowed_hosts=hosts)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"llmscout web app on http://{shown}:{args.port}/  (Ctrl-C to stop)")
    if args.token:
        print("  every request needs the token: open /login?token=TOKEN once in the browser")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
