"""Contexta 1.0's JSON routes, answered from the facade (or an as-of view of it).

Each route is ``(source, query) -> payload``; ``source`` is the live ``Contexta`` or
``ctx.as_of(T)``. Bad parameters raise :class:`BadRequest` (400 ``http_bad_request``); an
unknown path :class:`NotFound` (404 ``http_not_found``); library errors keep their own code
(status 500, as in 1.0).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .serializers import (
    environment_diff_payload,
    reproducibility_payload,
    run_summary_payload,
    to_jsonable,
)

__all__ = ["BadRequest", "NotFound", "Query", "answer_legacy", "int_param", "param", "required"]

Query = dict[str, list[str]]
Payload = dict[str, Any]


class BadRequest(ValueError):
    """A request the server cannot answer as asked (answered 400 ``http_bad_request``)."""


class NotFound(LookupError):
    """No route at this path (answered 404 ``http_not_found``)."""


def param(query: Query, key: str) -> str | None:
    """The first value of ``key``, or None."""
    values = query.get(key)
    return values[0] if values else None


def required(query: Query, key: str) -> str:
    value = param(query, key)
    if value is None:
        raise BadRequest(f"Missing required query parameter: {key}")
    return value


def int_param(query: Query, key: str, default: int | None) -> int | None:
    text = param(query, key)
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise BadRequest(f"invalid literal for int() with base 10: {text!r}") from None


def run_list_query(query: Query) -> Any:
    """1.0's rule for the run-list parameters (``status``, ``after``, ``before``, ``limit``,
    ``offset``, ``sort``, ``desc``; newest first unless ``desc`` says otherwise): None when
    every one is at its default, else a ``RunListQuery``."""
    from ...interpretation.run_list import RunListQuery, TimeRange

    status, after, before = param(query, "status"), param(query, "after"), param(query, "before")
    limit = int_param(query, "limit", None)
    offset = int_param(query, "offset", 0) or 0
    sort_by = param(query, "sort") or "started_at"
    desc = param(query, "desc")
    sort_desc = desc is None or desc.lower() in ("1", "true", "yes")
    defaults = (status, after, before, limit) == (None, None, None, None)
    if defaults and offset == 0 and sort_by == "started_at" and sort_desc:
        return None
    window = (
        None
        if after is None and before is None
        else TimeRange(started_after=after, started_before=before)
    )
    return RunListQuery(
        status=status,
        time_range=window,
        limit=limit,
        offset=offset,
        sort_by=sort_by,
        sort_desc=sort_desc,
    )


# ---------------------------------------------------------------------- routes


def _projects(source: Any, query: Query) -> Payload:
    return {"projects": list(source.list_projects())}


def _runs(source: Any, query: Query) -> Payload:
    runs = source.list_runs(param(query, "project"), query=run_list_query(query))
    return {"runs": to_jsonable(runs)}


def _lineage_direction(text: str | None) -> str | None:
    aliases = {"upstream": "inbound", "downstream": "outbound"}
    if text is None or text in ("both", "inbound", "outbound"):
        return text
    if text in aliases:
        return aliases[text]
    raise BadRequest("direction must be upstream, downstream, inbound, outbound, or both.")


def _anomaly_service(source: Any) -> Any:
    from ...interpretation.anomaly_detection import AnomalyService

    policy = source.config.interpretation
    return AnomalyService(
        source.query_service,
        z_score_threshold=policy.anomaly.z_score_threshold,
        min_baseline_runs=policy.anomaly.min_baseline_runs,
        monitored_metrics=policy.anomaly.monitored_metrics,
        metric_aggregation=policy.trend.metric_aggregation,
    )


def _run_route(source: Any, run_id: str, rest: list[str], query: Query) -> Payload:
    if not rest:
        return run_summary_payload(source.get_run_snapshot(run_id))
    suffix = rest[0]
    if suffix == "diagnostics":
        return to_jsonable(source.diagnose_run(run_id))
    if suffix == "lineage":
        direction = _lineage_direction(param(query, "direction"))
        depth = int_param(query, "depth", 3)
        subject = source.get_run_snapshot(run_id).run.run_id
        return to_jsonable(source.traverse_lineage(subject, direction=direction, max_depth=depth))
    if suffix == "report":
        return to_jsonable(source.build_snapshot_report(run_id).to_json())
    if suffix == "anomalies":
        from ...interpretation.run_list import RunListQuery

        project = param(query, "project")
        metric = param(query, "metric")
        found = _anomaly_service(source).detect_anomalies_in_run(
            run_id,
            baseline_query=None if project is None else RunListQuery(project_name=project),
            metric_keys=None if metric is None else (metric,),
            stage_name=param(query, "stage"),
        )
        return {"anomalies": to_jsonable(found)}
    if suffix == "reproducibility":
        return reproducibility_payload(source.audit_reproducibility(run_id))
    if suffix == "environment-diff" and len(rest) >= 2:
        return environment_diff_payload(source.compare_environments(run_id, rest[1]))
    raise BadRequest(f"Unsupported run route suffix: {suffix}")


def _compare(source: Any, query: Query) -> Payload:
    return to_jsonable(source.compare_runs(required(query, "left"), required(query, "right")))


def _compare_multi(source: Any, query: Query) -> Payload:
    run_ids = [item for item in required(query, "run_ids").split(",") if item]
    if len(run_ids) < 2:
        raise BadRequest("run_ids must contain at least two ids.")
    return to_jsonable(source.compare_multiple_runs(run_ids))


def _trend(source: Any, query: Query) -> Payload:
    trend = source.get_metric_trend(
        required(query, "metric"),
        project_name=param(query, "project"),
        stage_name=param(query, "stage"),
        query=run_list_query(query),
    )
    return to_jsonable(trend)


def _aggregate(source: Any, query: Query) -> Payload:
    from ...interpretation.run_aggregation import AggregationService

    metric = required(query, "metric")
    service = AggregationService(
        source.query_service,
        metric_aggregation=source.config.interpretation.trend.metric_aggregation,
    )
    result = service.aggregate_metric(
        metric,
        query=run_list_query(query),
        project_name=param(query, "project"),
        stage_name=param(query, "stage"),
    )
    return to_jsonable(result)


def _alerts(source: Any, run_id: str, query: Query) -> Payload:
    from ...interpretation.alert_evaluation import AlertRule

    threshold_text = required(query, "threshold")
    try:
        threshold = float(threshold_text)
    except ValueError:
        raise BadRequest(f"could not convert string to float: {threshold_text!r}") from None
    severity = param(query, "severity") or source.config.interpretation.alert.default_severity
    rule = AlertRule(
        metric_key=required(query, "metric"),
        operator=required(query, "operator"),
        threshold=threshold,
        stage_name=param(query, "stage"),
        severity=severity,
    )
    return {"results": to_jsonable(source.evaluate_alerts(run_id, [rule]))}


def _search_runs(source: Any, query: Query) -> Payload:
    needle = required(query, "q").lower()
    limit = int_param(query, "limit", 20)
    runs = source.list_runs(param(query, "project"), status=param(query, "status"), limit=limit)
    hits = [
        run
        for run in runs
        if any(needle in text.lower() for text in (run.run_id, run.name, run.project_name))
    ]
    return {"runs": to_jsonable(hits[:limit])}


def _search_artifacts(source: Any, query: Query) -> Payload:
    from ...interpretation.entities import artifact_record

    needle = required(query, "q").lower()
    kind = param(query, "kind")
    reader = source.query_service.entities()
    hits = []
    for ref in reader.artifact_refs():
        record = artifact_record(reader.artifact(ref))
        texts = (record.artifact_ref, record.kind, record.location or "")
        if any(needle in text.lower() for text in texts) and kind in (None, record.kind):
            hits.append(record)
    return {"artifacts": to_jsonable(hits)}


_FIXED: dict[str, Callable[[Any, Query], Payload]] = {
    "/projects": _projects,
    "/runs": _runs,
    "/compare": _compare,
    "/compare/multi": _compare_multi,
    "/metrics/trend": _trend,
    "/metrics/aggregate": _aggregate,
    "/search/runs": _search_runs,
    "/search/artifacts": _search_artifacts,
}


def answer_legacy(source: Any, path: str, parts: list[str], query: Query) -> Payload | None:
    """The payload of a 1.0 JSON route, or None when ``path`` is not one."""
    fixed = _FIXED.get(path)
    if fixed is not None:
        return fixed(source, query)
    if parts[0] == "runs" and len(parts) >= 2:
        return _run_route(source, parts[1], parts[2:], query)
    if parts[:2] == ["alerts", "evaluate"] and len(parts) >= 3:
        return _alerts(source, parts[-1], query)
    return None
