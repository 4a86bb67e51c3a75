"""Published copies of sealed segments, for engines that cannot read Arrow IPC streams.

A segment is an Arrow IPC *stream*, which DataFusion reads but ``pyarrow.dataset``, Polars'
``scan_ipc`` and DuckDB cannot scan. So each sealed segment is also published as a Parquet
file with the same rows and columns (the event schema, ``body`` included), one file per
segment, under ``<ledger>/published/``::

    ledger/published/segment-000000000007.parquet   the events of segment-000000000007.arrows

Each file's key-value metadata names its segment, first and last seq, event count and the chain
hash of the segment's last batch. Published files are derived: history is never rewritten,
a copy is written to a temporary name, fsynced and renamed into place, and a missing or stale
one is simply written again (:func:`publish`, ``contexta ledger publish``). A segment is
published only once it ends with its end-of-stream marker. ``contexta ledger verify`` checks
every published file against its segment (:func:`published_findings`); a segment that has no
copy yet is not damage.

Publishing runs when a writer seals a segment (:func:`publish_soon`, on a background thread so
no commit waits for it; every sealed segment still missing a copy is published then), and on
demand. A process that exits mid-publish leaves at most a ``.partial`` file, removed by the
next publish.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from .errors import CorruptionError, LedgerIOError
from .findings import VerifyFinding
from .schema import EVENT_SCHEMA
from .segment import EOS, SCHEMA_MESSAGE, check_frame, scan_frames, segment_index
from .segment_files import SegmentInfo, list_segments

__all__ = [
    "PUBLISHED_DIR",
    "PublishReport",
    "publish",
    "publish_soon",
    "published_findings",
    "published_path",
    "read_segment",
    "wait_published",
]

PUBLISHED_DIR = "published"
SUFFIX = ".parquet"


@dataclass(slots=True)
class PublishReport:
    written: list[str] = field(default_factory=list)  # segment names published now
    current: int = 0  # sealed segments whose copy was already there
    skipped: list[str] = field(default_factory=list)  # not sealed yet (no end marker)

    def to_dict(self) -> dict[str, Any]:
        return {"written": self.written, "current": self.current, "skipped": self.skipped}


def published_path(root: Path | str, segment: Path | str) -> Path:
    """Where the published copy of ``segment`` (a path or file name) lives."""
    name = Path(segment).name
    return Path(root) / PUBLISHED_DIR / (name.rsplit(".", 1)[0] + SUFFIX)


def _is_sealed(buf: pa.Buffer) -> bool:
    return (
        buf.size >= len(SCHEMA_MESSAGE) + len(EOS)
        and bytes(memoryview(buf)[buf.size - len(EOS) :]) == EOS
    )


#: Rows per row group of a published copy. A segment is copied a row group at a time, so the
#: publish holds one row group's decoded events rather than the whole segment's (about 330 MB
#: for a 64 MiB segment of metric events), on the writer's process. 32,768 rows of metric
#: events decode to about 25 MB: a 64 MiB segment's publish peaks 161 MiB over its process's
#: start (193 with 65,536-row groups, 136 with 16,384; the copy's size is the same).
ROW_GROUP_ROWS = 32_768


def _sealed_bytes(path: Path) -> pa.Buffer | None:
    """The bytes of ``path`` when it is a sealed segment, else None.

    The file is read into memory, not mapped: publishing runs on a background thread, and a
    mapped file cut short by another process (a repair, a test) would kill the process with
    SIGBUS instead of raising."""
    try:
        buf = pa.py_buffer(path.read_bytes())
    except OSError as exc:
        raise LedgerIOError(f"Cannot read segment `{path.name}`: {exc}", file=str(path)) from exc
    return buf if _is_sealed(buf) else None


def _copy_meta(path: Path, buf: pa.Buffer) -> dict[bytes, bytes]:
    """What the copy of a sealed segment carries (segment, first and last seq, event count,
    last chain), read from its batches' framing and seals (CRC-checked, not decoded)."""
    offset = len(SCHEMA_MESSAGE)
    events = first = last = 0
    chain = ""
    while (seal := check_frame(buf, offset, buf.size, str(path))) is not None:
        events += seal.count
        first = first or seal.first_seq
        last = seal.first_seq + seal.count - 1
        chain = seal.chain
        offset += seal.length
    return {
        b"ledger.segment": path.name.encode(),
        b"ledger.first_seq": str(first).encode(),
        b"ledger.last_seq": str(last).encode(),
        b"ledger.events": str(events).encode(),
        b"ledger.chain": chain.encode(),
    }


