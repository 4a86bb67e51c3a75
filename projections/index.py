"""Row indexes saved with a projection's chunks: value -> the chunk's rows holding it.

A saved chunk of an indexed projection has, per indexed column, a sidecar Arrow IPC file of one
batch: ``value`` (the column's distinct values, sorted, a null last when there is one) and
``rows`` (``list<int32>``: the chunk's row numbers holding that value, ascending). It is written
uncompressed beside the chunk and memory-mapped on load, so a process answers "which rows carry
run R" by a binary search over the values and one list slice, touching a few pages, instead of
grouping every row of the projection in Python.

Built with Arrow alone (dictionary-encode, sort the distinct values, a stable sort of the
ranks, run ends): no per-row Python at save time either.

For the columns in :data:`CLUSTERED` a chunk also has a clustered copy: each of the chunk's
batches with its rows sorted by that column (stably: row order kept within a value), and a
ranges file (``value``, ``start``, ``end``, sorted by value then start) naming where each
value's rows lie in the copy, one range per batch that has the value. "Every row of metric key
K" then reads K's rows and nothing else (a few slices, in row order), where the chunk itself
holds them one every hundred rows or so and reading them touches nearly every page of the
chunk. Each batch is sorted as it is written, so making the copy holds one batch, not the
chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ledger import arrays

from .base import one_batch
from .query import int64_array

__all__ = [
    "CLUSTERED",
    "INDEXED",
    "INDEX_SCHEMA",
    "RANGES_SCHEMA",
    "ChunkIndex",
    "ClusteredCopy",
    "RowIndex",
    "SavedIndex",
    "build_index",
    "cluster_batch",
    "group_rows",
    "merge_indexes",
    "merge_ranges",
    "partial_index",
]

#: The (projection, column) pairs whose row index is saved with every chunk: the lookups the
#: queries make by run, by ref and by metric key. Other columns are indexed in memory.
INDEXED: dict[str, tuple[str, ...]] = {
    "records": ("run_ref",),
    "stage_metrics": ("run_ref", "key"),
    "runs": ("ref",),
    "stages": ("run_ref",),
}

#: The (projection, column) pairs whose chunks also have a copy clustered by that column's index
#: (see the module text): the metric rows of one key, read by select-best, trends and
#: aggregates. Every column listed here is in :data:`INDEXED` too.
CLUSTERED: dict[str, tuple[str, ...]] = {
    "stage_metrics": ("key",),
}

RANGES_SCHEMA = pa.schema(
    [
        pa.field("value", pa.string()),
        pa.field("start", pa.int64(), nullable=False),
        pa.field("end", pa.int64(), nullable=False),
    ]
)

INDEX_SCHEMA = pa.schema(
    [pa.field("value", pa.string()), pa.field("rows", pa.list_(pa.int32()), nullable=False)]
)


def build_index(column: pa.Array | pa.ChunkedArray) -> pa.RecordBatch:
    """The index batch of ``column`` (see the module text)."""
    return partial_index(column, 0)


def partial_index(column: pa.Array | pa.ChunkedArray, base: int) -> pa.RecordBatch:
    """The index batch of ``column`` whose first row is row ``base`` of its chunk."""
    column = arrays.contiguous(column)
    if len(column) == 0:
        return _empty()
    encoded = pc.dictionary_encode(column)
    dictionary = encoded.dictionary
    by_value = pc.sort_indices(dictionary)  # code of the i-th smallest value
    ranks_in_order = _arange(len(dictionary))
    rank = pc.scatter(ranks_in_order, by_value.cast(pa.int64()))  # code -> rank
    ranks = rank.take(encoded.indices)  # nulls stay null and sort last
    order = pc.sort_indices(ranks)  # stable: row order kept within a value
    runs = pc.run_end_encode(ranks.take(order))
    ends = runs.run_ends.cast(pa.int32())
    offsets = pa.concat_arrays([arrays.array([0], pa.int32()), ends])
    present = runs.values  # ranks present, ascending, then a null for the null rows
    values = dictionary.take(by_value).take(present)  # a null rank takes a null
    positions = order.cast(pa.int32())
    if base:
        positions = pc.add(positions, arrays.scalar(base, pa.int32()))
    rows = pa.ListArray.from_arrays(offsets, positions)
    return pa.RecordBatch.from_arrays([values.cast(pa.string()), rows], schema=INDEX_SCHEMA)


def _arange(n: int) -> pa.Array:
    """0, 1, ..., n - 1 as int32, in Arrow (numpy is not a dependency)."""
    ones = pa.repeat(arrays.scalar(1, pa.int32()), n)
    return pc.subtract(pc.cumulative_sum(ones), arrays.scalar(1, pa.int32()))


def cluster_batch(
    batch: pa.RecordBatch, column: str, base: int
) -> tuple[pa.RecordBatch, pa.RecordBatch]:
    """``batch`` with its rows stably sorted by ``column`` (nulls last), and its ranges: each
    value present and the rows ``[start, end)`` it holds in the sorted batch, offset by ``base``
    (where the sorted batch begins in the clustered copy)."""
    order = pc.sort_indices(batch.column(column))  # stable
    ordered = batch.take(order)
    if not len(ordered):
        return ordered, _no_ranges()
    runs = pc.run_end_encode(ordered.column(column))
    ends = pc.add(runs.run_ends.cast(pa.int64()), arrays.scalar(base, pa.int64()))
    starts = pa.concat_arrays([arrays.array([base], pa.int64()), ends.slice(0, len(ends) - 1)])
    values = runs.values.cast(pa.string())
    return ordered, pa.RecordBatch.from_arrays([values, starts, ends], schema=RANGES_SCHEMA)


def merge_ranges(parts: Sequence[pa.RecordBatch]) -> pa.RecordBatch:
    """The ranges of consecutive sorted batches as one batch, by value (nulls last), then by
    start (the parts are in row order and a part names each value once)."""
    if not parts:
        return _no_ranges()
    table = pa.Table.from_batches(list(parts), RANGES_SCHEMA)
    order = pc.sort_indices(table.column("value"))  # stable: row order kept per value
    return one_batch(table.take(order))


def _no_ranges() -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [arrays.strings([]), arrays.array([], pa.int64()), arrays.array([], pa.int64())],
        schema=RANGES_SCHEMA,
    )


class ClusteredCopy:
    """A chunk's clustered copy (memory-mapped) and its ranges (see the module text)."""

    __slots__ = ("_ends", "_n", "_release", "_starts", "_values", "copy")

    def __init__(
        self, copy: pa.Table, ranges: pa.RecordBatch, release: Callable[[], None] | None = None
    ) -> None:
        self.copy = copy
        self._release = release
        self._values = ranges.column(0)
        self._starts = ranges.column(1)
        self._ends = ranges.column(2)
        self._n = len(self._values) - self._values.null_count  # nulls sort last

    def rows_of(self, value: Any) -> list[pa.Table]:
        """The copy's slices holding ``value``, in row order (empty when there is none)."""
        if value is None:
            lo, hi = self._n, len(self._values)
        elif not isinstance(value, str):
            return []
        else:
            lo = _bound(self._values, self._n, value)
            hi = _bound(self._values, self._n, value, upper=True)
        if lo >= hi:
            return []
        starts = self._starts.slice(lo, hi - lo).to_pylist()
        ends = self._ends.slice(lo, hi - lo).to_pylist()
        return [self.copy.slice(a, b - a) for a, b in zip(starts, ends, strict=True)]

    def read(self, value: Any, columns: Sequence[str]) -> pa.Table | None:
        """The rows of :meth:`rows_of` (only ``columns``) as one table in the process's own
        memory, the copy's mapped pages let go after (see ``release``); None when none holds
        ``value``. The slices are scattered over the copy's batches, and a mapped read of
        each maps much more of the file than it reads."""
        pieces = [piece.select(columns) for piece in self.rows_of(value) if piece.num_rows]
        if not pieces:
            return None
        joined = pa.concat_tables(pieces)
        # concat_arrays copies, even a single array (combine_chunks would keep a lone slice)
        out = pa.Table.from_arrays(
            [pa.concat_arrays(column.chunks) for column in joined.columns], schema=joined.schema
        )
        if self._release is not None:
            self._release()
        return out


