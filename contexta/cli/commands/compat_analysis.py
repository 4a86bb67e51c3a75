"""1.0's analysis commands: ``lineage``, ``search runs|artifacts``, ``trend``, ``aggregate``,
``anomaly``, ``alert``."""

from __future__ import annotations

import argparse
from typing import Any

from ..output import escape
from .compat_support import (
    CommandUnavailable,
    add_run_list_options,
    emit_result,
    facade,
    require,
    run_query,
)

__all__ = ["anomaly_results", "register"]

#: the top-level commands ``register`` adds or extends (``contexta.cli.main`` runs only the
#: modules of the command it is given)
COMMANDS = ("lineage", "search", "trend", "aggregate", "anomaly", "alert")


def register(commands: argparse._SubParsersAction) -> None:
    lineage = commands.add_parser("lineage", help="trace lineage from a subject ref")
    lineage.add_argument("subject_ref", help="full ref, e.g. run:my-proj.run-01")
    lineage.add_argument(
        "--direction", choices=("upstream", "downstream", "inbound", "outbound", "both")
    )
    lineage.add_argument("--depth", type=int, default=3, help="maximum depth (default 3)")
    lineage.set_defaults(handler=_lineage)

    search = commands.add_parser("search", help="search runs or artifacts by text")
    sub = search.add_subparsers(dest="search_command", metavar="WHAT")
    sub.required = True
    runs = sub.add_parser("runs", help="runs whose id, name or project contains TEXT")
    runs.add_argument("text")
    runs.add_argument("--project")
    runs.add_argument("--status")
    runs.add_argument("--limit", type=int, default=20)
    runs.set_defaults(handler=_search_runs)
    artifacts = sub.add_parser(
        "artifacts", help="artifacts whose ref, kind or location contains TEXT"
    )
    artifacts.add_argument("text")
    artifacts.add_argument("--kind")
    artifacts.add_argument("--limit", type=int, default=20)
    artifacts.set_defaults(handler=_search_artifacts)

    trend = commands.add_parser("trend", help="a metric across runs")
    _metric_query(trend)
    trend.set_defaults(handler=_trend)
    aggregate = commands.add_parser(
        "aggregate", help="count/mean/std/min/max of a metric across runs"
    )
    _metric_query(aggregate)
    aggregate.set_defaults(handler=_aggregate)

    anomaly = commands.add_parser("anomaly", help="a run's metrics against the other runs")
    anomaly.add_argument("run_id")
    anomaly.add_argument(
        "--metric",
        action="append",
        dest="metrics",
        default=[],
        help="metric key (repeatable; default: the configured ones)",
    )
    anomaly.add_argument("--project", help="baseline: this project's runs")
    anomaly.add_argument("--stage")
    anomaly.set_defaults(handler=_anomaly)

    alert = commands.add_parser("alert", help="evaluate one threshold rule on a run")
    alert.add_argument("run_id")
    alert.add_argument("--metric", required=True)
    alert.add_argument("--operator", required=True, choices=("gt", "lt", "gte", "lte", "eq", "ne"))
    alert.add_argument("--threshold", required=True, type=float)
    alert.add_argument("--stage")
    alert.add_argument("--severity", default="warning")
    alert.set_defaults(handler=_alert)


