"""Columnar metric logging: many points of one run per call, built as Arrow columns.

``ctx.log_metrics(run=..., key="loss", steps=[...], values=[...])`` or
``ctx.log_metrics(table, run=..., stage="train")`` stores each point as the metric record a
capture scope's ``stage.metric(key, value, step=...)`` stores (same envelope, payload and ledger
event), but builds the ledger columns, the stored bodies included, with Arrow compute: no Python
object per point. Input: a pyarrow Table or RecordBatch, a mapping of column name to values
(lists, pyarrow arrays, numpy arrays), or any table exposing ``__arrow_c_stream__`` (polars,
pandas); columns ``key``, ``value``, ``step`` (optional) and ``time`` (optional, zoned
timestamps; default: the time of the call).

The whole call is checked before anything is written: a bad row anywhere raises
:class:`BulkColumnError` naming the column, the first bad row and its value, and stores nothing
of the call.
"""

from __future__ import annotations

import secrets
from array import array
from collections.abc import Generator, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ledger.schema import INT64_MAX, INT64_MIN
from ledger.writer import int64_range

from .common.clock import utc_now
from .common.errors import ValidationError
from .contract import MetricPayload, MetricRecord, RecordEnvelope
from .contract.codec import ENCODER
from .contract.validation import logged_grammar
from .events import METRIC
from .workspace import Workspace

__all__ = ["BulkColumnError", "BulkResult", "log_metrics", "metric_columns"]

_FLOAT_EXACT = 1 << 53
_US = pa.timestamp("us", tz="UTC")
# msgpack str headers by byte length (fixstr below 32 bytes, str8 below 256)
_HEADERS = pa.array(
    [bytes([0xA0 | n]) if n < 32 else bytes([0xD9, n]) for n in range(256)], pa.binary()
)
_REF_TEXT = "zzbulkrefzz"
_KEY_TEXT = "zzbulkkeyzz"
_AT_TEXT = "2001-02-03T04:05:06.070809Z"
_VALUE = 1.2345678901234567
_STEP = "987654321987"


class BulkColumnError(ValidationError):
    """A column of a bulk call is missing, of a type that cannot hold it, or holds a bad
    value; ``details``: ``column``, ``row`` (first bad row, or None) and ``value``."""

    default_code = "bulk_invalid_column"


@dataclass(frozen=True, slots=True)
class BulkResult:
    """What a bulk call stored: ``count`` metric records under ``record:<run>.<prefix><i>``
    for i in 0..count-1, in row order, in commits ending with ``last_seq`` (None: no rows)."""

    run_ref: str
    stage_ref: str | None
    count: int
    ref_prefix: str
    last_seq: int | None

    def record_refs(self) -> list[str]:
        return [f"{self.ref_prefix}{i}" for i in range(self.count)]


def _fail(column: str, message: str, row: int | None = None, value: Any = None) -> BulkColumnError:
    shown = None if value is None else repr(value)[:80]
    where = "" if row is None else f" (row {row}, value {shown})"
    return BulkColumnError(
        f"log_metrics: column {column!r}{where}: {message}",
        details={"column": column, "row": row, "value": shown},
    )


def _columns(data: Any, given: Mapping[str, Any]) -> dict[str, pa.ChunkedArray | pa.Array]:
    """The named columns of ``data`` (any tabular input) and of the keyword columns."""
    out: dict[str, Any] = {}
    if data is not None:
        if isinstance(data, Mapping):
            source = dict(data)
        elif _pandas_like(data):  # NaN stays NaN (Arrow's pandas conversion makes it null)
            source = {str(name): data[name].to_numpy() for name in data.columns}
        else:
            if isinstance(data, pa.RecordBatch):
                table = pa.Table.from_batches([data])
            elif isinstance(data, pa.Table):
                table = data
            else:
                try:
                    table = pa.table(data)  # __arrow_c_stream__ (polars, pandas), dataframes
                except (TypeError, ValueError, pa.ArrowException) as exc:
                    raise _fail(
                        "data",
                        f"expected a pyarrow Table, a mapping of columns or a table with "
                        f"__arrow_c_stream__, got {type(data).__name__}",
                    ) from exc
            source = {name: table.column(name) for name in table.column_names}
        for name, values in source.items():
            if name not in ("key", "value", "step", "time"):
                raise _fail(str(name), "unknown column (expected key, value, step, time)")
            out[name] = values
    for name, values in given.items():
        if values is None:
            continue
        if name in out:
            raise _fail(name, "given twice (as a column of data and as an argument)")
        out[name] = values
    return {name: _array(name, values) for name, values in out.items()}