def _bound(values: pa.Array, n: int, value: str, *, upper: bool = False) -> int:
    """The first of the ``n`` sorted non-null ``values`` that is not below ``value`` (above it,
    with ``upper``): a binary search (UTF-8 byte order is code point order)."""
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) // 2
        found = values[mid].as_py()
        if found < value or (upper and found == value):
            lo = mid + 1
        else:
            hi = mid
    return lo


#: a compute function given a Python value converts it, and pyarrow's first conversion imports
#: pandas (see ledger.arrays)
_ONE = arrays.scalar(1, pa.int64())


def merge_indexes(parts: Sequence[pa.RecordBatch]) -> pa.RecordBatch:
    """One index batch from the partial indexes of consecutive row ranges (in row order)."""
    if not parts:
        return _empty()
    if len(parts) == 1:
        return parts[0]
    values = pa.concat_arrays([p.column(0) for p in parts])
    lists = pa.concat_arrays([p.column(1) for p in parts])
    order = pc.sort_indices(values)  # stable: parts (row ranges) stay in row order per value
    taken = lists.take(order)
    runs = pc.run_end_encode(values.take(order))
    ends = pc.subtract(runs.run_ends.cast(pa.int64()), _ONE)
    counted = pc.cumulative_sum(pc.list_value_length(taken).cast(pa.int64()))
    offsets = pa.concat_arrays([arrays.array([0], pa.int64()), counted.take(ends)])
    rows = pa.ListArray.from_arrays(offsets.cast(pa.int32()), pc.list_flatten(taken))
    return pa.RecordBatch.from_arrays([runs.values, rows], schema=INDEX_SCHEMA)


