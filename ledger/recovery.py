"""Crash recovery: re-derive the committed head from the active segment.

Bytes past the last whole, valid batch of the active segment are a torn tail from a writer that
died mid-commit: they were never acknowledged. :func:`recover` moves them aside (into
``torn/``) and publishes the head. A bad batch *before* the published head is corruption, never
silently dropped. Recovery reads the active segment only (and, right after a roll, the end of
the segment before it).
"""

from __future__ import annotations

import contextlib
import os
import struct
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from .errors import CorruptionError, DurabilityError, LedgerIOError
from .fs import FileSystem
from .head import Head, open_head, read_head, write_head
from .segment import (
    EOS,
    GENESIS_CHAIN,
    SCHEMA_MESSAGE,
    FrameSeal,
    _frame_at,
    check_frame,
    is_partial_eos,
    read_frame,
    segment_name,
)
from .segment_files import SegmentInfo, check_schema_prefix, list_segments, map_segment

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
    #: the newest segment ends with its end-of-stream marker: the next commit needs a new one
    active_sealed: bool = False
    dry_run: bool = False
    actions: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.actions


def scan_segment(
    info: SegmentInfo,
    start_seq: int,
    start_chain: str,
    *,
    from_offset: int | None = None,
    from_state: tuple[int, str, int] | None = None,
) -> TailScan:
    """Walk ``info`` validating CRC, seq continuity and chain links; stop at the first problem.

    With ``from_offset``/``from_state`` (seq, chain, tx) the walk starts mid-segment, trusting
    the prefix before it (used to extend a published head).
    """
    buf = map_segment(info.path)
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
    """(seq, chain) just before segment ``segments[pos]``: the end of the log before it.

    The segment's own first batch must say the same (it continues that log); one that does
    not is a stray copy or a file out of place, and raises :class:`CorruptionError` (reason
    ``unlinked_segment``) instead of being trusted because its name sorts last. When the end
    of the segments before it cannot be read (damage there, reported by readers and
    ``verify``), the first batch's own metadata is used.
    """
    info = segments[pos]
    buf = map_segment(info.path)
    check_schema_prefix(buf, info.path)
    frame = None
    if buf.size > len(SCHEMA_MESSAGE):
        try:
            frame = check_frame(buf, len(SCHEMA_MESSAGE), buf.size, str(info.path))
        except CorruptionError:
            frame = None
    del buf
    expected = log_end_before(segments, pos)
    if frame is None:
        if expected is not None:
            return expected
        if pos == 0:
            return 0, GENESIS_CHAIN
        scan = scan_segment(segments[pos - 1], *_segment_start_state(segments, pos - 1))
        return scan.last_seq, scan.chain
    start = (frame.first_seq - 1, frame.prev_chain)
    numbered = pos == 0 or segments[pos - 1].index + 1 == info.index
    if expected is not None and (start != expected or not numbered):
        raise unlinked_error(info, frame, expected, segments[pos - 1] if pos else None)
    return start


def log_end_before(segments: list[SegmentInfo], pos: int) -> tuple[int, str] | None:
    """(last seq, chain) at the end of the segments before ``segments[pos]``; None when a
    segment there cannot be walked (damaged framing, not a segment)."""
    for before in reversed(segments[:pos]):
        try:
            last = last_frame(before)
        except (CorruptionError, OSError):
            return None
        if last is not None:
            return last.first_seq + last.count - 1, last.chain
    return 0, GENESIS_CHAIN


_LAST: dict[tuple[str, int, int, int], FrameSeal | None] = {}
_CONT = b"\xff\xff\xff\xff"