def _pandas_like(data: Any) -> bool:
    return type(data).__module__.startswith("pandas") and hasattr(data, "columns")


def _array(name: str, values: Any) -> pa.ChunkedArray | pa.Array:
    if isinstance(values, pa.ChunkedArray | pa.Array):
        return values
    if isinstance(values, str | bytes):
        raise _fail(name, f"expected a sequence of values, got {type(values).__name__}")
    try:
        return pa.array(values)  # lists, numpy arrays (duck-typed), __arrow_array__
    except (TypeError, ValueError, pa.ArrowException) as exc:
        first = _first_odd(values)
        raise _fail(name, f"cannot be read as one column: {exc}", *first) from exc


def _first_odd(values: Any) -> tuple[int | None, Any]:
    """(row, value) of the first value whose type differs from the first one's."""
    try:
        items = list(values)
    except TypeError:
        return None, values
    kinds = [type(v) for v in items if v is not None][:1]
    for row, value in enumerate(items):
        if value is not None and kinds and type(value) is not kinds[0]:
            return row, value
    return None, None


def _first_bad(column: pa.ChunkedArray | pa.Array, mask: Any) -> tuple[int, Any]:
    row = pc.index(mask, True).as_py()
    return row, column[row].as_py()


def _value_column(values: Any) -> pa.Array:
    kind = values.type
    if values.null_count:
        row, _ = _first_bad(values, pc.is_null(values))
        raise _fail("value", "a value is missing (null)", row, None)
    if pa.types.is_floating(kind):
        return _flat(pc.cast(values, pa.float64()))
    if pa.types.is_integer(kind):
        big = pc.greater(pc.abs(pc.cast(values, pa.int64())), _FLOAT_EXACT)
        if pc.any(big).as_py():
            row, value = _first_bad(values, big)
            raise _fail("value", "an integer beyond 2**53 has no exact float", row, value)
        return _flat(pc.cast(values, pa.float64()))
    if pa.types.is_decimal(kind):
        return _flat(pc.cast(values, pa.float64()))
    raise _fail("value", f"must be numbers (floats, ints, NaN and infinities included), got {kind}")


def _chunked(values: Any) -> bool:
    return isinstance(values, pa.ChunkedArray)


def _flat(values: Any) -> pa.Array:
    return values.combine_chunks() if _chunked(values) else values


def _step_column(steps: Any, n: int) -> pa.Array:
    if steps is None:
        return pa.nulls(n, pa.int64())
    kind = steps.type
    if pa.types.is_null(kind):
        return pa.nulls(n, pa.int64())
    if pa.types.is_integer(kind):
        if pa.types.is_unsigned_integer(kind) and kind.bit_width == 64:
            big = pc.greater(steps, INT64_MAX)
            if pc.any(big).as_py():
                row, value = _first_bad(steps, big)
                raise _fail("step", "must fit a 64-bit signed integer", row, value)
        return _flat(pc.cast(steps, pa.int64()))
    if pa.types.is_floating(kind):
        whole = pc.equal(pc.trunc(steps), steps)
        fits = pc.and_(pc.greater_equal(steps, float(INT64_MIN)), pc.less(steps, float(INT64_MAX)))
        bad = pc.invert(pc.fill_null(pc.and_(whole, fits), True))
        if pc.any(bad).as_py():
            row, value = _first_bad(steps, bad)
            raise _fail("step", "must be whole numbers within 64 bits", row, value)
        return _flat(pc.cast(steps, pa.int64()))
    raise _fail("step", f"must be integers (or null), got {kind}")


