"""Vectorised reads over projection tables: as-of filtering and latest version per key."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["as_of", "latest_per"]


def as_of(table: pa.Table, tx_time_us: int | None) -> pa.Table:
    """Rows committed at or before transaction time ``tx_time_us`` (all rows when None)."""
    if tx_time_us is None or table.num_rows == 0:
        return table
    bound = pa.scalar(tx_time_us, table.schema.field("tx_time").type)
    return table.filter(pc.less_equal(table.column("tx_time"), bound))


def latest_per(table: pa.Table, key: str = "ref") -> pa.Table:
    """The row with the greatest ``seq`` for each distinct ``key``, in seq order."""
    if table.num_rows == 0:
        return table
    last = table.group_by(key, use_threads=False).aggregate([("seq", "max")])
    keep = pc.is_in(table.column("seq"), value_set=last.column("seq_max"))
    return table.filter(keep)
