"""Shared helpers of the ``compat_*`` commands (Contexta 1.0's command tree).

Each 1.0 command prints 1.0's text lines, or with ``--format json`` the result object as JSON;
``--output PATH`` (where 1.0 had it) writes the rendering to a file instead.
"""

from __future__ import annotations

import argparse
import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ...common.errors import ContextaError, ValidationError
from ...facade import Contexta
from ..output import emit, emit_json, escape
from .common import guard_os, open_workspace

__all__ = [
    "CommandUnavailable",
    "add_run_list_options",
    "emit_result",
    "facade",
    "invalid",
    "require",
    "run_query",
    "write_csv",
]


class CommandUnavailable(ContextaError):
    """The facade method behind a command is not available in this build."""

    default_code = "command_unavailable"


def facade(args: argparse.Namespace) -> Contexta:
    """The workspace named by ``--workspace`` (opened once per command)."""
    ctx = getattr(args, "_ctx", None)
    if ctx is None:
        ctx = open_workspace(args)
        args._ctx = ctx
    return ctx


def require(ctx: Any, name: str) -> Any:
    """``ctx.<name>`` or a clear ``command_unavailable`` error."""
    method = getattr(ctx, name, None)
    if method is None:
        raise CommandUnavailable(
            f"This command needs Contexta.{name}(), which this build does not provide.",
            details={"method": name},
        )
    return method


def invalid(message: str, **details: Any) -> ValidationError:
    return ValidationError(message, code="cli_invalid_arguments", details=details)


def add_run_list_options(parser: argparse.ArgumentParser, *, project: bool = True) -> None:
    """1.0's run-list filters (``runs``, ``run list``, ``trend``, ``aggregate``, exports)."""
    if project:
        parser.add_argument("--project", default=None, metavar="NAME", help="only this project")
    parser.add_argument("--status", default=None, help="only runs with this status")
    parser.add_argument("--after", default=None, metavar="T", help="started at or after T")
    parser.add_argument("--before", default=None, metavar="T", help="started at or before T")
    parser.add_argument("--sort", choices=("started_at", "ended_at", "name"), default="started_at")
    parser.add_argument("--desc", action="store_true", help="newest (or last) first")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--offset", type=int, default=0)


def run_query(args: argparse.Namespace, *, allow_project: bool = True) -> Any:
    """1.0's rule: None when every run-list option is at its default, else a RunListQuery."""
    project = getattr(args, "project", None) if allow_project else None
    status = getattr(args, "status", None)
    after, before = getattr(args, "after", None), getattr(args, "before", None)
    limit, offset = getattr(args, "limit", None), getattr(args, "offset", 0)
    sort_by, desc = getattr(args, "sort", "started_at"), bool(getattr(args, "desc", False))
    if (
        all(v is None for v in (project, status, after, before, limit))
        and offset == 0
        and sort_by == "started_at"
        and not desc
    ):
        return None
    from ...interpretation.run_list import RunListQuery, TimeRange

    window = None if after is None and before is None else TimeRange(after, before)
    return RunListQuery(
        project_name=project,
        status=status,
        time_range=window,
        limit=limit,
        offset=offset,
        sort_by=sort_by,
        sort_desc=desc,
    )


def emit_result(
    args: argparse.Namespace, payload: Any, text: str, output: str | None = None
) -> int:
    """JSON of ``payload`` with ``--format json``, else ``text``; to ``output`` when given."""
    if args.format == "json":
        if output:
            import json

            from ..output import _default

            rendered = json.dumps(payload, default=_default, indent=2) + "\n"
        else:
            emit_json(payload)
            return 0
    else:
        rendered = text if text.endswith("\n") else text + "\n"
    if output:
        path = Path(output).expanduser().resolve()
        with guard_os("writing the output", path):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(rendered, encoding="utf-8")
        if args.format == "text":
            emit(f"Wrote output to {escape(path)}")
        return 0
    emit(rendered)
    return 0


def write_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if cell is None else cell for cell in row])
    return buffer.getvalue()