def last_frame(info: SegmentInfo) -> FrameSeal | None:
    """The last batch of a segment (CRC-checked), None when it has none.

    Found from the end: the batch that ends right before the end-of-stream marker (or the end
    of the file) is the one whose framing says so and whose CRC holds, so only the candidate
    offsets of the last batch are tried. Falls back to walking the whole segment's framing
    (:func:`segment_bounds`) when that fails (bytes after a seal, damage)."""
    st = os.stat(info.path)
    key = (str(info.path), st.st_size, st.st_mtime_ns, st.st_ino)
    if key in _LAST:
        return _LAST[key]
    buf = map_segment(info.path)
    check_schema_prefix(buf, info.path)
    view = memoryview(buf)
    end = buf.size - len(EOS) if bytes(view[-len(EOS) :]) == EOS else buf.size
    found = _find_last(buf, end, str(info.path)) if end > len(SCHEMA_MESSAGE) else None
    del view, buf
    if found is None and end > len(SCHEMA_MESSAGE):
        found = segment_bounds(info).last
    if len(_LAST) >= 256:
        _LAST.clear()
    _LAST[key] = found
    return found


def _find_last(buf: pa.Buffer, end: int, path: str) -> FrameSeal | None:
    """The batch message ending exactly at ``end``, searched backwards from it."""
    view = memoryview(buf)
    window = 1 << 18  # a batch of 1,024 metric events is about 90 KB
    low = len(SCHEMA_MESSAGE)
    while True:
        lo = max(low, end - window)
        chunk = bytes(view[lo:end])
        stop = len(chunk)
        while (at := chunk.rfind(_CONT, 0, stop)) >= 0:
            stop = at + 3  # the next search finds the candidates starting before this one
            offset = lo + at
            if at + 8 > len(chunk):
                continue
            meta_len = struct.unpack_from("<i", chunk, at + 4)[0]
            if meta_len <= 0 or offset + 8 + meta_len > end:
                continue
            try:
                found = _frame_at(buf, offset, end, path, sealed=False)
            except CorruptionError:
                continue
            if found is None or offset + found[0] != end:
                continue
            try:
                return check_frame(buf, offset, end, path)
            except CorruptionError:
                continue
        if lo == low:
            return None
        window *= 8


def unlinked_error(
    info: SegmentInfo, frame: FrameSeal, expected: tuple[int, str], before: SegmentInfo | None
) -> CorruptionError:
    """The error for a segment whose first batch does not continue the log before it."""
    after = f" (`{before.path.name}`)" if before is not None else ""
    if frame.first_seq - 1 != expected[0]:
        why = (
            f"its first batch starts at seq {frame.first_seq}, but the log before it{after} "
            f"ends at seq {expected[0]}"
        )
    elif frame.prev_chain != expected[1]:
        why = f"its first batch does not chain to the last batch of the log before it{after}"
    else:
        number = before.index if before is not None else -1
        why = f"it is numbered {info.index}, but the segment before it is number {number}"
    return CorruptionError(
        f"Segment `{info.path.name}` does not continue the log: {why}. It is a stray copy or a "
        "file out of place, and nothing is read from it. Run `contexta ledger repair` to see "
        "what to do.",
        file=str(info.path),
        offset=len(SCHEMA_MESSAGE),
        seq=expected[0] + 1,
        reason="unlinked_segment",
    )


@dataclass(frozen=True, slots=True)
class SegmentBounds:
    """A segment's first and last batch (CRC-checked), found from its framing alone."""

    first: FrameSeal | None
    last: FrameSeal | None
    end: int  # offset just past the last batch
    sealed: bool  # an end-of-stream marker follows the last batch
    size: int

    @property
    def after_seal(self) -> int:
        """Bytes that follow the end-of-stream marker (never written by a writer)."""
        return self.size - self.end - len(EOS) if self.sealed else 0


_BOUNDS: dict[tuple[str, int, int, int], SegmentBounds] = {}