def _key_column(keys: Any, key: Any, n: int) -> pa.Array:
    from .capture.models import metric_key

    if keys is None:
        if key is None:
            raise _fail("key", "no key: give key=... or a 'key' column")
        keys = pa.repeat(pa.scalar(_one_key(key, metric_key)), n)
        return keys
    if key is not None:
        raise _fail("key", "given twice (key=... and a 'key' column)")
    if not (pa.types.is_string(keys.type) or pa.types.is_large_string(keys.type)):
        if pa.types.is_dictionary(keys.type):
            keys = pc.cast(keys, pa.string())
        else:
            raise _fail("key", f"must be strings, got {keys.type}")
    keys = _flat(pc.cast(keys, pa.string()))
    if keys.null_count:
        row, _ = _first_bad(keys, pc.is_null(keys))
        raise _fail("key", "a key is missing (null)", row, None)
    for text in pc.unique(keys).to_pylist():
        try:
            metric_key(text)
        except ValidationError as exc:
            row, value = _first_bad(keys, pc.equal(keys, text))
            raise _fail("key", exc.message, row, value) from None
    return keys


def _one_key(key: Any, check: Any) -> str:
    try:
        text: str = check(key)
    except ValidationError as exc:
        raise _fail("key", exc.message, None, key) from None
    return text


def _time_column(times: Any, n: int) -> tuple[pa.Array, pa.Array]:
    """(epoch microseconds, canonical timestamp text) per row."""
    if times is None:
        text, micros = utc_now()
        return pa.repeat(pa.scalar(micros, pa.int64()), n), pa.repeat(pa.scalar(text), n)
    kind = times.type
    if not pa.types.is_timestamp(kind):
        raise _fail("time", f"must be timestamps with a zone, got {kind}")
    if kind.tz is None:
        raise _fail(
            "time",
            "timestamps have no zone; give UTC or another zone (e.g. pa.timestamp('us', 'UTC'))",
        )
    if times.null_count:
        row, _ = _first_bad(times, pc.is_null(times))
        raise _fail("time", "a time is missing (null)", row, None)
    us = _flat(pc.cast(pc.cast(times, _US), pa.int64()))
    seconds = pc.floor(pc.divide(pc.cast(us, pa.float64()), 1e6))  # exact below 2**53 us
    whole = pc.cast(seconds, pa.int64())
    fraction = pc.subtract(us, pc.multiply(whole, 1_000_000))
    head = pc.strftime(
        pc.cast(whole, pa.timestamp("s", tz="UTC")),
        format="%Y-%m-%dT%H:%M:%S",
    )
    digits = pc.utf8_lpad(pc.cast(fraction, pa.string()), 6, "0")
    tail = pc.if_else(
        pc.equal(fraction, 0), pa.scalar("Z"), pc.binary_join_element_wise(".", digits, "Z", "")
    )
    return us, pc.binary_join_element_wise(head, tail, "")


def _stage_ref(run_ref: str, stage: Any) -> str | None:
    if stage is None:
        return None
    ref = getattr(stage, "ref", stage)
    text = str(ref)
    if text.startswith("stage:"):
        return text
    return f"stage:{run_ref[4:]}.{text}"


def _run_ref(ctx: Any, run: Any) -> str:
    ref = getattr(run, "ref", run)
    text = str(ref)
    if text.startswith("run:"):
        return text
    resolved: str = ctx.query_service.resolve_run(text)
    return resolved


