"""Entry point: global options and the command tree."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..common.errors import ContextaError
from .commands import REGISTRY

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="contexta",
        description="Local-first ML observability on an event-sourced ledger.",
    )
    parser.add_argument(
        "--workspace", default=None, metavar="PATH",
        help="workspace root (default: $CONTEXTA_WORKSPACE_ROOT_PATH or .contexta)",
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for register in REGISTRY:
        register(commands)
    return parser


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_hoist_globals(sys.argv[1:] if argv is None else argv))
    try:
        return int(args.handler(args) or 0)
    except ContextaError as exc:
        if args.format == "json":
            from .output import emit_json

            emit_json({"error": exc.to_dict()})
        else:
            sys.stderr.write(f"error [{exc.code}]: {exc.message}\n")
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
