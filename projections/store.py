"""Saving and loading projection state together with its checkpoint.

A projection's folder holds immutable chunk files (Arrow IPC file format, each the rows folded
between two saves) and ``MANIFEST.json``, which names the chunks, their sizes and CRCs, the
projection's version and schema, and the checkpoint: the last folded seq and the chain hash and
position of the ledger batch it ends in. Chunks are written (temp, fsync, rename) before the
manifest; the manifest is replaced by one atomic rename (temp, fsync, rename, fsync dir). So a
crash at any step leaves either the old manifest with its old chunks or the new one with its
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
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from ledger.fs import FileSystem

from .base import Projection

__all__ = ["Checkpoint", "LoadError", "load_state", "save_state"]

MANIFEST = "MANIFEST.json"
MAX_CHUNKS = 24
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
        checkpoint = Checkpoint(int(cp["seq"]), str(cp["chain"]), int(cp["segment"]), int(cp["offset"]))
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
    table = (
        pa.concat_tables(tables) if tables else projection.schema.empty_table()
    )
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
        chunks.append(_write_chunk(folder, new_rows, checkpoint.seq, fs))
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
        "rows": projection.num_rows,
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


def _write_chunk(folder: Path, table: pa.Table, seq: int, fs: FileSystem) -> dict:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    data = sink.getvalue().to_pybytes()
    name = f"chunk-{seq:012d}-{secrets.token_hex(4)}.arrow"
    tmp = folder / f".{name}.tmp"
    fd = fs.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        fs.pwrite(fd, data, 0)
        fs.fsync(fd)
    finally:
        fs.close(fd)
    fs.replace(tmp, folder / name)
    return {"file": name, "bytes": len(data), "crc": f"{zlib.crc32(data):08x}", "rows": table.num_rows}


def _remove_unlisted(folder: Path, keep: set[str]) -> None:
    """Delete chunk files no manifest names any more (and stale temp files)."""
    for entry in os.scandir(folder):
        if entry.name == MANIFEST or entry.name in keep:
            continue
        if entry.name.startswith(("chunk-", ".chunk-", f"{MANIFEST}.tmp.")):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