def _template(run_ref: str, stage_ref: str | None, producer: str, unit: str | None) -> list[bytes]:
    """The constant byte runs of a stored body between the per-row pieces (ref, recorded_at,
    observed_at, key, value, tags), from the encoding of one template record."""
    with logged_grammar():
        record = MetricRecord(
            envelope=RecordEnvelope(
                record_ref=f"record:{run_ref[4:]}.{_REF_TEXT}",
                record_type="metric",
                recorded_at=_AT_TEXT,
                observed_at=_AT_TEXT,
                producer_ref=producer,
                run_ref=run_ref,
                stage_execution_ref=stage_ref,
            ),
            payload=MetricPayload(
                metric_key=_KEY_TEXT,
                value=_VALUE,
                value_type="float",
                unit=unit,
                aggregation_scope="step",
                subject_ref=stage_ref or run_ref,
                tags={"step": _STEP},
                summary_basis="raw_observation",
            ),
        )
    body = ENCODER.encode(record)
    ref_value = f"{run_ref[4:]}.{_REF_TEXT}".encode()
    cuts = [
        _packed(ref_value),
        _packed(_AT_TEXT.encode()),
        _packed(_AT_TEXT.encode()),
        _packed(_KEY_TEXT.encode()),
        b"\xcb" + array("d", [_VALUE]).tobytes()[::-1],
        b"\x81" + _packed(b"step") + _packed(_STEP.encode()),
    ]
    parts: list[bytes] = []
    rest = body
    for cut in cuts:
        before, found, rest = rest.partition(cut)
        if not found:  # the encoding changed shape: this module must learn it
            raise AssertionError(f"bulk body template: {cut!r} not found")
        parts.append(before)
    parts.append(rest)
    return parts


def _packed(text: bytes) -> bytes:
    n = len(text)
    return (bytes([0xA0 | n]) if n < 32 else bytes([0xD9, n])) + text


def _check_packable(texts: pa.Array, column: str) -> None:
    """Every text of ``texts`` fits a msgpack str8 (at most 255 bytes), or BulkColumnError."""
    lengths = pc.binary_length(texts)
    if (pc.max(lengths).as_py() or 0) > 255:
        row, value = _first_bad(texts, pc.greater(lengths, 255))
        raise _fail(column, "longer than 255 bytes", row, value)


def _with_header(texts: pa.Array) -> pa.Array:
    """msgpack str encodings of ``texts`` (header + UTF-8; checked by :func:`_check_packable`),
    as binary."""
    return pc.binary_join_element_wise(
        _HEADERS.take(pc.binary_length(texts)),
        pc.cast(texts, pa.binary()),
        pa.scalar(b"", pa.binary()),
    )


def _join(pieces: list[Any], n: int) -> pa.Array:
    """Row-wise concatenation of ``pieces`` (bytes: the same in every row; arrays: per row),
    adjacent constants merged first: one Arrow kernel call for the whole body column."""
    merged: list[Any] = []
    for piece in pieces:
        if isinstance(piece, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] += piece
        else:
            merged.append(piece)
    args = [pa.scalar(p, pa.binary()) if isinstance(p, bytes) else p for p in merged]
    if not n:
        return pa.array([], pa.binary())
    return pc.binary_join_element_wise(*args, pa.scalar(b"", pa.binary()))


def _float_bytes(values: pa.Array) -> pa.Array:
    """The float64 of each value as 8 bytes big-endian (msgpack's, after ``0xcb``)."""
    n = len(values)
    raw = array("d")
    raw.frombytes(values.buffers()[1].to_pybytes()[values.offset * 8 : (values.offset + n) * 8])
    raw.byteswap()
    fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(8), n, [None, pa.py_buffer(raw)])
    return fixed.cast(pa.binary())


def _tag_bytes(steps: pa.Array) -> pa.Array:
    """msgpack of the ``tags`` map per row: ``{"step": "<n>"}``, or an empty map without one."""
    text = pc.cast(steps, pa.string())
    if steps.null_count == len(steps):
        return pa.repeat(pa.scalar(b"\x80", pa.binary()), len(steps))  # an empty map
    packed = pc.binary_join_element_wise(
        pa.scalar(b"\x81" + _packed(b"step"), pa.binary()),
        _HEADERS.take(pc.binary_length(text)),
        pc.cast(text, pa.binary()),
        pa.scalar(b"", pa.binary()),
    )
    if not steps.null_count:
        return packed
    return pc.coalesce(packed, pa.scalar(b"\x80", pa.binary()))  # an empty map, as stored