def _empty() -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [arrays.strings([]), arrays.array([], pa.list_(pa.int32()))], schema=INDEX_SCHEMA
    )


class ChunkIndex:
    """One saved chunk's index of one column, rows offset by ``base`` (the chunk's first row),
    with the chunk's copy clustered by that column when it has one (``clustered``)."""

    __slots__ = ("_has_null", "_n", "_rows", "_values", "base", "clustered")

    def __init__(
        self, batch: pa.RecordBatch, base: int, clustered: ClusteredCopy | None = None
    ) -> None:
        self.base = base
        self._values = batch.column(0)
        self._rows = batch.column(1)
        self._has_null = bool(self._values.null_count)
        self._n = len(self._values) - (1 if self._has_null else 0)
        self.clustered = clustered

    def _position(self, value: Any) -> int:
        """Where ``value`` is in the sorted values; -1 when the chunk has no row of it."""
        if value is None:
            return self._n if self._has_null else -1
        if not isinstance(value, str):
            return -1
        return self._find(value)

    def get(self, value: Any) -> list[int] | None:
        i = self._position(value)
        if i < 0:
            return None
        rows = self._rows[i].values
        if self.base:
            rows = pc.add(rows.cast(pa.int64()), int64_array([self.base])[0])
        return rows.to_pylist()  # type: ignore[no-any-return]

    def _find(self, value: str) -> int:
        lo = _bound(self._values, self._n, value)
        return lo if lo < self._n and self._values[lo].as_py() == value else -1

    def rows_of(self, value: Any) -> list[pa.Table]:
        """The chunk's rows holding ``value``, in row order, as slices of the clustered copy
        (the copy must be there)."""
        assert self.clustered is not None
        return self.clustered.rows_of(value)

    def all_values(self) -> list[Any]:
        """Every distinct value of the chunk (reads the whole values column)."""
        return self._values.to_pylist()  # type: ignore[no-any-return]


