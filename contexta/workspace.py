"""One workspace: its ledger, its projections, and the read-your-writes rule between them.

Every write becomes a buffered ledger event. Every read first commits what this process has
buffered and folds what any process has committed since, so a query always sees every write
made before it.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import socket
import stat
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ledger import (
    CorruptionError,
    Head,
    Ledger,
    LedgerError,
    LedgerValidationError,
    PendingEvent,
    arrays,
)
from ledger.head import HEAD_NAME
from projections import Projection, Projector, as_of, latest_per
from projections.index import RowIndex, group_rows
from projections.query import take_rows

from .common.errors import (
    AppendError,
    IntegrityError,
    NotFoundError,
    ValidationError,
    WorkspaceError,
    close_matches,
    from_os_error,
)
from .events import decode_body
from .ordering import string_scalar

__all__ = ["LRU", "Snapshot", "Workspace", "check_root", "default_actor", "group_rows"]


#: How long after its last write HEAD must have been read for the parsed head to be reused:
#: longer than the coarsest file timestamp granularity we expect (one second).
_SETTLED_NS = 2_500_000_000


def default_actor() -> str:
    try:
        user = getpass.getuser()
    except Exception:
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}:{os.getpid()}"


#: refs of each kind a workspace remembers putting (:meth:`Workspace.remember`)
REMEMBERED = 65_536


class LRU(OrderedDict[Any, Any]):
    """A dict that forgets its least recently inserted entries beyond ``size``."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def put(self, key: Any, value: Any) -> None:
        self[key] = value
        if len(self) > self.size:
            self.popitem(last=False)


class Snapshot:
    """One read's view of the workspace: the committed head, read once, and the projections
    caught up to it. On the first projection asked for, every projection this process already
    has in use is caught up in one pass (one fold of the new events serves them all); a
    projection first used later in the read is loaded from its saved state at the same head.
    Tables handed out are cut at the head's seq, so a projection another thread folds further
    meanwhile never shows a row past it."""

    __slots__ = ("_in_use", "_projector", "_tables", "head", "projections")

    def __init__(self, head: Head, projector: Projector, in_use: set[str]) -> None:
        self.head = head
        self.projections: dict[str, Projection] = {}
        self._projector = projector
        self._in_use = in_use
        self._tables: dict[str, pa.Table] = {}

    @property
    def seq(self) -> int:
        """The seq of the last event the snapshot holds."""
        return self.head.seq

    @property
    def tx_time_us(self) -> int:
        """The transaction time (microseconds) of the head: ``as_of`` it answers the same."""
        return self.head.tx_time

    def projection(self, name: str) -> Projection:
        """Projection ``name`` folded up to the head."""
        found = self.projections.get(name)
        if found is not None:
            return found
        names = {name} if self.projections else self._in_use | {name}
        try:
            self.projections.update(self._projector.get_many(sorted(names), self.head))
        except CorruptionError as exc:
            raise translate(exc) from exc
        self._in_use.update(names)
        return self.projections[name]

    def table(self, name: str) -> pa.Table:
        """Projection ``name``'s table as of the head (the same object on every call)."""
        table = self._tables.get(name)
        if table is None:
            projection = self.projection(name)
            table = projection.table()
            if projection.checkpoint > self.head.seq:  # folded further by another thread
                bound = arrays.scalar(self.head.seq, table.schema.field("seq").type)
                table = table.filter(pc.less_equal(table.column("seq"), bound))
            self._tables[name] = table
        return table


def translate(exc: LedgerError) -> Exception:
    """Ledger errors as public errors, chained."""
    if isinstance(exc, CorruptionError):
        return IntegrityError(exc.message, code=exc.code, details=exc.details, cause=exc)
    if isinstance(exc, LedgerValidationError):  # bad input, never an I/O failure
        return ValidationError(exc.message, code=exc.code, details=exc.details, cause=exc)
    return AppendError(exc.message, code=exc.code, details=exc.details, cause=exc)