@dataclass(frozen=True, slots=True)
class _Plan:
    """A bulk call checked whole: what is needed to build the ledger columns of any run of its
    rows (:meth:`table`), each independently, so that a call is built and written piecewise."""

    rows: int
    value: pa.Array
    step: pa.Array
    key: pa.Array
    key_piece: bytes | None  # the packed key when one key serves every row
    micros: pa.Array
    at: pa.Array
    at_piece: bytes | None  # the packed time when one time serves every row
    parts: list[bytes]
    prefix: str  # of the refs' values: ``<project>.<run>.bulk-<hex>-``
    project_ref: str
    run_ref: str
    stage_ref: str | None
    actor: str

    def table(self, start: int, stop: int) -> pa.Table:
        """The ledger event columns of rows ``start`` .. ``stop - 1``."""
        n = stop - start
        counters = pc.cast(int64_range(start, n), pa.string())
        prefix = self.prefix.encode()
        ref_header = _HEADERS.take(pc.add(pc.binary_length(counters), len(prefix)))
        at = self.at_piece if self.at_piece is not None else _with_header(self.at.slice(start, n))
        key_col = self.key.slice(start, n)
        key = self.key_piece if self.key_piece is not None else _with_header(key_col)
        value = self.value.slice(start, n)
        step = self.step.slice(start, n)
        parts = self.parts
        body = _join(
            [
                parts[0],
                ref_header,
                prefix,
                pc.cast(counters, pa.binary()),
                parts[1],
                at,
                parts[2],
                at,
                parts[3],
                key,
                parts[4] + b"\xcb",
                _float_bytes(value),
                parts[5],
                _tag_bytes(step),
                parts[6],
            ],
            n,
        )
        return pa.table(
            {
                "kind": pa.repeat(pa.scalar(METRIC), n),
                "ref": pc.binary_join_element_wise("record:" + self.prefix, counters, ""),
                "project_ref": pa.repeat(pa.scalar(self.project_ref), n),
                "run_ref": pa.repeat(pa.scalar(self.run_ref), n),
                "stage_ref": pa.repeat(pa.scalar(self.stage_ref, pa.string()), n),
                "valid_time": pc.cast(self.micros.slice(start, n), _US),
                "key": key_col,
                "value": value,
                "step": step,
                "actor": pa.repeat(pa.scalar(self.actor), n),
                "body": body,
            }
        )


def _plan(
    ctx: Any,
    data: Any = None,
    *,
    run: Any,
    stage: Any = None,
    key: str | None = None,
    keys: Any = None,
    steps: Any = None,
    values: Any = None,
    times: Any = None,
    unit: str | None = None,
    token: str | None = None,
) -> _Plan:
    """Check a bulk call whole (every column, row and limit that its records need), or raise
    :class:`BulkColumnError`: after this, building its columns cannot fail on its input."""
    columns = _columns(data, {"key": keys, "value": values, "step": steps, "time": times})
    if "value" not in columns:
        raise _fail("value", "no values: give values=... or a 'value' column")
    n = len(columns["value"])
    for name, column in columns.items():
        if len(column) != n:
            raise _fail(name, f"has {len(column)} rows, 'value' has {n}")
    value = _value_column(columns["value"])
    step = _step_column(columns.get("step"), n)
    key_col = _key_column(columns.get("key"), key, n)
    micros, at = _time_column(columns.get("time"), n)
    if unit is not None and (not isinstance(unit, str) or not unit):
        raise _fail("unit", "must be a non-empty string or None", None, unit)
    run_ref = _run_ref(ctx, run)
    stage_ref = _stage_ref(run_ref, stage)
    ws: Workspace = ctx._workspace
    producer = str(ctx.config.capture.producer_ref)
    try:
        parts = _template(run_ref, stage_ref, producer, unit)
    except ValidationError as exc:  # the run, stage or unit do not make a valid record
        field = "stage" if stage is not None and "stage" in exc.message else "run"
        raise _fail(field, exc.message, None, stage if field == "stage" else run) from None
    prefix = f"{run_ref[4:]}.bulk-{token or secrets.token_hex(6)}-"
    if len(prefix.encode()) + 20 > 255:
        raise _fail("run", "the run ref is too long for a record ref", None, run_ref)
    one_time = "time" not in columns and n
    one_key = "key" not in columns and n
    if not one_key:
        _check_packable(key_col, "key")
    if not one_time:
        _check_packable(at, "time")
    return _Plan(
        rows=n,
        value=value,
        step=step,
        key=key_col,
        key_piece=_packed(key_col[0].as_py().encode()) if one_key else None,
        micros=micros,
        at=at,
        at_piece=_packed(at[0].as_py().encode()) if one_time else None,
        parts=parts,
        prefix=prefix,
        project_ref="project:" + run_ref[4:].split(".", 1)[0],
        run_ref=run_ref,
        stage_ref=stage_ref,
        actor=ws.actor,
    )