class SavedIndex:
    """The saved indexes of one column over consecutive chunks: rows ``0 .. rows - 1``."""

    __slots__ = ("chunks", "rows")

    def __init__(self, chunks: Sequence[ChunkIndex], rows: int) -> None:
        self.chunks = tuple(chunks)
        self.rows = rows

    def get(self, value: Any) -> list[int]:
        out: list[int] = []
        for chunk in self.chunks:
            found = chunk.get(value)
            if found:
                out.extend(found)
        return out

    @property
    def clustered(self) -> bool:
        """Whether every chunk has its copy clustered by this column (:meth:`rows_of`)."""
        return all(chunk.clustered is not None for chunk in self.chunks)

    def rows_of(self, value: Any) -> list[pa.Table]:
        """The saved rows holding ``value``, in row order, as slices of the chunks' clustered
        copies (one per chunk that has any): what ``take(get(value))`` gives, reading only those
        rows. Only when :attr:`clustered`."""
        return [piece for chunk in self.chunks for piece in chunk.rows_of(value) if piece.num_rows]

    def read_rows(self, value: Any, columns: Sequence[str]) -> list[pa.Table]:
        """:meth:`rows_of` (only ``columns``), each chunk's rows copied into the process's
        memory one chunk after the other (:meth:`ClusteredCopy.read`): the process maps at
        most one copy's slices at a time."""
        out = []
        for chunk in self.chunks:
            assert chunk.clustered is not None
            found = chunk.clustered.read(value, columns)
            if found is not None:
                out.append(found)
        return out

    def all_values(self) -> set[Any]:
        """Every distinct value over the chunks (reads every values column)."""
        return {value for chunk in self.chunks for value in chunk.all_values()}


class RowIndex(Mapping[Any, list[int]]):
    """Value -> ascending row numbers: a saved index for the saved rows plus an in-memory dict
    for the rows folded after them. Looked up value by value (a lookup touches only that
    value's entries); iterating lists every value (slow, for tests and small projections)."""

    def __init__(self, saved: SavedIndex | None, tail: dict[Any, list[int]]) -> None:
        self.saved = saved
        self.tail = tail
        self._hits: dict[Any, list[int]] = {}

    def _lookup(self, value: Any) -> list[int] | None:
        hit = self._hits.get(value)
        if hit is not None:
            return hit
        found = self.saved.get(value) if self.saved is not None else []
        more = self.tail.get(value)
        if more:
            found = found + more
        if not found:
            return None
        if len(self._hits) > 4096:
            self._hits.clear()
        self._hits[value] = found
        return found

    def extend(self, values: pa.Array | pa.ChunkedArray, base: int) -> None:
        """Index rows ``base ..`` (appended to the projection) in the in-memory part."""
        group_rows(values, base, self.tail)
        self._hits.clear()

    def __getitem__(self, value: Any) -> list[int]:
        found = self._lookup(value)
        if found is None:
            raise KeyError(value)
        return found

    def get(self, value: Any, default: Any = None) -> Any:
        found = self._lookup(value)
        return default if found is None else found

    def __contains__(self, value: object) -> bool:
        return self._lookup(value) is not None

    def _keys(self) -> list[Any]:
        keys = self.saved.all_values() if self.saved is not None else set()
        keys.update(self.tail)
        return sorted(keys, key=lambda k: (k is None, "" if k is None else k))

    def __iter__(self) -> Iterator[Any]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())


def group_rows(
    values: pa.ChunkedArray | pa.Array, base: int, mapping: dict[Any, list[int]]
) -> None:
    """Add ``base + i`` to ``mapping[values[i]]`` for every i, in ascending order per value
    (None for nulls). Equal to the plain loop, done with Arrow: dictionary-encode, a stable sort
    of the codes, and the run ends of the sorted codes; Python touches each distinct value once.
    """
    values = arrays.contiguous(values)
    if len(values) == 0:
        return
    encoded = pc.dictionary_encode(values)
    codes = encoded.indices
    order = pc.sort_indices(codes)  # stable: row order kept within a value; nulls last
    runs = pc.run_end_encode(codes.take(order))
    ends = runs.run_ends.to_pylist()
    run_codes = runs.values.to_pylist()
    dictionary = encoded.dictionary.to_pylist()
    rows = (
        pc.add(order, arrays.scalar(base, pa.uint64())).to_pylist() if base else order.to_pylist()
    )
    start = 0
    for end, code in zip(ends, run_codes, strict=True):
        value = None if code is None else dictionary[code]
        found = mapping.get(value)
        if found is None:
            mapping[value] = rows[start:end]
        else:
            found.extend(rows[start:end])
        start = end
