"""``take_rows`` (chunk-aware take over projection tables) equals Arrow's plain ``take``."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projections import query
from projections.query import take_rows


def _table(sizes: list[int]) -> pa.Table:
    batches, start = [], 0
    for size in sizes:
        ids = list(range(start, start + size))
        batches.append(
            pa.record_batch(
                {
                    "seq": pa.array(ids, pa.int64()),
                    "ref": pa.array([f"r{i % 7}" for i in ids], pa.string()),
                    "value": pa.array([None if i % 5 == 0 else i / 3 for i in ids], pa.float64()),
                }
            )
        )
        start += size
    schema = pa.schema([("seq", pa.int64()), ("ref", pa.string()), ("value", pa.float64())])
    return pa.Table.from_batches(batches, schema)


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 40), min_size=1, max_size=6),
    picks=st.lists(st.integers(0, 10_000), max_size=60),
    ordered=st.booleans(),
    few_per_chunk=st.sampled_from([0, 4, query._FEW_PER_CHUNK, 10**9]),
)
def test_take_rows_equals_take(
    sizes: list[int], picks: list[int], ordered: bool, few_per_chunk: int
) -> None:
    """Both ways of placing rows in chunks (a Python bisect for a few rows per chunk, Arrow
    kernels for more) give Arrow's answer: the threshold is forced to each side."""
    table = _table(sizes)
    if table.num_rows == 0:
        return
    rows = [p % table.num_rows for p in picks]
    if ordered:
        rows.sort()
    expected = table.combine_chunks().take(pa.array(rows, pa.int64()))
    saved = query._FEW_PER_CHUNK
    query._FEW_PER_CHUNK = few_per_chunk
    try:
        got = take_rows(table, rows)
    finally:
        query._FEW_PER_CHUNK = saved
    assert got.schema == table.schema
    assert got.to_pylist() == expected.to_pylist()


def test_take_rows_out_of_bounds_names_the_row() -> None:
    table = _table([3, 4])
    with pytest.raises(IndexError, match="row 7"):
        take_rows(table, [1, 7])
