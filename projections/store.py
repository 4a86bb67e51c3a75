"""Saving and loading projection state together with its checkpoint.

A projection's folder holds immutable chunk files (Arrow IPC file format, LZ4-compressed, each
the rows folded between two saves, or a whole rebuild's) and ``MANIFEST.json``, which names the
chunks, their sizes and CRCs, the projection's version and schema, and the checkpoint: the last
folded seq and the chain hash and position of the ledger batch it ends in. Chunks are written
(temp, fsync, rename) before the manifest; the manifest is replaced by one atomic rename (temp,
fsync, rename, fsync dir). So a crash at any step leaves either the old manifest with its old chunks or the new one with its
new chunks: state and checkpoint can never be paired wrongly, and a half file is never named.

Anything unexpected on load (missing or damaged files, another version, another schema, a
checkpoint the ledger no longer has) makes the caller rebuild from the ledger.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import zlib
from collections import deque
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from ledger.fs import FileSystem

from .base import COMPACT_ROWS, Projection, one_batch

__all__ = ["Checkpoint", "ChunkEncoder", "LoadError", "load_state", "publish_state", "save_state"]

MANIFEST = "MANIFEST.json"
MAX_CHUNKS = 24
#: Chunks are written LZ4-compressed: the state shrinks about 4x (zstd: 6x, at twice the CPU
#: to write and to read). The IPC file reader decompresses whatever a chunk says it holds, so
#: chunks written plain load as they are.
CHUNK_OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4", use_threads=False)
_MAX_MANIFEST_BYTES = 1 << 20


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


def load_state(folder: Path, projection: Projection) -> tuple[pa.Table, Checkpoint, list[dict]]:
    """Read the saved state of ``projection``; raises :class:`LoadError` when unusable."""
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
    for chunk in chunks:
        try:
            name, size, crc = str(chunk["file"]), int(chunk["bytes"]), str(chunk["crc"])
        except (KeyError, TypeError, ValueError) as exc:
            raise LoadError(f"malformed chunk entry: {exc}") from exc
        if "/" in name or name.startswith("."):
            raise LoadError(f"bad chunk name {name!r}")
        chunk_path = folder / name
        try:
            if chunk_path.stat().st_size != size:
                raise LoadError(f"chunk {name} has the wrong size")
            source = pa.memory_map(str(chunk_path), "r")
            buf = source.read_buffer()
            if f"{zlib.crc32(memoryview(buf)):08x}" != crc:
                raise LoadError(f"chunk {name} fails its CRC")
            table = pa.ipc.open_file(buf).read_all()
        except LoadError:
            raise
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise LoadError(f"chunk {name} unreadable: {exc}") from exc
        if not table.schema.equals(projection.schema, check_metadata=False):
            raise LoadError(f"chunk {name} has another schema")
        tables.append(table)
    table = pa.concat_tables(tables) if tables else projection.schema.empty_table()
    return table, checkpoint, chunks


def save_state(
    folder: Path,
    projection: Projection,
    new_rows: pa.Table,
    checkpoint: Checkpoint,
    previous_chunks: list[dict],
    fs: FileSystem | None = None,
) -> list[dict]:
    """Write ``new_rows`` as a chunk and publish a manifest naming ``previous_chunks`` plus it.

    When the chunk count would pass :data:`MAX_CHUNKS` the whole state is written as one chunk
    instead. Returns the chunk list now published.
    """
    fs = fs or FileSystem()
    folder.mkdir(parents=True, exist_ok=True)
    chunks = list(previous_chunks)
    if chunks != _published_chunks(folder) or len(chunks) + 1 > MAX_CHUNKS:
        # another process published since we loaded (or too many chunks): write it all
        new_rows = projection.table()
        chunks = []
    if new_rows.num_rows or not chunks:
        encoder = ChunkEncoder(projection.schema)
        encoder.write(new_rows)
        chunks.append(_write_chunk(folder, encoder.finish(), encoder.rows, checkpoint.seq, fs))
    return _publish(folder, projection, chunks, projection.num_rows, checkpoint, fs)


def publish_state(
    folder: Path,
    projection: Projection,
    chunk: ChunkEncoder,
    checkpoint: Checkpoint,
    fs: FileSystem | None = None,
) -> list[dict]:
    """Replace the saved state of ``projection`` by the one chunk ``chunk`` (a rebuild's whole
    state, encoded as it was folded). Returns the chunk list now published."""
    fs = fs or FileSystem()
    folder.mkdir(parents=True, exist_ok=True)
    rows = chunk.rows
    chunks = [_write_chunk(folder, chunk.finish(), rows, checkpoint.seq, fs)]
    return _publish(folder, projection, chunks, rows, checkpoint, fs)


def _publish(
    folder: Path,
    projection: Projection,
    chunks: list[dict],
    rows: int,
    checkpoint: Checkpoint,
    fs: FileSystem,
) -> list[dict]:
    """Atomically replace the manifest by one naming ``chunks`` (already written and synced),
    then delete the chunk files it no longer names."""
    manifest = {
        "name": projection.name,
        "version": projection.version,
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
    _remove_unlisted(folder, {c["file"] for c in chunks})
    return chunks


def _published_chunks(folder: Path) -> list[dict] | None:
    try:
        return list(json.loads((folder / MANIFEST).read_bytes())["chunks"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


class ChunkEncoder:
    """One chunk file being encoded in memory, batch by batch, compressed.

    A rebuild hands each group of folded rows to the encoder as it goes and drops them, so
    only the compressed state is held until the chunk is written (:func:`publish_state`).
    Given an ``executor`` (one worker), batches are compressed there, in order, while the
    caller folds the next rows; at most :data:`_IN_FLIGHT` batches wait for it.
    """

    def __init__(self, schema: pa.Schema, executor: Executor | None = None) -> None:
        self.rows = 0
        self._schema = schema
        self._sink = pa.BufferOutputStream()
        self._writer = pa.ipc.new_file(self._sink, schema, options=CHUNK_OPTIONS)
        self._executor = executor
        self._in_flight: deque[Future[None]] = deque()
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0

    def write(self, rows: pa.Table | pa.RecordBatch) -> None:
        """Add ``rows``. Small writes are gathered into batches of at least
        :data:`~projections.base.COMPACT_ROWS` rows, so a loaded state needs no compaction."""
        if not rows.num_rows:
            return
        self._pending += rows.to_batches() if isinstance(rows, pa.Table) else [rows]
        self._pending_rows += rows.num_rows
        self.rows += rows.num_rows
        if self._pending_rows >= COMPACT_ROWS:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        batch = one_batch(pa.Table.from_batches(self._pending, self._schema))
        self._pending = []
        self._pending_rows = 0
        if self._executor is None:
            self._writer.write_batch(batch)
            return
        while len(self._in_flight) >= _IN_FLIGHT:
            self._in_flight.popleft().result()
        self._in_flight.append(self._executor.submit(self._writer.write_batch, batch))

    def finish(self) -> pa.Buffer:
        """The encoded chunk file (the encoder is done)."""
        self._flush()
        while self._in_flight:
            self._in_flight.popleft().result()
        self._writer.close()
        return self._sink.getvalue()


#: Batches an encoder lets wait for its executor before it waits itself (bounds the memory).
_IN_FLIGHT = 2


def _write_chunk(folder: Path, data: pa.Buffer, rows: int, seq: int, fs: FileSystem) -> dict:
    view = memoryview(data)
    name = f"chunk-{seq:012d}-{secrets.token_hex(4)}.arrow"
    tmp = folder / f".{name}.tmp"
    fd = fs.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        fs.pwrite(fd, view, 0)
        fs.fsync(fd)
    finally:
        fs.close(fd)
    fs.replace(tmp, folder / name)
    return {"file": name, "bytes": len(view), "crc": f"{zlib.crc32(view):08x}", "rows": rows}


def _remove_unlisted(folder: Path, keep: set[str]) -> None:
    """Delete chunk files no manifest names any more (and stale temp files)."""
    for entry in os.scandir(folder):
        if entry.name == MANIFEST or entry.name in keep:
            continue
        if entry.name.startswith(("chunk-", ".chunk-", f"{MANIFEST}.tmp.")):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
