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


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command tree, or with ``only`` the top-level command of that name alone,
    built by the command modules that add or extend it: the same parser for that command's
    arguments, help and errors, without making an ``ArgumentParser`` for each of the other
    70-odd commands (25 ms of every CLI call)."""
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
    for module in REGISTRY:
        if only is None or only in module.COMMANDS:
            module.register(commands)
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
def _parser(only: str | None) -> argparse.ArgumentParser:
    """The parser ``main`` uses for command ``only`` (None: every command), built once per
    process."""
    return build_parser(only)


_COMMANDS = frozenset(name for module in REGISTRY for name in module.COMMANDS)


def _command_of(argv: Sequence[str]) -> str | None:
    """The top-level command of ``argv`` (global options hoisted to its front), or None when
    its first word after them is an option (``--help``, ``--version``, an abbreviation) or no
    known command: the whole tree then answers, as it prints every command."""
    i = 0
    while i < len(argv):
        item = argv[i]
        if item in _GLOBAL:
            i += 2
        elif item.split("=", 1)[0] in _GLOBAL:
            i += 1
        else:
            return item if item in _COMMANDS else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    hoisted = _hoist_globals(sys.argv[1:] if argv is None else argv)
    args = _parser(_command_of(hoisted)).parse_args(hoisted)
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