def segment_bounds(info: SegmentInfo) -> SegmentBounds:
    """Walk the framing of a whole segment (two small reads per batch, no decoding) and
    CRC-check its first and last batch. Raises :class:`CorruptionError` on broken framing.

    Results are kept per file identity (size, mtime, inode): a sealed segment never changes."""
    st = os.stat(info.path)
    key = (str(info.path), st.st_size, st.st_mtime_ns, st.st_ino)
    known = _BOUNDS.get(key)
    if known is not None:
        return known
    buf = map_segment(info.path)
    check_schema_prefix(buf, info.path)
    path = str(info.path)
    offset = len(SCHEMA_MESSAGE)
    last_at: int | None = None
    sealed = False
    view = memoryview(buf)
    while offset < buf.size:
        if bytes(view[offset : offset + len(EOS)]) == EOS:
            sealed = True
            break
        if is_partial_eos(buf, offset, buf.size):
            break
        found = _frame_at(buf, offset, buf.size, path, sealed=False)
        if found is None:  # pragma: no cover - an end-of-stream marker is caught above
            break
        last_at = offset
        offset += found[0]
    first = last = None
    if last_at is not None:
        first = check_frame(buf, len(SCHEMA_MESSAGE), buf.size, path)
        last = check_frame(buf, last_at, buf.size, path)
    del view, buf
    bounds = SegmentBounds(first, last, offset, sealed, st.st_size)
    if len(_BOUNDS) >= 256:
        _BOUNDS.clear()
    _BOUNDS[key] = bounds
    return bounds


