"""One workspace: its ledger, its projections, and the read-your-writes rule between them.

Every write becomes a buffered ledger event. Every read first commits what this process has
buffered and folds what any process has committed since, so a query always sees every write
made before it.
"""

from __future__ import annotations

import getpass
import os
import socket
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ledger import CorruptionError, Head, Ledger, LedgerError, PendingEvent
from ledger.segment import read_frame
from projections import Projector, as_of, latest_per

from .common.errors import AppendError, IntegrityError
from .events import decode_body

__all__ = ["Workspace", "default_actor"]


def default_actor() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}:{os.getpid()}"


class _LRU(OrderedDict[Any, Any]):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def put(self, key: Any, value: Any) -> None:
        self[key] = value
        if len(self) > self.size:
            self.popitem(last=False)


def translate(exc: LedgerError) -> Exception:
    """Ledger errors as public errors, chained."""
    if isinstance(exc, CorruptionError):
        return IntegrityError(exc.message, code=exc.code, details=exc.details, cause=exc)
    return AppendError(exc.message, code=exc.code, details=exc.details, cause=exc)


class Workspace:
    """The ledger and projections under ``root``."""

    def __init__(
        self,
        root: Path | str,
        *,
        durability: str = "flush",
        buffer_max_events: int = 1024,
        buffer_max_ms: float = 50.0,
        actor: str | None = None,
        read_only: bool = False,
    ) -> None:
        self.root = Path(root)
        self.ledger = Ledger(
            self.root / "ledger",
            durability=durability,
            buffer_max_events=buffer_max_events,
            buffer_max_ms=buffer_max_ms,
            read_only=read_only,
        )
        self.projector = Projector(self.ledger, self.root / "projections")
        self.actor = actor or default_actor()
        self._models: _LRU = _LRU(200_000)
        self._batches: _LRU = _LRU(64)
        self._known: dict[str, set[str]] = {}
        self._indexes: dict[tuple[str, str], tuple[int, int, dict[Any, list[int]]]] = {}

    # ------------------------------------------------------------------ writing

    def write(self, events: Sequence[PendingEvent]) -> Any:
        try:
            return self.ledger.append_many(events)
        except LedgerError as exc:
            raise translate(exc) from exc

    def remember(self, kind: str, ref: str) -> None:
        """Note that this process put ``ref`` (for referential checks without a read)."""
        self._known.setdefault(kind, set()).add(ref)

    def flush(self) -> Any:
        try:
            return self.ledger.flush()
        except LedgerError as exc:
            raise translate(exc) from exc

    def close(self) -> None:
        try:
            self.ledger.close()
        except LedgerError as exc:
            raise translate(exc) from exc
        finally:
            self.projector.save()

    def reopen(self) -> None:
        if self.ledger._closed:
            self.ledger.reopen()

    # ------------------------------------------------------------------ reading

    def head(self) -> Head:
        """Commit this process's buffer, then the committed head (read-your-writes)."""
        self.reopen()
        self.flush()
        return self.ledger.head()

    def table(self, name: str, *, as_of_us: int | None = None, head: Head | None = None) -> pa.Table:
        try:
            projection = self.projector.get(name, head or self.head())
        except CorruptionError as exc:
            raise translate(exc) from exc
        return as_of(projection.table(), as_of_us)

    def latest(self, name: str, *, as_of_us: int | None = None) -> pa.Table:
        """The latest version of each entity of projection ``name``."""
        return latest_per(self.table(name, as_of_us=as_of_us))

    def exists(self, kind: str, projection: str, ref: str) -> bool:
        if ref in self._known.get(kind, ()):
            return True
        table = self.table(projection)
        found = pc.any(pc.equal(table.column("ref"), ref)).as_py() if table.num_rows else False
        if found:
            self.remember(kind, ref)
        return bool(found)

    def index(self, name: str, column: str) -> tuple[pa.Table, dict[Any, list[int]]]:
        """Projection ``name`` and a dict from each value of ``column`` to its row numbers,
        extended incrementally as the (append-only) projection grows."""
        table = self.table(name)
        projection = self.projector.get(name, self.ledger.head())
        key = (name, column)
        cached = self._indexes.get(key)
        epoch = id(projection._chunks[0]) if projection._chunks else 0
        if cached is None or cached[0] != epoch or cached[1] > table.num_rows:
            done, mapping = 0, {}
        else:
            done, mapping = cached[1], cached[2]
        if done < table.num_rows:
            values = table.column(column).slice(done).to_pylist()
            for i, value in enumerate(values, start=done):
                rows = mapping.get(value)
                if rows is None:
                    mapping[value] = [i]
                else:
                    rows.append(i)
        self._indexes[key] = (epoch, table.num_rows, mapping)
        return table, mapping

    # ------------------------------------------------------------------ bodies

    def models(self, table: pa.Table, kind: str | None = None) -> list[Any]:
        """Decode the ``body`` column of projection rows (per-row ``kind`` column unless given)."""
        seqs = table.column("seq").to_pylist()
        kinds = None if kind is not None else table.column("kind").to_pylist()
        out: list[Any] = []
        bodies = None
        for i, seq in enumerate(seqs):
            model = self._models.get(seq)
            if model is None:
                if bodies is None:
                    bodies = table.column("body")
                model = decode_body(kinds[i] if kinds is not None else kind, bodies[i].as_py())
                self._models.put(seq, model)
            out.append(model)
        return out

    def fetch(self, rows: pa.Table) -> list[Any]:
        """Decode records located by ``segment``/``batch_offset``/``row`` (records projection)."""
        seqs = rows.column("seq").to_pylist()
        segments = rows.column("segment").to_pylist()
        offsets = rows.column("batch_offset").to_pylist()
        positions = rows.column("row").to_pylist()
        kinds = rows.column("kind").to_pylist()
        out = []
        for seq, segment, offset, row, kind in zip(seqs, segments, offsets, positions, kinds, strict=True):
            model = self._models.get(seq)
            if model is None:
                batch = self._batch(segment, offset)
                model = decode_body(kind, batch.column(12)[row].as_py())
                self._models.put(seq, model)
            out.append(model)
        return out

    def _batch(self, segment: int, offset: int) -> pa.RecordBatch:
        cached = self._batches.get((segment, offset))
        if cached is not None:
            return cached
        path = self.ledger.segment_path(segment)
        buf = pa.memory_map(str(path), "r").read_buffer()
        try:
            frame = read_frame(buf, offset, buf.size, str(path))
        except CorruptionError as exc:
            raise translate(exc) from exc
        if frame is None:
            raise IntegrityError(f"No batch at `{path.name}` offset {offset}.", code="ledger_corrupt")
        self._batches.put((segment, offset), frame.batch)
        return frame.batch

    def events(self, *, after_seq: int = 0, upto: int | None = None) -> Iterable[pa.RecordBatch]:
        """Committed ledger batches (for history and scans)."""
        head = self.head()
        try:
            for batch in self.ledger.batches(head, after_seq=after_seq):
                if upto is not None:
                    seq = batch.column("seq")
                    if seq[0].as_py() > upto:
                        return
                    batch = batch.filter(pc.less_equal(seq, upto))
                yield batch
        except CorruptionError as exc:
            raise translate(exc) from exc

