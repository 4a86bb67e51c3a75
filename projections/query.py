"""Vectorised reads over projection tables: as-of filtering and latest version per key."""

from __future__ import annotations

import sys
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ledger import arrays

__all__ = [
    "all_distinct",
    "as_of",
    "first_per",
    "int64_array",
    "latest_per",
    "take_rows",
    "value_columns",
    "value_per",
]


def int64_array(values: Sequence[int]) -> pa.Array:
    """``values`` as an int64 array (an Arrow array cast, Python ints laid out by
    :func:`ledger.arrays.array`, which never makes pyarrow import pandas)."""
    if isinstance(values, pa.Array):
        return values.cast(pa.int64()) if values.type != pa.int64() else values
    return arrays.array(values, pa.int64())


def take_rows(table: pa.Table, rows: Sequence[int] | pa.Array) -> pa.Table:
    """``table.take(rows)`` without concatenating the table's chunks, in Arrow.

    Arrow's take over a many-chunk table first concatenates every chunk of every column (4.7 ms
    for 131 rows of a 262,000-row, five-chunk records table; 0.13 ms from one chunk). Projection
    tables keep their large chunks apart, so the rows are sorted, each chunk takes the ones
    that fall in it, and the pieces are joined and put back in the order of ``rows``: no
    per-row Python.
    """
    wanted = int64_array(rows)
    if len(wanted) and wanted.null_count == 0:
        bounds = pc.min_max(wanted).as_py()
        if bounds["min"] < 0 or bounds["max"] >= table.num_rows:
            bad = bounds["min"] if bounds["min"] < 0 else bounds["max"]
            raise IndexError(f"row {bad} is out of bounds for a table of {table.num_rows} rows")
    elif wanted.null_count:
        raise IndexError("a row number is missing (null)")
    batches = table.to_batches()
    if len(batches) <= 1:
        return table.take(wanted)
    if len(wanted) <= _FEW_PER_CHUNK * len(batches):
        return _take_few(table, batches, wanted.to_pylist())
    order = pc.sort_indices(wanted)  # stable
    ascending = wanted.take(order)
    pieces = []
    start = 0
    for batch in batches:
        end = start + batch.num_rows
        if batch.num_rows:
            inside = pc.and_(
                pc.greater_equal(ascending, _int64(start)), pc.less(ascending, _int64(end))
            )
            local = pc.subtract(ascending.filter(inside), _int64(start))
            if len(local):
                pieces.append(batch.take(local))
        start = end
    joined = (
        pa.Table.from_batches(pieces, table.schema) if pieces else table.slice(0, 0)
    ).combine_chunks()
    if len(order) and not pc.all(pc.equal(order, _arange(len(order)))).as_py():
        # joined[j] is the row rows[order[j]]: put each back at its place in ``rows``
        joined = joined.take(pc.sort_indices(order))
    return joined


#: up to this many rows per chunk of the table, rows are placed in their chunks by a Python
#: bisect (about a microsecond a row) rather than by Arrow kernels over every chunk (a few
#: calls per chunk: 0.6 ms for a snapshot's rows over a 20-chunk table)
_FEW_PER_CHUNK = 32


def _take_few(table: pa.Table, batches: list[pa.RecordBatch], rows: list[int]) -> pa.Table:
    """:func:`take_rows` of a few ``rows`` (checked in bounds): each chunk that holds one of
    them takes its rows once, and the pieces are put back in the order of ``rows``."""
    starts = [0, *accumulate(b.num_rows for b in batches)][:-1]
    per_batch: dict[int, list[int]] = {}
    where = []  # (chunk, position within that chunk's pick) of each requested row
    for row in rows:
        b = bisect_right(starts, row) - 1
        picked = per_batch.setdefault(b, [])
        where.append((b, len(picked)))
        picked.append(row - starts[b])
    order = sorted(per_batch)
    pieces = [batches[b].take(int64_array(per_batch[b])) for b in order]
    joined = (
        pa.Table.from_batches(pieces, table.schema) if pieces else table.slice(0, 0)
    ).combine_chunks()
    base: dict[int, int] = {}
    offset = 0
    for b in order:
        base[b] = offset
        offset += len(per_batch[b])
    positions = [base[b] + i for b, i in where]
    if positions != list(range(len(positions))):
        joined = joined.take(int64_array(positions))
    return joined