def recover(
    root: Path,
    fs: FileSystem,
    *,
    dry_run: bool = False,
    published: Head | None = None,
    salvage: bool = False,
    exclude: Collection[Path] = (),
    ignore_head: bool = False,
    trusted: tuple[int, int, str] | None = None,
) -> RecoveryReport:
    """Re-derive and publish the head; move a torn tail aside. Call under the ledger lock.

    The active segment is the last one only when it continues the log before it (see
    :func:`_segment_start_state`); ``exclude`` names segment files to leave out (strays that
    :func:`repair` moves aside). The head never moves back past a published seq unless the
    loss is reported (a restart that dropped unsynced commits, or ``salvage``).

    Damage before the published head raises :class:`CorruptionError`, unless the machine
    restarted and only never-fsynced commits are missing (then they are reported as lost), or
    ``salvage`` is set: then the active segment is cut at the first bad batch, the rest moved
    to ``torn/`` like a torn tail, and the lost seqs reported.

    ``trusted`` (byte offset, last seq, chain hash) says the caller CRC-checked the active
    segment's batches up to that offset, ending with that batch: when it is exactly the
    published head, only the bytes past it are walked (a writer's first commit then costs
    nothing per batch already in the segment).
    """
    root = Path(root)
    if ignore_head:  # a salvage cut: the head named what was cut, and is derived again
        published = None
    elif published is None:
        published = read_head(root)
    segments = [s for s in list_segments(root) if s.path not in set(exclude)]
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
    same = published is not None and published.segment == active.index
    if (
        same
        and published is not None
        and trusted is not None
        and trusted == (published.offset, published.seq, published.chain)
        and published.offset > len(SCHEMA_MESSAGE)
        and published.segment_started  # else the walk finds the segment's first tx_time
    ):
        scan = scan_segment(
            active,
            start_seq,
            start_chain,
            from_offset=published.offset,
            from_state=(published.seq, published.chain, published.tx_time),
        )
    else:
        scan = scan_segment(active, start_seq, start_chain)
    if (
        published is not None
        and same
        and (published.offset > scan.valid_end or published.seq > scan.last_seq)
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
    if published is not None and head.seq < published.seq and report.lost_from_seq is None:
        if not salvage:
            raise CorruptionError(
                f"The log ends at seq {head.seq} (`{active.path.name}`) but the head names seq "
                f"{published.seq}. Run `contexta ledger verify` to list damage.",
                file=str(active.path),
                offset=scan.valid_end,
                seq=head.seq + 1,
                reason="head_ahead",
            )
        report.lost_from_seq, report.lost_to_seq = head.seq + 1, published.seq
        report.actions.append(
            f"salvage: the head named seq {published.seq} but the log ends at seq {head.seq}; "
            f"seq {head.seq + 1}..{published.seq} are no longer in the log"
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
        report.active_sealed = True
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
    buf = map_segment(path)
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
    buf = map_segment(info.path)
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
    with contextlib.suppress(OSError):
        os.chmod(info.path, 0o644)
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


# ---------------------------------------------------------------------- repair


@dataclass(slots=True)
class RepairPlan:
    """What :func:`repair` moves aside before recovery runs.

    ``strays``: segment files that are not part of the log (and why), moved to ``torn/``;
    ``after_seal``: sealed segments followed by bytes after their end-of-stream marker (and
    the offset those bytes start at); ``lost``: seqs a salvage cut drops from the log.
    """

    strays: list[tuple[SegmentInfo, str]] = field(default_factory=list)
    after_seal: list[tuple[SegmentInfo, int]] = field(default_factory=list)
    lost: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class _Break:
    """Where the segments stop continuing the log."""

    pos: int
    kind: str  # "not_segment", "unlinked" or "misnumbered"
    first: FrameSeal | None  # first batch of the segment at ``pos``, when it has a readable one


def plan_repair(root: Path, published: Head | None, *, salvage: bool = False) -> RepairPlan:
    """Walk the segments in name order, each linked to the end of the log before it.

    Segments past the first one that does not continue the log are strays when the published
    head does not reach them (or there is no readable head): they are moved aside and the log
    keeps every acknowledged event. A break the head reaches (a missing, replaced or swapped
    segment) cannot be repaired without losing committed events: it raises a
    :class:`CorruptionError` that says what to do, unless ``salvage`` cuts the log there.
    """
    segments = list_segments(root)
    plan = RepairPlan()
    state: tuple[int, str] | None = (0, GENESIS_CHAIN)
    for pos, info in enumerate(segments):
        found = _link_break(segments, pos, state)
        if found is not None:
            _plan_cut(segments, found, state, published, salvage, plan)
            return plan
        if pos == len(segments) - 1:
            break
        try:
            bounds = segment_bounds(info)
        except CorruptionError:
            state = None  # damage inside it: readers and `verify` report it
            continue
        if bounds.after_seal:
            plan.after_seal.append((info, bounds.end + len(EOS)))
        if bounds.last is not None:
            state = (bounds.last.first_seq + bounds.last.count - 1, bounds.last.chain)
    return plan


def _link_break(
    segments: list[SegmentInfo], pos: int, state: tuple[int, str] | None
) -> _Break | None:
    info = segments[pos]
    buf = map_segment(info.path)
    size = len(SCHEMA_MESSAGE)
    if buf.size < size or bytes(memoryview(buf)[:size]) != SCHEMA_MESSAGE:
        return _Break(pos, "not_segment", None)
    first = None
    if buf.size > size:
        try:
            first = check_frame(buf, size, buf.size, str(info.path))
        except CorruptionError:
            first = None  # damaged (or a torn first commit): recovery and `verify` handle it
    del buf
    expected_index = segments[pos - 1].index + 1 if pos else 0
    if first is not None and state is not None and (first.first_seq - 1, first.prev_chain) != state:
        return _Break(pos, "unlinked", first)
    if info.index != expected_index:
        return _Break(pos, "misnumbered", first)
    return None


def _plan_cut(
    segments: list[SegmentInfo],
    found: _Break,
    state: tuple[int, str] | None,
    published: Head | None,
    salvage: bool,
    plan: RepairPlan,
) -> None:
    info = segments[found.pos]
    reached = published is not None and published.segment >= info.index
    # A stray repeats what the log already holds (a copy of an old segment) or holds nothing
    # of it; a file holding seqs past the log's end means events are missing before it.
    newer = state is not None and any(
        (start := _starts_at(later)) is not None and start > state[0] + 1
        for later in segments[found.pos :]
    )
    if not reached and not newer and (found.kind != "misnumbered" or found.first is None):
        for stray in segments[found.pos :]:
            plan.strays.append((stray, _describe(stray) + ", not linked to the log before it"))
        return
    problem = _unrepairable(segments, found, state)
    if not salvage or state is None:
        raise problem
    end = published.seq if published is not None else state[0]
    plan.lost = (state[0] + 1, end) if end > state[0] else None
    for cut in segments[found.pos :]:
        plan.strays.append((cut, f"salvage: {_describe(cut)}, cut from the log"))


def _describe(info: SegmentInfo) -> str:
    """What a segment file holds, for messages: its seq range, or why it has none."""
    try:
        bounds = segment_bounds(info)
    except CorruptionError as exc:
        if exc.details.get("reason") == "schema":
            return "not a ledger segment"
        return "damaged"
    if bounds.first is None or bounds.last is None:
        return "no events"
    return f"seq {bounds.first.first_seq}..{bounds.last.first_seq + bounds.last.count - 1}"


def _unrepairable(
    segments: list[SegmentInfo], found: _Break, state: tuple[int, str] | None
) -> CorruptionError:
    """The error for a break inside the committed log: what is wrong and what to do."""
    info = segments[found.pos]
    expected_index = segments[found.pos - 1].index + 1 if found.pos else 0
    after = state[0] if state is not None else None
    cut = (
        "or run `contexta ledger repair --apply --salvage` to cut the log "
        + (f"after seq {after}" if after is not None else "there")
        + " (the later segment files are moved to ledger/torn/, never deleted)."
    )
    if found.kind == "not_segment":
        what = f"`{info.path.name}` is not a ledger segment (its header is not the ledger schema)"
        todo = "Put the original file back (`contexta restore` from a backup), "
    elif found.kind == "misnumbered" and found.first is not None:
        what = (
            f"`{info.path.name}` continues the log but is numbered {info.index}; "
            f"the segment before it is number {expected_index - 1}"
        )
        todo = f"Rename it to `{segment_name(expected_index)}`, "
    elif info.index != expected_index:
        gap = info.index - expected_index
        names = [f"`{segment_name(expected_index + i)}`" for i in range(min(gap, 3))]
        more = "" if gap <= 3 else f" and {gap - 3} more"
        what = f"segment file {', '.join(names)}{more} is missing"
        if after is not None and found.first is not None and found.first.first_seq > after + 1:
            what += f": {_seqs(after + 1, found.first.first_seq - 1)} in no segment file"
        todo = "Put the file back (`contexta restore` from a backup), "
    else:
        holds = f"`{info.path.name}` holds {_describe(info)}"
        want = after + 1 if after is not None else None
        owner = [
            s.path.name
            for s in segments
            if s is not info and want is not None and _starts_at(s) == want
        ]
        what = f"{holds}, but seq {want} is expected there"
        if owner:
            what += f"; `{owner[0]}` starts at seq {want}: the files look swapped or renamed"
            todo = "Give each segment file its name back (names are numbered in seq order), "
        else:
            what += "; no segment file starts there"
            todo = "Put the original file back (`contexta restore` from a backup), "
    return CorruptionError(
        f"The committed log is broken at `{info.path.name}`: {what}. Repair cannot fix this "
        f"without losing committed events. {todo}{cut}",
        file=str(info.path),
        offset=0,
        seq=after + 1 if after is not None else None,
        reason="broken_log",
    )


def _seqs(first: int, last: int) -> str:
    return f"seq {first} is" if first == last else f"seq {first}..{last} are"


def _starts_at(info: SegmentInfo) -> int | None:
    try:
        bounds = segment_bounds(info)
    except CorruptionError:
        return None
    return bounds.first.first_seq if bounds.first is not None else None


def repair(
    root: Path, fs: FileSystem, *, dry_run: bool = True, salvage: bool = False
) -> RecoveryReport:
    """``contexta ledger repair``: move aside what is not part of the log, then recover.

    Stray segment files past the committed log and bytes after a sealed segment's
    end-of-stream marker are moved to ``torn/`` (never deleted), then :func:`recover` runs as
    on any writer's open. With ``dry_run`` nothing changes and the report lists what would be
    moved. Call under the ledger lock (:func:`repair_ledger` takes it).
    """
    root = Path(root)
    published = read_head(root)
    plan = plan_repair(root, published, salvage=salvage)
    actions: list[str] = []
    stamp = now_us()
    for info, why in plan.strays:
        dest = root / TORN_DIR / f"{info.path.name}.{stamp}.stray"
        actions.append(f"moved segment file {info.path.name} ({why}) to {TORN_DIR}/{dest.name}")
        if not dry_run:
            dest.parent.mkdir(parents=True, exist_ok=True)
            fs.replace(info.path, dest)
            fs.fsync_dir(root)
    for info, at in plan.after_seal:
        size = info.path.stat().st_size
        dest = root / TORN_DIR / f"{info.path.name}.{at}.{stamp}.torn"
        actions.append(
            f"moved {size - at} bytes after the end-of-stream marker of {info.path.name} "
            f"(offset {at}) to {TORN_DIR}/{dest.name}"
        )
        if not dry_run:
            _cut_sealed(root, info.path, at, dest, fs)
    if plan.lost is not None:
        actions.append(
            f"salvage: seq {plan.lost[0]}..{plan.lost[1]} are no longer in the log "
            f"(their segment files are kept in {TORN_DIR}/)"
        )
    cut = plan.lost is not None or any(why.startswith("salvage") for _, why in plan.strays)
    report = recover(
        root,
        fs,
        dry_run=dry_run,
        salvage=salvage,
        published=published,
        ignore_head=cut,
        exclude=[info.path for info, _ in plan.strays],
    )
    report.actions[:0] = actions
    if plan.lost is not None:
        report.lost_from_seq, report.lost_to_seq = plan.lost
    return report


def _cut_sealed(root: Path, path: Path, at: int, dest: Path, fs: FileSystem) -> None:
    """Move the bytes of sealed segment ``path`` from ``at`` on aside (sealed: read-only)."""
    os.chmod(path, 0o644)
    try:
        _move_tail_aside(root, path, at, dest, fs)
    finally:
        os.chmod(path, 0o444)


def repair_ledger(
    root: Path | str,
    fs: FileSystem | None = None,
    *,
    dry_run: bool = True,
    salvage: bool = False,
) -> RecoveryReport:
    """:func:`repair` under the ledger lock. An OS error is a :class:`LedgerIOError`."""
    root = Path(root)
    fs = fs or FileSystem()
    if root.exists() and not root.is_dir():
        raise LedgerIOError(
            f"`{root}` is not a directory: a ledger is a folder of segment files. Move the file "
            "away (or restore the workspace from a backup).",
            code="ledger_not_a_directory",
            file=str(root),
        )
    if not root.is_dir():
        return RecoveryReport(head=None, dry_run=dry_run)
    lock = root / "LOCK"  # the writer's lock file
    fd: int | None = None
    try:
        if not dry_run or lock.exists():  # a dry run needs no lock file where no writer ran
            fd = fs.open(lock, os.O_RDONLY if dry_run else os.O_RDWR | os.O_CREAT)
    except OSError as exc:
        raise LedgerIOError(f"Cannot open `{lock}`: {exc}", file=str(lock)) from exc
    try:
        if fd is not None:
            fs.lock(fd)
        return repair(root, fs, dry_run=dry_run, salvage=salvage)
    except OSError as exc:
        raise LedgerIOError(
            f"Repair of `{root}` failed ({exc}); nothing acknowledged was lost: run it again "
            "once the cause is fixed.",
            errno=exc.errno,
            file=str(root),
        ) from exc
    finally:
        if fd is not None:
            fs.close(fd)  # closing the descriptor releases the lock
