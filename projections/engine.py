"""The projection engine: load saved state lazily, fold only new events, save, rebuild.

``Projector.get(name)`` returns a projection caught up to the ledger's committed head: its saved
state is loaded on first use (or rebuilt when missing, of another version, or not matching the
ledger), then only the events after its checkpoint are folded. ``rebuild`` throws state away
and folds the whole log in one streaming pass.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from ledger import EVENT_SCHEMA, CorruptionError, Head, LedgerReader
from ledger.fs import FileSystem
from ledger.segment import read_frame

from .base import Projection
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
from .projects import ProjectsProjection
from .records import RecordsProjection
from .runs import RunsProjection
from .stage_metrics import StageMetricsProjection
from .stages import StagesProjection
from .store import Checkpoint, LoadError, load_state, save_state

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

    __slots__ = ("chunks", "dirty_from", "load_note", "loaded", "position", "projection", "saved")

    def __init__(self, projection: Projection) -> None:
        self.projection = projection
        self.loaded = False
        self.chunks: list[dict] = []
        self.saved: int | None = None  # checkpoint of the saved copy
        self.dirty_from = 0  # row count already saved
        self.position: tuple[int, int, str] | None = None  # (segment, offset, chain) of checkpoint
        self.load_note = ""


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
    ) -> None:
        self.reader = reader
        self.root = Path(root)
        self.persist = persist
        self.fs = fs  # the file layer saves go through (tests inject crashes and power loss)
        self._slots = {cls.name: _Slot(cls(EVENT_SCHEMA)) for cls in classes}

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
        events = 0
        for segment, frame in self.reader.frames(head, after_seq=start):
            batch = _with_locator(frame.batch, segment, frame.offset)
            events += batch.num_rows
            for slot in behind:
                slot.projection.apply(batch)
                slot.position = (segment, frame.offset, frame.chain)
        return events

    # ------------------------------------------------------------------ persistence

    def _folder(self, name: str) -> Path:
        return self.root / name

    def _load(self, slot: _Slot, head: Head) -> None:
        slot.loaded = True
        projection = slot.projection
        if not self.persist:
            return
        try:
            table, checkpoint, chunks = load_state(self._folder(projection.name), projection)
            self._check_against_ledger(checkpoint, head)
        except LoadError as exc:
            slot.load_note = f"rebuilt ({exc})"
            projection.reset()
            return
        # Saved state is only as good as the events it was folded from: CRC-check that prefix
        # of the ledger (raises CorruptionError naming file and offset) before trusting it.
        self.reader.check(checkpoint.seq, head)
        projection.load(table, checkpoint.seq)
        slot.chunks = chunks
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
            with pa.memory_map(str(path), "r") as source:
                buf = source.read_buffer()
            end = head.offset if checkpoint.segment == head.segment else buf.size
            frame = read_frame(buf, checkpoint.offset, end, str(path))
        except (OSError, CorruptionError) as exc:
            raise LoadError(f"checkpoint batch unreadable: {exc}") from exc
        if frame is None or frame.chain != checkpoint.chain or (
            frame.first_seq + frame.count - 1 != checkpoint.seq
        ):
            raise LoadError("checkpoint does not match the ledger")

    def save(self, names: Iterable[str] | None = None) -> list[str]:
        """Save every loaded projection that folded something since its last save."""
        if not self.persist:
            return []
        saved = []
        for name in names or self._slots:
            slot = self._slots[name]
            projection = slot.projection
            if not slot.loaded or slot.position is None or slot.saved == projection.checkpoint:
                continue
            segment, offset, chain = slot.position
            checkpoint = Checkpoint(projection.checkpoint, chain, segment, offset)
            folder = self._folder(name)
            folder.mkdir(parents=True, exist_ok=True)
            with _folder_lock(folder):
                new_rows = projection.table().slice(slot.dirty_from)
                slot.chunks = save_state(
                    folder, projection, new_rows, checkpoint, slot.chunks, self.fs
                )
            slot.saved = projection.checkpoint
            slot.dirty_from = projection.num_rows
            saved.append(name)
        return saved

    def rebuild(self, names: Iterable[str] | None = None, *, save: bool = True) -> RebuildStats:
        """Throw state away and fold the whole ledger (one streaming pass)."""
        started = time.perf_counter()
        chosen = tuple(names or self._slots)
        for name in chosen:
            slot = self._slots[name]
            slot.projection.reset()
            slot.loaded = True
            slot.chunks = []
            slot.saved = None
            slot.dirty_from = 0
            slot.position = None
            slot.load_note = "rebuilt"
        head = self.reader.head()
        events = batches = 0
        slots = [self._slots[n] for n in chosen]
        for segment, frame in self.reader.frames(head):
            batch = _with_locator(frame.batch, segment, frame.offset)
            events += batch.num_rows
            batches += 1
            for slot in slots:
                slot.projection.apply(batch)
                slot.position = (segment, frame.offset, frame.chain)
        if save:
            for slot in slots:
                if slot.position is None:
                    # an empty ledger: nothing to checkpoint, drop stale saved state
                    with contextlib.suppress(FileNotFoundError):
                        (self._folder(slot.projection.name) / "MANIFEST.json").unlink()
            self.save(chosen)
        return RebuildStats(events, batches, time.perf_counter() - started, chosen)

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


def _with_locator(batch: pa.RecordBatch, segment: int, offset: int) -> pa.RecordBatch:
    n = batch.num_rows
    arrays = list(batch.columns) + [
        pa.repeat(pa.scalar(segment, pa.int32()), n),
        pa.repeat(pa.scalar(offset, pa.int64()), n),
        pa.array(range(n), pa.int32()),
    ]
    names = list(batch.schema.names) + ["segment", "batch_offset", "row"]
    return pa.RecordBatch.from_arrays(arrays, names=names)


@contextlib.contextmanager
def _folder_lock(folder: Path):  # type: ignore[no-untyped-def]
    fd = os.open(folder / "LOCK", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
