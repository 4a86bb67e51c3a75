"""1.0's run commands: ``runs`` (its filters), ``run list|show|compare|compare-many|diagnose``,
``compare``, ``compare-multi``, ``diagnostics``."""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from ..output import escape, table
from .answers import compare_lines, compare_many_lines, show_lines
from .common import require_metric
from .compat_support import add_run_list_options, emit_result, facade, require, run_query

__all__ = ["register"]

#: the top-level commands ``register`` adds or extends (``contexta.cli.main`` runs only the
#: modules of the command it is given)
COMMANDS = ("runs", "run", "compare", "compare-multi", "diagnostics")

_SEVERITY = {"info": 0, "warning": 1, "error": 2}


def register(commands: argparse._SubParsersAction) -> None:
    runs = commands.choices.get("runs")
    if runs is not None:  # ``runs`` exists (runs.py): add 1.0's filters, keep its plain form
        add_run_list_options(runs, project=False)
        runs.set_defaults(handler=_runs_filtered, _plain_handler=runs.get_default("handler"))
    else:
        runs = commands.add_parser("runs", help="list runs")
        add_run_list_options(runs)
        runs.set_defaults(handler=_runs_filtered, _plain_handler=None)

    run = commands.add_parser(
        "run", help="run-oriented commands (list, show, compare, compare-many, diagnose)"
    )
    sub = run.add_subparsers(dest="run_command", metavar="ACTION")
    sub.required = True
    listing = sub.add_parser("list", help="list runs (1.0's filters)")
    add_run_list_options(listing)
    listing.set_defaults(handler=_run_list)
    show = sub.add_parser("show", help="show one run's snapshot")
    show.add_argument("run_id")
    show.set_defaults(handler=_run_show)
    _compare_parser(sub.add_parser("compare", help="compare two runs"))
    _compare_many_parser(sub.add_parser("compare-many", help="compare several runs"))
    _diagnose_parser(sub.add_parser("diagnose", help="diagnose one run"))

    _compare_parser(commands.add_parser("compare", help="compare two runs"))
    _compare_many_parser(commands.add_parser("compare-multi", help="compare several runs"))
    _diagnose_parser(commands.add_parser("diagnostics", help="diagnose one run"))


def _metric_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--metric",
        action="append",
        dest="metrics",
        default=None,
        metavar="KEY",
        help="only this metric (repeatable); an unknown key is an error listing the known ones",
    )


def _compare_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("left_run_id")
    parser.add_argument("right_run_id")
    _metric_option(parser)
    parser.set_defaults(handler=_compare)


def _compare_many_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_ids", nargs="+")
    _metric_option(parser)
    parser.set_defaults(handler=_compare_many)


def _only_metrics(ctx: Any, args: argparse.Namespace, run_ids: Any) -> set[str] | None:
    """The keys of ``--metric`` (None: every key), each checked to be recorded in the runs."""
    if not args.metrics:
        return None
    refs = [ctx.query_service.resolve_run(r) for r in run_ids]
    for key in args.metrics:
        require_metric(
            ctx.query_service, key, None, run_refs=refs, any_stage=True, scope="the compared runs"
        )
    return set(args.metrics)


def _diagnose_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_id")
    parser.add_argument(
        "--fail-on",
        choices=("info", "warning", "error"),
        default=None,
        help="exit 1 when an issue of this severity or worse is found",
    )
    parser.set_defaults(handler=_diagnose)


def _lines(runs: Any) -> str:
    lines = ["Runs"]
    lines += [
        f"{escape(r.run_id)}  {escape(r.status)}  {escape(r.started_at)}  {escape(r.name)}"
        for r in runs
    ] or ["(empty)"]
    return "\n".join(lines)


