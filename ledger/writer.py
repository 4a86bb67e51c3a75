"""The ledger: buffered appends, group commit under an OS file lock, segments that roll.

A :class:`Ledger` buffers events as plain Python values and commits them as one record batch
(group commit). A commit takes the workspace's ledger lock (``flock`` on ``LOCK``), re-reads
the published head, assigns the gap-free ``seq`` and a ``tx_time`` never earlier than the
previous commit's, appends the sealed batch to the active segment, publishes the new head and
releases the lock. Several processes may write at once; each holds the lock for one commit.

Durability modes:

``flush`` (default)
    appends are buffered for at most ``buffer_max_events`` events or ``buffer_max_ms``
    milliseconds (a background thread commits an aged buffer); every commit is written to the
    OS at once; ``flush()``, ``close()`` and interpreter exit commit the buffer. A killed
    process loses at most that window. The segment is fsynced by the first commit (or the
    background thread) after this writer's oldest unsynced commit is ``sync_interval_ms``
    old, at every roll and at ``close()``: an OS crash or power loss loses at most the commits
    of the last ``sync_interval_ms`` (plus the buffer window); after the restart, recovery
    drops them (reported) instead of calling the ledger damaged.
``fsync``
    every ``append``/``append_many`` call commits at once and fsyncs the segment before it
    returns, so a returned append survives a power loss.

A failed fsync is never retried: the writer that saw it is closed for good.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import logging
import os
import sys
import threading
import time
import weakref
from array import array
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc

from . import arrays
from .errors import (
    DurabilityError,
    LedgerClosedError,
    LedgerError,
    LedgerIOError,
    LedgerValidationError,
)
from .fs import FileSystem
from .head import Head, open_head, read_head, write_head
from .publish import publish_soon, wait_published
from .reader import RESUME_MARKS, LedgerReader, _active_stamp
from .recovery import RecoveryReport, now_us, recover
from .schema import EVENT_SCHEMA, PendingEvent, check_events
from .segment import EOS, SCHEMA_MESSAGE, encode_batch, segment_name

__all__ = ["CommitGuard", "CommitInfo", "Durability", "Ledger"]

LOCK_NAME = "LOCK"
COLUMNS_BATCH_ROWS = 262_144  # rows per commit of :meth:`Ledger.append_columns`
#: how long ``Ledger.close`` waits for the Parquet copies of the segments it sealed (seconds)
CLOSE_PUBLISH_WAIT_S = 60.0


class Durability:
    FLUSH = "flush"
    FSYNC = "fsync"
    ALL = ("flush", "fsync")


@dataclass(frozen=True, slots=True)
class CommitInfo:
    """Where one commit landed."""

    first_seq: int
    count: int
    segment: str
    offset: int
    tx_time: int
    durability: str  # "FLUSHED" or "FSYNCED"


class CommitGuard(Protocol):
    """Checks a batch against what other writers committed, under the commit lock.

    ``before_commit`` gets the events about to be committed and the head they will follow
    (read under the lock: nobody else can commit until this commit is done) and returns the
    events to write, a subset in order (it may read the committed batches it has not seen,
    which the log's append-only order keeps bounded). ``after_commit`` is told the head a
    successful commit published and how many events it wrote."""

    def before_commit(
        self, ledger: Ledger, events: list[PendingEvent], head: Head
    ) -> list[PendingEvent]: ...

    def after_commit(self, head: Head, count: int) -> None: ...


_US = pa.timestamp("us", tz="UTC")
_EVENT_ROW = pa.struct(tuple(EVENT_SCHEMA)[2:])


class _CutBatch:
    """Buffered events cut off, in order, as the batch of one commit.

    The buffer is cut under the short buffer lock and committed under the commit lock, so
    appends never wait for a commit's encoding or I/O. Batches commit in the order they were
    cut; a commit that writes nothing puts its events back in front of the next batch (or of
    the buffer). ``info``/``error`` tell the caller that cut it what became of it when another
    thread committed it first.
    """

    __slots__ = ("error", "events", "info")

    def __init__(self, events: list[PendingEvent]) -> None:
        self.events = events
        self.info: CommitInfo | None = None
        self.error: BaseException | None = None


#: Events a process builds without pyarrow's converter before the next append readies it
#: (:func:`warm_conversion`). pyarrow imports pandas, when it is installed, on its first
#: conversion of Python values: 0.25 s here (1.4 s on a loaded machine) and about 50 MiB. The
#: direct build (:func:`ledger.arrays.direct`) costs 0.5-0.9 us more per event than the
#: converter (about 1.0 against 0.4-0.7 in a 1,024-event commit here), so this many events
#: cost about what the import does: a process that writes fewer never pays for pandas (a
#: training job, a CLI write, a 27,000-event ingest), and one that writes more pays for it
#: once, after that, at most twice the cheaper of the two choices made knowing its total in
#: advance.
DIRECT_BUDGET = 524_288
_WARM = [False]
_DIRECT_BUILT = [0]


def warm_conversion() -> None:
    """Ready pyarrow's converter in the calling thread (see ``DIRECT_BUDGET``).

    Called by the append that finds the budget spent, before it buffers its events: paid
    inside a commit, the import would hold back every event of the flush window; paid by that
    append, no acknowledged event waits for it."""
    if not _WARM[0]:
        if not arrays.converter_ready():
            pa.array([0])
        _WARM[0] = True


class Ledger(LedgerReader):
    """Read and write the ledger under ``root`` (usually ``<workspace>/ledger``)."""

    def __init__(
        self,
        root: Path | str,
        *,
        durability: str = Durability.FLUSH,
        buffer_max_events: int = 1024,
        buffer_max_ms: float = 50.0,
        roll_bytes: int = 64 * 1024 * 1024,
        roll_seconds: float | None = 24 * 3600.0,
        read_only: bool = False,
        fs: FileSystem | None = None,
        sync_interval_ms: float | None = 1000.0,
    ) -> None:
        super().__init__(Path(root))
        if durability not in Durability.ALL:
            raise LedgerError(
                f"Unknown durability mode {durability!r}; expected one of {Durability.ALL}.",
                code="ledger_invalid_durability",
                value=durability,
            )
        if buffer_max_events < 1 or buffer_max_ms <= 0:
            raise LedgerError(
                "buffer_max_events must be >= 1 and buffer_max_ms > 0, got "
                f"{buffer_max_events} and {buffer_max_ms}.",
                code="ledger_invalid_buffer",
            )
        self.durability = durability
        self.buffer_max_events = buffer_max_events
        self.buffer_max_ms = buffer_max_ms
        self.roll_bytes = roll_bytes
        self.roll_seconds = roll_seconds
        self.read_only = read_only
        self.sync_interval_ms = sync_interval_ms
        self.fs = fs or FileSystem()
        self._dirty_since: float | None = None  # monotonic time of the oldest unsynced commit
        # Two locks: ``_lock`` (held for microseconds) guards the buffer and the queue of cut
        # batches; ``_commit_lock`` serializes commits and guards the files and the head.
        # Order: ``_commit_lock`` may take ``_lock``, never the reverse.
        self._lock = threading.RLock()
        self._commit_lock = threading.RLock()
        self._buffer: list[PendingEvent] = []
        self._buffered_since = 0.0
        self._commit_queue: deque[_CutBatch] = deque()
        self._lock_fd: int | None = None
        self._head_fd: int | None = None
        self._seg_fd: int | None = None
        self._seg_index = -1
        self._head: Head | None = None  # the head as this writer last saw or wrote it
        self._recovered = False
        self._closed = False
        self._fatal: BaseException | None = None
        self._deferred: BaseException | None = None
        self._timer_running = False
        self._wake = threading.Event()
        self.last_recovery: RecoveryReport | None = None
        self.commits = 0
        self.guard: CommitGuard | None = None  # see :class:`CommitGuard`
        _LIVE.add(self)

    # ------------------------------------------------------------------ appending

    @property
    def buffered(self) -> int:
        """Events appended but not committed yet (buffered, or cut off for a commit)."""
        return len(self._buffer) + sum(len(cut.events) for cut in tuple(self._commit_queue))

    def append(self, event: PendingEvent) -> CommitInfo | None:
        """Buffer one event; commits when the buffer is full (or at once in ``fsync`` mode).
        Returns the commit when one happened."""
        return self.append_many((event,))

    def append_many(
        self, events: Sequence[PendingEvent] | Iterable[PendingEvent]
    ) -> CommitInfo | None:
        """Buffer events in order; they are committed together or with later ones.

        Only the buffer lock is taken, so a commit in progress on another thread (the background
        timer's) does not delay this call, unless this call fills the buffer: then it commits
        before it returns, and the commit it returns ends with these events.

        Every event is checked against the event row first (:func:`~ledger.schema.check_events`):
        a call with one that does not fit raises :class:`LedgerValidationError` and buffers
        nothing, so no later commit can fail on it."""
        self._check_writable()
        return self._buffer_rows(check_events(events))

    def append_fitted(self, events: Sequence[PendingEvent]) -> CommitInfo | None:
        """:meth:`append_many` of events (a list or tuple) its caller built to fit the event
        row, without the check of :func:`~ledger.schema.check_events`: tuples whose strings
        encode as UTF-8, whose ints are in int64, whose value is a float or None and whose
        body is bytes (as a record store builds them from records it has just encoded:
        encoding refuses strings that UTF-8 cannot hold). Anything else belongs in
        :meth:`append_many`."""
        if self._fatal is not None or self._closed or self.read_only:
            self._check_writable()
        return self._buffer_rows(events)

    def _buffer_rows(self, rows: Sequence[PendingEvent]) -> CommitInfo | None:
        """Buffer checked rows; commit when the buffer is full (or at once in ``fsync``
        mode)."""
        if not _WARM[0] and _DIRECT_BUILT[0] >= DIRECT_BUDGET:
            warm_conversion()
        with self._lock:
            if self._deferred is not None:
                self._raise_deferred()
            buffer = self._buffer
            if not buffer:
                self._buffered_since = time.monotonic()
            buffer.extend(rows)
            if not buffer:
                return None
            if len(buffer) < self.buffer_max_events and self.durability != Durability.FSYNC:
                cut = None
            else:
                cut = self._cut_buffer()
        if cut is None:
            if not self._timer_running:
                self._ensure_timer()
            return None
        info = self._commit_through(cut)
        if self._dirty_since is not None and not self._timer_running:
            self._ensure_timer()
        return info

    def append_columns(
        self, columns: pa.Table | pa.RecordBatch, *, batch_rows: int = COLUMNS_BATCH_ROWS
    ) -> CommitInfo | None:
        """Commit events given as Arrow columns, after everything buffered before them: the
        columns of the event row from ``kind`` to ``body`` (no ``seq``/``tx_time``: the
        commit assigns them), by name, of the event row's types.

        The bulk path: no Python object per event. The columns are checked whole first
        (:func:`~ledger.schema.check_columns`); a call that does not fit raises
        :class:`LedgerValidationError` and writes nothing. They are committed in batches of
        up to ``batch_rows`` rows (one commit each); returns the last commit (None for no
        rows). The commit guard sees these commits with no events to filter (it still learns
        what other writers committed before them)."""
        self._check_writable()
        table = check_columns(columns)
        if batch_rows < 1:
            raise LedgerError(
                f"batch_rows must be >= 1, got {batch_rows}.",
                code="ledger_invalid_buffer",
                value=batch_rows,
            )
        slices = (table.slice(start, batch_rows) for start in range(0, table.num_rows, batch_rows))
        return self._commit_tables(slices, checked=True)

    def append_column_stream(
        self, tables: Iterable[pa.Table | pa.RecordBatch]
    ) -> CommitInfo | None:
        """Commit each table of ``tables`` (event columns, as :meth:`append_columns` takes)
        as one commit, in order, after everything buffered before them, under one hold of the
        commit lock: no other commit of this writer falls between them. For a producer that
        builds the next table while this one is written (``tables`` may be a generator).

        Each table is checked just before its commit: one that does not fit raises
        :class:`LedgerValidationError` after the tables before it were committed (a caller
        that needs all-or-nothing checks its whole input first). Returns the last commit
        (None when no table had rows)."""
        self._check_writable()
        return self._commit_tables(tables, checked=False)

    def _commit_tables(
        self, tables: Iterable[pa.Table | pa.RecordBatch], *, checked: bool
    ) -> CommitInfo | None:
        with self._commit_lock:
            self.commit()  # the events appended before these commit first
            info = None
            for table in tables:
                rows = table if checked else check_columns(table)
                if rows.num_rows:
                    info = self._write(rows)
            if info is not None and self._dirty_since is not None and not self._timer_running:
                self._ensure_timer()
            return info

    def commit(self) -> CommitInfo | None:
        """Commit everything buffered now. Returns None when the buffer was empty.

        A background commit that failed kept its events buffered, so this commit retries them:
        its own outcome is the one reported (a fatal fsync failure is raised)."""
        with self._commit_lock:
            if isinstance(self._deferred, DurabilityError) or self._fatal is not None:
                self._raise_deferred()
            self._deferred = None
            with self._lock:
                if not self._buffer and not self._commit_queue:
                    return None
            self._check_writable()
            with self._lock:
                last = self._cut_buffer() if self._buffer else self._commit_queue[-1]
            return self._commit_through(last)

    def flush(self) -> CommitInfo | None:
        """Commit the buffer and make it as durable as the mode promises."""
        return self.commit()

    def close(self) -> None:
        """Commit the buffer and release file handles. Safe to call twice.

        Returns once the Parquet copies of the segments this writer sealed are written (the
        background publish, waited for up to :data:`CLOSE_PUBLISH_WAIT_S`): after ``close``
        nothing of this writer still writes under the ledger's folder, so it can be copied
        or archived at once."""
        if self._closed:
            return
        try:
            if self._fatal is None and not self.read_only:
                self.commit()
                with self._commit_lock:
                    if self._dirty_since is not None and self.sync_interval_ms is not None:
                        self._sync_idle()  # close makes every commit of this writer durable
                    if self._fatal is None:
                        self._vouch_at_close()
        finally:
            with self._commit_lock:
                self._closed = True
                self._wake.set()
                self._timer_running = False
                self._release_fds()
                _LIVE.discard(self)
            if not self.read_only:
                wait_published(self.root, CLOSE_PUBLISH_WAIT_S)

    @property
    def closed(self) -> bool:
        """Whether this writer is closed (by ``close`` or by a failed fsync)."""
        return self._closed

    def reopen(self) -> None:
        """Make a closed ledger usable again (a fatal durability error stays fatal)."""
        with self._commit_lock:
            if self._fatal is not None:
                raise LedgerClosedError(
                    "This writer saw a failed fsync and cannot write again; open a new one.",
                    cause=repr(self._fatal),
                )
            self._closed = False
            self._recovered = False
            _LIVE.add(self)

    def _check_writable(self) -> None:
        if self._fatal is not None and isinstance(self._deferred, DurabilityError):
            exc, self._deferred = self._deferred, None
            raise exc
        if self._fatal is not None:
            raise LedgerClosedError(
                "This writer saw a failed fsync and was closed: what it had buffered may not be "
                "on disk. Open a new Contexta/Ledger to continue.",
                cause=repr(self._fatal),
            )
        if self._closed:
            raise LedgerClosedError("The ledger writer is closed.")
        if self.read_only:
            raise LedgerError("The ledger was opened read-only.", code="ledger_read_only")

    def _raise_deferred(self) -> None:
        if self._deferred is not None:
            exc, self._deferred = self._deferred, None
            if isinstance(exc, LedgerError):
                raise type(exc)(
                    f"A background commit failed: {exc.message} The events of this call were "
                    "not buffered: call again.",
                    code=exc.code,
                    **exc.details,
                ) from exc
            raise exc

    # ------------------------------------------------------------------ commit

    def _cut_buffer(self) -> _CutBatch:
        """Cut the whole buffer off as the next batch to commit (buffer lock held)."""
        cut = _CutBatch(self._buffer)
        self._buffer = []
        self._commit_queue.append(cut)
        return cut

    def _commit_through(self, last: _CutBatch) -> CommitInfo | None:
        """Commit the cut batches in order until ``last`` is committed; returns its commit.

        Raises the error of a batch that failed on the way (its events, and ``last``'s, stay
        buffered for a retry unless the error says otherwise), or ``last``'s own error when
        another thread's commit of it failed."""
        with self._commit_lock:
            while last.info is None and last.error is None:
                with self._lock:
                    cut = self._commit_queue[0]
                self._commit_cut(cut)
            if last.error is not None:
                raise last.error
            return last.info

    def _commit_cut(self, cut: _CutBatch) -> None:
        """Commit the oldest cut batch (commit lock held)."""
        try:
            cut.info = self._write(cut.events)
        except BaseException as exc:
            cut.error = exc
            committed = isinstance(exc, LedgerIOError) and exc.details.get("committed")
            if isinstance(exc, DurabilityError) or committed:
                self._drop_cut()
            else:
                self._put_back()  # nothing was written: keep the events for a retry, in order
            raise
        self._drop_cut()

    def _drop_cut(self) -> None:
        with self._lock:
            self._commit_queue.popleft()

    def _put_back(self) -> None:
        """Return the oldest cut batch's events to the front of what is still buffered."""
        with self._lock:
            events = self._commit_queue.popleft().events
            if self._commit_queue:
                self._commit_queue[0].events[:0] = events
            else:
                self._buffer[:0] = events

    def _write(self, events: list[PendingEvent] | pa.Table) -> CommitInfo:
        lock_fd = self._open_for_commit()
        try:
            self.fs.lock(lock_fd)
        except OSError as exc:
            raise LedgerIOError(f"Cannot lock the ledger: {exc}", errno=exc.errno) from exc
        try:
            try:
                head = self._current_head()
            except DurabilityError as exc:
                self._fatal = exc
                self._closed = True
                raise
            except OSError as exc:
                self._recovered = False
                raise LedgerIOError(
                    f"Could not prepare the commit ({_reason(exc)}); nothing was committed and "
                    "the events stay buffered for a retry.",
                    errno=exc.errno,
                ) from exc
            return self._write_locked(events, head)
        finally:
            self.fs.unlock(lock_fd)
            if self._fatal is not None:
                self._release_fds()  # after the unlock: the lock descriptor is one of them

    def _open_for_commit(self) -> int:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            return self._lock_file()
        except OSError as exc:
            raise LedgerIOError(
                f"Cannot open the ledger lock in `{self.root}` ({_reason(exc)}).", errno=exc.errno
            ) from exc

    def _write_locked(self, events: list[PendingEvent] | pa.Table, head: Head) -> CommitInfo:
        first = head.seq + 1
        # The as-of rule rests on this line: tx_time is assigned under the lock, after every
        # earlier commit was published, and is never earlier than the wall clock nor than the
        # published head's tx_time + 1. So once a head H is published, every later commit has
        # tx_time > H.tx_time, and a reader that saw the head under the lock at time T (see
        # :meth:`settled_head`) knows every later commit has tx_time > T: "as of T" is final.
        tx = max(now_us(), head.tx_time + 1)
        guard = self.guard
        if isinstance(events, pa.Table):
            if guard is not None:
                guard.before_commit(self, [], head)  # learns other writers' commits
            batch = _columns_batch(events, first, tx)
        else:
            if guard is not None:
                events = guard.before_commit(self, events, head)
                if not events:  # all of it was already committed by another writer
                    status = "FSYNCED" if self.durability == Durability.FSYNC else "FLUSHED"
                    return CommitInfo(
                        first, 0, segment_name(head.segment), head.offset, head.tx_time, status
                    )
            batch = _build_batch(events, first, tx)
        message, chain = encode_batch(batch, first_seq=first, tx_time=tx, prev_chain=head.chain)
        try:
            fd = self._segment_fd(head.segment)
            self.fs.pwrite(fd, message, head.offset)
        except OSError as exc:
            self._undo_partial(head.segment, head.offset)
            raise _io_error("write", head, exc) from exc
        end = head.offset + len(message)
        status = "FLUSHED"
        if self.durability == Durability.FSYNC or self._sync_due():
            self._fsync_or_die(fd, head, first, len(events))
            status = "FSYNCED"
        elif self._dirty_since is None:
            self._dirty_since = time.monotonic()
        synced = end if status == "FSYNCED" else head.durable_offset
        new_head = Head(
            seq=first + len(events) - 1,
            segment=head.segment,
            offset=end,
            chain=chain,
            tx_time=tx,
            segment_started=head.segment_started or tx,
            synced=synced,
            boot=self.fs.boot_id() or "",
        )
        try:
            write_head(self._head_file(), new_head, self.fs)
        except OSError as exc:
            # The batch is whole in the segment; the next writer adopts it from there.
            self._head = None
            self._recovered = False
            raise LedgerIOError(
                f"Seq {first}..{new_head.seq} is written to `{segment_name(head.segment)}` "
                f"but the head could not be published ({_reason(exc)}); the next commit or open "
                "adopts it from the segment, so do not append these events again.",
                errno=exc.errno,
                committed=True,
            ) from exc
        self._head = new_head
        self._own_bytes(head.segment, head.offset, end, new_head.seq, chain)
        info = CommitInfo(first, len(events), segment_name(head.segment), head.offset, tx, status)
        self.commits += 1
        if guard is not None:
            self._mark_commit(new_head)
            guard.after_commit(new_head, len(events))
        if self._should_roll(new_head):
            try:
                self._roll(new_head)
            except OSError:
                # The commit stands; the roll is retried by the next commit (recovery finishes
                # a half-done roll: a new segment no head names yet, a missing end marker).
                self._recovered = False
                self._close_segment_fd()
        return info

    def _own_bytes(self, segment: int, start: int, end: int, last: int, chain: str) -> None:
        """A commit of this writer filled bytes ``start``..``end`` of ``segment``: where they
        continue a prefix this process has checked, the checked prefix grows over them (the
        writer made their CRCs; reading them back proves nothing more), so this process's
        later reads and the stamp left at :meth:`close` cover them."""
        if self._checked_to.get(segment, len(SCHEMA_MESSAGE)) >= start:
            self._note_checked(segment, end, (last, chain))
            self._checked[segment] = last

    def _vouch_at_close(self) -> None:
        """Leave the active segment's stamp in ``verified.json`` when this process checked or
        wrote every committed byte of it (commit lock held), so the next process (the next
        training job, CLI call or notebook) does not CRC-check them again. Done under the
        ledger lock, and only when the published head is still this writer's last commit and
        the file ends there: a commit by another writer since changes the size, and a stamp
        is never left for bytes this process did not see."""
        head = self._head
        if head is None or self._lock_fd is None or head.offset <= len(SCHEMA_MESSAGE):
            return
        if self._checked_to.get(head.segment, 0) < head.offset:
            return
        try:
            self.fs.lock(self._lock_fd)
        except OSError:
            return
        try:
            published = read_head(self.root)
            if published is None or (
                published.seq,
                published.segment,
                published.offset,
                published.chain,
            ) != (head.seq, head.segment, head.offset, head.chain):
                return
            stamp = _active_stamp(self.segment_path(head.segment))
            if stamp is None or stamp[0] != head.offset:
                return
            self._record_active(head.segment, stamp, head.offset, head.seq, head.chain)
        finally:
            with contextlib.suppress(OSError):
                self.fs.unlock(self._lock_fd)

    def _mark_commit(self, head: Head) -> None:
        """Remember where this commit ended as a scan's resume point: the guard's next read of
        other writers' batches then starts after this writer's own batch, not before it."""
        marks = self._marks
        marks[head.seq] = (head.segment, head.offset)
        marks.move_to_end(head.seq)
        while len(marks) > RESUME_MARKS:
            marks.popitem(last=False)

    def _sync_due(self) -> bool:
        """``flush`` mode: fsync this commit when this writer's oldest unsynced commit is older
        than ``sync_interval_ms`` (bounds what a power loss can take)."""
        if self.sync_interval_ms is None or self._dirty_since is None:
            return False
        return (time.monotonic() - self._dirty_since) * 1000.0 >= self.sync_interval_ms

    def _fsync_or_die(self, fd: int, head: Head, first: int, count: int) -> None:
        try:
            self.fs.fsync(fd)
        except OSError as exc:
            # After a failed fsync the page cache may hold data the disk never got: never retry.
            # Cut the batch off (best effort) so that it is cleanly not committed.
            undone = True
            try:
                self.fs.ftruncate(fd, head.offset)
            except OSError:
                undone = False
            self._fatal = exc
            self._closed = True
            if count == 0:
                self._release_fds()  # idle sync: no commit (and no lock) in progress
                fate = f"commits up to seq {head.seq} (acknowledged as FLUSHED) may not be on disk"
                first = head.seq
            elif undone:
                fate = f"seq {first}..{first + count - 1} was cut off again and is not committed"
            else:
                fate = (
                    f"seq {first}..{first + count - 1} may be adopted by the next writer if its "
                    "bytes are intact"
                )
            raise DurabilityError(
                f"fsync of `{segment_name(head.segment)}` failed ({_reason(exc)}); this writer is "
                f"closed for good and {fate}. "
                "Open a new writer to continue: recovery keeps only what is intact.",
                errno=exc.errno,
                first_seq=first,
                count=count,
                undone=undone,
            ) from exc
        self._dirty_since = None

    def _undo_partial(self, segment: int, offset: int) -> None:
        try:
            self.fs.ftruncate(self._segment_fd(segment), offset)
        except OSError:
            self._recovered = False  # the next commit re-derives the head and cleans up

    def _current_head(self) -> Head:
        """The head to commit after; recovers the active segment when needed (lock held)."""
        published = read_head(self.root)
        if not self._recovered or published is None:
            return self._recover(published)
        fd = self._segment_fd(published.segment)
        size = self.fs.fstat_size(fd)
        if size != published.offset:
            return self._recover(published)
        return published

    def _recover(self, published: Head | None) -> Head:
        trusted = None
        if published is not None:
            trusted = self.checked_tip(published.segment)
        report = recover(self.root, self.fs, published=published, trusted=trusted)
        self.last_recovery = report
        self._recovered = True
        if report.head is None:
            return self._create_first_segment()
        head = report.head
        if report.active_sealed:
            head = self._roll(head, seal=False)
        return head

    def _create_first_segment(self) -> Head:
        path = self.root / segment_name(0)
        self._write_new_segment(path)
        head = Head(
            segment_started=now_us(), synced=len(SCHEMA_MESSAGE), boot=self.fs.boot_id() or ""
        )
        write_head(self._head_file(), head, self.fs)
        return head

    def _write_new_segment(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp")
        try:
            fd = self.fs.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            try:
                self.fs.pwrite(fd, SCHEMA_MESSAGE, 0)
                self.fs.fsync(fd)
            finally:
                self.fs.close(fd)
            self.fs.replace(tmp, path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self.fs.fsync_dir(self.root)

    def _should_roll(self, head: Head) -> bool:
        if head.offset >= self.roll_bytes:
            return True
        if self.roll_seconds is not None and head.segment_started:
            return (head.tx_time - head.segment_started) >= self.roll_seconds * 1_000_000
        return False

    def _roll(self, head: Head, *, seal: bool = True) -> Head:
        """Start segment ``head.segment + 1``; then seal the old one (EOS, fsync, read-only).

        The order makes every crash point recoverable: a new segment that no head names yet is
        found by recovery; a sealed marker missing on the old one is added by recovery.
        """
        old = head.segment
        if seal:
            # The old segment's batches must be durable before a newer segment exists: after a
            # power loss, recovery only looks at the newest segment.
            fd = self._segment_fd(old)
            try:
                self.fs.fsync(fd)
            except OSError as exc:
                # The commit that triggered the roll stands (FLUSHED); this writer is done.
                self._fatal = exc
                self._closed = True
                self._deferred = DurabilityError(
                    f"fsync of `{segment_name(old)}` failed while sealing it ({_reason(exc)}); "
                    f"this writer is closed for good. Commits up to seq {head.seq} were "
                    "acknowledged as FLUSHED and may not be on disk; open a new writer.",
                    errno=exc.errno,
                )
                return head
            self._dirty_since = None
        self._write_new_segment(self.root / segment_name(old + 1))
        new_head = Head(
            seq=head.seq,
            segment=old + 1,
            offset=len(SCHEMA_MESSAGE),
            chain=head.chain,
            tx_time=head.tx_time,
            segment_started=max(now_us(), head.tx_time),
            synced=len(SCHEMA_MESSAGE),
            boot=self.fs.boot_id() or "",
        )
        write_head(self._head_file(), new_head, self.fs)
        self._head = new_head
        if seal:
            fd = self._segment_fd(old)
            self.fs.pwrite(fd, EOS, head.offset)
            self.fs.fsync(fd)
            with contextlib.suppress(OSError):
                os.chmod(self.root / segment_name(old), 0o444)
            if self._checked_to.get(old, 0) >= head.offset:
                self._remember_verified(old)  # every batch checked here or written by us
            publish_soon(self.root)  # a Parquet copy for other engines (ledger/publish.py)
        self._close_segment_fd()
        return new_head

    # ------------------------------------------------------------------ file handles

    def _head_file(self) -> int:
        if self._head_fd is None:
            self._head_fd = open_head(self.root, self.fs)
        return self._head_fd

    def _lock_file(self) -> int:
        if self._lock_fd is None:
            self._lock_fd = self.fs.open(self.root / LOCK_NAME, os.O_RDWR | os.O_CREAT)
        return self._lock_fd

    def _segment_fd(self, index: int) -> int:
        if self._seg_fd is not None and self._seg_index == index:
            return self._seg_fd
        self._close_segment_fd()
        self._seg_fd = self.fs.open(self.root / segment_name(index), os.O_RDWR)
        self._seg_index = index
        return self._seg_fd

    def _close_segment_fd(self) -> None:
        if self._seg_fd is not None:
            with contextlib.suppress(OSError):
                self.fs.close(self._seg_fd)
            self._seg_fd = None
            self._seg_index = -1

    def _release_fds(self) -> None:
        self._close_segment_fd()
        for name in ("_lock_fd", "_head_fd"):
            fd = getattr(self, name)
            if fd is not None:
                with contextlib.suppress(OSError):
                    self.fs.close(fd)
                setattr(self, name, None)

    # ------------------------------------------------------------------ background commits

    def _ensure_timer(self) -> None:
        """Start the background thread unless it runs (callers test ``_timer_running`` first:
        a flag read, where ``Thread.is_alive`` would cost a lock per append)."""
        with self._lock:
            if self._timer_running:
                return
            self._timer_running = True
            self._wake = wake = threading.Event()  # each thread stops on its own event
        threading.Thread(
            target=_timer_loop,
            args=(weakref.ref(self), wake, self.buffer_max_ms / 1000.0),
            name="ledger-flush",
            daemon=True,
        ).start()

    def _timer_stopped(self, wake: threading.Event) -> None:
        """The thread waiting on ``wake`` ended: the next append starts a new one (unless a
        newer thread already replaced it)."""
        with self._lock:
            if self._wake is wake:
                self._timer_running = False

    def _tick(self) -> bool:
        """Commit an aged buffer; returns False when the timer should stop."""
        if self._closed:
            return False
        with self._commit_lock:
            if self._closed:
                return False
            try:
                with self._lock:
                    if self._buffer and (
                        (time.monotonic() - self._buffered_since) * 1000 >= self.buffer_max_ms
                    ):
                        self._cut_buffer()
                    last = self._commit_queue[-1] if self._commit_queue else None
                if last is not None:
                    self._commit_through(last)
                elif not self._buffer and self._sync_due():
                    self._sync_idle()
            except BaseException as exc:  # surfaced on the caller's next call
                self._deferred = exc
        return True

    def _next_wait(self) -> float:
        """Seconds until the buffer reaches ``buffer_max_ms`` (at most that long, at least 1 ms)."""
        wait = self.buffer_max_ms / 1000.0
        if self._buffer:
            due = self._buffered_since + wait - time.monotonic()
            wait = min(wait, max(0.001, due))
        return wait

    def _sync_idle(self) -> None:
        """fsync the segment this idle writer last wrote (``flush`` mode's bounded window)."""
        head = self._head
        if head is None or self._seg_fd is None or self._seg_index != head.segment:
            self._dirty_since = None
            return
        self._fsync_or_die(self._seg_fd, head, head.seq + 1, 0)

    def settled_head(self) -> tuple[Head, int]:
        """The committed head read while no commit is in flight, and a time ``now`` (epoch us).

        Taken under the ledger lock (this process's commits and every other process's wait
        for it, so it waits for at most one commit), then held until the wall clock has passed
        ``now``: since a commit assigns its ``tx_time`` under the lock and never earlier than
        the clock (see :meth:`_write_locked`), every commit not in the returned head carries a
        ``tx_time`` later than ``now``. So what the head holds up to ``now`` is final: an
        "as of ``now``" answer can never change. A ledger whose lock cannot be opened (none
        yet, or a read-only file system) is read without it: no commit of this machine can be
        in flight there."""
        with self._commit_lock:
            fd = self._reader_lock()
            if fd is not None:
                self.fs.lock(fd)
            try:
                head = self.head()
                now = now_us()
                while now_us() <= now:  # a later commit's clock reads > now (at most 1 us)
                    pass
                return head, now
            finally:
                if fd is not None:
                    self.fs.unlock(fd)
                    if fd != self._lock_fd:
                        self.fs.close(fd)

    def _reader_lock(self) -> int | None:
        """The lock descriptor: this writer's, or one opened read-only; None when neither."""
        try:
            return self._lock_file()
        except OSError:
            try:
                return self.fs.open(self.root / LOCK_NAME, os.O_RDONLY)
            except OSError:
                return None

    def recover(self, *, dry_run: bool = False, salvage: bool = False) -> RecoveryReport:
        """Run crash recovery now under the lock (``dry_run`` reports without changing files;
        ``salvage`` cuts the active segment at damage before the head instead of raising)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self._commit_lock:
            lock_fd = self._lock_file()
            self.fs.lock(lock_fd)
            try:
                try:
                    report = recover(self.root, self.fs, dry_run=dry_run, salvage=salvage)
                except OSError as exc:
                    raise LedgerIOError(
                        f"Recovery of `{self.root}` failed ({_reason(exc)}); nothing was lost: "
                        "run it again once the cause is fixed.",
                        errno=exc.errno,
                    ) from exc
                if not dry_run:
                    self._recovered = False
                    self._close_segment_fd()
                return report
            finally:
                self.fs.unlock(lock_fd)


def _build_batch(events: list[PendingEvent], first_seq: int, tx: int) -> pa.RecordBatch:
    """One typed batch from the buffered tuples: a single pass of pyarrow's converter over the
    rows (as a struct array, whose fields are the columns), no per-column Python transposition,
    once the converter is ready; before (see ``DIRECT_BUDGET``), column by column by
    :mod:`ledger.arrays`."""
    # arrays.converter_ready() is False while another thread imports pandas: pyarrow holds
    # its lock for the whole import, and a commit through it would wait there with every
    # buffered event
    if _WARM[0] or arrays.converter_ready():
        rows = pa.array(events, _EVENT_ROW).flatten()
    else:  # column by column, no pandas
        _DIRECT_BUILT[0] += len(events)
        transposed = list(zip(*events, strict=True)) or [()] * _EVENT_ROW.num_fields
        rows = [
            arrays.direct(list(column), field.type)
            for column, field in zip(transposed, _EVENT_ROW, strict=True)
        ]
    columns = [
        int64_range(first_seq, len(events)),
        pa.repeat(arrays.direct([tx], _US)[0], len(events)),
        *rows,
    ]
    return pa.RecordBatch.from_arrays(columns, schema=EVENT_SCHEMA)


_COLUMN_FIELDS = tuple(EVENT_SCHEMA)[2:]


def check_columns(columns: pa.Table | pa.RecordBatch) -> pa.Table:
    """Event columns (``kind`` .. ``body``, by name) as a table of the event row's types, or
    :class:`~ledger.errors.LedgerValidationError` naming the first column that does not fit
    (missing, of another type, or ``kind`` with a null). Types that convert without loss
    (``large_string`` to ``string``, timestamps of another unit or zone) are cast."""
    if isinstance(columns, pa.RecordBatch):
        columns = pa.Table.from_batches([columns])
    if not isinstance(columns, pa.Table):
        raise LedgerValidationError(
            f"Event columns must be a pyarrow Table or RecordBatch, got {repr(columns)[:80]}.",
            field="columns",
            value=repr(columns)[:80],
        )
    out = []
    for field in _COLUMN_FIELDS:
        if field.name not in columns.column_names:
            raise LedgerValidationError(
                f"Event columns lack {field.name!r} (expected {[f.name for f in _COLUMN_FIELDS]}).",
                field=field.name,
                value=None,
            )
        column = columns.column(field.name)
        if column.type != field.type:
            try:
                column = column.cast(field.type, safe=True)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise LedgerValidationError(
                    f"Event column {field.name!r} is {column.type}, not {field.type}: {exc}",
                    field=field.name,
                    value=str(column.type),
                ) from exc
        if not field.nullable and column.null_count:
            raise LedgerValidationError(
                f"Event column {field.name!r} has nulls; every event needs one.",
                field=field.name,
                value=None,
            )
        out.append(column)
    return pa.Table.from_arrays(out, schema=pa.schema(_COLUMN_FIELDS))


def _columns_batch(table: pa.Table, first_seq: int, tx: int) -> pa.RecordBatch:
    """One typed batch from checked event columns (``kind`` .. ``body``)."""
    n = table.num_rows
    columns = [
        int64_range(first_seq, n),
        pa.repeat(arrays.scalar(tx, _US), n),
        *(arrays.contiguous(column) for column in table.columns),
    ]
    return pa.RecordBatch.from_arrays(columns, schema=EVENT_SCHEMA)


def int64_range(first_seq: int, n: int) -> pa.Array:
    """``first_seq, first_seq + 1, ...`` (``n`` values) as int64, without a Python int each
    (a commit's seqs; the bulk path's ref counters)."""
    if n <= 4096:
        seq = array("q", range(first_seq, first_seq + n))
        return pa.Array.from_buffers(pa.int64(), n, [None, pa.py_buffer(seq)])
    counts = pc.cumulative_sum(pa.repeat(arrays.scalar(1, pa.int64()), n))
    return pc.add(counts, arrays.scalar(first_seq - 1, pa.int64()))


def _reason(exc: OSError) -> str:
    return {errno.ENOSPC: "the disk is full", errno.EIO: "an I/O error"}.get(
        exc.errno or 0, str(exc)
    )


def _io_error(what: str, head: Head, exc: OSError) -> LedgerIOError:
    reason = _reason(exc)
    return LedgerIOError(
        f"Could not {what} commit at `{segment_name(head.segment)}` offset {head.offset}: "
        f"{reason}. Nothing was committed; the ledger is unchanged and the events stay "
        "buffered for a retry.",
        errno=exc.errno,
        segment=segment_name(head.segment),
        offset=head.offset,
    )


def _timer_loop(ref: weakref.ref[Ledger], wake: threading.Event, first_wait: float) -> None:
    """Commit aged buffers until the ledger is closed or gone.

    The first wait is a whole ``buffer_max_ms``: a thread can take long to start on a loaded
    machine, and the buffer whose append started it must not be committed under the appender
    before it had the chance to ``commit()`` it itself."""
    wait = first_wait
    try:
        while not wake.wait(wait):
            ledger = ref()
            if ledger is None or not ledger._tick():
                return
            wait = ledger._next_wait()
            del ledger
    finally:
        ledger = ref()
        if ledger is not None:
            ledger._timer_stopped(wake)


_LIVE: weakref.WeakSet[Ledger] = weakref.WeakSet()


def open_writers(root: Path | str) -> list[Ledger]:
    """This process's writers on the ledger at ``root`` that are not closed: what a backup
    commits before it copies, and what a restore must not replace the files under."""
    target = Path(root).resolve()
    return [w for w in list(_LIVE) if not w.closed and Path(w.root).resolve() == target]


@atexit.register
def _commit_at_exit() -> None:
    """Commit every live writer's buffer at interpreter exit (``close()``).

    A writer whose commit fails here has accepted events that will never be written: that is
    said on stderr (how many, where, why) and the process exits with status 1 instead of 0.
    The exit goes through ``os._exit`` once stdout, stderr and logging are flushed, so exit
    handlers registered before this module was imported do not run."""
    failures = [message for ledger in list(_LIVE) if (message := _close_at_exit(ledger))]
    if not failures:
        return
    for message in failures:
        with contextlib.suppress(Exception):
            sys.stderr.write(message + "\n")
    with contextlib.suppress(Exception):
        logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(1)


def _close_at_exit(ledger: Ledger) -> str | None:
    """Close ``ledger``; None when nothing accepted was lost, else what to tell the user."""
    pending = ledger.buffered
    try:
        ledger.close()
        if not pending or (ledger._fatal is None and not ledger.buffered):
            return None
        error: BaseException | None = ledger._fatal
    except Exception as exc:  # reported below: an exit handler must not raise
        error = exc
    lost = ledger.buffered or pending
    reason = error.message if isinstance(error, LedgerError) else str(error or "unknown error")
    return (
        f"ledger: {lost} accepted event(s) could not be committed to `{ledger.root}` at exit "
        f"and are lost: {reason}"
    )
