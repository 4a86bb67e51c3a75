"""``contexta ledger publish``: write the Parquet copies of sealed segments that engines scan
(``<workspace>/ledger/published/``, see :mod:`ledger.publish`); ``--rebuild`` rewrites them all.
Added to the ``ledger`` command group."""

from __future__ import annotations

import argparse

from ledger.publish import PUBLISHED_DIR

from ..output import emit, emit_json
from .common import open_workspace

__all__ = ["register"]

#: the top-level commands ``register`` adds or extends (``contexta.cli.main`` runs only the
#: modules of the command it is given)
COMMANDS = ("ledger",)


def register(commands: argparse._SubParsersAction) -> None:
    group = commands.choices["ledger"]
    actions = next(a for a in group._actions if isinstance(a, argparse._SubParsersAction))
    parser = actions.add_parser(
        "publish",
        help=f"write Parquet copies of sealed segments for other engines (ledger/{PUBLISHED_DIR}/)",
    )
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="rewrite every copy from its segment, not only the missing ones",
    )
    parser.set_defaults(handler=_publish)


def _publish(args: argparse.Namespace) -> int:
    ctx = open_workspace(args)
    ctx.flush()
    ctx.list_projects()  # a damaged ledger is refused here, not published from
    root = ctx.maintenance.ledger_root
    report = ctx.maintenance.publish(rebuild=args.rebuild)
    if args.format == "json":
        emit_json({"folder": str(root / PUBLISHED_DIR), **report.to_dict()})
        return 0
    for name in report.written:
        emit(f"published {name}")
    emit(
        f"{len(report.written)} written, {report.current} already current, "
        f"{len(report.skipped)} not sealed; folder {root / PUBLISHED_DIR}"
    )
    return 0
