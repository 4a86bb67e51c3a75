"""The run table of the web UI: every run of a project, paged, sorted and filtered on the
server, with the latest value of each stage metric as a column.

Built on what the facade already keeps: ``query_service.list_runs`` (a cached tuple of run
records while no run changes) and the ``stage_metrics`` projection. The columns derived from
them (Arrow arrays) are cached per source table, so a warm page costs a sort of the row
indices and a look-up of the page's values, not a pass over every run in Python.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ...contract.timestamps import timestamp_micros
from ...events import EVENT
from .routes import BadRequest

__all__ = ["FIXED_COLUMNS", "RunTable", "TablePage", "TableRequest"]

#: columns every run has (sortable by name)
FIXED_COLUMNS = ("name", "status", "started_at", "ended_at", "duration_s", "run_id")
_OPERATORS = {
    "<": pc.less,
    "<=": pc.less_equal,
    ">": pc.greater,
    ">=": pc.greater_equal,
    "=": pc.equal,
    "!=": pc.not_equal,
}
MAX_LIMIT = 500


@dataclass(frozen=True)
class TableRequest:
    project: str | None = None
    offset: int = 0
    limit: int = 50
    sort: str = "started_at"
    desc: bool = True
    status: str | None = None
    text: str | None = None
    flag: str | None = None  # quarantined | tagged | clean
    where: tuple[tuple[str, str, float], ...] = ()  # (column, operator, value)


@dataclass(frozen=True)
class TablePage:
    total: int
    matched: int
    offset: int
    rows: list[dict[str, Any]]
    metric_columns: list[str]
    param_columns: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "matched": self.matched,
            "offset": self.offset,
            "rows": self.rows,
            "metric_columns": self.metric_columns,
            "param_columns": self.param_columns,
        }


def run_params(run: Any) -> dict[str, Any]:
    """A run's params: the fields of its extension field sets (``lr``, ``batch_size``, ...)."""
    out: dict[str, Any] = {}
    for extension in getattr(run, "extensions", ()) or ():
        out.update({str(k): v for k, v in dict(extension.fields).items()})
    return out


class _Base:
    """Per-run columns of one list of run records (aligned by position)."""

    def __init__(self, runs: Sequence[Any], params: dict[str, dict[str, Any]]) -> None:
        self.runs = runs
        self.params = {r.run_id: {**params.get(r.run_id, {}), **r.metadata, **r.tags} for r in runs}
        self.index = {run.run_id: i for i, run in enumerate(runs)}
        self.columns: dict[str, pa.Array] = {
            "run_id": pa.array([r.run_id for r in runs], pa.string()),
            "name": pa.array([r.name for r in runs], pa.string()),
            "status": pa.array([r.status for r in runs], pa.string()),
            "started_at": pa.array([timestamp_micros(r.started_at) for r in runs], pa.int64()),
            "ended_at": pa.array(
                [None if r.ended_at is None else timestamp_micros(r.ended_at) for r in runs],
                pa.int64(),
            ),
        }
        self.columns["duration_s"] = pc.divide(
            pc.cast(
                pc.subtract(self.columns["ended_at"], self.columns["started_at"]), pa.float64()
            ),
            1e6,
        )
        self.search = pc.utf8_lower(
            pc.binary_join_element_wise(self.columns["name"], self.columns["run_id"], " ")
        )
        keys: dict[str, None] = {}
        for mapping in self.params.values():
            keys.update(dict.fromkeys(str(k) for k in mapping))
        self.param_columns = sorted(keys)


