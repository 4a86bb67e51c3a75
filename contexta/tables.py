"""Whole tables out of a workspace, as ``pyarrow.Table``: runs, metric points, events.

Every table is built from the projections (or, for events, the ledger) with Arrow compute, never
sampled, and answers exactly what the row-at-a-time queries answer on the same workspace and
transaction time (``tests/dataout_tests`` checks them against ``list_runs``,
``get_run_snapshot`` and ``history`` on generated workspaces):

``runs_table``     one row per run, in ``list_runs`` order: ``run_id``, ``project``, ``name``,
                   ``status``, ``started_at``, ``ended_at``, ``quarantined``, then one column per
                   parameter (``params.<name>``), per label (``tags.<name>``) and per metric
                   (``metrics.<key>`` at run level, ``metrics.<stage>/<key>`` in a stage: metric
                   keys and stage names cannot hold a ``/``, so the names never collide), each
                   holding the latest value (greatest observed time, then seq);
``metrics_table``  every metric point, long form, in append order: ``run_id``, ``stage``,
                   ``key``, ``step``, ``value``, ``observed_at`` (when it was true),
                   ``recorded_at`` (when the ledger committed it), ``seq``;
``events_table``   the ledger's events in seq order with their columns and the decoded object as
                   JSON text (``model``, as ``history()`` gives it in ``to_dict``).

Parameters and labels of a run are read from its extension field sets ``contexta.params`` and
``contexta.tags`` (field ``values``: name -> value), which is where imports put them; anything
else that comes to carry parameters extends :func:`run_labels`, and the column names stay.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from ledger import EVENT_SCHEMA, arrays

from .events import RUN_PUT

if TYPE_CHECKING:
    from .interpretation.workspace_queries import QueryService

__all__ = [
    "EVENTS_SCHEMA",
    "METRICS_SCHEMA",
    "PARAMS_NAMESPACE",
    "RUNS_BASE_SCHEMA",
    "TAGS_NAMESPACE",
    "event_batches",
    "events_table",
    "metric_batches",
    "metrics_table",
    "run_labels",
    "runs_table",
]

PARAMS_NAMESPACE = "contexta.params"
TAGS_NAMESPACE = "contexta.tags"

_TS = pa.timestamp("us", tz="UTC")

RUNS_BASE_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("project", pa.string(), nullable=False),
        pa.field("name", pa.string(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("started_at", _TS),
        pa.field("ended_at", _TS),
        pa.field("quarantined", pa.bool_(), nullable=False),
    ]
)

METRICS_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("stage", pa.string()),
        pa.field("key", pa.string(), nullable=False),
        pa.field("step", pa.int64()),
        pa.field("value", pa.float64()),
        pa.field("observed_at", _TS),
        pa.field("recorded_at", _TS, nullable=False),
        pa.field("seq", pa.int64(), nullable=False),
    ]
)

#: the ledger's event columns (:data:`ledger.EVENT_SCHEMA`) with the stored ``body`` replaced by
#: the decoded object as JSON text (``model``)
EVENTS_SCHEMA = pa.schema(
    [*(f for f in EVENT_SCHEMA if f.name != "body"), pa.field("model", pa.string())]
)

#: rows per batch handed to a writer by the streaming forms
BATCH_ROWS = 65_536


# ---------------------------------------------------------------------- runs


def run_labels(run: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(parameters, labels) of a stored run: its ``contexta.params`` / ``contexta.tags``
    extension field sets' ``values``."""
    params: dict[str, Any] = {}
    tags: dict[str, Any] = {}
    for extension in getattr(run, "extensions", ()) or ():
        if extension.namespace == PARAMS_NAMESPACE:
            params.update(extension.fields.get("values") or {})
        elif extension.namespace == TAGS_NAMESPACE:
            tags.update(extension.fields.get("values") or {})
    return params, tags


