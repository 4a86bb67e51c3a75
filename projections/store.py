"""Saving and loading projection state together with its checkpoint.

A projection's folder holds immutable chunk files (Arrow IPC file format, uncompressed, each
the rows folded between two saves, or a rebuild's, at most :data:`CHUNK_ROWS` rows a chunk:
a save that writes more starts another chunk), for the indexed projections one row
index per chunk and indexed column (:mod:`projections.index`) and, for the clustered columns,
a copy of the chunk with each batch sorted by that column and a ranges file (``stage_metrics``
by metric key: one key's rows are a few contiguous slices), and ``MANIFEST.json``, which
names the chunks, their sizes, CRCs and file stamps, the projection's version and schema, and
the checkpoint: the last folded seq and the chain hash and position of the ledger batch it ends
in. Chunks are written
(temp, fsync, rename) before the manifest; the manifest is replaced by one atomic rename (temp,
fsync, rename, fsync dir). So a crash at any step leaves either the old manifest with its old chunks or the new one with its
new chunks: state and checkpoint can never be paired wrongly, and a half file is never named.

Loading costs what a query touches, not the size of the state: chunks and indexes are
memory-mapped and used in place (no decode, no copy; pages are read when a query reads them).
A file's CRC is checked in full once, when it is written; on load the file must still carry the
stamp (inode, size, mtime, ctime) recorded then, or its CRC is checked again (streamed through
a small buffer, not mapped), as the ledger does for sealed segments. Any write to a file after
it was saved changes its stamp, so a file changed on disk is never trusted unchecked.

Format 1 (LZ4-compressed chunks, no stamps and no indexes, as saved before) still loads, by a
full decode; format 2 (no clustered copies) loads as it is, its indexes used and its key reads
taken row by row; the engine then rewrites either state in the current format
(:func:`is_current`).

Anything unexpected on load (missing or damaged files, another version, another schema, a
checkpoint the ledger no longer has) makes the caller rebuild from the ledger.
"""

from __future__ import annotations

import contextlib
import functools
import json
import mmap
import os
import secrets
import sys
import zlib
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from ledger.fs import FileSystem

from .base import COMPACT_ROWS, Projection, one_batch
from .index import (
    CLUSTERED,
    INDEX_SCHEMA,
    INDEXED,
    RANGES_SCHEMA,
    ChunkIndex,
    ClusteredCopy,
    SavedIndex,
    cluster_batch,
    merge_indexes,
    merge_ranges,
    partial_index,
)

__all__ = [
    "CHUNK_ROWS",
    "FORMAT",
    "Checkpoint",
    "ChunkEncoder",
    "ChunkSeries",
    "LoadError",
    "has_indexes",
    "is_current",
    "load_index",
    "load_state",
    "publish_state",
    "save_state",
]

#: A manifest's entry for one saved file (chunk or index): name, bytes, CRC, stamp, ...
Entry = dict[str, Any]

MANIFEST = "MANIFEST.json"
MAX_CHUNKS = 24
#: Rows per saved chunk at most (a rebuild, or a save that rewrites the state, starts a new
#: chunk when one is full). It bounds what a save holds besides the rows being written: the row
#: indexes of the chunk being written are gathered in memory (4 bytes per row per indexed
#: column, about 2.5 times that while they are merged), so 2M rows is ~50 MB at most.
CHUNK_ROWS = 2_000_000
#: Rows a chunk encoder gathers before it writes a batch: a fold hands over each group's rows
#: (under 32,768 events' worth), and opening a chunk costs about 0.2 ms per batch's metadata.
BATCH_ROWS = 65_536
#: The saved-state format: 2 = plain (memory-mappable) chunks with stamps and row indexes;
#: 3 = the same, plus the clustered copies (:data:`~projections.index.CLUSTERED`).
FORMAT = 3
#: The oldest format whose row indexes are saved (and used as they are until the rewrite).
INDEXED_FORMAT = 2
#: Chunks are written plain, so a loaded state is the mapped file itself (LZ4 shrank it about
#: 4x but every process decoded all of it, 1.6 GB for ``stage_metrics`` at 100k runs, before
#: its first answer). The IPC file reader decompresses whatever a chunk says it holds, so
#: compressed chunks (format 1) still load.
CHUNK_OPTIONS = pa.ipc.IpcWriteOptions(use_threads=False)
_MAX_MANIFEST_BYTES = 1 << 20
_CRC_BLOCK = 1 << 20


