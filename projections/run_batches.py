"""``run_batches``: where each run's events are in the ledger, so one run's history reads only
the batches that hold it.

A row per *stretch*: consecutive events of one batch with the same (non-null) ``run_ref``. A
stretch starts at an event whose ``run_ref`` is set and differs from the event before it, or
that is the first event of its batch. A row keeps the stretch's first ``seq`` and its
``tx_time`` (one per batch: a batch is one commit), the run, and the batch's locator
(``segment``, ``batch_offset``). Every event whose ``run_ref`` is R therefore lies in a batch
named by one of R's rows, and a reader that filters those batches by ``run_ref`` finds exactly
the events a scan of the whole ledger finds. A batch holds a few runs, each usually in one
stretch: the table has about one row per run per batch it was written in, not one per event.

The fold is not a selection of events by kind, so ``run_batches`` is not one of
:data:`~projections.engine.ALL_PROJECTIONS` (whose folds are declarative): :class:`RunLocator`
keeps it with a projector of its own, saved beside the others (rebuildable from the ledger like
them, loaded memory-mapped, and caught up from its checkpoint). A lookup compares the run
column with the run asked for in Arrow: a few bytes per row, about one row per run.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ledger import Head, LedgerReader, arrays

from .base import Events, Projection, one_batch
from .engine import Projector

__all__ = ["RUN_BATCHES", "SAVE_AFTER", "RunBatchesProjection", "RunLocator", "stretch_starts"]

RUN_BATCHES = "run_batches"

#: A locator that folded at least this many events past its saved checkpoint saves itself, so
#: the next process does not fold them again (a smaller lag is folded again, cheaply); a loaded
#: locator fewer than this many events behind the head is not folded (the caller reads them).
SAVE_AFTER = 8_192


class RunBatchesProjection(Projection):
    name = RUN_BATCHES
    version = 1
    kinds = ()  # every kind: the rows are chosen by run and batch, not by kind
    columns = ("seq", "tx_time", "run_ref", "segment", "batch_offset")

    def reads(self, kind: str) -> bool:
        return True

    def select(self, events: Events) -> pa.RecordBatch | None:
        """The first event of every stretch (see the module text), with this table's columns."""
        if events.num_rows == 0:
            return None
        run = arrays.contiguous(events.column("run_ref"))
        keep = pc.and_(
            stretch_starts(
                run,
                arrays.contiguous(events.column("segment")),
                arrays.contiguous(events.column("batch_offset")),
            ),
            pc.is_valid(run),
        )
        columns = [arrays.contiguous(events.column(c)) for c in self.columns]
        kept = pa.RecordBatch.from_arrays(columns, schema=self.schema).filter(keep)
        return one_batch(kept) if kept.num_rows else None


def stretch_starts(run: pa.Array, segment: pa.Array, offset: pa.Array) -> pa.Array:
    """True where an event does not continue the stretch of the event before it: the first
    event, a batch's first event, or a ``run_ref`` other than the previous one (nulls differ
    from everything; null rows are dropped by the caller)."""
    n = len(run)
    if n <= 1:
        return arrays.array([True] * n, pa.bool_())

    def same(column: pa.Array) -> pa.Array:
        """Row i + 1 equals row i (a null equals nothing)."""
        equal = pc.equal(column.slice(1), column.slice(0, n - 1))
        return pc.fill_null(equal, arrays.scalar(False, pa.bool_()))

    continues = pc.and_(pc.and_(same(run), same(offset)), same(segment))
    return pa.concat_arrays([arrays.array([True], pa.bool_()), pc.invert(continues)])


class RunLocator:
    """The ``run_batches`` projection of one workspace: which ledger batches hold a run's events.

    Loaded from its saved state (memory-mapped) on first use and caught up to the head asked
    for then. Later, a locator behind the head by fewer than :data:`SAVE_AFTER` events is not
    folded again: :meth:`locate` says up to which seq its answer is complete, and the caller
    reads the few batches after it (one pass over the new events, not a fold and a read). A
    larger lag is folded and saved. A missing, damaged or stale saved state is rebuilt by the
    projector (it folds the ledger from the start), so a lookup never answers from fewer
    events than the head holds.
    """

    def __init__(
        self, reader: LedgerReader, root: Path | str, *, save_after: int = SAVE_AFTER
    ) -> None:
        self.projector = Projector(reader, root, classes=(RunBatchesProjection,))
        self.save_after = save_after
        self._lock = threading.Lock()
        self._projection: Projection | None = None
        self._unsaved = 0  # events folded here since the state was loaded or saved

    def locate(
        self, run_ref: str, head: Head, upto_us: int | None = None
    ) -> tuple[list[tuple[int, int, int]], int]:
        """``(located, complete_to)``: ``(segment, batch offset, first seq of the run there)`` of
        every committed batch up to seq ``complete_to`` (at most ``head``'s; with ``upto_us``,
        committed at or before it) holding an event whose ``run_ref`` is ``run_ref``, in log
        order, each batch once. Events after ``complete_to`` (up to the head) are not located."""
        with self._lock:
            projection = self._caught_up(head)
            table = projection.table()
            complete_to = min(projection.checkpoint, head.seq)
        if table.num_rows == 0:
            return [], complete_to
        found = table.filter(pc.equal(table.column("run_ref"), arrays.scalar(run_ref, pa.string())))
        seqs = found.column("seq").to_pylist()
        segments = found.column("segment").to_pylist()
        offsets = found.column("batch_offset").to_pylist()
        times = (
            pc.cast(found.column("tx_time"), pa.int64()).to_pylist()
            if upto_us is not None
            else None
        )
        out: list[tuple[int, int, int]] = []
        seen: set[tuple[int, int]] = set()
        for i, seq in enumerate(seqs):
            if seq > complete_to or (
                times is not None and upto_us is not None and times[i] > upto_us
            ):
                continue
            key = (segments[i], offsets[i])
            if key not in seen:
                seen.add(key)
                out.append((segments[i], offsets[i], seq))
        out.sort(key=lambda located: located[2])
        return out, complete_to

    def rebuild(self) -> int:
        """Fold the locator again from the first event and save it (what ``projections
        rebuild`` does for the other projections); returns the events folded."""
        with self._lock:
            stats = self.projector.rebuild()
            self._projection = None
            self._unsaved = 0
        return stats.events

    def _caught_up(self, head: Head) -> Projection:
        """The projection, loaded (and caught up to ``head``) on first use; later caught up only
        when at least :data:`SAVE_AFTER` events behind, then saved."""
        projection = self._projection
        if projection is None:
            self._unsaved += self.projector.catch_up((RUN_BATCHES,), head)
            projection = self._projection = self.projector.get(RUN_BATCHES, head)
        elif head.seq - projection.checkpoint >= self.save_after:
            self._unsaved += self.projector.catch_up((RUN_BATCHES,), head)
        if self._unsaved >= self.save_after:
            self._save()
        return projection

    def _save(self) -> None:
        try:
            self.projector.save([RUN_BATCHES])
        except OSError:  # a read-only workspace: the next process folds the lag again
            return
        self._unsaved = 0
