"""What a projection is: a pure, vectorised fold of ledger events into an Arrow table.

Every projection here is *append-only*: ``apply`` selects the events of the kinds it reads and
the columns it keeps (with Arrow compute, no per-event Python), and appends them to its state.
Every row keeps its ``seq`` and ``tx_time``, so "the latest version of each key" and "as of
transaction time T" are answered at query time by :mod:`projections.query`, and a projection
never rewrites a row it has folded.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import ClassVar, TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

from ledger import arrays

__all__ = ["COMPACT_ROWS", "LOCATOR_FIELDS", "Events", "Projection", "batch_kinds", "one_batch"]

#: Columns the engine adds to every event it hands to ``apply``: where its row lives in the
#: ledger (segment index, batch byte offset, row within the batch), so a body can be fetched
#: without keeping a copy in the projection.
LOCATOR_FIELDS = (
    pa.field("segment", pa.int32(), nullable=False),
    pa.field("batch_offset", pa.int64(), nullable=False),
    pa.field("row", pa.int32(), nullable=False),
)


_EPOCHS = itertools.count(1)

#: What ``apply`` folds: one ledger batch, or a table of consecutive ones.
Events: TypeAlias = pa.RecordBatch | pa.Table

#: Chunks of at least this many rows are kept as they are when the state is compacted: Arrow
#: compute over a few dozen large chunks costs about the same as over one, and copying them
#: would not pay.
COMPACT_ROWS = 16_384


class Projection:
    """Base class: declare ``name``, ``version``, ``kinds`` and ``columns``.

    ``columns`` are names of ledger columns (or of :data:`LOCATOR_FIELDS`) kept, in order;
    ``schema`` is derived from them. Subclasses rarely override ``apply``.
    """

    name: ClassVar[str]
    version: ClassVar[int]
    kinds: ClassVar[tuple[str, ...]]
    columns: ClassVar[tuple[str, ...]]
    #: kinds matched by prefix (e.g. ``"record."``) in addition to ``kinds``
    kind_prefixes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, event_schema: pa.Schema) -> None:
        fields = {f.name: f for f in event_schema}
        fields.update({f.name: f for f in LOCATOR_FIELDS})
        self.schema = pa.schema([fields[c] for c in self.columns])
        self._kind_set = arrays.strings(self.kinds)
        self._reads: dict[str, bool] = {}
        self.reset()

    # ------------------------------------------------------------------ state

    def reset(self) -> None:
        """Forget everything folded: back to the empty table and checkpoint 0."""
        self._chunks: list[pa.RecordBatch] = []
        self._table: pa.Table | None = None
        self.checkpoint = 0
        self.generation = 0  # bumped on every change; lets callers cache derived indexes
        #: a new value whenever rows may have been replaced rather than appended (reset, load):
        #: an index derived from rows 0..n stays valid while the epoch is unchanged
        self.epoch = next(_EPOCHS)

    def load(self, table: pa.Table, checkpoint: int) -> None:
        """Adopt a saved state and its checkpoint."""
        self.reset()
        if not table.schema.equals(self.schema, check_metadata=True):
            # a cast of a table that already has the schema still reads its buffers (it paged
            # in 100 MB of a memory-mapped state at 100k runs): only cast when it differs
            table = table.cast(self.schema)
        self._chunks = table.to_batches()
        self._table = table
        self.checkpoint = checkpoint
        self.generation += 1
        self.epoch = next(_EPOCHS)

    def drain(self) -> list[pa.RecordBatch]:
        """Hand over the rows folded so far and forget them, keeping the checkpoint: a rebuild
        that saves as it goes writes them out instead of holding the whole state."""
        chunks, self._chunks = self._chunks, []
        self._table = None
        self.generation += 1
        return chunks

    def table(self) -> pa.Table:
        """The whole state as one table (cached until the next ``apply``)."""
        if self._table is None:
            if len(self._chunks) > 16:
                self._chunks = _compacted(self._chunks, self.schema)
            self._table = pa.Table.from_batches(self._chunks, self.schema)
        return self._table

    @property
    def num_rows(self) -> int:
        return sum(c.num_rows for c in self._chunks)

    # ------------------------------------------------------------------ fold

    def select(self, events: Events) -> pa.RecordBatch | None:
        """The rows of ``events`` this projection keeps, with its columns, as one batch.

        The kinds of a batch are dictionary-encoded once and shared by every projection folding
        it (:func:`batch_kinds`): a projection that reads none of them costs a set lookup, one
        that reads all of them takes its columns as they are, and a mixed batch is filtered by
        comparing small integer codes, after the projection's columns are picked (so columns it
        does not keep, such as ``body``, are never copied). ``events`` may be a table of many
        ledger batches (the engine folds them in large groups); the kept rows are then copied
        into one contiguous batch.
        """
        codes, present = batch_kinds_encoded(events)
        wanted = [i for i, k in enumerate(present) if self.reads(k)]
        if not wanted:
            return None
        columns = [events.column(c) for c in self.columns]
        if len(wanted) == len(present) and codes.null_count == 0:
            if isinstance(events, pa.Table):
                return one_batch(pa.Table.from_arrays(columns, schema=self.schema))
            return pa.RecordBatch.from_arrays(columns, schema=self.schema)
        if len(wanted) == 1:
            mask = pc.equal(codes, arrays.scalar(wanted[0], codes.type))
        else:
            mask = pc.is_in(codes, value_set=arrays.array(wanted, codes.type))
        return _filtered(columns, self.schema, mask)

    def reads(self, kind: str) -> bool:
        """Whether this projection folds events of ``kind``."""
        found = self._reads.get(kind)
        if found is None:
            found = kind in self.kinds or any(kind.startswith(p) for p in self.kind_prefixes)
            self._reads[kind] = found
        return found

    def apply(self, events: Events) -> int:
        """Fold ``events`` (ledger columns plus locator columns, seq ascending; one batch or a
        table of consecutive batches).

        Rows at or below the checkpoint are skipped, so re-applying an applied batch changes
        nothing. Returns the number of rows kept.
        """
        if events.num_rows == 0:
            return 0
        seq = events.column("seq")
        last = seq[events.num_rows - 1].as_py()
        if last <= self.checkpoint:
            return 0
        if seq[0].as_py() <= self.checkpoint:
            events = events.filter(pc.greater(seq, self.checkpoint))
        kept = self.select(events)
        self.checkpoint = last
        if kept is None or kept.num_rows == 0:
            return 0
        self._chunks.append(kept)
        self._table = None
        self.generation += 1
        rows: int = kept.num_rows
        return rows

    def apply_all(self, batches: Sequence[pa.RecordBatch]) -> int:
        return sum(self.apply(b) for b in batches)


_KINDS_CACHE: list[tuple[Events, pa.Array, list[str]]] = []


def batch_kinds_encoded(events: Events) -> tuple[pa.Array, list[str]]:
    """``events``' ``kind`` column dictionary-encoded: (int32 codes, distinct kinds in first-seen
    order; code ``i`` is kind ``i``, nulls stay null).

    Cached for the last batch seen (by identity; the cache keeps the immutable batch alive, so
    the identity cannot be reused), since the engine hands the same batch to every projection.
    """
    cached = _KINDS_CACHE[0] if _KINDS_CACHE else None
    if cached is not None and cached[0] is events:
        return cached[1], cached[2]
    kind = arrays.contiguous(events.column("kind"))
    encoded = pc.dictionary_encode(kind)
    found = (encoded.indices, encoded.dictionary.to_pylist())
    _KINDS_CACHE[:] = [(events, *found)]
    return found


def batch_kinds(events: Events) -> list[str]:
    """The distinct kinds of ``events`` (nulls skipped), in first-seen order."""
    return [k for k in batch_kinds_encoded(events)[1] if k is not None]


def _filtered(
    columns: list[pa.Array | pa.ChunkedArray], schema: pa.Schema, mask: pa.Array
) -> pa.RecordBatch:
    """The rows of ``columns`` where ``mask`` is true, as one batch. Contiguous columns are
    filtered together (one selection for all); a chunked one (the bodies of a group of ledger
    batches) is filtered on its own, so the contiguous ones are not cut at its chunk bounds."""
    out: list[pa.Array | None] = [None] * len(columns)
    flat = [
        i for i, c in enumerate(columns) if not isinstance(c, pa.ChunkedArray) or c.num_chunks == 1
    ]
    if flat:
        part = pa.RecordBatch.from_arrays(
            [_only_chunk(columns[i]) for i in flat], names=[schema.names[i] for i in flat]
        ).filter(mask)
        for j, i in enumerate(flat):
            out[i] = part.column(j)
    for i, column in enumerate(columns):
        if out[i] is None:
            out[i] = pc.filter(column, mask).combine_chunks()
    return pa.RecordBatch.from_arrays(out, schema=schema)


def _only_chunk(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    return column.chunk(0) if isinstance(column, pa.ChunkedArray) else column


def one_batch(rows: pa.RecordBatch | pa.Table) -> pa.RecordBatch:
    """``rows`` as one contiguous record batch."""
    if isinstance(rows, pa.RecordBatch):
        return rows
    if all(column.num_chunks == 1 for column in rows.columns):
        return pa.RecordBatch.from_arrays([c.chunk(0) for c in rows.columns], schema=rows.schema)
    return pa.RecordBatch.from_arrays(
        [column.combine_chunks() for column in rows.columns], schema=rows.schema
    )


def _compacted(chunks: list[pa.RecordBatch], schema: pa.Schema) -> list[pa.RecordBatch]:
    """``chunks`` with every run of consecutive small chunks (under :data:`COMPACT_ROWS` rows)
    merged into one, so per-chunk overhead stays bounded without copying large chunks."""
    out: list[pa.RecordBatch] = []
    small: list[pa.RecordBatch] = []

    def merge() -> None:
        if small:
            out.append(one_batch(pa.Table.from_batches(small, schema)))
            small.clear()

    for chunk in chunks:
        if chunk.num_rows >= COMPACT_ROWS:
            merge()
            out.append(chunk)
        else:
            small.append(chunk)
    merge()
    return out
