"""CSV export helpers in Python (1.0's ``contexta.adapters.export``): the same tables the
``contexta export csv`` commands write, as text."""

from __future__ import annotations

from typing import Any

__all__ = ["export_anomaly_csv", "export_comparison_csv", "export_run_list_csv", "export_trend_csv"]


def _csv(headers: tuple[str, ...], rows: Any) -> str:
    from ..cli.commands.compat_support import write_csv

    return write_csv(headers, rows)


def _blank(value: Any) -> Any:
    return "" if value is None else value


def export_run_list_csv(ctx: Any, *, project_name: str | None = None, query: Any = None) -> str:
    runs = ctx.list_runs(project_name, query=query)
    return _csv(
        ("run_id", "name", "project_name", "status", "started_at", "ended_at"),
        (
            (r.run_id, r.name, r.project_name, r.status, _blank(r.started_at), _blank(r.ended_at))
            for r in runs
        ),
    )


def export_comparison_csv(ctx: Any, left_run_id: str, right_run_id: str) -> str:
    comparison = ctx.compare_runs(left_run_id, right_run_id)
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
    )


def export_trend_csv(
    ctx: Any,
    metric_key: str,
    *,
    project_name: str | None = None,
    stage_name: str | None = None,
    query: Any = None,
) -> str:
    trend = ctx.get_metric_trend(
        metric_key, project_name=project_name, stage_name=stage_name, query=query
    )
    return _csv(
        ("run_id", "run_name", "metric_key", "project_name", "stage_name", "value", "captured_at"),
        (
            (
                p.run_id,
                p.run_name,
                trend.metric_key,
                trend.project_name or project_name or "",
                p.stage_name or stage_name or "",
                p.value,
                p.captured_at,
            )
            for p in trend.points
        ),
    )


def export_anomaly_csv(
    ctx: Any,
    run_id: str,
    metric_keys: Any,
    *,
    project_name: str | None = None,
    stage_name: str | None = None,
) -> str:
    from ..cli.commands.compat_analysis import anomaly_results

    results = anomaly_results(ctx, run_id, list(metric_keys), project_name, stage_name)
    return _csv(
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
    )