def check_root(root: Path | str, *, must_exist: bool, allow_damaged: bool = False) -> None:
    """Raise a typed error when ``root`` cannot be a workspace: it (or a parent) is a file, its
    ``ledger`` is not a directory, or (``must_exist``, for reads) there is no workspace there.

    A read never treats a missing workspace as an empty one, and never creates it; the first
    write creates a new workspace (so ``must_exist=False`` lets a missing root pass). A
    restore may replace a damaged workspace (``allow_damaged``: a ``ledger`` file passes).
    """
    root = Path(root)
    ledger = root / "ledger"
    for path, what in ((root, "workspace"), (ledger, "ledger")):
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            if must_exist:
                raise _missing(root, ledger_only=path is ledger) from None
            return
        except NotADirectoryError as exc:
            raise WorkspaceError(
                f"The workspace path {root} goes through a file, not a directory.",
                code="workspace_not_a_directory",
                details={"path": str(root)},
                cause=exc,
            ) from exc
        except OSError as exc:
            raise from_os_error(exc, f"opening the {what}", path) from exc
        if not stat.S_ISDIR(mode):
            if path is ledger and allow_damaged:
                return
            code = "workspace_not_a_directory" if path is root else "workspace_damaged"
            raise WorkspaceError(
                f"The {what} path {path} is a file, not a directory"
                + (
                    "."
                    if path is root
                    else ": the workspace is damaged (move that file away or restore a backup)."
                ),
                code=code,
                details={"path": str(path)},
            )


def _missing(root: Path, *, ledger_only: bool) -> NotFoundError:
    why = (
        "it has no ledger/ directory: it is not a Contexta workspace, or nothing was ever "
        "written to it"
        if ledger_only
        else "no such directory"
    )
    close = _close_workspaces(root)
    hint = f" Did you mean {', '.join(str(p) for p in close)}?" if close else ""
    return NotFoundError(
        f"No workspace at {root} ({why}).{hint} Check the workspace path; a workspace is "
        "created by its first write.",
        code="workspace_not_found",
        details={"path": str(root), "close_matches": [str(p) for p in close]},
    )


def _close_workspaces(root: Path, limit: int = 1000) -> list[Path]:
    """Workspaces beside ``root`` whose names are close to its name."""
    try:
        names = []
        with os.scandir(root.parent) as entries:
            for i, entry in enumerate(entries):
                if i >= limit:
                    break
                if entry.name != root.name and entry.is_dir():
                    names.append(entry.name)
    except OSError:
        return []
    close = close_matches(root.name, names)
    return [root.parent / n for n in close if (root.parent / n / "ledger").is_dir()]


