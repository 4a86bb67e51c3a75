"""What a projection is: a pure, vectorised fold of ledger events into an Arrow table.

Every projection here is *append-only*: ``apply`` selects the events of the kinds it reads and
the columns it keeps (with Arrow compute, no per-event Python), and appends them to its state.
Every row keeps its ``seq`` and ``tx_time``, so "the latest version of each key" and "as of
transaction time T" are answered at query time by :mod:`projections.query`, and a projection
never rewrites a row it has folded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["LOCATOR_FIELDS", "Projection"]

#: Columns the engine adds to every event it hands to ``apply``: where its row lives in the
#: ledger (segment index, batch byte offset, row within the batch), so a body can be fetched
#: without keeping a copy in the projection.
LOCATOR_FIELDS = (
    pa.field("segment", pa.int32(), nullable=False),
    pa.field("batch_offset", pa.int64(), nullable=False),
    pa.field("row", pa.int32(), nullable=False),
)


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
        self._kind_set = pa.array(self.kinds, pa.string())
        self.reset()

    # ------------------------------------------------------------------ state

    def reset(self) -> None:
        """Forget everything folded: back to the empty table and checkpoint 0."""
        self._chunks: list[pa.RecordBatch] = []
        self._table: pa.Table | None = None
        self.checkpoint = 0
        self.generation = 0  # bumped on every change; lets callers cache derived indexes

    def load(self, table: pa.Table, checkpoint: int) -> None:
        """Adopt a saved state and its checkpoint."""
        self.reset()
        table = table.cast(self.schema)
        self._chunks = table.to_batches()
        self._table = table
        self.checkpoint = checkpoint
        self.generation += 1

    def table(self) -> pa.Table:
        """The whole state as one table (cached until the next ``apply``)."""
        if self._table is None:
            table = pa.Table.from_batches(self._chunks, self.schema)
            if len(self._chunks) > 16:
                table = table.combine_chunks()
                self._chunks = table.to_batches()
            self._table = table
        return self._table

    @property
    def num_rows(self) -> int:
        return sum(c.num_rows for c in self._chunks)

    # ------------------------------------------------------------------ fold

    def select(self, events: pa.RecordBatch) -> pa.RecordBatch | None:
        """The rows of ``events`` this projection keeps, with its columns."""
        kind = events.column("kind")
        mask = pc.is_in(kind, value_set=self._kind_set)
        for prefix in self.kind_prefixes:
            mask = pc.or_(mask, pc.starts_with(kind, prefix))
        if not pc.any(mask).as_py():
            return None
        chosen = events.filter(mask)
        return pa.RecordBatch.from_arrays(
            [chosen.column(c) for c in self.columns], schema=self.schema
        )

    def apply(self, events: pa.RecordBatch) -> int:
        """Fold ``events`` (ledger columns plus locator columns, seq ascending).

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
        return kept.num_rows

    def apply_all(self, batches: Sequence[pa.RecordBatch]) -> int:
        return sum(self.apply(b) for b in batches)