def _int64(value: int) -> pa.Scalar:
    return arrays.scalar(value, pa.int64())


def _arange(n: int) -> pa.Array:
    return int64_array(range(n))


def as_of(table: pa.Table, tx_time_us: int | None) -> pa.Table:
    """Rows committed at or before transaction time ``tx_time_us`` (all rows when None)."""
    if tx_time_us is None or table.num_rows == 0:
        return table
    bound = arrays.scalar(tx_time_us, table.schema.field("tx_time").type)
    return table.filter(pc.less_equal(table.column("tx_time"), bound))


def all_distinct(column: pa.ChunkedArray | pa.Array) -> bool:
    """Whether no value of ``column`` repeats (a null counts as a value).

    Values that strictly increase row by row are distinct without hashing: one comparison
    of each value with the one before (refs written in order, as sequentially named runs and
    records are; 300k record refs: 1-2 ms, against 40-60 ms for ``unique``). Otherwise
    ``unique``, about 40% cheaper than ``count_distinct`` over strings here."""
    n = len(column)
    if n <= 1:
        return True
    if (
        column.null_count == 0
        and pc.all(pc.greater(column.slice(1), column.slice(0, n - 1))).as_py()
    ):
        return True
    return len(pc.unique(column)) == n


#: Up to this many rows, "the latest (or first) row of each key" sorts instead of hashing,
#: and at any size while Acero is not loaded yet. Arrow's hash group-by runs through Acero,
#: whose first use in a process imports ``pyarrow.dataset``, and with it pandas when pandas is
#: installed (0.3-0.5 s here), and whose per-call setup costs more than sorting a few thousand
#: rows. Above this size, in a process that loaded Acero already, the hash group-by is the
#: faster (300k rows of 100k keys: 30 against 55-70 ms).
SORT_GROUP_ROWS = 8192


def _hash_groups(rows: int) -> bool:
    """Whether to group ``rows`` rows with Acero's hash group-by (see ``SORT_GROUP_ROWS``)."""
    return rows > SORT_GROUP_ROWS and "pyarrow.acero" in sys.modules


def seq_per(keys: pa.ChunkedArray | pa.Array, seqs: pa.ChunkedArray | pa.Array, last: bool) -> Any:
    """The greatest (``last``) or smallest seq of each distinct value of ``keys`` (a null key
    is a value of its own), in no particular order, as int64 (an array or a chunked array)."""
    pairs = pa.table({"k": keys, "s": seqs})
    if _hash_groups(len(keys)):
        mode = "max" if last else "min"
        return pairs.group_by("k", use_threads=False).aggregate([("s", mode)]).column(1)
    if len(keys) <= 1:
        return pairs.column(1)
    order = pc.sort_indices(
        pairs, sort_keys=[("k", "ascending"), ("s", "descending" if last else "ascending")]
    )
    k = arrays.contiguous(pairs.column(0).take(order))
    s = arrays.contiguous(pairs.column(1).take(order))
    return pa.concat_arrays([s.slice(0, 1), s.slice(1).filter(_new_key(k))])


def _new_key(k: pa.Array) -> pa.Array:
    """For rows 1.. of ``k`` (whose equal values are next to each other), whether the row's
    value differs from the row before's (exactly one of the two null counts as different)."""
    after, before = k.slice(1), k.slice(0, len(k) - 1)
    return pc.coalesce(
        pc.not_equal(after, before), pc.not_equal(pc.is_null(after), pc.is_null(before))
    )