class LoadError(Exception):
    """Saved state is unusable; the projection must be rebuilt. The message says why."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    seq: int
    chain: str
    segment: int
    offset: int


def _schema_fingerprint(schema: pa.Schema) -> str:
    return f"{zlib.crc32(schema.serialize().to_pybytes()):08x}"


def load_state(
    folder: Path, projection: Projection
) -> tuple[pa.Table, Checkpoint, list[Entry], list[pa.Buffer]]:
    """Read the saved state of ``projection``: its table, checkpoint, chunk entries and the
    maps of the chunk files (for :func:`let_go`); raises :class:`LoadError` when unusable."""
    manifest = _read_manifest(folder)
    try:
        if manifest.get("name") != projection.name:
            raise LoadError("manifest names another projection")
        if manifest.get("version") != projection.version:
            raise LoadError(
                f"saved version {manifest.get('version')} != current {projection.version}"
            )
        if manifest.get("schema") != _schema_fingerprint(projection.schema):
            raise LoadError("schema changed")
        cp = manifest["checkpoint"]
        checkpoint = Checkpoint(
            int(cp["seq"]), str(cp["chain"]), int(cp["segment"]), int(cp["offset"])
        )
        chunks = list(manifest["chunks"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise LoadError(f"malformed manifest: {exc}") from exc
    tables = []
    maps = []
    for chunk in chunks:
        if not isinstance(chunk, dict):
            raise LoadError("malformed chunk entry")
        table, mapped = _map_table(folder, chunk)
        if not table.schema.equals(projection.schema, check_metadata=False):
            raise LoadError(f"chunk {chunk['file']} has another schema")
        tables.append(table)
        maps.append(mapped)
    table = pa.concat_tables(tables) if tables else projection.schema.empty_table()
    return table, checkpoint, chunks, maps


def is_current(chunks: list[Entry]) -> bool:
    """Whether saved ``chunks`` are in the current format (else the state is to be rewritten)."""
    return all(c.get("format") == FORMAT for c in chunks)


def has_indexes(chunks: list[Entry]) -> bool:
    """Whether saved ``chunks`` carry row indexes (format 2 and later)."""
    return all(int(c.get("format") or 0) >= INDEXED_FORMAT for c in chunks)


def load_index(
    folder: Path, chunks: list[Entry], column: str, schema: pa.Schema | None = None
) -> SavedIndex | None:
    """The saved row index of ``column`` over ``chunks`` (None when a chunk has none), with
    each chunk's copy clustered by ``column`` when the chunk has one (given the projection's
    ``schema``, which the copy must have); raises :class:`LoadError` when a file is damaged."""
    parts = []
    base = 0
    for chunk in chunks:
        entry = (chunk.get("indexes") or {}).get(column)
        if not isinstance(entry, dict):
            return None
        table = _read_table(folder, entry)
        batches = table.to_batches()
        if len(batches) > 1 or not table.schema.equals(INDEX_SCHEMA, check_metadata=False):
            raise LoadError(f"index {entry.get('file')!r} is malformed")
        rows = int(chunk["rows"])
        copy = (chunk.get("clustered") or {}).get(column)
        spans = (chunk.get("ranges") or {}).get(column)
        clustered = None
        if schema is not None and isinstance(copy, dict) and isinstance(spans, dict):
            table, mapped = _map_table(folder, copy)
            if table.num_rows != rows or not table.schema.equals(schema, check_metadata=False):
                raise LoadError(f"clustered copy {copy.get('file')!r} does not match its chunk")
            ranges = _read_table(folder, spans)
            if not ranges.schema.equals(RANGES_SCHEMA, check_metadata=False):
                raise LoadError(f"ranges {spans.get('file')!r} are malformed")
            clustered = ClusteredCopy(table, one_batch(ranges), functools.partial(let_go, [mapped]))
        if batches:  # an empty chunk's index has no rows
            parts.append(ChunkIndex(batches[0], base, clustered))
        base += rows
    return SavedIndex(parts, base)


def _read_manifest(folder: Path) -> Entry:
    path = folder / MANIFEST
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise LoadError("no saved state") from exc
    except OSError as exc:
        raise LoadError(f"cannot read manifest: {exc}") from exc
    if len(raw) > _MAX_MANIFEST_BYTES:
        raise LoadError("manifest too large")
    try:
        manifest = json.loads(raw)
    except ValueError as exc:
        raise LoadError(f"malformed manifest: {exc}") from exc
    if not isinstance(manifest, dict):
        raise LoadError("malformed manifest")
    return manifest


#: Files whose full CRC this process checked: path -> the stamp they had then.
_VERIFIED: dict[str, list[int]] = {}


def _stamp(path: Path) -> list[int]:
    st = os.stat(path)
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _read_table(folder: Path, entry: Entry) -> pa.Table:
    """The table in the saved file ``entry`` names, memory-mapped, after the checks above."""
    return _map_table(folder, entry)[0]


def _map_table(folder: Path, entry: Entry) -> tuple[pa.Table, pa.Buffer]:
    """The table in the saved file ``entry`` names, memory-mapped, after the checks above, and
    the whole map as one buffer (for :func:`let_go`)."""
    try:
        name, size, crc = str(entry["file"]), int(entry["bytes"]), str(entry["crc"])
    except (KeyError, TypeError, ValueError) as exc:
        raise LoadError(f"malformed chunk entry: {exc}") from exc
    if "/" in name or "\\" in name or name.startswith("."):
        raise LoadError(f"bad chunk name {name!r}")
    path = folder / name
    try:
        stamp = _stamp(path)
        if stamp[1] != size:
            raise LoadError(f"chunk {name} has the wrong size")
        if stamp not in (entry.get("stamp"), _VERIFIED.get(str(path))):
            if _file_crc(path) != crc:
                raise LoadError(f"chunk {name} fails its CRC")
            _VERIFIED[str(path)] = stamp
        # Read through the mapped bytes as one buffer: Arrow reads a memory-mapped *file*
        # object batch by batch with a system call each (a chunk of 21 batches: 3.6 ms against
        # 0.5 ms), and every buffer of the table is still a zero-copy slice of the map.
        with pa.memory_map(str(path), "r") as source:
            data = source.read_buffer()
        table = pa.ipc.open_file(data).read_all()
    except LoadError:
        raise
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise LoadError(f"chunk {name} unreadable: {exc}") from exc
    return table, data


def let_go(maps: Iterable[pa.Buffer]) -> None:
    """Advise the kernel that this process needs none of the pages of ``maps`` (whole maps of
    saved files, from :func:`_map_table`) now: they leave its resident set, and are mapped
    again from the page cache when read again (the files never change).

    For reads that copy what they need out of a map, or read a column once: this kernel maps
    whole large folios of the page cache (256 KiB to 1.25 MiB for a one-byte read), so the
    scattered slices of one metric key mapped about 30 MiB of every 250 MiB clustered copy for
    about 5 MB of rows, and the run bodies ``list_runs`` decodes left 26 MiB of the runs chunk
    mapped at 100k runs. The caller holds the buffers, so each map is still mapped. A no-op
    where the advice is not available (outside Linux)."""
    advise = _madvise()
    if advise is None:
        return
    page = mmap.PAGESIZE
    for buffer in maps:
        if buffer.size and buffer.address % page == 0:  # a whole map starts on a page
            advise(buffer.address, buffer.size)


@functools.cache
def _madvise() -> Callable[[int, int], None] | None:
    """``madvise(address, size, MADV_DONTNEED)``, or None where there is none to call."""
    advice = getattr(mmap, "MADV_DONTNEED", None)
    if advice is None or not sys.platform.startswith("linux"):
        return None
    import ctypes  # only a process that lets go of a map needs it

    try:
        call = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    call.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    call.restype = ctypes.c_int

    def advise(address: int, size: int) -> None:
        call(address, size, advice)  # advice only: a failure changes nothing read

    return advise


def _file_crc(path: Path) -> str:
    """CRC-32 of the file, read through a small buffer (its pages are not mapped, so checking
    a large chunk does not grow the process)."""
    crc = 0
    with open(path, "rb") as f:
        while block := f.read(_CRC_BLOCK):
            crc = zlib.crc32(block, crc)
    return f"{crc:08x}"


def save_state(
    folder: Path,
    projection: Projection,
    new_rows: pa.Table,
    checkpoint: Checkpoint,
    previous_chunks: list[Entry],
    fs: FileSystem | None = None,
    *,
    chunk_rows: int | None = None,
) -> list[Entry]:
    """Write ``new_rows`` as chunks and publish a manifest naming ``previous_chunks`` plus them.

    Chunks hold at most ``chunk_rows`` rows (default :data:`CHUNK_ROWS`). When the chunk count
    would pass :data:`MAX_CHUNKS`, the chunks after the last full one are written again as
    full chunks; else the chunks of fewer than :data:`~projections.base.COMPACT_ROWS` rows at
    the end are written again with the new rows; when the saved chunks are of an older format
    or not the ones published (another process saved since), the whole state is. Returns the
    chunk list now published.
    """
    fs = fs or FileSystem()
    limit = chunk_rows or CHUNK_ROWS
    folder.mkdir(parents=True, exist_ok=True)
    chunks = list(previous_chunks)
    if chunks != _published_chunks(folder) or not is_current(chunks):
        # another process published since we loaded, or an older format: write it all
        new_rows = projection.table()
        chunks = []
    else:
        if len(chunks) + 1 > MAX_CHUNKS:
            keep = _full_prefix(chunks, limit)
        elif new_rows.num_rows:
            # the small chunks at the end are written again with the new rows, as one: a state
            # that many short processes append to (each saves a few rows at close) keeps one
            # small chunk, not one per process, each of which every later process opens
            keep = _small_tail(chunks, min(COMPACT_ROWS, limit))
        else:
            keep = len(chunks)
        if keep < len(chunks):  # the chunks after ``keep`` are written again with the new rows
            new_rows = projection.table().slice(sum(int(c["rows"]) for c in chunks[:keep]))
            chunks = chunks[:keep]
    if new_rows.num_rows or not chunks:
        series = ChunkSeries(
            projection.schema, folder=folder, fs=fs, name=projection.name, chunk_rows=limit
        )
        try:
            series.write(new_rows)
            written = series.finish(checkpoint.seq)
        except BaseException:
            series.abandon()
            raise
        chunks += written
    else:
        written = []
    return _publish_or_drop(
        folder, projection, chunks, written, projection.num_rows, checkpoint, fs
    )


def _small_tail(chunks: list[Entry], small: int) -> int:
    """Where the run of ``chunks`` at the end that each hold fewer than ``small`` rows starts
    (``len(chunks)`` when the last one is not small)."""
    start = len(chunks)
    while start and int(chunks[start - 1].get("rows", 0)) < small:
        start -= 1
    return start


def _full_prefix(chunks: list[Entry], limit: int) -> int:
    """How many leading ``chunks`` are full (``limit`` rows or more): kept as they are when the
    chunks are compacted."""
    for i, chunk in enumerate(chunks):
        if int(chunk.get("rows", 0)) < limit:
            return i
    return len(chunks)


def publish_state(
    folder: Path,
    projection: Projection,
    series: ChunkSeries,
    checkpoint: Checkpoint,
    fs: FileSystem | None = None,
) -> list[Entry]:
    """Replace the saved state of ``projection`` by the chunks of ``series`` (a rebuild's whole
    state, written to disk as it was folded). Returns the chunk list now published."""
    fs = fs or FileSystem()
    folder.mkdir(parents=True, exist_ok=True)
    rows = series.rows
    chunks = series.finish(checkpoint.seq)
    return _publish_or_drop(folder, projection, chunks, chunks, rows, checkpoint, fs)


def _publish_or_drop(
    folder: Path,
    projection: Projection,
    chunks: list[Entry],
    written: list[Entry],
    rows: int,
    checkpoint: Checkpoint,
    fs: FileSystem,
) -> list[Entry]:
    """:func:`_publish`; when it fails, the files of the ``written`` chunks that the manifest
    on disk does not name are deleted (no orphan is left until the next save)."""
    try:
        return _publish(folder, projection, chunks, rows, checkpoint, fs)
    except BaseException:
        named = {c.get("file") for c in _published_chunks(folder) or []}
        for chunk in written:
            if chunk["file"] not in named:
                for entry in _files(chunk):
                    with contextlib.suppress(OSError):
                        os.unlink(folder / entry["file"])
        raise


def _publish(
    folder: Path,
    projection: Projection,
    chunks: list[Entry],
    rows: int,
    checkpoint: Checkpoint,
    fs: FileSystem,
) -> list[Entry]:
    """Atomically replace the manifest by one naming ``chunks`` (already written and synced),
    then delete the chunk files it no longer names. Chunks this process CRC-checked since their
    stamp changed (a copied or restored workspace) get their new stamp, so the next process
    does not check them again."""
    chunks = [_restamped(folder, c) for c in chunks]
    manifest = {
        "name": projection.name,
        "version": projection.version,
        "format": FORMAT,
        "schema": _schema_fingerprint(projection.schema),
        "checkpoint": {
            "seq": checkpoint.seq,
            "chain": checkpoint.chain,
            "segment": checkpoint.segment,
            "offset": checkpoint.offset,
        },
        "rows": rows,
        "chunks": chunks,
    }
    data = json.dumps(manifest, indent=1).encode()
    tmp = folder / f"{MANIFEST}.tmp.{os.getpid()}.{secrets.token_hex(4)}"
    fd = fs.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        fs.pwrite(fd, data, 0)
        fs.fsync(fd)
    finally:
        fs.close(fd)
    fs.replace(tmp, folder / MANIFEST)
    fs.fsync_dir(folder)
    keep = {f["file"] for c in chunks for f in _files(c)}
    _remove_unlisted(folder, keep)
    return chunks


#: The manifest keys of a chunk's side files, each a mapping column -> file entry.
_SIDE_FILES = ("indexes", "clustered", "ranges")


def _files(chunk: Entry) -> list[Entry]:
    """The entries of the chunk's file and of its side files (indexes, clustered copies and
    their ranges)."""
    return [chunk, *(f for key in _SIDE_FILES for f in (chunk.get(key) or {}).values())]


def _restamped(folder: Path, chunk: Entry) -> Entry:
    if all(_VERIFIED.get(str(folder / f["file"])) in (None, f.get("stamp")) for f in _files(chunk)):
        return chunk
    out = dict(chunk)
    fresh = _VERIFIED.get(str(folder / chunk["file"]))
    if fresh is not None:
        out["stamp"] = fresh
    for key in _SIDE_FILES:
        side = {}
        for column, entry in (chunk.get(key) or {}).items():
            fresh = _VERIFIED.get(str(folder / entry["file"]))
            side[column] = {**entry, "stamp": fresh} if fresh is not None else entry
        if side:
            out[key] = side
    return out


def _published_chunks(folder: Path) -> list[Entry] | None:
    try:
        return list(json.loads((folder / MANIFEST).read_bytes())["chunks"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


class ChunkSeries:
    """The chunk files of one save being written: rows go to a :class:`ChunkEncoder` until it
    holds ``chunk_rows`` rows, then it is sealed (its file and indexes complete, synced, still
    under temp names) and the next one begins. :meth:`finish` names them all; until then no
    manifest can name them and a crash or an exception leaves only temp files (removed by the
    next save once their process is gone), so the saved state before is untouched.

    What it holds is bounded by ``chunk_rows`` whatever the state's size: the rows waiting to be
    written (a few batches) and the row indexes of the chunk being written.
    """

    def __init__(
        self,
        schema: pa.Schema,
        executor: Executor | None = None,
        *,
        folder: Path,
        fs: FileSystem | None = None,
        name: str = "",
        chunk_rows: int | None = None,
    ) -> None:
        if chunk_rows is not None and chunk_rows < 1:
            raise ValueError(f"chunk_rows must be at least 1, not {chunk_rows}")
        self.rows = 0
        self._limit = chunk_rows or CHUNK_ROWS
        self._schema = schema
        self._executor = executor
        self._folder = folder
        self._fs = fs
        self._name = name
        self._current = self._open()
        self._sealed: list[_SealedChunk] = []

    def _open(self) -> ChunkEncoder:
        return ChunkEncoder(
            self._schema, self._executor, folder=self._folder, fs=self._fs, name=self._name
        )

    @property
    def chunks(self) -> int:
        """Chunks begun so far (sealed ones and the one being written)."""
        return len(self._sealed) + 1

    def write(self, rows: pa.Table | pa.RecordBatch) -> None:
        """Add ``rows`` (in order), starting a new chunk whenever one is full."""
        done = 0
        while done < rows.num_rows:
            room = self._limit - self._current.rows
            part = rows.slice(done, room)
            self._current.write(part)
            done += part.num_rows
            self.rows += part.num_rows
            if self._current.rows >= self._limit:
                self._sealed.append(self._current.seal())
                self._current = self._open()

    def finish(self, seq: int) -> list[Entry]:
        """Seal the last chunk (kept when it is the only one, even empty) and give every chunk
        and index file its final name; their manifest entries, in row order."""
        if self._current.rows or not self._sealed:
            self._sealed.append(self._current.seal())
        else:
            self._current.abandon()
        entries = []
        while self._sealed:
            entries.append(self._sealed[0].publish(seq))
            self._sealed.pop(0)
        return entries

    def abandon(self) -> None:
        """Drop every temp file (nothing will be published)."""
        self._current.abandon()
        for sealed in self._sealed:
            sealed.discard()
        self._sealed = []


class ChunkEncoder:
    """One chunk file being written, batch by batch, straight to a temp file in ``folder``.

    A rebuild hands each group of folded rows to the encoder as it goes and drops them, so
    neither the rows nor their encoding are held until the chunk is published
    (:func:`publish_state`). The row index of each indexed column is gathered batch by batch (a
    partial index per batch) and merged when the chunk is sealed. Given an ``executor`` (one
    worker), batches are written there, in order, while the caller folds the next rows; at most
    :data:`_IN_FLIGHT` batches wait for it.
    """

    def __init__(
        self,
        schema: pa.Schema,
        executor: Executor | None = None,
        *,
        folder: Path,
        fs: FileSystem | None = None,
        name: str = "",
    ) -> None:
        self.rows = 0
        self._schema = schema
        self._folder = folder
        self._fs = fs or FileSystem()
        self._columns = [c for c in INDEXED.get(name, ()) if c in schema.names]
        self._clustered = [c for c in CLUSTERED.get(name, ()) if c in self._columns]
        self._ranges: dict[str, list[pa.RecordBatch]] = {c: [] for c in self._clustered}
        self._parts: dict[str, list[pa.RecordBatch]] = {c: [] for c in self._columns}
        folder.mkdir(parents=True, exist_ok=True)
        self._sink = _FileSink(folder, self._fs)
        self._writer = pa.ipc.new_file(self._sink, schema, options=CHUNK_OPTIONS)
        self._copies: dict[str, tuple[_FileSink, Any]] = {}  # column -> (sink, its writer)
        try:
            for column in self._clustered:
                sink = _FileSink(folder, self._fs)
                try:
                    self._copies[column] = (
                        sink,
                        pa.ipc.new_file(sink, schema, options=CHUNK_OPTIONS),
                    )
                except BaseException:
                    sink.discard()
                    raise
        except BaseException:
            for sink, _ in self._copies.values():
                sink.discard()
            self._sink.discard()
            raise
        self._executor = executor
        self._in_flight: deque[Future[None]] = deque()
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._written = 0

    def write(self, rows: pa.Table | pa.RecordBatch) -> None:
        """Add ``rows``. Writes are gathered into batches of at least :data:`BATCH_ROWS` rows
        (at least :data:`~projections.base.COMPACT_ROWS`, so a loaded state needs no
        compaction; more, since a reader opening the chunk pays for each batch's metadata)."""
        if not rows.num_rows:
            return
        self._pending += rows.to_batches() if isinstance(rows, pa.Table) else [rows]
        self._pending_rows += rows.num_rows
        self.rows += rows.num_rows
        if self._pending_rows >= max(BATCH_ROWS, COMPACT_ROWS):
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        batch = one_batch(pa.Table.from_batches(self._pending, self._schema))
        self._pending = []
        self._pending_rows = 0
        base = self._written
        self._written += batch.num_rows
        if self._executor is None:
            self._encode(batch, base)
            return
        while len(self._in_flight) >= _IN_FLIGHT:
            self._in_flight.popleft().result()
        self._in_flight.append(self._executor.submit(self._encode, batch, base))

    def _encode(self, batch: pa.RecordBatch, base: int) -> None:
        self._writer.write_batch(batch)
        for column in self._columns:
            self._parts[column].append(partial_index(batch.column(column), base))
        for column, (_, writer) in self._copies.items():
            ordered, ranges = cluster_batch(batch, column, base)
            writer.write_batch(ordered)
            self._ranges[column].append(ranges)

    def seal(self) -> _SealedChunk:
        """Close and sync the chunk file and write and sync its indexes and clustered copies,
        all under temp names (:meth:`_SealedChunk.publish` names them)."""
        self._flush()
        while self._in_flight:
            self._in_flight.popleft().result()
        self._writer.close()
        self._sink.seal()
        indexes: dict[str, _FileSink] = {}
        clustered: dict[str, tuple[_FileSink, _FileSink]] = {}
        try:
            for column in self._columns:
                indexes[column] = self._side_file(merge_indexes(self._parts.pop(column)))
            for column, (copy, writer) in self._copies.items():
                writer.close()
                copy.seal()
                ranges = self._side_file(merge_ranges(self._ranges.pop(column)))
                clustered[column] = (copy, ranges)
        except BaseException:
            for sink in [*indexes.values(), *(ranges for _, ranges in clustered.values())]:
                sink.discard()
            self.abandon()  # the chunk file and the clustered copies
            raise
        return _SealedChunk(self._sink, indexes, self.rows, clustered)

    def _side_file(self, batch: pa.RecordBatch) -> _FileSink:
        """``batch`` written and synced to a new temp file."""
        sink = _FileSink(self._folder, self._fs)
        try:
            with pa.ipc.new_file(sink, batch.schema, options=CHUNK_OPTIONS) as writer:
                writer.write_batch(batch)
            sink.seal()
        except BaseException:
            sink.discard()
            raise
        return sink

    def finish(self, seq: int) -> Entry:
        """Seal the chunk and name it (and its indexes); its manifest entry."""
        return self.seal().publish(seq)

    def abandon(self) -> None:
        """Drop the temp file (the chunk will not be published), once no write to it is left
        running on the executor."""
        while self._in_flight:
            future = self._in_flight.popleft()
            if not future.cancel():
                with contextlib.suppress(Exception):
                    future.result()
        self._sink.discard()
        for copy, _ in self._copies.values():
            copy.discard()


class _SealedChunk:
    """A chunk file, its index files and its clustered copies, complete and synced, under temp
    names."""

    def __init__(
        self,
        chunk: _FileSink,
        indexes: dict[str, _FileSink],
        rows: int,
        clustered: dict[str, tuple[_FileSink, _FileSink]] | None = None,
    ) -> None:
        self._chunk = chunk
        self._indexes = indexes
        self._clustered = clustered or {}
        self.rows = rows

    def publish(self, seq: int) -> Entry:
        """Rename the files to their final names; the chunk's manifest entry."""
        stem = f"chunk-{seq:012d}-{secrets.token_hex(4)}"
        indexes = {
            column: sink.publish(f"{stem}.{column}.idx") for column, sink in self._indexes.items()
        }
        clustered = {
            column: copy.publish(f"{stem}.by-{column}.arrow")
            for column, (copy, _) in self._clustered.items()
        }
        ranges = {
            column: spans.publish(f"{stem}.by-{column}.ranges")
            for column, (_, spans) in self._clustered.items()
        }
        entry = self._chunk.publish(f"{stem}.arrow")
        entry.update(rows=self.rows, format=FORMAT)
        if indexes:
            entry["indexes"] = indexes
        if clustered:
            entry["clustered"] = clustered
            entry["ranges"] = ranges
        return entry

    def discard(self) -> None:
        self._chunk.discard()
        for sink in [*self._indexes.values(), *(s for p in self._clustered.values() for s in p)]:
            sink.discard()


#: Batches an encoder lets wait for its executor before it waits itself (bounds the memory;
#: see ``engine.READ_AHEAD_GROUPS``).
_IN_FLIGHT = 1
#: Writes smaller than this are gathered, up to ``_GATHER`` bytes (see ``_FileSink.write``).
_SMALL_WRITE = 1 << 16
_GATHER = 1 << 20


class _FileSink:
    """A write-only file for the IPC writer: bytes go through ``fs`` to a temp file (so saves
    see the same injected faults as every other write) and into a running CRC."""

    def __init__(self, folder: Path, fs: FileSystem) -> None:
        self._folder = folder
        self._fs = fs
        self._tmp = folder / f".chunk-{os.getpid()}-{secrets.token_hex(6)}.tmp"
        self._fd: int | None = fs.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        self._offset = 0  # bytes handed over
        self._written = 0  # bytes written to the file (the rest are gathered)
        self._gathered = bytearray()
        self._crc = 0
        self.closed = False

    # the file-object protocol pyarrow's PythonFile uses
    def write(self, data: bytes | memoryview) -> int:
        """Append ``data``. The IPC writer hands over each buffer and each piece of padding
        and metadata on its own: pieces under :data:`_SMALL_WRITE` bytes are gathered and
        written together (up to :data:`_GATHER` bytes per system call), larger ones directly."""
        assert self._fd is not None
        view = memoryview(data)
        size = len(view)
        self._crc = zlib.crc32(view, self._crc)
        if size < _SMALL_WRITE:
            self._gathered += view
            if len(self._gathered) >= _GATHER:
                self._write_gathered()
        else:
            self._write_gathered()
            self._fs.pwrite(self._fd, view, self._written)
            self._written += size
        self._offset += size
        return size

    def _write_gathered(self) -> None:
        if self._gathered and self._fd is not None:
            self._fs.pwrite(self._fd, self._gathered, self._written)
            self._written += len(self._gathered)
            self._gathered = bytearray()

    def tell(self) -> int:
        return self._offset

    def flush(self) -> None:
        return None

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True

    def seal(self) -> None:
        """fsync and close the temp file (still under its temp name)."""
        if self._fd is None:
            return
        try:
            self._write_gathered()
            self._fs.fsync(self._fd)
        finally:
            self._fs.close(self._fd)
            self._fd = None

    def publish(self, name: str) -> Entry:
        """Seal, rename to ``name``; the file's manifest entry (with its stamp)."""
        self.seal()
        path = self._folder / name
        self._fs.replace(self._tmp, path)
        return {
            "file": name,
            "bytes": self._offset,
            "crc": f"{self._crc:08x}",
            "stamp": _stamp(path),
        }

    def discard(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                self._fs.close(self._fd)
            self._fd = None
        with contextlib.suppress(OSError):
            os.unlink(self._tmp)


def _remove_unlisted(folder: Path, keep: set[str]) -> None:
    """Delete chunk files no manifest names any more (and stale temp files)."""
    for entry in os.scandir(folder):
        if entry.name == MANIFEST or entry.name in keep:
            continue
        if entry.name.startswith(("chunk-", ".chunk-", f"{MANIFEST}.tmp.")):
            if entry.name.startswith(".chunk-") and _live_temp(entry.name):
                continue
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def _live_temp(name: str) -> bool:
    """Whether temp file ``name`` (``.chunk-<pid>-...``) belongs to a process still running
    (a rebuild streaming its chunk while another process saves)."""
    try:
        pid = int(name.split("-")[1])
    except (IndexError, ValueError):
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