def _metric_query(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("metric_key")
    parser.add_argument("--stage", default=None, help="only this stage (by name)")
    add_run_list_options(parser)


def _lineage(args: argparse.Namespace) -> int:
    direction = {"upstream": "inbound", "downstream": "outbound"}.get(
        args.direction or "", args.direction
    )
    traversal = require(facade(args), "traverse_lineage")(
        args.subject_ref, direction=direction, max_depth=args.depth
    )
    text = "\n".join(
        (
            f"Lineage: {escape(args.subject_ref)}",
            f"Edges: {len(traversal.edges)}",
            f"Visited: {len(traversal.visited_refs)}",
        )
    )
    return emit_result(args, traversal, text)


def _search_runs(args: argparse.Namespace) -> int:
    runs = facade(args).list_runs(args.project, status=args.status, limit=args.limit)
    needle = args.text.lower()
    matches = tuple(
        r
        for r in runs
        if needle in r.run_id.lower()
        or needle in r.name.lower()
        or needle in r.project_name.lower()
    )[: args.limit]
    lines = ["Run search"] + (
        [f"{escape(r.run_id)}  {escape(r.status)}  {escape(r.name)}" for r in matches]
        or ["(empty)"]
    )
    return emit_result(args, {"runs": matches}, "\n".join(lines))


def _search_artifacts(args: argparse.Namespace) -> int:
    needle = args.text.lower()
    matches = []
    for manifest in facade(args).artifact_store.manifests():
        ref, kind = str(manifest.artifact_ref), manifest.artifact_kind
        if args.kind is not None and kind != args.kind:
            continue
        if (
            needle in ref.lower()
            or needle in kind.lower()
            or needle in manifest.location_ref.lower()
        ):
            matches.append(
                {
                    "artifact_ref": ref,
                    "kind": kind,
                    "run_id": str(manifest.run_ref),
                    "location": manifest.location_ref,
                    "created_at": manifest.created_at,
                }
            )
        if len(matches) >= args.limit:
            break
    lines = ["Artifact search"] + (
        [
            f"{escape(m['artifact_ref'])}  {escape(m['kind'])}  {escape(m['run_id'])}"
            for m in matches
        ]
        or ["(empty)"]
    )
    return emit_result(args, {"artifacts": matches}, "\n".join(lines))


def _require_metric(ctx: Any, args: argparse.Namespace) -> None:
    """An unknown metric key (in --stage, among --project's runs) is an error listing the
    known ones, never an empty answer."""
    from .common import require_metric

    service = ctx.query_service
    refs = None
    if args.project is not None:
        refs = [r.run_id for r in ctx.list_runs(args.project)]
    scope = f"project {args.project!r}" if args.project is not None else "the workspace"
    require_metric(
        service,
        args.metric_key,
        args.stage,
        run_refs=refs,
        any_stage=args.stage is None,
        scope=scope,
    )


def _trend(args: argparse.Namespace) -> int:
    _require_metric(facade(args), args)
    trend = require(facade(args), "get_metric_trend")(
        args.metric_key, project_name=args.project, stage_name=args.stage, query=run_query(args)
    )
    lines = [f"Trend: {escape(trend.metric_key)}", f"Points: {len(trend.points)}"]
    lines += [
        f"{escape(p.run_id)}  {escape(p.stage_name or '-')}  {p.value}  "
        f"{escape(p.captured_at or '-')}"
        for p in trend.points
    ]
    return emit_result(args, trend, "\n".join(lines))


def _interpretation(name: str) -> Any:
    """A name of 1.0's ``contexta.interpretation`` (some are resolved lazily there)."""
    import importlib

    module = importlib.import_module("contexta.interpretation")
    service = getattr(module, name, None)
    if service is None:
        raise CommandUnavailable(
            f"contexta.interpretation.{name} is not available in this build.",
            details={"name": name},
        )
    return service


def _aggregate(args: argparse.Namespace) -> int:
    ctx = facade(args)
    _require_metric(ctx, args)
    service = _interpretation("AggregationService")(
        ctx.query_service, metric_aggregation=ctx.config.interpretation.trend.metric_aggregation
    )
    result = service.aggregate_metric(
        args.metric_key, query=run_query(args), project_name=args.project, stage_name=args.stage
    )

    def shown(value: Any) -> Any:  # an aggregate of nothing is not 0.0
        return value if result.count else "n/a"

    text = "\n".join(
        (
            f"Aggregate: {escape(result.metric_key)}",
            f"Count: {result.count}",
            f"Mean: {shown(result.mean)}",
            f"Std: {shown(result.std)}",
            f"Min: {shown(result.min)}",
            f"Max: {shown(result.max)}",
        )
    )
    return emit_result(args, result, text)


def anomaly_results(
    ctx: Any, run_id: str, metrics: list[str], project: str | None, stage: str | None
) -> Any:
    """1.0's ``anomaly`` computation (also behind ``export csv anomaly``)."""
    policy = ctx.config.interpretation.anomaly
    service = _interpretation("AnomalyService")(
        ctx.query_service,
        z_score_threshold=policy.z_score_threshold,
        min_baseline_runs=policy.min_baseline_runs,
        monitored_metrics=policy.monitored_metrics,
        metric_aggregation=ctx.config.interpretation.trend.metric_aggregation,
    )
    baseline = None
    if project is not None:
        baseline = _interpretation("RunListQuery")(project_name=project)
    return service.detect_anomalies_in_run(
        run_id, baseline_query=baseline, metric_keys=tuple(metrics) or None, stage_name=stage
    )


def _require_run_metrics(ctx: Any, run_id: str, keys: list[str], stage: str | None) -> None:
    """Each metric key named for one run must be recorded in it (in ``stage`` when given)."""
    from .common import require_metric

    if not keys:
        return
    ref = ctx.query_service.resolve_run(run_id)
    for key in keys:
        require_metric(
            ctx.query_service,
            key,
            stage,
            run_refs=[ref],
            any_stage=stage is None,
            scope=f"run {run_id!r}",
        )


def _anomaly(args: argparse.Namespace) -> int:
    _require_run_metrics(facade(args), args.run_id, args.metrics, args.stage)
    results = anomaly_results(facade(args), args.run_id, args.metrics, args.project, args.stage)
    lines = [f"Anomalies: {escape(args.run_id)}", f"Count: {len(results)}"]
    lines += [
        f"{escape(r.metric_key)}  actual={r.actual_value}  z={r.z_score}  severity={escape(r.severity)}"
        for r in results
    ]
    return emit_result(args, {"anomalies": results}, "\n".join(lines))


def _alert(args: argparse.Namespace) -> int:
    ctx = facade(args)
    _require_run_metrics(ctx, args.run_id, [args.metric], args.stage)
    rule = _interpretation("AlertRule")(
        metric_key=args.metric,
        operator=args.operator,
        threshold=args.threshold,
        stage_name=args.stage,
        severity=args.severity,
    )
    results = require(ctx, "evaluate_alerts")(args.run_id, [rule])
    lines = [f"Alerts: {escape(args.run_id)}"]
    lines += [
        f"{escape(r.metric_key)}  actual={r.actual_value}  threshold={r.threshold}  "
        f"triggered={r.triggered}"
        for r in results
    ]
    return emit_result(args, {"results": results}, "\n".join(lines))