def runs_table(
    qs: Any, project: str | None = None, run_ids: Sequence[Any] | None = None
) -> pa.Table:
    """One row per run of ``project`` (every project when None), in ``list_runs`` order, as of
    the query service's transaction time. ``run_ids`` keeps only those runs."""
    records = qs.list_runs(project)
    if run_ids is not None:
        wanted = set(_resolve(qs, run_ids))
        records = tuple(r for r in records if r.run_id in wanted)
    ids = [r.run_id for r in records]
    id_array = pa.array(ids, pa.string())
    flagged = list(qs.quarantined_refs())
    columns: dict[str, pa.Array] = {
        "run_id": id_array,
        "project": pa.array([r.project_name for r in records], pa.string()),
        "name": pa.array([r.name for r in records], pa.string()),
        "status": pa.array([r.status for r in records], pa.string()),
        "started_at": _timestamps([r.started_at for r in records]),
        "ended_at": _timestamps([r.ended_at for r in records]),
        "quarantined": pc.is_in(id_array, value_set=pa.array(flagged, pa.string())),
    }
    columns.update(_label_columns(qs, ids))
    columns.update(_metric_columns(qs, id_array))
    fields = list(RUNS_BASE_SCHEMA) + [
        pa.field(name, array.type)
        for name, array in columns.items()
        if name not in RUNS_BASE_SCHEMA.names
    ]
    return pa.Table.from_arrays(list(columns.values()), schema=pa.schema(fields))


def _timestamps(texts: list[str | None]) -> pa.Array:
    """Normalised ISO-8601 UTC texts (``...Z``) as microsecond timestamps."""
    return pc.cast(pa.array(texts, pa.string()), _TS)


def _label_columns(qs: Any, ids: list[str]) -> dict[str, pa.Array]:
    """``params.<name>`` and ``tags.<name>`` columns (text), aligned with ``ids``. Kept while
    the latest run versions and ``ids`` are the same."""
    latest = qs.ws.latest("runs", as_of_us=qs.as_of_us)
    key = tuple(ids)
    cached = qs.__dict__.get("_tables_labels")
    if cached is not None and cached[0] is latest and cached[1] == key:
        return cached[2]  # type: ignore[no-any-return]
    out = _labels_of(qs, latest, ids)
    qs.__dict__["_tables_labels"] = (latest, key, out)
    return out


def _labels_of(qs: Any, latest: pa.Table, ids: list[str]) -> dict[str, pa.Array]:
    if latest.num_rows == 0 or not ids:
        return {}
    # only bodies that mention a label namespace are decoded (a byte search, in Arrow)
    bodies = latest.column("body")
    has_labels = pc.or_(
        pc.match_substring(bodies, PARAMS_NAMESPACE), pc.match_substring(bodies, TAGS_NAMESPACE)
    )
    rows = latest.filter(has_labels)
    if rows.num_rows == 0:
        return {}
    position = {run: i for i, run in enumerate(ids)}
    values: dict[str, dict[int, str]] = {}
    for run in qs.ws.models(rows, RUN_PUT):
        at = position.get(str(run.run_ref))
        if at is None:
            continue
        params, tags = run_labels(run)
        for prefix, found in (("params.", params), ("tags.", tags)):
            for name, value in found.items():
                values.setdefault(prefix + name, {})[at] = _text(value)
    out = {}
    for name in sorted(values):
        column = values[name]
        out[name] = pa.array([column.get(i) for i in range(len(ids))], pa.string())
    return out


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _metric_columns(qs: Any, ids: pa.Array) -> dict[str, pa.Array]:
    """One float64 column per (stage, key): each run's latest value (greatest observed time,
    then seq; the first copy of each record), aligned with ``ids``."""
    latest = _latest_values(qs)
    if latest.num_rows == 0 or len(ids) == 0:
        return {}
    latest = latest.filter(pc.is_in(latest.column("run_id"), value_set=ids))
    out: dict[str, pa.Array] = {}
    names = latest.column("name")
    if isinstance(names, pa.ChunkedArray):
        names = names.combine_chunks()
    ends = pc.run_end_encode(names)
    runs = arrays.contiguous(latest.column("run_id"))
    values = arrays.contiguous(latest.column("value"))
    start = 0
    for end, column in zip(ends.run_ends.to_pylist(), ends.values.to_pylist(), strict=True):
        where = pc.index_in(ids, value_set=runs.slice(start, end - start))
        out[column] = values.slice(start, end - start).take(where)
        start = end
    return out