def _finish_interrupted_restore(root: Path) -> None:
    """Complete or roll back a restore into ``root`` that a crash cut short (see
    :mod:`contexta.recovery.restore`); a stat of the root when there is none."""
    try:
        pending = any(p.name.startswith(".contexta-restore-") for p in root.iterdir())
    except OSError:
        return
    if pending:
        from .recovery.restore import recover_interrupted_restores

        recover_interrupted_restores(root)


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
        if not read_only:
            _finish_interrupted_restore(self.root)
        from .remote_workspace import remote_ledger_class  # s3:// workspaces (their cache)

        self.ledger = (remote_ledger_class(self.root) or Ledger)(
            self.root / "ledger",
            durability=durability,
            buffer_max_events=buffer_max_events,
            buffer_max_ms=buffer_max_ms,
            read_only=read_only,
        )
        self.projector = Projector(self.ledger, self.root / "projections")
        self.actor = actor or default_actor()
        self._models: LRU = LRU(200_000)
        self._seq_caches: dict[str, LRU] = {}  # see seq_cache
        self._batches: LRU = LRU(64)
        self._known: dict[str, LRU] = {}  # see remember
        self._indexes: dict[tuple[str, str], tuple[Any, int, RowIndex]] = {}
        self._latest: dict[str, tuple[pa.Table, pa.Table]] = {}
        self._head: tuple[tuple[int, int, int, int], Head] | None = None
        self._pins = threading.local()  # this thread's open snapshot and its last one
        self._in_use: set[str] = set()  # projections snapshots have used (caught up together)

    # ------------------------------------------------------------------ writing

    def write(self, events: Sequence[PendingEvent]) -> Any:
        try:
            return self.ledger.append_many(events)
        except LedgerError as exc:
            raise translate(exc) from exc

    def write_fitted(self, events: Sequence[PendingEvent]) -> Any:
        """:meth:`write` of events built to fit the ledger row (see
        :meth:`ledger.writer.Ledger.append_fitted`)."""
        try:
            return self.ledger.append_fitted(events)
        except LedgerError as exc:
            raise translate(exc) from exc

    def remember(self, kind: str, ref: str) -> None:
        """Note that this process put ``ref`` (for referential checks without a read): the
        latest :data:`REMEMBERED` refs of each kind, so a long ingest does not keep every ref
        it put (400k refs, about 40 MiB, at 100k runs); an older ref is checked by a read."""
        known = self._known.get(kind)
        if known is None:
            known = self._known[kind] = LRU(REMEMBERED)
        known.put(ref, None)

    def remembered(self, kind: str, ref: str) -> bool:
        """Whether this process put ``ref`` as a ``kind`` event (see :meth:`remember`)."""
        return ref in self._known.get(kind, ())

    def flush(self) -> Any:
        try:
            return self.ledger.flush()
        except LedgerError as exc:
            raise translate(exc) from exc

    def close(self) -> None:
        try:
            self.ledger.close()
        except LedgerError as exc:
            self._save_projections(report=False)  # the ledger's error is the one to raise
            raise translate(exc) from exc
        except OSError as exc:
            self._save_projections(report=False)
            raise from_os_error(exc, "closing the ledger", self.ledger.root) from exc
        self._save_projections(report=True)

    def _save_projections(self, *, report: bool) -> None:
        """Save the projections; they are a cache of the ledger, so a failure loses nothing,
        but with ``report`` it is raised as a typed error rather than hidden."""
        try:
            self.projector.save()
        except OSError as exc:
            if report:
                raise from_os_error(
                    exc,
                    "saving the projections (every committed event is safe in the ledger; "
                    "the projections are rebuilt from it when next opened)",
                    self.root / "projections",
                ) from exc

    def reopen(self) -> None:
        if self.ledger.closed:
            self.ledger.reopen()

    # ------------------------------------------------------------------ reading

    def head(self) -> Head:
        """Commit this process's buffer, then the committed head (read-your-writes).

        The parsed head is reused while the HEAD file is unchanged (same inode, size, mtime and
        ctime) *and* was last written long enough before it was read that any later write must
        show a new timestamp, even on file systems with one-second timestamps: so a cached head
        can never hide a commit, and a query costs a ``stat`` instead of a read and a parse.
        """
        self.reopen()
        self.flush()
        try:
            st = os.stat(self.ledger.root / HEAD_NAME)
        except OSError:
            return self.ledger.head()
        key = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        cached = self._head
        if cached is not None and cached[0] == key:
            return cached[1]
        before = time.time_ns()
        head = self.ledger.head()
        if before - max(st.st_mtime_ns, st.st_ctime_ns) > _SETTLED_NS:
            self._head = (key, head)
        return head

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        """Pin this thread's reads to one snapshot while the block runs: the head is read once
        (committing this process's buffer first) and the projections are caught up to it (see
        :class:`Snapshot`); :meth:`table`, :meth:`latest`, :meth:`index`, :meth:`bodies` and
        :meth:`events` answer from it. Nested blocks share the outer snapshot."""
        pins = self._pins
        current: Snapshot | None = getattr(pins, "open", None)
        if current is not None:
            yield current
            return
        try:
            head = self.head()
        except CorruptionError as exc:  # damage found deriving the head: a typed error
            raise translate(exc) from exc
        snap = pins.open = pins.last = Snapshot(head, self.projector, self._in_use)
        try:
            yield snap
        finally:
            pins.open = None

    def pinned(self) -> Snapshot | None:
        """This thread's open snapshot (None outside :meth:`snapshot`)."""
        found: Snapshot | None = getattr(self._pins, "open", None)
        return found

    def last_snapshot(self) -> Snapshot | None:
        """The snapshot this thread's latest read was answered from (None before any)."""
        found: Snapshot | None = getattr(self._pins, "last", None)
        return found

    def read_head(self) -> Head:
        """The pinned head inside a snapshot, else the committed head now."""
        snap = self.pinned()
        return snap.head if snap is not None else self.head()

    def _projection_table(self, name: str, head: Head | None) -> tuple[Projection, pa.Table]:
        snap = self.pinned()
        if snap is not None and (head is None or head.seq == snap.head.seq):
            return snap.projection(name), snap.table(name)
        try:
            projection = self.projector.get(name, head or self.head())
        except CorruptionError as exc:
            raise translate(exc) from exc
        return projection, projection.table()

    def table(
        self, name: str, *, as_of_us: int | None = None, head: Head | None = None
    ) -> pa.Table:
        return as_of(self._projection_table(name, head)[1], as_of_us)

    def latest(self, name: str, *, as_of_us: int | None = None) -> pa.Table:
        """The latest version of each entity of projection ``name``.

        Cached per source table: a projection hands out the same (immutable) table object until
        it folds more rows, and the cache keeps that object alive, so identity is a safe key.
        """
        table = self.table(name, as_of_us=as_of_us)
        cached = self._latest.get(name)
        if cached is not None and cached[0] is table:
            return cached[1]
        latest = latest_per(table)
        self._latest[name] = (table, latest)
        return latest

    def exists(self, kind: str, projection: str, ref: str) -> bool:
        if self.remembered(kind, ref):
            return True
        table = self.table(projection)
        found = (
            pc.any(pc.equal(table.column("ref"), string_scalar(ref))).as_py()
            if table.num_rows
            else False
        )
        if found:
            self.remember(kind, ref)
        return bool(found)

    def index(
        self, name: str, column: str, *, head: Head | None = None
    ) -> tuple[pa.Table, RowIndex]:
        """Projection ``name`` and a mapping from each value of ``column`` to its row numbers
        (ascending), extended incrementally as the (append-only) projection grows.

        Rows saved with a row index (:mod:`projections.index`) are looked up in it, value by
        value, through the memory-mapped file: a new process pays for the values it asks for.
        Rows folded since the load are grouped with Arrow (dictionary-encode, stable sort, run
        ends), so the Python work is per distinct value, not per row.
        """
        projection, table = self._projection_table(name, head)
        key = (name, column)
        cached = self._indexes.get(key)
        epoch = (id(projection), projection.epoch)
        if cached is None or cached[0] != epoch or cached[1] > table.num_rows:
            saved = self.projector.saved_index(name, column)
            if saved is not None and saved.rows > table.num_rows:  # a table pinned before a save
                saved = None
            done = saved.rows if saved is not None else 0
            mapping = RowIndex(saved, {})
        else:
            done, mapping = cached[1], cached[2]
        if done < table.num_rows:
            mapping.extend(table.column(column).slice(done), done)
        self._indexes[key] = (epoch, table.num_rows, mapping)
        return table, mapping

    def let_go(self, name: str) -> None:
        """After a read that went over much of projection ``name`` once (every run body, every
        stage row): let go of this process's mapped pages of its saved files (see
        :meth:`projections.engine.Projector.let_go`; what is read later is mapped again) and
        hand the memory Arrow's pool freed meanwhile back to the system (mimalloc keeps it
        otherwise: about 80 MiB after a first select-best at 100k runs, for 0.7 ms)."""
        self.projector.let_go(name)
        pa.default_memory_pool().release_unused()

    def rows_of(
        self, name: str, column: str, value: Any, *, columns: Sequence[str] | None = None
    ) -> pa.Table:
        """The rows of projection ``name`` whose ``column`` is ``value``, in row order (only
        ``columns`` of them when given): ``take_rows(table, index(name, column)[value])``.

        Where the saved chunks have a copy clustered by ``column`` (``stage_metrics`` by metric
        key), the saved rows are slices of those copies, so a new process reads that value's
        rows alone instead of a few rows from every page of the projection; rows folded since
        the load are taken from the table.
        """
        table, index = self.index(name, column)
        if columns is not None:
            table = table.select(list(columns))
        saved = index.saved
        if saved is None or not saved.clustered:
            rows = index.get(value)
            return take_rows(table, rows) if rows else table.slice(0, 0)
        pieces = saved.read_rows(value, table.column_names)
        tail = index.tail.get(value)
        if tail:
            pieces.append(take_rows(table, tail))
        if not pieces:
            return table.slice(0, 0)
        return pa.concat_tables(pieces) if len(pieces) > 1 else pieces[0]

    def seq_cache(self, name: str, size: int) -> LRU:
        """A cache of what is derived from one stored event alone, by seq, shared by every
        reader of this workspace (live and as-of views alike: a stored event never changes,
        and an as-of view only decides which events it reads)."""
        cache = self._seq_caches.get(name)
        if cache is None:
            cache = self._seq_caches.setdefault(name, LRU(size))
        return cache

    # ------------------------------------------------------------------ bodies

    def models(self, table: pa.Table, kind: str | None = None) -> list[Any]:
        """Decode the ``body`` column of projection rows (per-row ``kind`` column unless given).

        Decoded models are cached by seq; the misses are decoded in one pass over the column.
        """
        seqs = table.column("seq").to_pylist()
        cache = self._models
        out = [cache.get(seq) for seq in seqs]
        missing = [i for i, model in enumerate(out) if model is None]
        if not missing:
            return out
        bodies = table.column("body")
        if len(missing) < len(seqs):
            bodies = bodies.take(arrays.array(missing, pa.int64()))
        if kind is not None:
            kinds: list[str] | None = None
        else:
            kinds = table.column("kind").to_pylist()
        for i, body in zip(missing, bodies.to_pylist(), strict=True):
            model = decode_body(kinds[i] if kinds is not None else str(kind), body)
            out[i] = model
            cache.put(seqs[i], model)
        return out

    def fetch(self, rows: pa.Table) -> list[Any]:
        """Decode records located by ``segment``/``batch_offset``/``row`` (records projection).

        Cached by seq; the misses are read with :meth:`bodies`.
        """
        seqs = rows.column("seq").to_pylist()
        cache = self._models
        out = [cache.get(seq) for seq in seqs]
        missing = [i for i, model in enumerate(out) if model is None]
        if not missing:
            return out
        if len(missing) < len(seqs):
            rows = rows.take(arrays.array(missing, pa.int64()))
        kinds = rows.column("kind").to_pylist()
        for i, kind, body in zip(missing, kinds, self.bodies(rows), strict=True):
            model = decode_body(kind, body)
            out[i] = model
            cache.put(seqs[i], model)
        return out

    def bodies(self, rows: pa.Table) -> list[bytes]:
        """The stored bodies of records located by ``segment``/``batch_offset``/``row``, in row
        order: read one ledger batch at a time (one ``take`` of the body column per batch)."""
        segments = rows.column("segment").to_pylist()
        offsets = rows.column("batch_offset").to_pylist()
        positions = rows.column("row").to_pylist()
        by_batch: dict[tuple[int, int], list[int]] = {}
        for i, key in enumerate(zip(segments, offsets, strict=True)):
            by_batch.setdefault(key, []).append(i)
        out: list[bytes] = [b""] * len(positions)
        for (segment, offset), members in by_batch.items():
            batch = self._batch(segment, offset)
            take = arrays.array([positions[i] for i in members], pa.int64())
            for i, body in zip(members, batch.column(12).take(take).to_pylist(), strict=True):
                out[i] = body
        return out

    def _batch(self, segment: int, offset: int) -> pa.RecordBatch:
        """The ledger batch at ``offset`` of ``segment``, cached: read through the ledger's
        reader, which reuses its maps and skips the CRC of bytes it already verified."""
        cached = self._batches.get((segment, offset))
        if cached is not None:
            return cached
        try:
            frame = self.ledger.read_batch(segment, offset, self.read_head())
        except CorruptionError as exc:
            raise translate(exc) from exc
        self._batches.put((segment, offset), frame.batch)
        return frame.batch

    def events(
        self, *, after_seq: int = 0, upto: int | None = None, head: Head | None = None
    ) -> Iterable[pa.RecordBatch]:
        """Committed ledger batches (for history and scans) up to ``head`` (default: the pinned
        head in a snapshot, else the committed head when iteration starts)."""
        head = head or self.read_head()
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
