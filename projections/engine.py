"""The projection engine: load saved state lazily, fold only new events, save, rebuild.

``Projector.get(name)`` returns a projection caught up to the ledger's committed head: its saved
state is loaded on first use (or rebuilt when missing, of another version, or not matching the
ledger), then only the events after its checkpoint are folded. ``rebuild`` throws state away
and folds the whole log in one streaming pass.

Events are folded in groups of consecutive ledger batches (:data:`GROUP_ROWS` events per
``apply``), which keeps the per-call cost of thirteen projections off every small commit. A
saving rebuild reads the next groups on a second thread, writes each group's new rows (and
their partial row indexes) to the chunk's temp file on a third as it goes and drops them, and
starts a new chunk every ``chunk_rows`` rows (``store.CHUNK_ROWS`` by default), so its memory
is bounded by configuration, not by the ledger: a few groups (:data:`GROUP_ROWS`,
:data:`READ_AHEAD_GROUPS`) plus the row indexes of the chunks being written (about 4 bytes
per row per indexed column, merged when a chunk is sealed), never the state nor its encoding.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ledger import EVENT_SCHEMA, CorruptionError, Head, LedgerReader, arrays
from ledger.fs import FileSystem, lock_fd, unlock_fd
from ledger.segment import BatchFrame, read_frame

from .base import LOCATOR_FIELDS, Projection
from .entities import (
    ArtifactsProjection,
    BatchesProjection,
    DeploymentsProjection,
    EnvironmentsProjection,
    ProvenanceProjection,
    RelationsProjection,
    SamplesProjection,
)
from .event_keys import EventKeysProjection
from .index import CLUSTERED, INDEXED, SavedIndex
from .projects import ProjectsProjection
from .records import RecordsProjection
from .runs import RunsProjection
from .stage_metrics import StageMetricsProjection
from .stages import StagesProjection
from .store import (
    Checkpoint,
    ChunkSeries,
    Entry,
    LoadError,
    has_indexes,
    is_current,
    let_go,
    load_index,
    load_state,
    publish_state,
    save_state,
)

__all__ = ["ALL_PROJECTIONS", "ProjectionStatus", "Projector", "RebuildStats"]

ALL_PROJECTIONS: tuple[type[Projection], ...] = (
    ProjectsProjection,
    RunsProjection,
    StagesProjection,
    RecordsProjection,
    StageMetricsProjection,
    EventKeysProjection,
    DeploymentsProjection,
    BatchesProjection,
    SamplesProjection,
    EnvironmentsProjection,
    RelationsProjection,
    ProvenanceProjection,
    ArtifactsProjection,
)


#: Events folded per call of a projection's ``apply`` (consecutive batches are grouped). A
#: rebuild holds a few groups at once (read ahead, folded, being written): at 13.5M events,
#: 32,768 instead of 65,536 (with :data:`TRIM_GROUPS`, and chunk batches still gathered to
#: ``store.BATCH_ROWS``) took its peak RSS from about 705 to 535 MiB at the same rate.
GROUP_ROWS = 32_768
#: A saving rebuild hands the C library's freed memory back to the system every this many
#: groups (``malloc_trim``, where the C library has it): its short-lived group tables are
#: allocated with ``malloc`` (:func:`_system_allocator`), whose free lists otherwise kept about
#: 120 MiB more resident at 13.5M events.
TRIM_GROUPS = 2
#: Times a load reads the manifest again when a chunk it names is gone (another process
#: published and dropped it meanwhile), before it folds the ledger instead.
LOAD_ATTEMPTS = 3
#: Groups a rebuild reads ahead of its fold (bounds the memory of the read-ahead). One, with
#: one batch in flight per chunk encoder (``store._IN_FLIGHT``), took the peak RSS of a
#: 13.5M-event rebuild from 520-546 to 477-491 MiB (three and two runs) at the same rate: the
#: fold and the second thread still overlap.
READ_AHEAD_GROUPS = 1


@dataclass(frozen=True, slots=True)
class RebuildStats:
    events: int
    batches: int
    seconds: float
    projections: tuple[str, ...]

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("inf")


@dataclass(frozen=True, slots=True)
class ProjectionStatus:
    name: str
    version: int
    checkpoint: int
    head: int
    rows: int
    saved_checkpoint: int | None
    note: str

    @property
    def behind(self) -> int:
        return max(0, self.head - self.checkpoint)


class _Slot:
    """A projection plus what the engine knows about its saved copy."""

    __slots__ = (
        "chunks",
        "dirty_from",
        "indexes",
        "load_note",
        "loaded",
        "maps",
        "position",
        "projection",
        "saved",
        "upgrade",
    )

    def __init__(self, projection: Projection) -> None:
        self.projection = projection
        self.loaded = False
        self.chunks: list[Entry] = []
        self.saved: int | None = None  # checkpoint of the saved copy
        self.dirty_from = 0  # row count already saved
        self.position: tuple[int, int, str] | None = None  # (segment, offset, chain) of checkpoint
        self.load_note = ""
        self.upgrade = False  # saved in an older format: rewrite at the next save
        #: column -> (projection epoch, saved chunks it covers, index or None)
        self.indexes: dict[str, tuple[int, int, SavedIndex | None]] = {}
        #: the maps of the loaded chunk files, while the projection holds their table
        #: (:meth:`Projector.let_go`)
        self.maps: list[pa.Buffer] = []

    def reset(self) -> None:
        """Empty the projection, and forget the maps of the table it held."""
        self.projection.reset()
        self.maps = []


class Projector:
    """Keeps the projections of one workspace caught up with its ledger."""

    def __init__(
        self,
        reader: LedgerReader,
        root: Path | str,
        *,
        persist: bool = True,
        classes: Iterable[type[Projection]] = ALL_PROJECTIONS,
        fs: FileSystem | None = None,
        chunk_rows: int | None = None,
    ) -> None:
        if chunk_rows is not None and chunk_rows < 1:
            raise ValueError(f"chunk_rows must be at least 1, not {chunk_rows}")
        self.reader = reader
        self.root = Path(root)
        self.persist = persist
        self.fs = fs  # the file layer saves go through (tests inject crashes and power loss)
        #: rows per saved chunk at most (default ``store.CHUNK_ROWS``): bounds a save's memory
        self.chunk_rows = chunk_rows
        self._slots = {cls.name: _Slot(cls(EVENT_SCHEMA)) for cls in classes}
        #: checkpoints found in the ledger, with their segment file's identity
        self._matched: set[tuple[int, str, int, int, int, int]] = set()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._slots)

    # ------------------------------------------------------------------ access

    def get(self, name: str, head: Head | None = None) -> Projection:
        """Projection ``name`` folded up to ``head`` (default: the current committed head)."""
        self.catch_up((name,), head)
        return self._slots[name].projection

    def get_many(self, names: Iterable[str], head: Head | None = None) -> dict[str, Projection]:
        names = tuple(names)
        self.catch_up(names, head)
        return {n: self._slots[n].projection for n in names}

    def catch_up(self, names: Iterable[str] | None = None, head: Head | None = None) -> int:
        """Fold every committed event after each named projection's checkpoint. One pass over
        the ledger serves them all. Returns the number of events read."""
        slots = [self._slots[n] for n in (names or self._slots)]
        head = head or self.reader.head()
        for slot in slots:
            if not slot.loaded:
                self._load(slot, head)
        behind = [s for s in slots if s.projection.checkpoint < head.seq]
        if not behind:
            return 0
        start = min(s.projection.checkpoint for s in behind)
        events, _ = self._fold(behind, self.reader.frames(head, after_seq=start))
        return events

    def _fold(
        self,
        slots: list[_Slot],
        frames: Iterator[tuple[int, BatchFrame]],
        after_group: Callable[[], None] | None = None,
        *,
        read_ahead: bool = False,
    ) -> tuple[int, int]:
        """Fold ``frames`` into every slot's projection, :data:`GROUP_ROWS` events at a time:
        consecutive batches are handed over as one table, so the per-call cost of each
        projection is paid per group, not per committed batch. With ``read_ahead`` the next
        groups are read and decoded on a second thread meanwhile. Returns (events, batches)."""
        groups = _groups(frames)
        if read_ahead:
            groups = _read_ahead(groups, READ_AHEAD_GROUPS)
        events = batches = 0
        for group in groups:
            for slot in slots:
                slot.projection.apply(group.events)
                slot.position = group.position
            events += group.events.num_rows
            batches += group.batches
            if after_group is not None:
                after_group()
        return events, batches

    # ------------------------------------------------------------------ persistence

    def _folder(self, name: str) -> Path:
        return self.root / name

    def _load(self, slot: _Slot, head: Head) -> None:
        slot.loaded = True
        projection = slot.projection
        if not self.persist:
            return
        for attempt in range(LOAD_ATTEMPTS):
            try:
                table, checkpoint, chunks, maps = load_state(
                    self._folder(projection.name), projection
                )
                self._check_against_ledger(checkpoint, head)
                break
            except LoadError as exc:
                if attempt + 1 < LOAD_ATTEMPTS and isinstance(exc.__cause__, FileNotFoundError):
                    # another process published between our reading the manifest and opening
                    # a chunk it named (a save drops the files it replaced): read it again
                    continue
                slot.load_note = f"rebuilt ({exc})"
                slot.reset()
                return
        # Saved state is only as good as the events it was folded from: CRC-check that prefix
        # of the ledger (raises CorruptionError naming file and offset) before trusting it.
        self.reader.check(checkpoint.seq, head)
        self.reader.resume_after(checkpoint.seq, checkpoint.segment, checkpoint.offset, head)
        projection.load(table, checkpoint.seq)
        slot.maps = maps
        slot.chunks = chunks
        slot.upgrade = not is_current(chunks)
        slot.indexes = {}
        slot.saved = checkpoint.seq
        slot.dirty_from = table.num_rows
        slot.position = (checkpoint.segment, checkpoint.offset, checkpoint.chain)
        slot.load_note = "loaded"

    def _check_against_ledger(self, checkpoint: Checkpoint, head: Head) -> None:
        """The saved checkpoint must name a batch the ledger still has, with the same chain."""
        if checkpoint.seq == 0:
            return
        if checkpoint.seq > head.seq:
            raise LoadError(f"checkpoint {checkpoint.seq} is past the ledger head {head.seq}")
        path = self.reader.segment_path(checkpoint.segment)
        try:
            found = os.stat(path)
            # projections saved together share their checkpoint: the batch is read once
            # per file (a committed batch never changes while its file is the same)
            key = (
                checkpoint.seq,
                checkpoint.chain,
                checkpoint.segment,
                checkpoint.offset,
                found.st_dev,
                found.st_ino,
            )
            if key in self._matched:
                return
            with pa.memory_map(str(path), "r") as source:
                buf = source.read_buffer()
            end = head.offset if checkpoint.segment == head.segment else buf.size
            frame = read_frame(buf, checkpoint.offset, end, str(path))
        except (OSError, CorruptionError) as exc:
            raise LoadError(f"checkpoint batch unreadable: {exc}") from exc
        if (
            frame is None
            or frame.chain != checkpoint.chain
            or (frame.first_seq + frame.count - 1 != checkpoint.seq)
        ):
            raise LoadError("checkpoint does not match the ledger")
        self._matched.add(key)

    def let_go(self, name: str) -> None:
        """Let go of the process's mapped pages of projection ``name``'s loaded chunk files
        (:func:`~projections.store.let_go`): for a caller that has read what it needs of a
        scan it will not repeat soon. The table is unchanged; a later read maps its pages
        again."""
        let_go(self._slots[name].maps)

    def save(self, names: Iterable[str] | None = None) -> list[str]:
        """Save every loaded projection that folded something since its last save."""
        if not self.persist:
            return []
        saved = []
        for name in names or self._slots:
            slot = self._slots[name]
            projection = slot.projection
            if not slot.loaded or slot.position is None:
                continue
            if slot.saved == projection.checkpoint and not slot.upgrade:
                continue
            segment, offset, chain = slot.position
            checkpoint = Checkpoint(projection.checkpoint, chain, segment, offset)
            folder = self._folder(name)
            folder.mkdir(parents=True, exist_ok=True)
            with _folder_lock(folder):
                new_rows = projection.table().slice(slot.dirty_from)
                slot.chunks = save_state(
                    folder,
                    projection,
                    new_rows,
                    checkpoint,
                    slot.chunks,
                    self.fs,
                    chunk_rows=self.chunk_rows,
                )
            slot.saved = projection.checkpoint
            slot.dirty_from = projection.num_rows
            slot.upgrade = False
            saved.append(name)
        return saved

    def saved_index(self, name: str, column: str) -> SavedIndex | None:
        """The row index of ``column`` saved with projection ``name``'s chunks, covering its
        first ``index.rows`` rows (the rest are rows folded since the load), or None when
        there is none (not an indexed column, nothing saved, an older format, or a damaged
        index file: the caller indexes the rows itself)."""
        slot = self._slots[name]
        if column not in INDEXED.get(name, ()) or not slot.loaded or not slot.chunks:
            return None
        epoch = slot.projection.epoch
        cached = slot.indexes.get(column)
        if cached is not None and cached[0] == epoch and cached[1] == len(slot.chunks):
            return cached[2]
        found: SavedIndex | None = None
        if has_indexes(slot.chunks):
            schema = slot.projection.schema if column in CLUSTERED.get(name, ()) else None
            try:
                found = load_index(self._folder(name), slot.chunks, column, schema)
            except LoadError:
                found = None
        if found is not None and found.rows > slot.projection.num_rows:
            found = None  # cannot happen while the chunks are this projection's rows
        slot.indexes[column] = (epoch, len(slot.chunks), found)
        return found

    def rebuild(self, names: Iterable[str] | None = None, *, save: bool = True) -> RebuildStats:
        """Throw state away and fold the whole ledger (one streaming pass)."""
        with _system_allocator():
            return self._rebuild(names, save=save)

    def _rebuild(self, names: Iterable[str] | None, *, save: bool) -> RebuildStats:
        started = time.perf_counter()
        chosen = tuple(names or self._slots)
        for name in chosen:
            slot = self._slots[name]
            slot.reset()
            slot.loaded = True
            slot.chunks = []
            slot.saved = None
            slot.dirty_from = 0
            slot.position = None
            slot.load_note = "rebuilt"
            slot.upgrade = False
            slot.indexes = {}
        head = self.reader.head()
        slots = [self._slots[n] for n in chosen]
        frames = self.reader.frames(head, keep_segments=False)
        if not (save and self.persist):
            events, batches = self._fold(slots, frames, read_ahead=True)
            return RebuildStats(events, batches, time.perf_counter() - started, chosen)
        # Save as we go: each group's new rows are written to the chunk's temp file (on a second
        # thread, while the next group is folded) and dropped, a new chunk every chunk_rows
        # rows, so the fold holds a few groups of state in memory, not the whole state (nor its
        # encoding, nor the row indexes of every chunk).
        encoders: dict[str, ChunkSeries] = {}
        try:
            with ThreadPoolExecutor(1, thread_name_prefix="projection-save") as executor:
                encoders = {
                    s.projection.name: ChunkSeries(
                        s.projection.schema,
                        executor,
                        folder=self._folder(s.projection.name),
                        fs=self.fs,
                        name=s.projection.name,
                        chunk_rows=self.chunk_rows,
                    )
                    for s in slots
                }

                trim = _malloc_trim()
                groups = itertools.count(1)

                def spill() -> None:
                    for slot in slots:
                        for chunk in slot.projection.drain():
                            encoders[slot.projection.name].write(chunk)
                    if next(groups) % TRIM_GROUPS == 0:
                        trim()

                events, batches = self._fold(slots, frames, after_group=spill, read_ahead=True)
                spill()
                for slot in slots:
                    self._publish_rebuilt(slot, encoders[slot.projection.name])
        except BaseException:
            # the drained projections hold a checkpoint without its rows: forget them, so the
            # next use loads what is saved (untouched until the end) or folds again
            for encoder in encoders.values():
                encoder.abandon()
            for slot in slots:
                slot.reset()
                slot.loaded = False
                slot.position = None
            raise
        return RebuildStats(events, batches, time.perf_counter() - started, chosen)

    def _publish_rebuilt(self, slot: _Slot, encoder: ChunkSeries) -> None:
        """Save a spilled rebuild's state; the projection reloads it from disk when next used."""
        projection = slot.projection
        folder = self._folder(projection.name)
        if slot.position is None:
            # an empty ledger: nothing to checkpoint, drop stale saved state
            encoder.abandon()
            with contextlib.suppress(FileNotFoundError):
                (folder / "MANIFEST.json").unlink()
            return
        segment, offset, chain = slot.position
        checkpoint = Checkpoint(projection.checkpoint, chain, segment, offset)
        folder.mkdir(parents=True, exist_ok=True)
        with _folder_lock(folder):
            publish_state(folder, projection, encoder, checkpoint, self.fs)
        slot.reset()
        slot.loaded = False
        slot.chunks = []
        slot.saved = None
        slot.position = None
        slot.indexes = {}

    def status(self) -> list[ProjectionStatus]:
        head = self.reader.head()
        out = []
        for name, slot in self._slots.items():
            if not slot.loaded:
                self._load(slot, head)
            out.append(
                ProjectionStatus(
                    name,
                    slot.projection.version,
                    slot.projection.checkpoint,
                    head.seq,
                    slot.projection.num_rows,
                    slot.saved,
                    slot.load_note or "not saved",
                )
            )
        return out


