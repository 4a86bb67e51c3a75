"""``list_runs`` with filters (contract 4.4): ``RunListQuery``, ``MetricCondition``,
``TimeRange`` and the pipeline that applies them.

1.0's pipeline and its ordering quirk are kept: as soon as any option is given the facade builds
a ``RunListQuery`` with ``sort_desc=True``, so the list flips to newest first; status, tags and
time range filter, a stable sort on ``sort_by`` follows, then metric conditions, then
offset/limit. Decision 8.6: time bounds and ``started_at``/``ended_at`` sorting compare
instants, never strings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..common.errors import ValidationError
from ..contract.timestamps import normalize_timestamp, timestamp_micros
from .results import RunRecord

if TYPE_CHECKING:
    from .workspace_queries import QueryService

__all__ = [
    "OPERATORS",
    "SORT_KEYS",
    "MetricCondition",
    "RunListQuery",
    "TimeRange",
    "filtered_runs",
]

SORT_KEYS = ("started_at", "ended_at", "name")
OPERATORS = ("gt", "lt", "gte", "lte", "eq", "ne")
_NEG = -(2**62)


def _invalid(code: str, message: str, **details: Any) -> ValidationError:
    return ValidationError(message, code=code, details=details or None)


def bound_micros(value: Any, field: str) -> int:
    """A time bound as microseconds: any accepted timestamp (zone offsets and aware datetimes
    included); text or datetimes without a zone are read as UTC (1.0 compared such bounds as
    strings, which agrees for dates like ``"2025-04-01"``)."""
    try:
        return timestamp_micros(normalize_timestamp(value, field=field))
    except ValidationError:
        pass
    try:
        when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise _invalid(
            "query_invalid_time_range",
            f"TimeRange.{field} must be a timestamp like '2025-04-01T00:00:00Z', got {value!r}.",
            field=field,
            value=str(value),
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return timestamp_micros(when)


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Keep runs with ``started_after <= started_at <= started_before`` (either may be None)."""

    started_after: str | datetime | None = None
    started_before: str | datetime | None = None

    def __post_init__(self) -> None:
        for name in ("started_after", "started_before"):
            value = getattr(self, name)
            if value is None:
                continue
            if (isinstance(value, str) and not value.strip()) or not isinstance(
                value, (str, datetime)
            ):
                raise _invalid(
                    "query_invalid_time_range",
                    f"TimeRange.{name} must be a non-blank timestamp, got {value!r}.",
                    field=name,
                )
            bound_micros(value, name)
        after, before = self.after_us(), self.before_us()
        if after is not None and before is not None and after > before:
            raise _invalid(
                "query_invalid_time_range",
                f"TimeRange.started_after ({self.started_after}) must not be later "
                f"than started_before ({self.started_before}).",
            )

    def after_us(self) -> int | None:
        return (
            None
            if self.started_after is None
            else bound_micros(self.started_after, "started_after")
        )

    def before_us(self) -> int | None:
        return (
            None
            if self.started_before is None
            else bound_micros(self.started_before, "started_before")
        )


@dataclass(frozen=True, slots=True)
class MetricCondition:
    """Keep runs whose latest ``metric_key`` (in ``stage_name``, matched by the last component
    of the stage ref; run level when None, else any stage) compares true with ``threshold``.
    ``operator`` is one of gt lt gte lte eq ne, any case."""

    metric_key: str
    operator: str
    threshold: int | float
    stage_name: str | None = None

    def __post_init__(self) -> None:
        code = "query_invalid_metric_condition"
        if not isinstance(self.metric_key, str) or not self.metric_key.strip():
            raise _invalid(
                code,
                f"MetricCondition.metric_key must be a non-blank string, got {self.metric_key!r}.",
                metric_key=repr(self.metric_key),
            )
        op = self.operator.strip().lower() if isinstance(self.operator, str) else ""
        if op not in OPERATORS:
            raise _invalid(
                code,
                f"MetricCondition.operator {self.operator!r} is not one of {', '.join(OPERATORS)}.",
                operator=repr(self.operator),
                allowed=list(OPERATORS),
            )
        if not isinstance(self.threshold, (int, float)) or isinstance(self.threshold, bool):
            raise _invalid(
                code,
                f"MetricCondition.threshold must be a number, got {self.threshold!r}.",
                threshold=repr(self.threshold),
            )
        if self.stage_name is not None and (
            not isinstance(self.stage_name, str) or not self.stage_name.strip()
        ):
            raise _invalid(
                code,
                "MetricCondition.stage_name must be a non-blank string when "
                f"given, got {self.stage_name!r}.",
            )
        object.__setattr__(self, "operator", op)

    def holds(self, value: float) -> bool:
        t = float(self.threshold)
        return {
            "gt": value > t,
            "lt": value < t,
            "gte": value >= t,
            "lte": value <= t,
            "eq": value == t,
            "ne": value != t,
        }[self.operator]


