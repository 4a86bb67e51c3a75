"""``contexta projections rebuild|status|watch``."""

from __future__ import annotations

import argparse

from ..output import emit, emit_json, table
from .common import guard_os, open_workspace
from .watch import add_follow_options, follow_projections

#: the top-level commands ``register`` adds or extends (``contexta.cli.main`` runs only the
#: modules of the command it is given)
COMMANDS = ("projections",)


def register(commands: argparse._SubParsersAction) -> None:
    group = commands.add_parser("projections", help="rebuild or inspect the projections")
    sub = group.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    rebuild = sub.add_parser("rebuild", help="fold the whole ledger into fresh projections")
    rebuild.add_argument("--engine", choices=("builtin", "duckdb", "datafusion"), default="builtin")
    rebuild.set_defaults(handler=_rebuild)
    status = sub.add_parser("status", help="each projection's checkpoint against the ledger head")
    status.set_defaults(handler=_status)
    watch = sub.add_parser(
        "watch",
        help="keep the saved projections folded as the ledger grows (Ctrl-C stops)",
        description="On each wake (a file event on the ledger, or a 250 ms poll) fold every "
        "projection up to the head and save it, printing one line per save.",
    )
    watch.add_argument(
        "--interval",
        type=float,
        default=0.5,
        metavar="SECONDS",
        help="at most one save per this many seconds (default 0.5)",
    )
    add_follow_options(watch)
    watch.set_defaults(handler=follow_projections)


def _rebuild(args: argparse.Namespace) -> int:
    maintenance = open_workspace(args).maintenance
    with guard_os(
        "saving the rebuilt projections (the ledger is not touched)",
        maintenance.projections_root,
    ):
        stats = maintenance.rebuild(engine=args.engine)
    if args.format == "json":
        emit_json(
            {
                "events": stats.events,
                "batches": stats.batches,
                "seconds": round(stats.seconds, 6),
                "events_per_second": round(stats.events_per_second, 1),
                "projections": list(stats.projections),
            }
        )
    else:
        emit(
            f"Rebuilt {len(stats.projections)} projections: folded {stats.events} events "
            f"({stats.batches} batches) in {stats.seconds:.3f} s "
            f"({stats.events_per_second:,.0f} events/s)."
        )
    return 0


def _status(args: argparse.Namespace) -> int:
    rows = open_workspace(args).maintenance.status()
    if args.format == "json":
        emit_json(
            [
                {
                    "name": s.name,
                    "version": s.version,
                    "checkpoint": s.checkpoint,
                    "head": s.head,
                    "behind": s.behind,
                    "rows": s.rows,
                    "saved_checkpoint": s.saved_checkpoint,
                    "note": s.note,
                }
                for s in rows
            ]
        )
        return 0
    emit(
        table(
            [
                (
                    s.name,
                    s.version,
                    s.saved_checkpoint if s.saved_checkpoint is not None else "-",
                    s.head,
                    s.behind,
                    s.rows,
                    s.note,
                )
                for s in rows
            ],
            ("projection", "version", "saved_checkpoint", "ledger_head", "behind", "rows", "state"),
        )
    )
    return 0
