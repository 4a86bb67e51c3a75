"""The web UI's JSON answers (``/api/...``), beside 1.0's routes.

Everything is read from the facade or an as-of view of it (``source``): run records and
stages from its query service, the audit trail from ``history``, select-best from
``select_best_run``; the run table and curves from :mod:`.tables` and :mod:`.series`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ledger import arrays
from projections import kinds

from ...events import METRIC
from ...history import iso_utc
from ...interpretation.reporting.direction import lower_is_better
from .routes import BadRequest, Query, int_param, param, required
from .serializers import to_jsonable
from .series import SeriesCache, reduce_series
from .tables import MAX_LIMIT, RunTable, TableRequest, run_params

__all__ = ["best", "compare", "lower_is_better", "run_detail", "series", "table", "table_request"]


def _flag(query: Query, key: str) -> bool:
    text = param(query, key)
    return text is not None and text.lower() in ("1", "true", "yes", "on")


def _where(query: Query) -> tuple[tuple[str, str, float], ...]:
    """``where=<column><op><value>`` (repeatable), e.g. ``evaluate/accuracy>=0.8``."""
    out = []
    for text in query.get("where", []):
        found = re.match(r"^\s*(.+?)\s*(<=|>=|!=|<|>|=)\s*(.+?)\s*$", text)
        if found is None:
            raise BadRequest(f"where must look like 'evaluate/accuracy>=0.8', got {text!r}.")
        column, operator, value = found.groups()
        try:
            number: Any = float(value)
        except ValueError:
            number = value
        out.append((column, operator, number))
    return tuple(out)


def table_request(query: Query) -> TableRequest:
    limit = int_param(query, "limit", 50) or 50
    offset = int_param(query, "offset", 0) or 0
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise BadRequest(f"limit must be 1..{MAX_LIMIT} and offset >= 0, got {limit}, {offset}.")
    desc = param(query, "desc")
    return TableRequest(
        project=param(query, "project"),
        offset=offset,
        limit=limit,
        sort=param(query, "sort") or "started_at",
        desc=desc is None or desc.lower() in ("1", "true", "yes"),
        status=param(query, "status") or None,
        text=param(query, "q") or None,
        flag=param(query, "flag") or None,
        where=_where(query),
    )


def table(source: Any, runs: RunTable, query: Query) -> dict[str, Any]:
    page = runs.page(source.query_service, table_request(query))
    answer = page.to_dict()
    answer["lower_is_better"] = [c for c in page.metric_columns if lower_is_better(c)]
    return answer


# ---------------------------------------------------------------------- run page

_AUDIT_KINDS = (
    kinds.RUN_PUT,
    kinds.STAGE_PUT,
    kinds.EVENT,
    kinds.SPAN,
    kinds.DEGRADED,
    kinds.QUARANTINE,
    kinds.RELEASE,
    kinds.ARTIFACT_PUT,
    kinds.ENVIRONMENT_PUT,
    kinds.DEPLOYMENT_PUT,
    kinds.BATCH_PUT,
    kinds.SAMPLE_PUT,
    kinds.PROVENANCE_PUT,
    kinds.RELATION_PUT,
)


def _metric_summary(qs: Any, run_ref: str) -> list[dict[str, Any]]:
    """Per (stage, key): count, first, last, min, max (from the ``records`` projection)."""
    rows = qs.record_rows(run_ref)
    mask = pc.equal(rows.column("kind"), METRIC)
    if qs.as_of_us is not None:
        mask = pc.and_(
            mask,
            pc.less_equal(
                rows.column("tx_time"),
                arrays.scalar(qs.as_of_us, rows.schema.field("tx_time").type),
            ),
        )
    rows = rows.filter(pc.fill_null(mask, False))
    if rows.num_rows == 0:
        return []
    stage = pc.replace_substring_regex(rows.column("stage_ref"), r"^.*\.", "")
    work = pa.table(
        {
            "stage": stage,
            "key": rows.column("key"),
            "value": pc.cast(rows.column("value"), pa.float64()),
            "valid_time": rows.column("valid_time"),
            "seq": rows.column("seq"),
            "step": rows.column("step"),
        }
    )
    work = work.sort_by([("valid_time", "ascending"), ("seq", "ascending")])
    grouped = work.group_by(["stage", "key"], use_threads=False).aggregate(
        [
            ("value", "count"),
            ("value", "first"),
            ("value", "last"),
            ("value", "min"),
            ("value", "max"),
            ("step", "max"),
        ]
    )
    out = []
    for item in grouped.to_pylist():
        label = item["key"] if item["stage"] is None else f"{item['stage']}/{item['key']}"
        out.append(
            {
                "stage": item["stage"],
                "key": item["key"],
                "label": label,
                "count": item["value_count"],
                "first": item["value_first"],
                "last": item["value_last"],
                "min": item["value_min"],
                "max": item["value_max"],
                "last_step": item["step_max"],
                "lower_is_better": lower_is_better(item["key"]),
            }
        )
    return sorted(out, key=lambda m: (m["stage"] or "", m["key"]))


def _audit(source: Any, run_ref: str) -> list[dict[str, Any]]:
    events = []
    for event in source.history(run_ref, kinds=_AUDIT_KINDS):
        model = event.model
        detail = (
            getattr(getattr(model, "payload", None), "message", None)
            or getattr(model, "reason", None)
            or getattr(model, "status", None)
        )
        events.append(
            {
                "seq": event.seq,
                "kind": event.kind,
                "ref": event.ref,
                "actor": event.actor,
                "recorded_at": iso_utc(event.tx_time),
                "observed_at": iso_utc(event.valid_time) if event.valid_time else None,
                "key": event.key,
                "detail": None if detail is None else str(detail),
            }
        )
    return events


def run_detail(source: Any, run_id: str) -> dict[str, Any]:
    from ...interpretation.workspace_queries import stage_record

    qs = source.query_service
    run_ref = qs.resolve_run(run_id)
    model = qs.run_model(run_ref)
    record = qs.run_record(model)
    stages = qs.stages_of(run_ref)
    extras = qs.snapshot_extras(run_ref, stages)
    state = qs.quarantine_state().get(run_ref, (False, "", 0))
    audit = _audit(source, run_ref)
    records = [e for e in audit if e["kind"].startswith(kinds.RECORD_PREFIX)]
    return {
        "run": to_jsonable(record),
        "params": to_jsonable(run_params(model)),
        "quarantined": state[0],
        "quarantine_reason": state[1] or None,
        "tags": sorted(
            {e["key"] for e in records if e["kind"] == kinds.EVENT and ".tag-" in (e["ref"] or "")}
        ),
        "stages": to_jsonable([stage_record(s) for s in stages]),
        "metrics": _metric_summary(qs, run_ref),
        "events": records,
        "artifacts": to_jsonable(extras.get("artifacts", ())),
        "provenance": to_jsonable(extras.get("provenance")),
        "audit": audit,
    }


# ---------------------------------------------------------------------- curves


def _number(query: Query, key: str) -> float | None:
    text = param(query, key)
    if text is None or text == "":
        return None
    try:
        return float(text)
    except ValueError:
        raise BadRequest(f"{key} must be a number, got {text!r}.") from None


def _run_ids(query: Query, key: str = "runs") -> list[str]:
    ids = [item for text in query.get(key, []) for item in text.split(",") if item]
    if not ids:
        raise BadRequest(f"Missing required query parameter: {key}")
    return list(dict.fromkeys(ids))


def series(source: Any, cache: SeriesCache, query: Query) -> dict[str, Any]:
    key = required(query, "key")
    axis = param(query, "x") or "step"
    if axis not in ("step", "time"):
        raise BadRequest(f"x must be step or time, got {axis!r}.")
    width = int_param(query, "width", 1000) or 1000
    lo, hi = _number(query, "from"), _number(query, "to")
    out = []
    for run_id in _run_ids(query):
        found = cache.get(source.query_service, run_id, key)
        reduced = reduce_series(found, axis, lo, hi, width)
        out.append({"run_id": found.run_id, "has_steps": found.has_steps, **reduced})
    return {"key": key, "x": axis, "series": out, "lower_is_better": lower_is_better(key)}


# ---------------------------------------------------------------------- compare


def compare(source: Any, query: Query) -> dict[str, Any]:
    qs = source.query_service
    refs = [qs.resolve_run(run_id) for run_id in _run_ids(query)]
    records = [qs.run_record(qs.run_model(ref)) for ref in refs]
    params: dict[str, list[str | None]] = {}
    for i, ref in enumerate(refs):
        run = records[i]
        found = {**run_params(qs.run_model(ref)), **run.metadata, **run.tags}
        for name, value in found.items():
            params.setdefault(str(name), [None] * len(records))[i] = str(value)
    summaries = [{m["label"]: m for m in _metric_summary(qs, ref)} for ref in refs]
    labels = sorted({label for summary in summaries for label in summary})
    metrics = []
    for label in labels:
        values = [summary.get(label, {}).get("last") for summary in summaries]
        lower = lower_is_better(label)
        present = [v for v in values if v is not None]
        best = (min(present) if lower else max(present)) if present else None
        metrics.append(
            {
                "label": label,
                "values": values,
                "lower_is_better": lower,
                "best": [v is not None and v == best for v in values],
                "points": [summary.get(label, {}).get("count", 0) for summary in summaries],
                "differs": len(set(values)) > 1,
            }
        )
    quarantined = qs.quarantined_refs()
    return {
        "runs": to_jsonable(records),
        "quarantined": [ref in quarantined for ref in refs],
        "params": [
            {"name": name, "values": values, "differs": len(set(values)) > 1}
            for name, values in sorted(params.items())
        ],
        "metrics": metrics,
        "curves": [m["label"] for m in metrics if max(m["points"]) > 1],
    }


def best(source: Any, query: Query) -> dict[str, Any]:
    """select-best over a project's runs, with and without quarantined runs."""
    metric = required(query, "metric")
    stage = param(query, "stage") or None
    lower = _flag(query, "lower") if param(query, "lower") is not None else lower_is_better(metric)
    runs = [r.run_id for r in source.query_service.list_runs(param(query, "project"))]
    answer: dict[str, Any] = {
        "metric": metric,
        "stage": stage,
        "lower_is_better": lower,
        "runs": len(runs),
    }
    for name, include in (("best", False), ("best_with_quarantined", True)):
        answer[name] = (
            None
            if len(runs) < 2
            else source.select_best_run(
                runs,
                metric,
                stage_name=stage,
                higher_is_better=not lower,
                include_quarantined=include,
            )
        )
    return answer


def ids_of(body: dict[str, Any]) -> list[str]:
    runs = body.get("runs")
    if not isinstance(runs, list) or not runs or not all(isinstance(r, str) for r in runs):
        raise BadRequest("runs must be a non-empty list of run ids.")
    return runs


def text_of(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"{key} must be a non-blank string, got {value!r}.")
    return value.strip()


def strings(values: Iterable[Any]) -> list[str]:
    return [str(v) for v in values]
