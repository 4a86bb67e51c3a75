"""``contexta serve http`` (Contexta 1.0's embedded server) and ``contexta ui`` (the same
server, opening the web UI in a browser)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ...common.errors import ContextaError
from ..output import emit_json
from .common import open_workspace

__all__ = ["register"]

#: the top-level commands ``register`` adds or extends (``contexta.cli.main`` runs only the
#: modules of the command it is given)
COMMANDS = ("serve", "ui")


class ServeError(ContextaError):
    """The server could not start (the address is taken or cannot be bound)."""

    default_code = "serve_bind_failed"


def register(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="serve the workspace over HTTP")
    sub = serve.add_subparsers(dest="serve_command", metavar="SURFACE")
    sub.required = True
    http = sub.add_parser(
        "http",
        help="JSON routes and the web UI (Ctrl-C stops)",
        description="Serve 1.0's JSON routes, the web UI under /ui and its "
        "API. Binds 127.0.0.1 unless --host says otherwise.",
    )
    _options(http)
    http.set_defaults(handler=_serve_http, open_browser=False)
    ui = commands.add_parser(
        "ui",
        help="open the web UI in a browser (Ctrl-C stops)",
        description="Start the HTTP server and open its page.",
    )
    _options(ui)
    ui.add_argument(
        "--no-browser", dest="open_browser", action="store_false", help="print the address only"
    )
    ui.set_defaults(handler=_serve_http, open_browser=True)


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1; others are reachable by other machines)",
    )
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 = any)")
    parser.add_argument(
        "--read-only", action="store_true", help="refuse every write (tag, quarantine, release)"
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing at start")


def _serve_http(args: argparse.Namespace) -> int:
    from ...surfaces.http import make_server
    from ...surfaces.http.server import is_loopback

    ctx = open_workspace(args)
    # one read before serving: a damaged workspace is refused now, not on every request, and
    # the first page finds the projections folded
    ctx.list_projects()
    try:
        server = make_server(ctx, host=args.host, port=args.port, read_only=args.read_only)
    except OSError as exc:
        raise ServeError(
            f"Cannot serve on {args.host}:{args.port}: {exc.strerror or exc}.",
            details={"host": args.host, "port": args.port},
        ) from exc
    page = f"{server.url}/ui"
    if not is_loopback(args.host):
        sys.stderr.write(
            f"warning: bound to {args.host}: anyone who can reach this machine can "
            "read this workspace. Use --host 127.0.0.1 to keep it local.\n"
        )
    _announce(args, server, page, ctx)
    if args.open_browser:
        import webbrowser

        webbrowser.open(f"{page}#token={server.token}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        ctx.close()
    return 0


def _announce(args: argparse.Namespace, server: Any, page: str, ctx: Any) -> None:
    if args.quiet:
        return
    host, port = server.server_address[:2]
    if args.format == "json":
        emit_json(
            {
                "host": host,
                "port": port,
                "workspace": ctx.workspace,
                "url": page,
                "token": server.token,
                "read_only": args.read_only,
            }
        )
    else:
        mode = " (read only)" if args.read_only else ""
        print(f"Serving HTTP on {server.url} (workspace={ctx.workspace}){mode}")
        print(f"Web UI: {page}#token={server.token}")
        if not args.read_only:
            print(f"Write token: {server.token}")
        print("Ctrl-C stops.")
    sys.stdout.flush()