def latest_per(table: pa.Table, key: str = "ref") -> pa.Table:
    """The row with the greatest ``seq`` for each distinct ``key``, in seq order."""
    if table.num_rows <= 1:
        return table
    if all_distinct(table.column(key)):
        return table  # one version per key: nothing to drop (cheaper than the group-by)
    last = seq_per(table.column(key), table.column("seq"), last=True)
    keep = pc.is_in(table.column("seq"), value_set=last)
    return table.filter(keep)


def first_per(table: pa.Table, key: str = "ref") -> pa.Table:
    """The row with the smallest ``seq`` for each distinct ``key`` (the first copy), in seq
    order. Returns ``table`` itself when every key is already distinct."""
    if table.num_rows == 0:
        return table
    if all_distinct(table.column(key)):
        return table
    first = seq_per(table.column(key), table.column("seq"), last=False)
    return table.filter(pc.is_in(table.column("seq"), value_set=first))


def value_per(table: pa.Table, mode: str, by: str = "run_ref") -> dict[str, float]:
    """One metric value per distinct ``by`` from rows of a single metric key: ``"latest"`` is the
    value with the greatest (``valid_time``, ``seq``); ``"max"``/``"min"``; ``"mean"`` is
    ``sum(values) / len(values)`` summed in seq order, exactly as a Python loop would.
    """
    keys, values = value_columns(table, mode, by)
    return dict(zip(keys.to_pylist(), values.to_pylist(), strict=True))


def value_columns(table: pa.Table, mode: str, by: str = "run_ref") -> tuple[pa.Array, pa.Array]:
    """:func:`value_per` as two aligned arrays, each distinct ``by`` and its value (in no
    particular order), for callers that go on in Arrow."""
    if table.num_rows == 0:
        return arrays.array([], table.schema.field(by).type), arrays.array([], pa.float64())
    if mode != "mean" and all_distinct(table.column(by)):
        # one row per key (a metric logged once per run): its value is the selection, with
        # no sort or group-by (a null value stays null, as the group-by leaves it)
        return arrays.contiguous(table.column(by)), arrays.contiguous(table.column("value"))
    # only what the selection reads: a sort takes every column it is given along
    table = table.select([by, "value", "valid_time", "seq"])
    if mode in ("max", "min"):
        grouped = table.group_by(by, use_threads=False).aggregate([("value", mode)])
        return arrays.contiguous(grouped.column(by)), arrays.contiguous(
            grouped.column(f"value_{mode}")
        )
    if mode == "mean":
        ordered = table.sort_by([(by, "ascending"), ("seq", "ascending")])
        sums: dict[str, list[float]] = {}
        for name, value in zip(
            ordered.column(by).to_pylist(), ordered.column("value").to_pylist(), strict=True
        ):
            sums.setdefault(name, []).append(float(value))
        means = [sum(values) / len(values) for values in sums.values()]
        return arrays.array(list(sums), table.schema.field(by).type), arrays.array(
            means, pa.float64()
        )
    ordered = table.sort_by([(by, "ascending"), ("valid_time", "ascending"), ("seq", "ascending")])
    keys, values = arrays.contiguous(ordered.column(by)), arrays.contiguous(ordered.column("value"))
    if len(keys) <= 1:
        return keys, values
    # each key's last row in this order, read without a group-by (Acero); as the group-by's
    # "last" does, a null value gives way to the key's last non-null one
    last_keys = keys.filter(_last_of_key(keys))
    if values.null_count:
        valid = pc.is_valid(values)
        keys, values = keys.filter(valid), values.filter(valid)
        if len(keys) > 1:
            last = _last_of_key(keys)
            keys, values = keys.filter(last), values.filter(last)
        values = values.take(pc.index_in(last_keys, value_set=keys))
        return last_keys, values
    return last_keys, values.filter(_last_of_key(keys))


def _last_of_key(k: pa.Array) -> pa.Array:
    """For each row of ``k`` (at least two rows; equal values next to each other), whether
    it is the last of its value."""
    return pa.concat_arrays([_new_key(k), arrays.array([True], pa.bool_())])