def _latest_values(qs: Any) -> pa.Table:
    """(name, run_id, value): the latest value of each run's (stage, key), sorted by column
    name. Kept while the points are (see :func:`_points`).

    One ordered group-by over the points in seq order takes, per (run, stage, key), the
    greatest observed time and the observed time and value of the last point: where the last
    point is also the latest observed (points arrive in time order, the usual case) its value
    is the answer, since it has the greatest seq of all; the runs of any other group are
    answered by a sort of their points alone.
    """
    points = _points(qs)
    cached = qs.__dict__.get("_tables_latest")
    if cached is not None and cached[0] is points:
        return cached[1]  # type: ignore[no-any-return]
    keys = ["run_id", "stage", "key"]
    last = pc.ScalarAggregateOptions(skip_nulls=False)
    grouped = (
        points.select([*keys, "observed_at", "value"])
        .group_by(keys, use_threads=False)
        .aggregate([("observed_at", "max"), ("observed_at", "last", last), ("value", "last", last)])
    )
    late = pc.invert(
        pc.fill_null(
            pc.equal(grouped.column("observed_at_max"), grouped.column("observed_at_last")), True
        )
    )
    if pc.any(late).as_py():
        runs = pc.unique(grouped.column("run_id").filter(late))
        grouped = grouped.filter(pc.invert(pc.is_in(grouped.column("run_id"), value_set=runs)))
        mine = points.filter(pc.is_in(points.column("run_id"), value_set=runs))
        ordered = mine.sort_by([("observed_at", "ascending"), ("seq", "ascending")])
        redo = (
            ordered.select([*keys, "observed_at", "value"])
            .group_by(keys, use_threads=False)
            .aggregate([("value", "last", last)])
        )
        grouped = pa.concat_tables(
            [grouped.select([*keys, "value_last"]), redo.select([*keys, "value_last"])]
        )
    stage = grouped.column("stage")
    key = grouped.column("key")
    name = pc.if_else(
        pc.is_null(stage),
        pc.binary_join_element_wise("metrics.", key, ""),
        pc.binary_join_element_wise("metrics.", stage, "/", key, ""),
    )
    latest = pa.table(
        {"name": name, "run_id": grouped.column("run_id"), "value": grouped.column("value_last")}
    ).sort_by([("name", "ascending")])
    qs.__dict__["_tables_latest"] = (points, latest)
    return latest


def _points(qs: Any) -> pa.Table:
    """Every metric point as of the service's time (first copy of each record) with the
    :data:`METRICS_SCHEMA` columns, in seq order.

    Kept while the stage_metrics projection hands out the same table (it does until it folds
    more rows; the cache holds that table, so its identity cannot be reused): a warm table
    costs a lookup, a new one the full computation.
    """
    from projections.query import as_of, first_per

    table = qs.ws.table("stage_metrics")
    cached = qs.__dict__.get("_tables_points")
    if cached is not None and cached[0] is table:
        return cached[1]  # type: ignore[no-any-return]
    rows = first_per(as_of(table, qs.as_of_us), "ref")
    points = pa.Table.from_arrays(
        [
            arrays.contiguous(rows.column("run_ref")),
            _stage_names(rows.column("stage_ref")),
            arrays.contiguous(rows.column("key")),
            arrays.contiguous(rows.column("step")),
            arrays.contiguous(rows.column("value")),
            arrays.contiguous(rows.column("valid_time")),
            arrays.contiguous(rows.column("tx_time")),
            arrays.contiguous(rows.column("seq")),
        ],
        schema=METRICS_SCHEMA,
    )
    qs.__dict__["_tables_points"] = (table, points)
    return points


def _stage_names(stage_refs: pa.ChunkedArray | pa.Array) -> pa.Array:
    """The stage name of each stage ref (its last component: a stage name holds no dot), or
    null; computed once per distinct ref."""
    if isinstance(stage_refs, pa.ChunkedArray):
        stage_refs = stage_refs.combine_chunks()
    encoded = pc.dictionary_encode(stage_refs)
    names = pc.replace_substring_regex(encoded.dictionary, pattern=r"^.*\.", replacement="")
    return names.take(encoded.indices)


def _resolve(qs: QueryService, run_ids: Sequence[Any] | Any) -> list[str]:
    if isinstance(run_ids, str) or not isinstance(run_ids, Sequence):
        run_ids = [run_ids]
    return qs.resolve_many(list(run_ids))


# ---------------------------------------------------------------------- metrics