class _Metrics:
    """Latest value per (run, stage, metric key) of the ``stage_metrics`` rows."""

    def __init__(self, table: pa.Table) -> None:
        self._aligned: dict[str, tuple[_Base, pa.Array]] = {}
        if table.num_rows == 0:
            self.labels: list[str] = []
            self.rows = pa.table(
                {
                    "run_ref": pa.array([], pa.string()),
                    "label": pa.array([], pa.string()),
                    "value": pa.array([], pa.float64()),
                }
            )
            return
        stage = pc.replace_substring_regex(table.column("stage_ref"), r"^.*\.", "")
        label = pc.if_else(
            pc.is_null(stage),
            table.column("key"),
            pc.binary_join_element_wise(stage, table.column("key"), "/"),
        )
        work = pa.table(
            {
                "run_ref": table.column("run_ref"),
                "label": label,
                "value": pc.cast(table.column("value"), pa.float64()),
                "valid_time": table.column("valid_time"),
                "seq": table.column("seq"),
            }
        )
        work = work.sort_by([("valid_time", "ascending"), ("seq", "ascending")])
        last = work.group_by(["run_ref", "label"], use_threads=False).aggregate([("value", "last")])
        self.rows = last.rename_columns(["run_ref", "label", "value"])
        self.labels = sorted(pc.unique(self.rows.column("label")).to_pylist())

    def column(self, label: str, base: _Base) -> pa.Array:
        """``label``'s latest values aligned with ``base``'s runs (null where a run has none)."""
        kept = self._aligned.get(label)
        if kept is not None and kept[0] is base:
            return kept[1]
        rows = self.rows.filter(pc.equal(self.rows.column("label"), label))
        positions = pc.index_in(base.columns["run_id"], value_set=rows.column("run_ref"))
        column = pc.take(rows.column("value"), positions)
        self._aligned[label] = (base, column)  # kept while the runs and the metrics are these
        return column

    def of_runs(self, run_ids: list[str]) -> dict[str, dict[str, float]]:
        rows = self.rows.filter(
            pc.is_in(self.rows.column("run_ref"), value_set=pa.array(run_ids, pa.string()))
        )
        out: dict[str, dict[str, float]] = {}
        for run, label, value in zip(
            rows.column("run_ref").to_pylist(),
            rows.column("label").to_pylist(),
            rows.column("value").to_pylist(),
            strict=True,
        ):
            out.setdefault(run, {})[label] = value
        return out