def _groups(path: Path, buf: pa.Buffer) -> Iterator[pa.Table]:
    """The events of a sealed segment (every batch CRC-checked) as tables of about
    ``ROW_GROUP_ROWS`` rows."""
    batches: list[pa.RecordBatch] = []
    rows = 0
    for frame in scan_frames(buf, buf.size, str(path), sealed=True):
        batches.append(frame.batch)
        rows += frame.count
        if rows >= ROW_GROUP_ROWS:
            yield pa.Table.from_batches(batches, EVENT_SCHEMA)
            batches, rows = [], 0
    if batches:
        yield pa.Table.from_batches(batches, EVENT_SCHEMA)


def _copy_schema(meta: dict[bytes, bytes]) -> pa.Schema:
    return EVENT_SCHEMA.with_metadata({**(EVENT_SCHEMA.metadata or {}), **meta})


def read_segment(path: Path) -> tuple[pa.Table, dict[bytes, bytes]] | None:
    """The events of a sealed segment (every batch CRC-checked) and the metadata its copy
    carries; None when the segment is not sealed. (Whole in memory: for checking a copy;
    publishing streams, :func:`_write`.)"""
    buf = _sealed_bytes(path)
    if buf is None:
        return None
    meta = _copy_meta(path, buf)
    tables = list(_groups(path, buf))
    table = pa.concat_tables(tables) if tables else EVENT_SCHEMA.empty_table()
    return table, meta


def publish(root: Path | str, *, rebuild: bool = False) -> PublishReport:
    """Publish every sealed segment under ``root`` that has no copy yet (every one with
    ``rebuild``). Only reads the segments; writes under ``<root>/published/``."""
    root = Path(root)
    report = PublishReport()
    segments = list_segments(root)
    folder = root / PUBLISHED_DIR
    for info in segments[:-1]:  # the newest segment is the active one
        target = published_path(root, info.path)
        if target.exists() and not rebuild:
            report.current += 1
            continue
        buf = _sealed_bytes(info.path)
        if buf is None:
            report.skipped.append(info.path.name)
            continue
        folder.mkdir(exist_ok=True)
        _write(target, info.path, buf)
        report.written.append(info.path.name)
    _remove_partials(folder)
    return report