def metric_batches(
    qs: Any,
    run_ids: Sequence[Any] | None = None,
    keys: Sequence[str] | None = None,
    stages: Sequence[str] | None = None,
    *,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[pa.RecordBatch]:
    """The rows of :func:`metrics_table`, ``batch_rows`` at a time."""
    points = _selected(qs, run_ids, keys, stages)
    for start in range(0, points.num_rows, batch_rows):
        yield from points.slice(start, batch_rows).to_batches()


def _selected(
    qs: Any,
    run_ids: Sequence[Any] | None,
    keys: Sequence[str] | None,
    stages: Sequence[str] | None,
) -> pa.Table:
    points = _points(qs)
    mask = None
    for column, values in (
        ("run_id", None if run_ids is None else _resolve(qs, run_ids)),
        ("key", keys),
        ("stage", stages),
    ):
        if values is None:
            continue
        wanted = pa.array([values] if isinstance(values, str) else list(values), pa.string())
        cond = pc.fill_null(pc.is_in(points.column(column), value_set=wanted), False)
        mask = cond if mask is None else pc.and_(mask, cond)
    return points if mask is None else points.filter(mask)


def metrics_table(
    qs: Any,
    run_ids: Sequence[Any] | None = None,
    keys: Sequence[str] | None = None,
    stages: Sequence[str] | None = None,
) -> pa.Table:
    """Every metric point (first copy of each record), in append order."""
    return _selected(qs, run_ids, keys, stages)


# ---------------------------------------------------------------------- events


def event_batches(
    qs: Any,
    kinds: Sequence[str] | str | None = None,
    run_id: Any = None,
    *,
    run_ids: Sequence[Any] | None = None,
    scanned: Callable[[int], None] | None = None,
) -> Iterator[pa.RecordBatch]:
    """The rows of :func:`events_table`, one ledger batch at a time (memory bounded by a
    batch, whatever the ledger's size). ``run_ids`` keeps the events of several runs;
    ``scanned`` is told the size of every ledger batch read (for a progress bar)."""
    if isinstance(kinds, str):
        kinds = (kinds,)
    refs = None if run_id is None else [qs.resolve_run(run_id)]
    if run_ids is not None:
        refs = [*(refs or []), *_resolve(qs, run_ids)]
    for batch in qs.ws.events():
        if scanned is not None:
            scanned(batch.num_rows)
        picked = _picked(batch, refs, kinds, qs.as_of_us)
        if picked.num_rows == 0:
            continue
        models = _models_json(picked)
        columns = [picked.column(name) for name in EVENTS_SCHEMA.names[:-1]]
        yield pa.RecordBatch.from_arrays([*columns, models], schema=EVENTS_SCHEMA)


def _picked(
    batch: pa.RecordBatch,
    run_refs: list[str] | None,
    kinds: Sequence[str] | None,
    upto_us: int | None,
) -> pa.RecordBatch:
    """The rows of a ledger batch of ``run_refs`` and ``kinds`` committed by ``upto_us``."""
    mask = None
    if run_refs is not None:
        mask = pc.is_in(batch.column("run_ref"), value_set=pa.array(run_refs, pa.string()))
    if kinds:
        cond = pc.is_in(batch.column("kind"), value_set=pa.array(list(kinds), pa.string()))
        mask = cond if mask is None else pc.and_(mask, cond)
    if upto_us is not None:
        bound = pa.scalar(upto_us, batch.schema.field("tx_time").type)
        cond = pc.less_equal(batch.column("tx_time"), bound)
        mask = cond if mask is None else pc.and_(mask, cond)
    return batch if mask is None else batch.filter(pc.fill_null(mask, False))


def events_table(qs: Any, kinds: Sequence[str] | str | None = None, run_id: Any = None) -> pa.Table:
    """The ledger's events (optionally some kinds or one run's) in seq order."""
    return pa.Table.from_batches(list(event_batches(qs, kinds, run_id)), EVENTS_SCHEMA)


_JSON = msgspec.json.Encoder(order="sorted", enc_hook=str)


def _models_json(batch: pa.RecordBatch) -> pa.Array:
    """The ``model`` column of a ledger batch: each body decoded (without re-validation, see
    :mod:`contexta.interpretation.body_decoding`: the same ``to_dict`` as ``history()`` gives) and
    written as JSON, one kind at a time."""
    from .interpretation.body_decoding import decode_many

    kinds = batch.column("kind").to_pylist()
    bodies = batch.column("body").to_pylist()
    by_kind: dict[str, list[int]] = {}
    for i, kind in enumerate(kinds):
        by_kind.setdefault(kind, []).append(i)
    out: list[bytes] = [b""] * len(kinds)
    for kind, rows in by_kind.items():
        for i, model in zip(rows, decode_many(kind, [bodies[i] for i in rows]), strict=True):
            plain = (
                model.to_dict()
                if hasattr(model, "to_dict")
                else {name: getattr(model, name) for name in model.__struct_fields__}
            )
            out[i] = _JSON.encode(plain)
    return pa.array(out, pa.binary()).cast(pa.string())
