"""``contexta import mlflow --tracking-uri URI [--experiment NAME ...]``: an MLflow tracking
store's experiments, runs, params, tags, metric histories and artifacts into the workspace
(see :mod:`contexta.importers.mlflow`). Importing again adds nothing."""

from __future__ import annotations

import argparse

from ...progress import Progress
from ..output import emit, emit_json
from .common import open_workspace

__all__ = ["register"]

#: the top-level commands ``register`` adds or extends (``contexta.cli.main`` runs only the
#: modules of the command it is given)
COMMANDS = ("import",)


def register(commands: argparse._SubParsersAction) -> None:
    group = commands.add_parser("import", help="bring history in from another tracking tool")
    sub = group.add_subparsers(dest="source", metavar="SOURCE")
    sub.required = True
    mlflow = sub.add_parser("mlflow", help="an MLflow tracking store (SQLite or file store)")
    mlflow.add_argument(
        "--tracking-uri",
        required=True,
        metavar="URI",
        help="e.g. sqlite:///mlflow.db or file:///path/to/mlruns",
    )
    mlflow.add_argument(
        "--experiment",
        action="append",
        dest="experiments",
        default=None,
        metavar="NAME",
        help="only this experiment (repeatable; default: all)",
    )
    mlflow.set_defaults(handler=_import_mlflow, creates_workspace=True)  # an import may start one


def _import_mlflow(args: argparse.Namespace) -> int:
    from ...importers.mlflow import import_mlflow

    ctx = open_workspace(args)
    with Progress("import mlflow", unit="runs") as bar:

        def total(n: int) -> None:
            bar.total = n

        report = import_mlflow(
            ctx, args.tracking_uri, args.experiments, advance=bar.advance, on_total=total
        )
    ctx.close()
    if args.format == "json":
        emit_json(report.to_dict())
        return 0
    emit(
        f"{report.experiments} experiment(s), {report.runs} run(s) "
        f"({report.runs_added} new, {report.runs_updated} updated), "
        f"{report.metric_points} metric point(s) ({report.metric_points_added} new, "
        f"{report.metric_points_nonfinite} not finite, stored as such), {report.artifacts} artifact(s) "
        f"({report.artifacts_added} new, {report.artifacts_copied} copied)."
    )
    for note in report.notes:
        emit(f"note: {note}")
    return 0
