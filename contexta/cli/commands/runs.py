"""``contexta runs``: list runs."""

from __future__ import annotations

import argparse

from ..output import emit, emit_json, table
from .common import open_workspace

#: the top-level commands ``register`` adds or extends (``contexta.cli.main`` runs only the
#: modules of the command it is given)
COMMANDS = ("runs",)


def register(commands: argparse._SubParsersAction) -> None:
    runs = commands.add_parser("runs", help="list runs (1.0's order: oldest first)")
    runs.add_argument("--project", default=None, metavar="NAME", help="only this project's runs")
    runs.set_defaults(handler=_runs)


def _runs(args: argparse.Namespace) -> int:
    ctx = open_workspace(args)
    records = ctx.list_runs(args.project)
    quarantined = set(ctx.quarantined_runs()) if hasattr(ctx, "quarantined_runs") else set()
    if args.format == "json":
        emit_json(
            {"runs": [dict(r.to_dict(), quarantined=r.run_id in quarantined) for r in records]}
        )
        return 0
    if not records:
        emit("No runs.")
        return 0
    emit(
        table(
            [
                (
                    r.run_id,
                    r.project_name,
                    r.name,
                    r.status,
                    r.started_at,
                    r.ended_at or "",
                    "yes" if r.run_id in quarantined else "",
                )
                for r in records
            ],
            ("run_id", "project", "name", "status", "started_at", "ended_at", "quarantined"),
        )
    )
    return 0
