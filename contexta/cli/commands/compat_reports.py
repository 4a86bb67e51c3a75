"""1.0's report commands: ``report snapshot|compare``, ``export html|csv``, ``provenance
audit|diff``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..output import escape
from . import export_cmd
from .compat_analysis import anomaly_results
from .compat_support import (
    add_run_list_options,
    emit_result,
    facade,
    invalid,
    require,
    run_query,
    write_csv,
)

__all__ = ["register"]

#: the top-level commands ``register`` adds or extends (``contexta.cli.main`` runs only the
#: modules of the command it is given)
COMMANDS = ("report", "export", "provenance")

_RENDERS = ("markdown", "json", "html", "csv")


def register(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser("report", help="build report documents")
    sub = report.add_subparsers(dest="report_command", metavar="KIND")
    sub.required = True
    snapshot = sub.add_parser("snapshot", help="one run's snapshot report")
    snapshot.add_argument("run_id")
    compare = sub.add_parser("compare", help="a two-run comparison report")
    compare.add_argument("left_run_id")
    compare.add_argument("right_run_id")
    for parser, handler in ((snapshot, _report_snapshot), (compare, _report_compare)):
        parser.add_argument("--render", choices=_RENDERS, default="markdown")
        parser.add_argument("--output", help="write the rendering to this file")
        parser.set_defaults(handler=handler)

    export = commands.add_parser("export", help="export HTML or CSV")
    sub = export.add_subparsers(dest="export_command", metavar="FORMAT")
    sub.required = True
    html = sub.add_parser("html", help="a report as HTML (--run, or --left and --right)")
    html.add_argument("--run")
    html.add_argument("--left")
    html.add_argument("--right")
    html.add_argument("--output")
    html.set_defaults(handler=_export_html)
    csv_parser = sub.add_parser("csv", help="CSV of runs, a comparison, a trend or anomalies")
    csv_sub = csv_parser.add_subparsers(dest="csv_command", metavar="WHAT")
    csv_sub.required = True
    runs = csv_sub.add_parser("runs", help="the run list")
    add_run_list_options(runs)
    runs.add_argument("--output")
    runs.set_defaults(handler=_csv_runs)
    pair = csv_sub.add_parser("compare", help="metric deltas of two runs")
    pair.add_argument("left_run_id")
    pair.add_argument("right_run_id")
    pair.add_argument("--output")
    pair.set_defaults(handler=_csv_compare)
    trend = csv_sub.add_parser("trend", help="a metric across runs")
    trend.add_argument("metric_key")
    trend.add_argument("--stage")
    add_run_list_options(trend)
    trend.add_argument("--output")
    trend.set_defaults(handler=_csv_trend)
    anomaly = csv_sub.add_parser("anomaly", help="a run's anomalies")
    anomaly.add_argument("run_id")
    anomaly.add_argument("--metric", action="append", dest="metrics", default=[])
    anomaly.add_argument("--project")
    anomaly.add_argument("--stage")
    anomaly.add_argument("--output")
    anomaly.set_defaults(handler=_csv_anomaly)
    export_cmd.extend(sub, csv_sub, runs)  # parquet|arrow|csv runs|metrics|events

    provenance = commands.add_parser("provenance", help="reproducibility checks")
    sub = provenance.add_subparsers(dest="provenance_command", metavar="CHECK")
    sub.required = True
    audit = sub.add_parser("audit", help="audit one run's reproducibility")
    audit.add_argument("run_id")
    audit.set_defaults(handler=_provenance_audit)
    diff = sub.add_parser("diff", help="compare two runs' environments")
    diff.add_argument("left_run_id")
    diff.add_argument("right_run_id")
    diff.set_defaults(handler=_provenance_diff)


def _render(report: Any, render: str) -> str:
    if render == "json":
        return json.dumps(report.to_json(), indent=2, sort_keys=True, default=str)
    if render == "html":
        return report.to_html()
    if render == "csv":
        return report.to_csv()
    return report.to_markdown()


def _emit_report(args: argparse.Namespace, report: Any) -> int:
    payload = (
        report.to_json()
        if args.render == "json"
        else {"title": report.title, "render": args.render}
    )
    return emit_result(args, payload, _render(report, args.render), args.output)


def _report_snapshot(args: argparse.Namespace) -> int:
    return _emit_report(args, require(facade(args), "build_snapshot_report")(args.run_id))


def _report_compare(args: argparse.Namespace) -> int:
    report = require(facade(args), "build_run_report")(args.left_run_id, args.right_run_id)
    return _emit_report(args, report)


def _export_html(args: argparse.Namespace) -> int:
    ctx = facade(args)
    if args.run:
        report = require(ctx, "build_snapshot_report")(args.run)
    elif args.left and args.right:
        report = require(ctx, "build_run_report")(args.left, args.right)
    else:
        raise invalid("export html needs --run, or --left and --right.")
    return emit_result(
        args, {"title": report.title, "render": "html"}, report.to_html(), args.output
    )


def _csv(args: argparse.Namespace, kind: str, text: str) -> int:
    return emit_result(args, {"render": "csv", "kind": kind}, text, args.output)


def _csv_runs(args: argparse.Namespace) -> int:
    runs = facade(args).list_runs(None, query=run_query(args))
    return _csv(
        args,
        "runs",
        write_csv(
            ("run_id", "name", "project_name", "status", "started_at", "ended_at"),
            ((r.run_id, r.name, r.project_name, r.status, r.started_at, r.ended_at) for r in runs),
        ),
    )


def _csv_compare(args: argparse.Namespace) -> int:
    comparison = facade(args).compare_runs(args.left_run_id, args.right_run_id)
    rows = []
    for stage in comparison.stage_comparisons:
        for delta in stage.metric_deltas:
            notes = "; ".join(
                n.summary for n in (*delta.completeness_notes, *stage.completeness_notes)
            )
            rows.append(
                (
                    stage.stage_name,
                    delta.metric_key,
                    delta.left_value,
                    delta.right_value,
                    delta.delta,
                    delta.change_ratio,
                    stage.left_status,
                    stage.right_status,
                    notes,
                )
            )
    return _csv(
        args,
        "compare",
        write_csv(
            (
                "stage_name",
                "metric_key",
                "left_value",
                "right_value",
                "delta",
                "change_ratio",
                "left_status",
                "right_status",
                "notes",
            ),
            rows,
        ),
    )


def _csv_trend(args: argparse.Namespace) -> int:
    trend = require(facade(args), "get_metric_trend")(
        args.metric_key, project_name=args.project, stage_name=args.stage, query=run_query(args)
    )
    return _csv(
        args,
        "trend",
        write_csv(
            (
                "run_id",
                "run_name",
                "metric_key",
                "project_name",
                "stage_name",
                "value",
                "captured_at",
            ),
            (
                (
                    p.run_id,
                    p.run_name,
                    trend.metric_key,
                    trend.project_name or args.project or "",
                    p.stage_name or args.stage or "",
                    p.value,
                    p.captured_at,
                )
                for p in trend.points
            ),
        ),
    )


def _csv_anomaly(args: argparse.Namespace) -> int:
    results = anomaly_results(facade(args), args.run_id, args.metrics, args.project, args.stage)
    return _csv(
        args,
        "anomaly",
        write_csv(
            (
                "run_id",
                "metric_key",
                "actual_value",
                "expected_low",
                "expected_high",
                "z_score",
                "severity",
                "notes",
            ),
            (
                (
                    r.run_id,
                    r.metric_key,
                    r.actual_value,
                    r.expected_range[0],
                    r.expected_range[1],
                    r.z_score,
                    r.severity,
                    "; ".join(n.summary for n in r.completeness_notes),
                )
                for r in results
            ),
        ),
    )


def _provenance_audit(args: argparse.Namespace) -> int:
    audit = require(facade(args), "audit_reproducibility")(args.run_id)
    text = "\n".join(
        (
            f"Provenance audit: {escape(audit.run_id)}",
            f"Status: {escape(audit.reproducibility_status)}",
            f"Environment ref: {escape(audit.environment_ref or '-')}",
            f"Package count: {audit.package_count}",
        )
    )
    return emit_result(args, audit, text)


def _provenance_diff(args: argparse.Namespace) -> int:
    d = require(facade(args), "compare_environments")(args.left_run_id, args.right_run_id)
    packages = len(d.added_packages) + len(d.removed_packages) + len(d.changed_packages)
    variables = len(d.added_variables) + len(d.removed_variables) + len(d.changed_variables)
    text = "\n".join(
        (
            f"Environment diff: {escape(d.left_run_id)} vs {escape(d.right_run_id)}",
            f"Python changed: {d.python_version_changed}",
            f"Platform changed: {d.platform_changed}",
            f"Package changes: {packages}",
            f"Variable changes: {variables}",
        )
    )
    return emit_result(args, d, text)