def _write(target: Path, segment: Path, buf: pa.Buffer) -> None:
    """Copy the sealed segment ``segment`` (its bytes ``buf``) to ``target``, a row group at
    a time: written to a temporary name, fsynced, renamed into place."""
    import pyarrow.parquet as pq

    temp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.partial")
    try:
        schema = _copy_schema(_copy_meta(segment, buf))
        with pq.ParquetWriter(temp, schema, compression="zstd") as writer:
            for table in _groups(segment, buf):
                writer.write_table(table.replace_schema_metadata(schema.metadata))
                del table  # else it stays alive while the next group is decoded: two at once
        fd = os.open(temp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, target)
        _fsync_dir(target.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_partials(folder: Path) -> None:
    """Temporary files left by a process that died mid-publish (none is being written by this
    process now: publishing in a process is serialised by :func:`publish_soon`)."""
    if not folder.is_dir():
        return
    mine = f".{os.getpid()}."
    for path in folder.glob(".*.partial"):
        if mine not in path.name:
            with contextlib.suppress(OSError):
                if _older_than(path, 3600.0):
                    path.unlink()


def _older_than(path: Path, seconds: float) -> bool:
    import time

    return time.time() - path.stat().st_mtime > seconds


# ---------------------------------------------------------------------- at seal

_PENDING: dict[str, bool] = {}
_PENDING_LOCK = threading.Lock()


def publish_soon(root: Path | str) -> None:
    """Publish the sealed segments under ``root`` on a background thread (one per ledger at a
    time: a seal while one runs asks it to run once more). Never raises: a copy that could not
    be written is written by the next seal or ``contexta ledger publish``."""
    key = str(root)
    with _PENDING_LOCK:
        if key in _PENDING:
            _PENDING[key] = True
            return
        _PENDING[key] = False
    threading.Thread(target=_publish_loop, args=(key,), name="ledger-publish", daemon=True).start()


def _publish_loop(key: str) -> None:
    while True:
        with contextlib.suppress(Exception):  # derived data: see publish_soon
            publish(key)
        with _PENDING_LOCK:
            if _PENDING.get(key):
                _PENDING[key] = False
                continue
            _PENDING.pop(key, None)
            return


def wait_published(root: Path | str, timeout: float = 30.0) -> bool:
    """Wait until no background publish of ``root`` runs (tests, clean shutdowns)."""
    import time

    key = str(root)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with _PENDING_LOCK:
            if key not in _PENDING:
                return True
        time.sleep(0.005)
    return False


# ---------------------------------------------------------------------- verify


def published_findings(root: Path | str, sealed: list[SegmentInfo]) -> list[VerifyFinding]:
    """Every published copy compared with its segment (``sealed``: the ledger's segment
    infos but the newest); a copy whose rows or seal facts differ is an error, a copy of no
    segment a warning. A segment without a copy is not reported."""
    root = Path(root)
    folder = root / PUBLISHED_DIR
    if not folder.is_dir():
        return []
    findings: list[VerifyFinding] = []
    names = {published_path(root, info.path).name: info for info in sealed}
    for path in sorted(folder.glob(f"*{SUFFIX}")):
        info = names.get(path.name)
        if info is None:
            if segment_index(path.name.replace(SUFFIX, ".arrows")) is not None:
                findings.append(
                    VerifyFinding(
                        "published_orphan",
                        "A published copy of no sealed segment; "
                        "`contexta ledger publish --rebuild` rewrites the copies",
                        str(path),
                        severity="warning",
                    )
                )
            continue
        problem = _compare(path, info.path)
        if problem is not None:
            findings.append(
                VerifyFinding(
                    "published_mismatch",
                    f"{problem}; `contexta ledger publish --rebuild` writes it "
                    "again from the segment",
                    str(path),
                )
            )
    return findings


def set_aside_stale(root: Path | str) -> list[str]:
    """Move every published copy that no longer matches a sealed segment (after a repair cut
    or moved segments) to ``<root>/torn/``, never deleting it; returns the names moved. The
    copies are derived: ``publish`` writes the missing ones again."""
    root = Path(root)
    folder = root / PUBLISHED_DIR
    if not folder.is_dir():
        return []
    sealed = list_segments(root)[:-1]
    names = {published_path(root, info.path).name: info for info in sealed}
    moved: list[str] = []
    for path in sorted(folder.glob(f"*{SUFFIX}")):
        info = names.get(path.name)
        if info is not None and _compare(path, info.path) is None:
            continue
        torn = root / "torn"
        torn.mkdir(exist_ok=True)
        os.replace(path, torn / f"published-{path.name}")
        moved.append(path.name)
    return moved


def _compare(copy: Path, segment: Path) -> str | None:
    import pyarrow.parquet as pq

    try:
        found = read_segment(segment)
    except (CorruptionError, LedgerIOError, OSError, pa.ArrowException):
        return None  # the segment's own damage is reported by verify
    if found is None:
        return "The copy's segment is not sealed"
    table, meta = found
    try:
        published = pq.read_table(copy)
    except (OSError, pa.ArrowException) as exc:
        return f"The copy is unreadable ({exc})"
    stored = published.schema.metadata or {}
    for key, value in meta.items():
        if stored.get(key) != value:
            return f"The copy's {key.decode()} is {stored.get(key)!r}, the segment's {value!r}"
    if published.schema.remove_metadata() != table.schema.remove_metadata():
        return "The copy's columns differ from the event schema"
    if not published.equals(table, check_metadata=False):
        return "The copy's rows differ from the segment's"
    return None