@dataclass(frozen=True, slots=True)
class RunListQuery:
    """All options of a filtered run listing. ``sort_desc`` defaults to False here (the
    facade's keyword form defaults to True); ``project_name`` overrides the positional one."""

    project_name: str | None = None
    status: str | None = None
    tags: Mapping[str, str] | None = None
    time_range: TimeRange | None = None
    metric_conditions: tuple[MetricCondition, ...] = ()
    limit: int | None = None
    offset: int = 0
    sort_by: str = "started_at"
    sort_desc: bool = False

    def __post_init__(self) -> None:
        code = "query_invalid_run_list_query"
        for name in ("project_name", "status"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise _invalid(
                    code,
                    f"RunListQuery.{name} must be a non-blank string when given, got {value!r}.",
                    field=name,
                )
        if self.tags is not None:
            if not isinstance(self.tags, Mapping):
                raise _invalid(code, f"RunListQuery.tags must be a mapping, got {self.tags!r}.")
            for key, value in self.tags.items():
                if not isinstance(key, str) or not key.strip() or not isinstance(value, str):
                    raise _invalid(
                        code,
                        "RunListQuery.tags needs non-blank string keys and "
                        f"string values, got {key!r}: {value!r}.",
                    )
            object.__setattr__(self, "tags", dict(self.tags))
        if self.time_range is not None and not isinstance(self.time_range, TimeRange):
            raise _invalid(
                code, f"RunListQuery.time_range must be a TimeRange, got {self.time_range!r}."
            )
        conditions = tuple(self.metric_conditions)
        if any(not isinstance(c, MetricCondition) for c in conditions):
            raise _invalid(
                code, "RunListQuery.metric_conditions must hold MetricCondition objects."
            )
        object.__setattr__(self, "metric_conditions", conditions)
        if self.limit is not None and (
            not isinstance(self.limit, int) or isinstance(self.limit, bool) or self.limit <= 0
        ):
            raise _invalid(
                code,
                f"RunListQuery.limit must be a positive integer when given, got {self.limit!r}.",
                limit=repr(self.limit),
            )
        if not isinstance(self.offset, int) or isinstance(self.offset, bool) or self.offset < 0:
            raise _invalid(
                code,
                f"RunListQuery.offset must be a non-negative integer, got {self.offset!r}.",
                offset=repr(self.offset),
            )
        if self.sort_by not in SORT_KEYS:
            raise _invalid(
                code,
                f"RunListQuery.sort_by {self.sort_by!r} is not one of {', '.join(SORT_KEYS)}.",
                sort_by=repr(self.sort_by),
                allowed=list(SORT_KEYS),
            )
        if not isinstance(self.sort_desc, bool):
            raise _invalid(code, f"RunListQuery.sort_desc must be a bool, got {self.sort_desc!r}.")


def _sort_key(sort_by: str) -> Any:
    if sort_by == "name":
        return lambda run: run.name or ""
    return lambda run: timestamp_micros(getattr(run, sort_by)) if getattr(run, sort_by) else _NEG


def _metric_ok(q: QueryService, run: RunRecord, conditions: Sequence[MetricCondition]) -> bool:
    latest: dict[tuple[str | None, str], Any] = {}
    for m in q.metrics(run.run_id):
        key = (None if m.stage_ref is None else m.stage_ref.split(".")[-1], m.key)
        current = latest.get(key)
        if current is None or (m.observed, m.seq) >= (current.observed, current.seq):
            latest[key] = m
    for condition in conditions:
        found = latest.get((condition.stage_name, condition.metric_key))
        if found is None and condition.stage_name is None:
            candidates = [m for (_, k), m in latest.items() if k == condition.metric_key]
            if candidates:
                found = max(candidates, key=lambda m: (m.observed, m.seq))
        if found is None or found.value is None or not condition.holds(float(found.value)):
            return False
    return True


def filtered_runs(
    query_service: QueryService,
    project_name: str | None,
    *,
    status: str | None = None,
    tags: Mapping[str, str] | None = None,
    metric_conditions: Sequence[MetricCondition] = (),
    time_range: TimeRange | None = None,
    limit: int | None = None,
    offset: int = 0,
    sort_by: str = "started_at",
    sort_desc: bool = True,
    query: RunListQuery | None = None,
) -> tuple[RunRecord, ...]:
    """Runs of ``project_name`` (all projects when None) through 1.0's filter pipeline; the
    keyword options are ignored when ``query`` is given. Unknown project: ``()``."""
    if query is None:
        query = RunListQuery(
            project_name=project_name,
            status=status,
            tags=None if tags is None else dict(tags),
            metric_conditions=tuple(metric_conditions),
            time_range=time_range,
            limit=limit,
            offset=offset,
            sort_by=sort_by,
            sort_desc=sort_desc,
        )
        project_name = None
    if not isinstance(query, RunListQuery):
        raise _invalid(
            "query_invalid_run_list_query",
            f"query must be a RunListQuery, got {type(query).__name__}.",
        )
    active = query.project_name if query.project_name is not None else project_name
    runs = list(query_service.list_runs(active))
    if query.status is not None:
        runs = [r for r in runs if r.status == query.status]
    if query.tags:
        wanted = {k: v for k, v in query.tags.items() if k != "__run_ids__"}
        runs = [r for r in runs if all(r.tags.get(k) == v for k, v in wanted.items())]
        if "__run_ids__" in query.tags:
            chosen = {i for i in query.tags["__run_ids__"].split(",") if i}
            runs = [r for r in runs if r.run_id in chosen]
    if query.time_range is not None:
        after, before = query.time_range.after_us(), query.time_range.before_us()
        if after is not None:
            runs = [r for r in runs if r.started_at and timestamp_micros(r.started_at) >= after]
        if before is not None:
            runs = [r for r in runs if r.started_at and timestamp_micros(r.started_at) <= before]
    runs.sort(key=_sort_key(query.sort_by), reverse=query.sort_desc)
    if query.metric_conditions:
        runs = [r for r in runs if _metric_ok(query_service, r, query.metric_conditions)]
    end = None if query.limit is None else query.offset + query.limit
    return tuple(runs[query.offset : end])


def list_runs(
    query_service: QueryService,
    project_name: str | None = None,
    *,
    status: str | None = None,
    tags: Mapping[str, str] | None = None,
    metric_conditions: Sequence[MetricCondition] = (),
    time_range: TimeRange | None = None,
    limit: int | None = None,
    offset: int = 0,
    sort_by: str = "started_at",
    sort_desc: bool = True,
    query: RunListQuery | None = None,
) -> tuple[RunRecord, ...]:
    """1.0's ``list_runs``: the plain call keeps repository order (oldest first); any option
    that differs from its default goes through the filter pipeline (newest first by default)."""
    plain = (
        status is None
        and tags is None
        and not metric_conditions
        and time_range is None
        and limit is None
        and offset == 0
        and sort_by == "started_at"
        and sort_desc is True
        and query is None
    )
    if plain:
        return query_service.list_runs(project_name)
    return filtered_runs(
        query_service,
        project_name,
        status=status,
        tags=tags,
        metric_conditions=metric_conditions,
        time_range=time_range,
        limit=limit,
        offset=offset,
        sort_by=sort_by,
        sort_desc=sort_desc,
        query=query,
    )