class RunTable:
    """Answers :class:`TableRequest` for one query service (the live one or an as-of one)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._base: tuple[Any, _Base] | None = None
        self._metrics: tuple[Any, _Metrics] | None = None

    def _base_for(self, qs: Any, runs: Sequence[Any]) -> _Base:
        cached = self._base
        if cached is not None and cached[0] is runs:
            return cached[1]
        base = _Base(runs, _params(qs))
        self._base = (runs, base)
        return base

    def _metrics_for(self, qs: Any) -> _Metrics:
        table = qs.ws.table("stage_metrics", as_of_us=qs.as_of_us)
        cached = self._metrics
        if cached is not None and cached[0] is table:
            return cached[1]
        metrics = _Metrics(table)
        self._metrics = (table, metrics)
        return metrics

    def page(self, qs: Any, request: TableRequest) -> TablePage:
        runs = qs.list_runs(request.project)
        with self._lock:
            base = self._base_for(qs, runs)
            metrics = self._metrics_for(qs)
        marks = _marks(qs)
        mask = _filter(base, metrics, marks, request)
        order = _order(base, metrics, request, mask)
        picked = order.slice(request.offset, request.limit).to_pylist()
        rows = _rows(base, metrics, marks, picked)
        return TablePage(
            total=len(runs),
            matched=len(order),
            offset=request.offset,
            rows=rows,
            metric_columns=metrics.labels,
            param_columns=base.param_columns,
        )


def _params(qs: Any) -> dict[str, dict[str, Any]]:
    """Params of every run that has any (the latest run versions' extension fields)."""
    from ...events import RUN_PUT
    from ...interpretation.body_decoding import decode_many

    table = qs.ws.latest("runs", as_of_us=qs.as_of_us)
    out = {}
    for ref, run in zip(
        table.column("ref").to_pylist(),
        decode_many(RUN_PUT, table.column("body").to_pylist()),
        strict=True,
    ):
        found = run_params(run)
        if found:
            out[ref] = found
    return out


def _marks(qs: Any) -> dict[str, set[str]]:
    """Runs quarantined now and runs carrying a quality tag (a ``tag_runs`` event)."""
    quarantined = qs.quarantined_refs()
    table = qs.ws.table("event_keys", as_of_us=qs.as_of_us)
    tagged: set[str] = set()
    if table.num_rows:
        rows = table.filter(
            pc.and_(
                pc.equal(table.column("kind"), EVENT),
                pc.match_substring(table.column("ref"), ".tag-"),
            )
        )
        tagged = set(rows.column("run_ref").to_pylist())
    return {"quarantined": quarantined, "tagged": tagged}


def _column(base: _Base, metrics: _Metrics, name: str) -> pa.Array:
    if name in base.columns:
        return base.columns[name]
    if name in metrics.labels:
        return metrics.column(name, base)
    if name in base.param_columns:
        values = [base.params[run.run_id].get(name) for run in base.runs]
        if all(
            v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in values
        ):
            return pa.array(values, pa.float64())
        return pa.array([None if v is None else _text(v) for v in values], pa.string())
    raise BadRequest(
        f"Unknown column {name!r}: use one of {', '.join(FIXED_COLUMNS)}, a "
        "metric column such as 'evaluate/accuracy', or a param column."
    )


def _param(values: dict[str, Any], name: str) -> Any:
    value = values.get(name)
    return None if value is None else _text(value)


def _filter(
    base: _Base, metrics: _Metrics, marks: dict[str, set[str]], request: TableRequest
) -> pa.Array | None:
    conditions = []
    if request.status:
        conditions.append(pc.equal(base.columns["status"], request.status))
    if request.text:
        conditions.append(pc.match_substring(base.search, request.text.lower()))
    if request.flag:
        if request.flag not in ("quarantined", "tagged", "clean"):
            raise BadRequest(f"flag must be quarantined, tagged or clean, got {request.flag!r}.")
        if request.flag == "clean":
            hit = pc.invert(
                pc.is_in(
                    base.columns["run_id"],
                    value_set=pa.array(sorted(marks["quarantined"]), pa.string()),
                )
            )
        else:
            hit = pc.is_in(
                base.columns["run_id"], value_set=pa.array(sorted(marks[request.flag]), pa.string())
            )
        conditions.append(hit)
    for name, operator, value in request.where:
        compare = _OPERATORS.get(operator)
        if compare is None:
            raise BadRequest(f"Unknown operator {operator!r}: use one of {', '.join(_OPERATORS)}.")
        column = _column(base, metrics, name)
        if pa.types.is_string(column.type):
            conditions.append(compare(column, str(value)))
        else:
            conditions.append(compare(pc.cast(column, pa.float64()), float(value)))
    if not conditions:
        return None
    mask = conditions[0]
    for condition in conditions[1:]:
        mask = pc.and_(mask, condition)
    return pc.fill_null(mask, False)


def _order(
    base: _Base, metrics: _Metrics, request: TableRequest, mask: pa.Array | None
) -> pa.ChunkedArray:
    column = _column(base, metrics, request.sort)
    positions = pa.array(range(len(base.runs)), pa.int64())
    work = pa.table({"key": column, "position": positions})
    if mask is not None:
        work = work.filter(mask)
    direction = "descending" if request.desc else "ascending"
    return _sorted_nulls_last(work, direction).column("position")


def _sorted_nulls_last(work: pa.Table, direction: str) -> pa.Table:
    """``work`` by ``key`` (nulls last, ties by position); pyarrow 25 takes the null placement
    per key, older versions only as one option."""
    try:
        return work.sort_by([("key", direction, "at_end"), ("position", "ascending", "at_end")])
    except (TypeError, ValueError, pa.ArrowInvalid):
        return work.sort_by(
            [("key", direction), ("position", "ascending")], null_placement="at_end"
        )


def _rows(
    base: _Base, metrics: _Metrics, marks: dict[str, set[str]], picked: list[int]
) -> list[dict[str, Any]]:
    runs = [base.runs[i] for i in picked]
    values = metrics.of_runs([run.run_id for run in runs])
    out = []
    for run in runs:
        params = {k: _text(v) for k, v in base.params[run.run_id].items()}
        out.append(
            {
                "run_id": run.run_id,
                "name": run.name,
                "project_name": run.project_name,
                "status": run.status,
                "started_at": run.started_at,
                "ended_at": run.ended_at,
                "params": params,
                "metrics": values.get(run.run_id, {}),
                "quarantined": run.run_id in marks["quarantined"],
                "tagged": run.run_id in marks["tagged"],
            }
        )
    return out


def _text(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)