def metric_columns(
    ctx: Any, data: Any = None, **kwargs: Any
) -> tuple[pa.Table, str, str, str | None]:
    """The ledger event columns of a bulk call (checked whole), the ref prefix, the run ref
    and the stage ref: what :func:`log_metrics` writes (it builds and writes them piecewise)."""
    plan = _plan(ctx, data, **kwargs)
    return plan.table(0, plan.rows), "record:" + plan.prefix, plan.run_ref, plan.stage_ref


def log_metrics(
    ctx: Any,
    data: Any = None,
    *,
    run: Any,
    stage: Any = None,
    key: str | None = None,
    keys: Any = None,
    steps: Any = None,
    values: Any = None,
    times: Any = None,
    unit: str | None = None,
) -> BulkResult:
    """Store the metric points of ``data`` (and/or the keyword columns) under ``run`` (a run
    ref, id or scope) and ``stage`` (a stage name, ref or scope; None: run-level points).

    Each point becomes a metric record under a new ``record_ref`` (``record:<run>.bulk-<12
    hex>-<row>``, random per call, so refs need no lookup), ``value_type`` ``float``,
    ``recorded_at`` = ``observed_at`` = its ``time``; NaN and infinities are stored as
    given. Written after everything appended before the call, in commits of up to 32,768
    points; returns once written (durable as the workspace's mode promises)."""
    plan = _plan(
        ctx,
        data,
        run=run,
        stage=stage,
        key=key,
        keys=keys,
        steps=steps,
        values=values,
        times=times,
        unit=unit,
    )
    store = ctx.record_store
    if store.read_only:
        from .common.errors import ReadOnlyStoreError

        raise ReadOnlyStoreError(
            "The record store is read-only (records.read_only is set).",
            code="record_store_read_only",
        )
    ws: Workspace = ctx._workspace
    commit = _write(ws, plan)
    prefix = "record:" + plan.prefix
    store.written_in_bulk(prefix.rpartition(".")[0])
    last = None if commit is None else commit.first_seq + commit.count - 1
    return BulkResult(plan.run_ref, plan.stage_ref, plan.rows, prefix, last)


#: Points per commit of a bulk call. While one commit is encoded and written, the next one's
#: columns are built on a helper thread (both are Arrow work that releases the GIL), so a large
#: call uses two cores; a smaller commit also keeps each piece's buffers in cache.
COMMIT_ROWS = 32_768


def _write(ws: Workspace, plan: _Plan) -> Any:
    from ledger import LedgerError

    from .workspace import translate

    if plan.rows <= COMMIT_ROWS:
        pieces: Iterator[pa.Table] = iter([plan.table(0, plan.rows)])
    else:
        pieces = _built_ahead(plan, COMMIT_ROWS)
    try:
        return ws.ledger.append_column_stream(pieces)
    except LedgerError as exc:
        raise translate(exc) from exc
    finally:
        if isinstance(pieces, Generator):
            pieces.close()  # a failed write: the helper thread is let go now, not at collection


def _built_ahead(plan: _Plan, rows: int) -> Generator[pa.Table, None, None]:
    """The call's column tables of ``rows`` rows each, in order; each next one is built on a
    helper thread while the caller writes the one before."""
    starts = range(0, plan.rows, rows)
    with ThreadPoolExecutor(1, thread_name_prefix="contexta-bulk") as pool:
        ahead = pool.submit(plan.table, 0, min(rows, plan.rows))
        for start in starts:
            table = ahead.result()
            after = start + rows
            if after < plan.rows:
                ahead = pool.submit(plan.table, after, min(after + rows, plan.rows))
            yield table
