"""Crash recovery: re-derive the committed head from the active segment.

Bytes past the last whole, valid batch of the active segment are a torn tail from a writer that
died mid-commit: they were never acknowledged. :func:`recover` moves them aside (into
``torn/``) and publishes the head. A bad batch *before* the published head is corruption, never
silently dropped. Recovery reads the active segment only (and, right after a roll, the end of
the segment before it).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from .errors import CorruptionError, DurabilityError
from .fs import FileSystem
from .head import Head, open_head, read_head, write_head
from .reader import SegmentInfo, _map, check_schema_prefix, list_segments
from .segment import (
    EOS,
    GENESIS_CHAIN,
    SCHEMA_MESSAGE,
    FrameSeal,
    check_frame,
    is_partial_eos,
    read_frame,
)

__all__ = ["RecoveryReport", "TailScan", "recover", "scan_segment"]

TORN_DIR = "torn"


@dataclass(frozen=True, slots=True)
class TailScan:
    """The valid prefix of one segment."""

    start_seq: int  # seq of the event before the segment's first batch
    start_chain: str
    last_seq: int
    chain: str
    tx_time: int
    valid_end: int  # end offset of the last valid batch
    size: int
    sealed: bool  # an end-of-stream marker follows the valid prefix
    problem: CorruptionError | None  # why the scan stopped before ``size``, if it did
    first_tx: int | None


@dataclass(slots=True)
class RecoveryReport:
    """What :func:`recover` found and did (or would do, with ``dry_run``)."""

    head: Head | None
    segment: str | None = None
    torn_offset: int | None = None
    torn_bytes: int = 0
    torn_path: str | None = None
    adopted_batches: int = 0
    lost_from_seq: int | None = None  # seqs published but never fsynced, lost in a restart
    lost_to_seq: int | None = None
    sealed_previous: bool = False
    dry_run: bool = False
    actions: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.actions


def scan_segment(
    info: SegmentInfo, start_seq: int, start_chain: str, *, from_offset: int | None = None,
    from_state: tuple[int, str, int] | None = None,
) -> TailScan:
    """Walk ``info`` validating CRC, seq continuity and chain links; stop at the first problem.

    With ``from_offset``/``from_state`` (seq, chain, tx) the walk starts mid-segment, trusting
    the prefix before it (used to extend a published head).
    """
    buf = _map(info.path)
    check_schema_prefix(buf, info.path)
    offset = from_offset if from_offset is not None else len(SCHEMA_MESSAGE)
    seq, chain, tx = from_state if from_state is not None else (start_seq, start_chain, 0)
    first_tx: int | None = None
    problem: CorruptionError | None = None
    sealed = False
    path = str(info.path)
    while offset < buf.size:
        if is_partial_eos(buf, offset, buf.size):
            break  # a torn seal: the batches before it are whole (the caller re-seals)
        try:
            frame = check_frame(buf, offset, buf.size, path)
        except CorruptionError as exc:
            problem = exc
            break
        if frame is None:
            if offset + len(EOS) != buf.size:
                problem = CorruptionError(
                    f"End-of-stream marker followed by {buf.size - offset - len(EOS)} bytes at "
                    f"`{info.path.name}` offset {offset}. Run `contexta ledger verify` to list damage.",
                    file=path,
                    offset=offset,
                    seq=seq + 1,
                    reason="early_eos",
                )
                break
            sealed = True
            break
        if frame.first_seq != seq + 1 or frame.prev_chain != chain:
            problem = _link_error(path, frame, seq, chain)
            break
        seq = frame.first_seq + frame.count - 1
        chain = frame.chain
        tx = frame.tx_time
        if first_tx is None:
            first_tx = frame.tx_time
        offset += frame.length
    return TailScan(
        start_seq, start_chain, seq, chain, tx, offset, buf.size, sealed, problem, first_tx
    )


def _link_error(path: str, frame: FrameSeal, seq: int, chain: str) -> CorruptionError:
    if frame.first_seq != seq + 1:
        why = f"Expected seq {seq + 1}, got {frame.first_seq}"
        reason = "seq_gap"
    else:
        why = "Chain link broken (prev hash does not match the batch before)"
        reason = "chain"
    return CorruptionError(
        f"{why} at `{Path(path).name}` offset {frame.offset}. "
        "Run `contexta ledger verify` to list damage.",
        file=path,
        offset=frame.offset,
        seq=seq + 1,
        reason=reason,
    )


def _segment_start_state(segments: list[SegmentInfo], pos: int) -> tuple[int, str]:
    """(seq, chain) just before segment ``segments[pos]``: from its first batch's metadata, or
    from the end of the segment before it when it has none."""
    info = segments[pos]
    buf = _map(info.path)
    check_schema_prefix(buf, info.path)
    if buf.size > len(SCHEMA_MESSAGE):
        try:
            frame = check_frame(buf, len(SCHEMA_MESSAGE), buf.size, str(info.path))
        except CorruptionError:
            frame = None
        if frame is not None:
            return frame.first_seq - 1, frame.prev_chain
    if pos == 0:
        return 0, GENESIS_CHAIN
    before_seq, before_chain = _segment_start_state(segments, pos - 1)
    scan = scan_segment(segments[pos - 1], before_seq, before_chain)
    return scan.last_seq, scan.chain


def recover(
    root: Path,
    fs: FileSystem,
    *,
    dry_run: bool = False,
    published: Head | None = None,
    salvage: bool = False,
) -> RecoveryReport:
    """Re-derive and publish the head; move a torn tail aside. Call under the ledger lock.

    Damage before the published head raises :class:`CorruptionError`, unless the machine
    restarted and only never-fsynced commits are missing (then they are reported as lost), or
    ``salvage`` is set: then the active segment is cut at the first bad batch, the rest moved
    to ``torn/`` like a torn tail, and the lost seqs reported.
    """
    root = Path(root)
    published = published if published is not None else read_head(root)
    segments = list_segments(root)
    report = RecoveryReport(head=None, dry_run=dry_run)
    if not segments:
        if published is not None and published.seq > 0:
            raise CorruptionError(
                f"The head names seq {published.seq} but `{root}` holds no segment. "
                "Run `contexta ledger verify` to list damage.",
                file=str(root),
                offset=0,
                reason="missing_segment",
            )
        return report
    pos = len(segments) - 1
    active = segments[pos]
    if published is not None and published.segment > active.index:
        raise CorruptionError(
            f"The head names segment {published.segment} but the last segment is "
            f"`{active.path.name}`. Run `contexta ledger verify` to list damage.",
            file=str(active.path),
            offset=0,
            reason="missing_segment",
        )
    report.segment = active.path.name
    start_seq, start_chain = _segment_start_state(segments, pos)
    scan = scan_segment(active, start_seq, start_chain)
    same = published is not None and published.segment == active.index
    if published is not None and same and (
        published.offset > scan.valid_end or published.seq > scan.last_seq
    ):
        if _restart_explains(published, scan, fs):
            report.lost_from_seq = scan.last_seq + 1
            report.lost_to_seq = published.seq
            report.actions.append(
                f"the machine restarted after seq {published.seq} was published; seq "
                f"{scan.last_seq + 1}..{published.seq} of {active.path.name} had not been fsynced "
                f"(durability `flush`) and are lost; the log ends at seq {scan.last_seq}"
            )
        elif salvage:
            report.lost_from_seq = scan.last_seq + 1
            report.lost_to_seq = published.seq
            report.actions.append(
                f"salvage: cut {active.path.name} at offset {scan.valid_end} (the first damaged "
                f"batch); seq {scan.last_seq + 1}..{published.seq} are no longer in the log"
            )
        elif scan.problem is not None and published.offset > scan.valid_end:
            raise scan.problem
        else:
            raise CorruptionError(
                f"Segment `{active.path.name}` ends at seq {scan.last_seq} but the head names seq "
                f"{published.seq}. Run `contexta ledger verify` to list damage.",
                file=str(active.path),
                offset=scan.valid_end,
                seq=scan.last_seq + 1,
                reason="truncated_committed",
            )
    started = published.segment_started if published is not None and same else 0
    head = Head(
        seq=scan.last_seq,
        segment=active.index,
        offset=scan.valid_end,
        chain=scan.chain,
        tx_time=max(scan.tx_time, published.tx_time if published else 0),
        segment_started=started or (scan.first_tx or now_us()),
        synced=scan.valid_end if not dry_run else None,
        boot=fs.boot_id() or "",
    )
    if published is not None and same and report.lost_from_seq is None:
        adopted = scan.last_seq - published.seq
        if adopted > 0:
            report.adopted_batches = adopted
            report.actions.append(
                f"adopted seq {published.seq + 1}..{scan.last_seq} written after the published head"
            )
    tail_start = scan.valid_end + (len(EOS) if scan.sealed else 0)
    if scan.sealed:
        # The active segment is sealed but no segment follows: finish the roll by re-opening it
        # as the active one is not allowed (sealed segments never change), so a new one starts.
        report.actions.append(f"segment {active.path.name} is sealed; a new segment will start")
    if tail_start < scan.size:
        report.torn_offset = tail_start
        report.torn_bytes = scan.size - tail_start
        torn_name = f"{active.path.name}.{tail_start}.{now_us()}.torn"
        report.torn_path = str(root / TORN_DIR / torn_name)
        report.actions.append(
            f"moved {report.torn_bytes} torn bytes of {active.path.name} at offset "
            f"{tail_start} to {TORN_DIR}/{torn_name}"
        )
        if not dry_run:
            _move_tail_aside(root, active.path, tail_start, root / TORN_DIR / torn_name, fs)
    if pos > 0 and not dry_run:
        report.sealed_previous = _ensure_sealed(segments[pos - 1], fs)
    if not dry_run:
        # What recovery adopts is made durable before it is published as such (``synced``).
        fd = fs.open(active.path, os.O_RDONLY)
        try:
            _fsync(fs, fd, active.path)
        finally:
            fs.close(fd)
    report.head = head
    if published != head:
        if published is not None and published.offset != head.offset and not report.actions:
            report.actions.append("republished the head")
        if not dry_run:
            fd = open_head(root, fs)
            try:
                write_head(fd, head, fs)
            finally:
                fs.close(fd)
    return report


def _fsync(fs: FileSystem, fd: int, path: Path) -> None:
    """fsync a segment; a failure is a :class:`DurabilityError` (never retried)."""
    try:
        fs.fsync(fd)
    except OSError as exc:
        raise DurabilityError(
            f"fsync of `{path.name}` failed during recovery ({exc}); nothing more is written by "
            "this writer. Check the disk, then open a new writer.",
            errno=exc.errno,
            file=str(path),
        ) from exc


def _restart_explains(published: Head, scan: TailScan, fs: FileSystem) -> bool:
    """True when the bytes missing between the scan's end and the published head can only be
    commits that were never fsynced, lost because the machine restarted since the head was
    published. Anything else (same boot, or missing bytes that had been fsynced) is damage."""
    current = fs.boot_id()
    return bool(
        published.boot
        and current
        and current != published.boot
        and scan.valid_end >= published.durable_offset
    )


def _move_tail_aside(root: Path, path: Path, start: int, dest: Path, fs: FileSystem) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    buf = _map(path)
    data = memoryview(buf)[start:].tobytes()
    del buf
    fd = fs.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        fs.pwrite(fd, data, 0)
        fs.fsync(fd)
    finally:
        fs.close(fd)
    fs.fsync_dir(dest.parent)  # the forensic copy survives a restart before the cut does
    fd = fs.open(path, os.O_RDWR)
    try:
        fs.ftruncate(fd, start)
        _fsync(fs, fd, path)
    finally:
        fs.close(fd)


def _ensure_sealed(info: SegmentInfo, fs: FileSystem) -> bool:
    """Append the end-of-stream marker to a finished segment that lacks it (a roll interrupted
    after the next segment was published). Returns True when it wrote the marker."""
    buf = _map(info.path)
    if buf.size >= len(EOS) and bytes(memoryview(buf)[-len(EOS) :]) == EOS:
        return False
    size = buf.size
    offset = len(SCHEMA_MESSAGE)
    while offset < size:  # find a seal torn by a power loss, to write it again whole
        if is_partial_eos(buf, offset, size):
            size = offset
            break
        try:
            frame = read_frame(buf, offset, size, str(info.path), check_crc=False)
        except CorruptionError:
            break  # damage, not a torn seal: leave it for `verify` to report
        if frame is None:
            break
        offset += frame.length
    del buf
    try:
        os.chmod(info.path, 0o644)
    except OSError:
        pass
    fd = fs.open(info.path, os.O_RDWR)
    try:
        fs.pwrite(fd, EOS, size)
        _fsync(fs, fd, info.path)
    finally:
        fs.close(fd)
    os.chmod(info.path, 0o444)
    return True


def now_us() -> int:
    """Wall-clock time in microseconds since the epoch (UTC)."""
    return time.time_ns() // 1000