@dataclass(frozen=True, slots=True)
class _Group:
    """Consecutive ledger batches, folded together."""

    events: pa.Table  # their events with the locator columns
    position: tuple[int, int, str]  # (segment, offset, chain) of the last batch
    batches: int


def _groups(frames: Iterator[tuple[int, BatchFrame]]) -> Iterator[_Group]:
    """``frames`` gathered into groups of at least :data:`GROUP_ROWS` events."""
    group: list[tuple[int, BatchFrame]] = []
    rows = 0
    for segment, frame in frames:
        group.append((segment, frame))
        rows += frame.batch.num_rows
        if rows >= GROUP_ROWS:
            yield _group_of(group)
            group, rows = [], 0
    if group:
        yield _group_of(group)


def _group_of(group: list[tuple[int, BatchFrame]]) -> _Group:
    segment, last = group[-1]
    return _Group(_group_events(group), (segment, last.offset, last.chain), len(group))


_DONE = object()


def _read_ahead(items: Iterator[_Group], depth: int) -> Iterator[_Group]:
    """``items``, produced on a second thread up to ``depth`` ahead of the consumer (reading and
    decoding run in Arrow without the GIL, so they overlap the fold). An exception raised
    while producing is raised here, in order; when the consumer stops early the producer is
    told to stop and ``items`` is closed on its thread."""
    handoff: queue.Queue[tuple[object, BaseException | None]] = queue.Queue(depth)
    stop = threading.Event()

    def put(entry: tuple[object, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                handoff.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((_DONE, None))
        except BaseException as exc:  # handed to the consumer, raised there
            put((_DONE, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="projection-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item, error = handoff.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()


_EVENTS_WITH_LOCATOR = pa.schema(list(EVENT_SCHEMA) + list(LOCATOR_FIELDS))
_BODY = EVENT_SCHEMA.get_field_index("body")
_ROW_NUMBERS: list[pa.Array] = [pa.nulls(0, pa.int32())]  # no conversion (pandas) at import
_ONE_INT32 = arrays.scalar(1, pa.int32())


def _group_events(group: list[tuple[int, BatchFrame]]) -> pa.Table:
    """The events of consecutive ledger batches as one table, with their locator columns.

    Every column but ``body`` is copied into one contiguous array (a few dozen bytes per event,
    and every projection filters them); ``body`` stays chunked, one chunk per batch, so the
    large bodies are only copied for the rows a projection keeps. The locator columns are
    built without a per-event loop: run-end decoded per-batch values.
    """
    batches = [frame.batch for _, frame in group if frame.batch.num_rows]
    if not batches:
        return _EVENTS_WITH_LOCATOR.empty_table()
    columns: list[pa.ChunkedArray] = []
    for i in range(len(EVENT_SCHEMA)):
        chunks = [batch.column(i) for batch in batches]
        columns.append(pa.chunked_array(chunks if i == _BODY else [pa.concat_arrays(chunks)]))
    counts = [frame.batch.num_rows for _, frame in group if frame.batch.num_rows]
    ends = arrays.array(itertools.accumulate(counts), pa.int32())
    segment = _decode_runs(ends, [s for s, f in group if f.batch.num_rows], pa.int32())
    offset = _decode_runs(ends, [f.offset for _, f in group if f.batch.num_rows], pa.int64())
    starts = _decode_runs(ends, list(itertools.accumulate(counts[:-1], initial=0)), pa.int32())
    row = pc.subtract(_row_numbers(len(starts)), starts)
    columns += [pa.chunked_array([segment]), pa.chunked_array([offset]), pa.chunked_array([row])]
    return pa.Table.from_arrays(columns, schema=_EVENTS_WITH_LOCATOR)


def _decode_runs(ends: pa.Array, values: list[int], type_: pa.DataType) -> pa.Array:
    """``values[i]`` repeated over the rows of run ``i`` (runs end at ``ends``)."""
    runs = pa.Array.from_buffers(
        pa.run_end_encoded(pa.int32(), type_),
        ends[-1].as_py() if len(ends) else 0,
        [None],
        children=[ends, arrays.array(values, type_)],
    )  # not RunEndEncodedArray.from_arrays: it converts its last run end with the converter
    return pc.run_end_decode(runs)


def _row_numbers(n: int) -> pa.Array:
    """0..n-1 as int32: a slice of one cached array (grown when a longer batch comes)."""
    numbers = _ROW_NUMBERS[0]
    if len(numbers) < n:
        size = max(n, 2 * len(numbers))
        ones = pa.repeat(_ONE_INT32, size)
        numbers = pc.subtract(pc.cumulative_sum(ones), _ONE_INT32)
        _ROW_NUMBERS[0] = numbers
    return numbers.slice(0, n)


def _with_locator(batch: pa.RecordBatch, segment: int, offset: int) -> pa.RecordBatch:
    """``batch`` plus the locator columns (segment, batch byte offset, row within the batch)."""
    n = batch.num_rows
    columns = [
        *batch.columns,
        pa.repeat(arrays.scalar(segment, pa.int32()), n),
        pa.repeat(arrays.scalar(offset, pa.int64()), n),
        _row_numbers(n),
    ]
    return pa.RecordBatch.from_arrays(columns, schema=_EVENTS_WITH_LOCATOR)


def _malloc_trim() -> Callable[[], object]:
    """``malloc_trim(0)`` of the C library (glibc), or a no-op where there is none."""
    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return lambda: None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return lambda: trim(0)


@contextlib.contextmanager
def _system_allocator():  # type: ignore[no-untyped-def]
    """Allocate Arrow memory with the C library's malloc for the duration.

    A rebuild allocates and frees hundreds of MB in short-lived group tables; with Arrow's
    default pool (mimalloc) the pages it returns to the system are faulted in again, and a
    rebuild of 1.35M events spent ~2.0 s in the kernel (about 500k events/s) against ~0.55 s
    with malloc (about 930k events/s, and 445 instead of 600 MB peak RSS). Buffers remember
    the pool that made them, so switching back is safe at any time.
    """
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


@contextlib.contextmanager
def _folder_lock(folder: Path):  # type: ignore[no-untyped-def]
    fd = os.open(folder / "LOCK", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        lock_fd(fd)
        yield
    finally:
        unlock_fd(fd)
        os.close(fd)
