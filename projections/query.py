"""Vectorised reads over projection tables: as-of filtering and latest version per key."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["as_of", "first_per", "latest_per", "take_rows", "value_per"]


def take_rows(table: pa.Table, rows: Sequence[int]) -> pa.Table:
    """``table.take(rows)`` without concatenating the table's chunks.

    Arrow's take over a many-chunk table first concatenates every chunk of every column (4.7 ms
    for 131 rows of a 262,000-row, five-chunk records table; 0.13 ms from one chunk). Projection
    tables keep their large chunks apart, so rows are taken from each chunk they fall in and
    the pieces joined, in the order of ``rows``.
    """
    batches = table.to_batches()
    if len(batches) <= 1:
        return table.take(pa.array(rows, pa.int64()))
    starts = [0, *accumulate(b.num_rows for b in batches)][:-1]
    per_batch: dict[int, list[int]] = {}
    where = []  # (batch, position within that batch's pick) of each requested row
    for row in rows:
        if not 0 <= row < table.num_rows:
            raise IndexError(f"row {row} is out of bounds for a table of {table.num_rows} rows")
        b = bisect_right(starts, row) - 1
        picked = per_batch.setdefault(b, [])
        where.append((b, len(picked)))
        picked.append(row - starts[b])
    order = sorted(per_batch)
    pieces = [batches[b].take(pa.array(per_batch[b], pa.int64())) for b in order]
    joined = (
        pa.Table.from_batches(pieces, table.schema) if pieces else table.slice(0, 0)
    ).combine_chunks()
    offset, base = 0, {}
    for b in order:
        base[b] = offset
        offset += len(per_batch[b])
    positions = [base[b] + i for b, i in where]
    if positions != list(range(len(positions))):
        joined = joined.take(pa.array(positions, pa.int64()))
    return joined


def as_of(table: pa.Table, tx_time_us: int | None) -> pa.Table:
    """Rows committed at or before transaction time ``tx_time_us`` (all rows when None)."""
    if tx_time_us is None or table.num_rows == 0:
        return table
    bound = pa.scalar(tx_time_us, table.schema.field("tx_time").type)
    return table.filter(pc.less_equal(table.column("tx_time"), bound))


def latest_per(table: pa.Table, key: str = "ref") -> pa.Table:
    """The row with the greatest ``seq`` for each distinct ``key``, in seq order."""
    if table.num_rows <= 1:
        return table
    if pc.count_distinct(table.column(key), mode="all").as_py() == table.num_rows:
        return table  # one version per key: nothing to drop (cheaper than the group-by)
    last = table.group_by(key, use_threads=False).aggregate([("seq", "max")])
    keep = pc.is_in(table.column("seq"), value_set=last.column("seq_max"))
    return table.filter(keep)


def first_per(table: pa.Table, key: str = "ref") -> pa.Table:
    """The row with the smallest ``seq`` for each distinct ``key`` (the first copy), in seq
    order. Returns ``table`` itself when every key is already distinct."""
    if table.num_rows == 0:
        return table
    if pc.count_distinct(table.column(key), mode="all").as_py() == table.num_rows:
        return table
    first = table.group_by(key, use_threads=False).aggregate([("seq", "min")])
    return table.filter(pc.is_in(table.column("seq"), value_set=first.column("seq_min")))


def value_per(table: pa.Table, mode: str, by: str = "run_ref") -> dict[str, float]:
    """One metric value per distinct ``by`` from rows of a single metric key: ``"latest"`` is the
    value with the greatest (``valid_time``, ``seq``); ``"max"``/``"min"``; ``"mean"`` is
    ``sum(values) / len(values)`` summed in seq order, exactly as a Python loop would.
    """
    if table.num_rows == 0:
        return {}
    if mode in ("max", "min"):
        grouped = table.group_by(by, use_threads=False).aggregate([("value", mode)])
        return dict(
            zip(
                grouped.column(by).to_pylist(),
                grouped.column(f"value_{mode}").to_pylist(),
                strict=True,
            )
        )
    if mode == "mean":
        ordered = table.sort_by([(by, "ascending"), ("seq", "ascending")])
        sums: dict[str, list[float]] = {}
        for name, value in zip(
            ordered.column(by).to_pylist(), ordered.column("value").to_pylist(), strict=True
        ):
            sums.setdefault(name, []).append(float(value))
        return {name: sum(values) / len(values) for name, values in sums.items()}
    ordered = table.sort_by([(by, "ascending"), ("valid_time", "ascending"), ("seq", "ascending")])
    last = ordered.group_by(by, use_threads=False).aggregate([("value", "last")])
    return dict(
        zip(last.column(by).to_pylist(), last.column("value_last").to_pylist(), strict=True)
    )
