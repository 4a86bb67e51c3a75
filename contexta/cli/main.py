"""Entry point: global options and the command tree."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from functools import cache

from ledger import LedgerError

from ..common.errors import ContextaError, from_os_error
from .commands import REGISTRY

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="contexta",
        description="Local-first ML observability on an event-sourced ledger.",
    )
    parser.add_argument(
        "--workspace",
        default=None,
        metavar="PATH",
        help="workspace root (default: $CONTEXTA_WORKSPACE_ROOT_PATH or .contexta)",
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )
    parser.add_argument("--version", action="version", version=f"contexta {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for register in REGISTRY:
        register(commands)
    return parser


def _version() -> str:
    from .. import __version__

    return __version__


_GLOBAL = ("--workspace", "--format")


def _hoist_globals(argv: Sequence[str]) -> list[str]:
    """Let ``--workspace``/``--format`` appear anywhere, e.g. after the subcommand."""
    front: list[str] = []
    rest: list[str] = []
    items = list(argv)
    i = 0
    while i < len(items):
        item = items[i]
        if item == "--":
            rest.extend(items[i:])
            break
        name = item.split("=", 1)[0]
        if name in _GLOBAL:
            if "=" in item:
                front.append(item)
            elif i + 1 < len(items):
                front.extend(items[i : i + 2])
                i += 1
            else:
                front.append(item)
        else:
            rest.append(item)
        i += 1
    return front + rest


@cache
def _parser() -> argparse.ArgumentParser:
    """The parser ``main`` uses, built once per process (building it costs about 0.1 s)."""
    return build_parser()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(_hoist_globals(sys.argv[1:] if argv is None else argv))
    try:
        return int(args.handler(args) or 0)
    except ContextaError as exc:
        if exc.code == "query_run_not_found":  # 1.0's wording names neither the id nor a fix
            from .commands.common import explain_run_not_found

            exc = explain_run_not_found(args.workspace, exc, getattr(args, "_ctx", None))
        return _report(args, exc)
    except LedgerError as exc:  # the ledger's own typed errors, where a command reaches it
        return _report(
            args, ContextaError(exc.message, code=exc.code, details=exc.details, cause=exc)
        )
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # last line: the command did not translate it itself
        return _report(args, from_os_error(exc, f"running `{_command(args)}`"))
    except RecursionError as exc:
        return _report(
            args,
            ContextaError(
                f"`{_command(args)}` gave up: its input is nested too deeply ({exc}).",
                code="input_too_deep",
                cause=exc,
            ),
        )
    except Exception as exc:  # a defect: say so in one line, never a traceback
        return _report(
            args,
            ContextaError(
                f"`{_command(args)}` failed unexpectedly: {type(exc).__name__}: {exc}. This is a "
                "defect of contexta; please report it with the command that caused it.",
                code="internal_error",
                cause=exc,
            ),
            status=70,
        )


def _command(args: argparse.Namespace) -> str:
    names = [args.command] + [
        value
        for key, value in vars(args).items()
        if key != "command" and key.endswith(("_command", "action")) and isinstance(value, str)
    ]
    return "contexta " + " ".join(names)


def _report(args: argparse.Namespace, exc: ContextaError, *, status: int = 2) -> int:
    """``error [code]: message`` on stderr (or the error as JSON with ``--format json``)."""
    if getattr(args, "format", "text") == "json":
        from .output import emit_json

        emit_json({"error": exc.to_dict()})
    else:
        from .output import emit_error

        emit_error(f"error [{exc.code}]: {exc.message}")
    return status