def _runs_filtered(args: argparse.Namespace) -> int:
    plain = getattr(args, "_plain_handler", None)
    if plain is not None and run_query(args, allow_project=False) is None:
        return plain(args)  # only --project (or nothing): runs.py's listing
    query = run_query(args)
    ctx = facade(args)
    records = ctx.list_runs(None, query=query)
    quarantined = set(ctx.quarantined_runs()) if hasattr(ctx, "quarantined_runs") else set()
    if args.format == "json":
        return emit_result(
            args,
            {"runs": [dict(r.to_dict(), quarantined=r.run_id in quarantined) for r in records]},
            "",
        )
    if not records:
        return emit_result(args, None, "No runs.")
    return emit_result(
        args,
        None,
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
        ),
    )


def _run_list(args: argparse.Namespace) -> int:
    runs = facade(args).list_runs(None, query=run_query(args))
    return emit_result(args, {"runs": runs}, _lines(runs))


def _run_show(args: argparse.Namespace) -> int:
    ctx = facade(args)
    snapshot = ctx.get_run_snapshot(args.run_id)
    if args.format == "json":
        return emit_result(args, snapshot, "")
    quarantine = ctx.query_service.quarantine_state().get(snapshot.run.run_id)
    return emit_result(args, snapshot, "\n".join(show_lines(snapshot, quarantine)))


def _compare(args: argparse.Namespace) -> int:
    ctx = facade(args)
    comparison = ctx.compare_runs(args.left_run_id, args.right_run_id)
    keys = _only_metrics(ctx, args, (args.left_run_id, args.right_run_id))
    if keys is not None:
        comparison = replace(
            comparison,
            stage_comparisons=tuple(
                replace(s, metric_deltas=tuple(d for d in s.metric_deltas if d.metric_key in keys))
                for s in comparison.stage_comparisons
            ),
        )
    if args.format == "json":
        return emit_result(args, comparison, "")
    lines = [
        f"Compare: {escape(comparison.left_run_id)} vs {escape(comparison.right_run_id)}",
        escape(comparison.summary),
    ]
    lines += [
        f"[{escape(s.stage_name)}] left={escape(s.left_status or '-')} right={escape(s.right_status or '-')} "
        f"deltas={len(s.metric_deltas)}"
        for s in comparison.stage_comparisons
    ]
    lines += compare_lines(
        comparison,
        ctx.get_run_snapshot(comparison.left_run_id),
        ctx.get_run_snapshot(comparison.right_run_id),
    )
    return emit_result(args, comparison, "\n".join(lines))


def _compare_many(args: argparse.Namespace) -> int:
    ctx = facade(args)
    comparison = ctx.compare_multiple_runs(args.run_ids)
    keys = _only_metrics(ctx, args, args.run_ids)
    if keys is not None:
        comparison = replace(
            comparison,
            metric_table=tuple(r for r in comparison.metric_table if r.metric_key in keys),
        )
    lines = [
        f"Compare many: {', '.join(escape(r) for r in comparison.run_ids)}",
        escape(comparison.summary),
    ]
    for row in comparison.metric_table:
        values = ", ".join(escape(v) for v in row.values)
        lines.append(
            f"{escape(row.stage_name or 'run')} | {escape(row.metric_key)} | {values} | "
            f"best={escape(row.best_run_id or '-')}"
        )
    lines += compare_many_lines(comparison)
    return emit_result(args, comparison, "\n".join(lines))


def _diagnose(args: argparse.Namespace) -> int:
    result = require(facade(args), "diagnose_run")(args.run_id)
    lines = [f"Diagnostics: {escape(args.run_id)}", f"Issues: {len(result.issues)}"]
    lines += [
        f"{escape(i.severity)}: {escape(i.code)} | {escape(i.summary)} | {escape(i.subject_ref)}"
        for i in result.issues
    ]
    emit_result(args, result, "\n".join(lines))
    if args.fail_on is None:
        return 0
    threshold = _SEVERITY[args.fail_on]
    return 1 if any(_SEVERITY.get(i.severity, -1) >= threshold for i in result.issues) else 0
