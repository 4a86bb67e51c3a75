"""Reading the ledger: committed batches in seq order, up to the committed head.

A reader never takes the lock and never reads past the head, so it cannot see a commit in
flight. Every batch it returns passed its CRC; a damaged committed batch raises
:class:`~ledger.errors.CorruptionError` naming the segment file and offset.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from .errors import CorruptionError, LedgerIOError
from .fs import FileSystem, lock_fd
from .head import Head, read_head
from .recovery import recover
from .schema import EVENT_SCHEMA
from .segment import (
    EOS,
    GENESIS_CHAIN,
    SCHEMA_MESSAGE,
    BatchFrame,
    check_frame,
    is_partial_eos,
    iter_frames,
    read_frame,
    scan_frames,
    segment_name,
)
from .segment_files import SegmentInfo, check_schema_prefix, list_segments, map_segment

__all__ = ["LedgerReader", "SegmentInfo", "list_segments"]  # the last two re-exported

#: How many scan end points a reader remembers to resume later scans from.
RESUME_MARKS = 32
#: How many sealed segments' maps a reader keeps between reads (64 MiB each at most; the
#: pages a read touched stay resident, and counted in the process's RSS, while mapped).
SEALED_MAPS = 4


class LedgerReader:
    """Reads committed batches of the ledger rooted at ``root``.

    ``first_seqs`` caches the first seq of each sealed segment so that a scan from a
    checkpoint starts in the right segment.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._first_seq: dict[int, int] = {}
        #: maps of sealed segments kept for later reads, the most recently used last (at most
        #: ``SEALED_MAPS``: a reader that walks the whole ledger must not hold all of it mapped,
        #: since every page it read stays resident while mapped)
        self._sealed: OrderedDict[int, pa.Buffer] = OrderedDict()
        self._checked: dict[int, int] = {}
        #: segment -> byte offset up to which every batch from the segment's start passed its
        #: CRC in this reader (committed bytes never change, so they need no second check)
        self._checked_to: dict[int, int] = {}
        #: segment -> (last seq, chain hash) of the batch that ends the checked prefix, where
        #: known: a writer's recovery need not walk a prefix it can see ends at the head
        self._checked_tip: dict[int, tuple[int, str]] = {}
        self._active: tuple[int, pa.Buffer] | None = None  # (index, map) kept by read_batch
        self._sealed_ok: set[int] = set()  # sealed segments whose every batch passed its CRC
        self._verified: dict[str, object] | None = None  # verified.json, once read
        # last seq of a scan -> (segment, offset just past its batch): a later scan after that
        # seq (or after a later one) starts there instead of at the start of the segment.
        self._marks: OrderedDict[int, tuple[int, int]] = OrderedDict()

    def head(self) -> Head:
        """The committed head (an empty ledger's head if there is none).

        Normally the published ``HEAD``. When it cannot be right - missing or damaged, naming
        more bytes than the segment has, or older than the segment files (a machine restart
        can lose an unsynced ``HEAD`` write while the fsynced batches survive) - and no commit
        is in flight, the head is derived from the active segment the way the next writer's
        recovery will publish it, without writing anything. Raises
        :class:`~ledger.errors.CorruptionError` when that derivation finds damage.
        """
        head = read_head(self.root)
        if head is not None:
            try:
                size = os.stat(self.segment_path(head.segment)).st_size
            except FileNotFoundError:
                size = -1
            if size == head.offset and not self.segment_path(head.segment + 1).exists():
                return head
        elif not list_segments(self.root):
            return Head()
        return self._derive_head(head)

    def _derive_head(self, published: Head | None) -> Head:
        lock_path = self.root / "LOCK"
        fd = None
        try:
            fd = os.open(lock_path, os.O_RDONLY)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise LedgerIOError(f"Cannot open `{lock_path}`: {exc}", file=str(lock_path)) from exc
        try:
            if fd is not None and not lock_fd(fd, blocking=not published):
                return published or Head()  # a commit is in flight: it publishes shortly
            again = read_head(self.root)
            if again is not None and again != published:
                published = again
                try:
                    size = os.stat(self.segment_path(again.segment)).st_size
                except FileNotFoundError:
                    size = -1
                if size == again.offset and not self.segment_path(again.segment + 1).exists():
                    return again
            try:
                report = recover(self.root, FileSystem(), dry_run=True, published=published)
            except FileNotFoundError:
                return published or Head()
            return report.head or Head()
        finally:
            if fd is not None:
                os.close(fd)  # closing the descriptor releases the lock

    def segment_path(self, index: int) -> Path:
        return self.root / segment_name(index)

    def _segment_buffer(self, index: int, head: Head, *, keep: bool = True) -> pa.Buffer:
        """The mapped bytes of segment ``index``; a sealed segment's map is kept for later
        reads unless ``keep`` is false (a one-off scan of the whole ledger)."""
        if index < head.segment and index in self._sealed:
            self._sealed.move_to_end(index)
            return self._sealed[index]
        path = self.segment_path(index)
        try:
            buf = map_segment(path)
        except FileNotFoundError as exc:
            raise CorruptionError(
                f"Segment `{path.name}` is missing (expected by the head at seq {head.seq}). "
                "Run `contexta ledger verify` to list damage.",
                file=str(path),
                offset=0,
                reason="missing_segment",
            ) from exc
        check_schema_prefix(buf, path)
        if index < head.segment and keep:
            self._sealed[index] = buf
            while len(self._sealed) > SEALED_MAPS:
                self._sealed.popitem(last=False)
        return buf

    def frames(
        self,
        head: Head | None = None,
        *,
        after_seq: int = 0,
        check_crc: bool = True,
        keep_segments: bool = True,
    ) -> Iterator[tuple[int, BatchFrame]]:
        """Yield ``(segment index, frame)`` for every committed batch holding a seq greater
        than ``after_seq``, in log order, up to ``head``.

        A sealed segment whose every batch passed its CRC before (in this reader, or in any
        process: ``verified.json``, keyed by size, mtime and inode) is not checked again, and
        a scan that checks a whole sealed segment remembers it so. ``keep_segments=False``
        lets go of each sealed segment's map after the scan leaves it."""
        head = head or self.head()
        if head.seq <= after_seq:
            return
        start_segment, start_offset = self._resume_point(after_seq, head)
        scan_mark: int | None = None
        # (last seq, chain) of the batch before the next one: each batch must continue it, so
        # a stray, swapped or missing segment is an error, never a silent wrong answer
        link: tuple[int, str | None] | None = None
        if (start_segment, start_offset) == (0, len(SCHEMA_MESSAGE)):
            link = (0, GENESIS_CHAIN)
        for index in range(start_segment, head.segment + 1):
            buf = self._segment_buffer(index, head, keep=keep_segments)
            end = head.offset if index == head.segment else buf.size
            if end > buf.size:
                raise CorruptionError(
                    f"Segment `{self.segment_path(index).name}` is shorter ({buf.size} bytes) "
                    f"than its committed head ({end}). "
                    "Run `contexta ledger verify` to list damage.",
                    file=str(self.segment_path(index)),
                    offset=buf.size,
                    reason="truncated_committed",
                )
            begin = start_offset if index == start_segment else len(SCHEMA_MESSAGE)
            if begin > end:  # a stale mark (the ledger was repaired): scan the segment
                begin = len(SCHEMA_MESSAGE)
            path = str(self.segment_path(index))
            sealed = index < head.segment
            crc = check_crc and not (sealed and self._is_verified(index))
            if begin == len(SCHEMA_MESSAGE):
                frames = scan_frames(buf, end, path, check_crc=crc, sealed=sealed)
            else:
                frames = iter_frames(buf, begin, end, path, check_crc=crc, sealed=sealed)
            extends = crc and self._checked_to.get(index, len(SCHEMA_MESSAGE)) >= begin
            for frame in frames:
                if link is not None and (
                    frame.first_seq != link[0] + 1 or link[1] not in (None, frame.prev_chain)
                ):
                    raise _unlinked(path, frame, link[0])
                last = frame.first_seq + frame.count - 1
                link = (last, frame.chain)
                if (
                    index == head.segment
                    and frame.offset + frame.length == head.offset
                    and (last != head.seq or frame.chain != head.chain)
                ):
                    raise _head_mismatch(self.root, path, frame, head)
                if extends:
                    self._note_checked(index, frame.offset + frame.length, (last, frame.chain))
                if (
                    begin == len(SCHEMA_MESSAGE)
                    and index not in self._first_seq
                    and (index < head.segment)
                ):
                    self._first_seq[index] = frame.first_seq
                if frame.first_seq + frame.count - 1 <= after_seq:
                    continue
                if frame.first_seq > head.seq:
                    return
                if scan_mark is None and frame.first_seq > after_seq + 1:
                    raise _unlinked(path, frame, after_seq)
                scan_mark = self._mark(scan_mark, frame, index)
                yield index, frame
            if crc and sealed and begin == len(SCHEMA_MESSAGE):
                self._remember_verified(index)

    def _note_checked(self, index: int, upto: int, tip: tuple[int, str] | None = None) -> None:
        """Every batch of segment ``index`` before byte ``upto`` passed its CRC here; ``tip``
        is the (last seq, chain hash) of the batch ending at ``upto``, when known."""
        if upto > self._checked_to.get(index, 0):
            self._checked_to[index] = upto
            if tip is None:
                self._checked_tip.pop(index, None)
            else:
                self._checked_tip[index] = tip

    def checked_tip(self, index: int) -> tuple[int, int, str] | None:
        """(byte offset, last seq, chain hash) where the checked prefix of segment ``index``
        ends, when this reader knows the batch that ends it."""
        tip = self._checked_tip.get(index)
        upto = self._checked_to.get(index)
        return None if tip is None or upto is None else (upto, *tip)

    def read_batch(self, segment: int, offset: int, head: Head | None = None) -> BatchFrame:
        """The committed batch at byte ``offset`` of ``segment`` (as located by a projection row).

        A sealed segment's map is reused, and the CRC is skipped when the bytes are known good:
        a sealed segment that passed a full check (here or in ``verified.json``), or a range
        this reader already checked (a scan or :meth:`check`, e.g. when saved projections were
        loaded). Any other batch is CRC-checked; a damaged or missing one raises
        :class:`CorruptionError` naming the segment file and offset.
        """
        head = head or self.head()
        path = self.segment_path(segment)
        if segment > head.segment:
            raise CorruptionError(
                f"No committed batch at `{path.name}` offset {offset} (past the head). "
                "Run `contexta ledger verify` to list damage.",
                file=str(path),
                offset=offset,
                reason="missing_batch",
            )
        sealed = segment < head.segment
        buf = self._segment_buffer(segment, head) if sealed else self._active_buffer(head)
        end = buf.size if sealed else min(head.offset, buf.size)
        known = (sealed and self._is_verified(segment)) or self._known_checked(segment, offset)
        frame = read_frame(buf, offset, end, str(path), check_crc=not known)
        if frame is None:
            raise CorruptionError(
                f"No batch at `{path.name}` offset {offset}. "
                "Run `contexta ledger verify` to list damage.",
                file=str(path),
                offset=offset,
                reason="missing_batch",
            )
        if offset == self._checked_to.get(segment, len(SCHEMA_MESSAGE)):
            # the checked prefix grows
            self._note_checked(
                segment, offset + frame.length, (frame.first_seq + frame.count - 1, frame.chain)
            )
        return frame

    def read_located(
        self,
        segment: int,
        offset: int,
        seq: int,
        head: Head,
        previous: tuple[int, BatchFrame] | None = None,
    ) -> BatchFrame:
        """The committed batch at ``offset`` of ``segment`` that an index says holds ``seq``.

        Read and CRC-checked as :meth:`read_batch` does, then checked to be that batch, with
        the checks a scan makes where they apply: it holds ``seq``; a batch that ends at the
        head is the head's own (same last seq and chain hash); and when ``previous`` (the
        segment and batch read before it) ends where this one starts, this one continues it
        (next seq, chain link). A stale or misplaced location raises :class:`CorruptionError`
        naming the file and offset, never answers from another batch.
        """
        frame = self.read_batch(segment, offset, head)
        path = str(self.segment_path(segment))
        last = frame.first_seq + frame.count - 1
        if not frame.first_seq <= seq <= last:
            raise CorruptionError(
                f"The batch at `{Path(path).name}` offset {offset} holds seq "
                f"{frame.first_seq}..{last}, not seq {seq} as located: the segment was replaced "
                "or the location is stale. Run `contexta ledger verify` to list damage.",
                file=path,
                offset=offset,
                seq=seq,
                reason="misplaced_batch",
            )
        if (
            segment == head.segment
            and offset + frame.length == head.offset
            and (last != head.seq or frame.chain != head.chain)
        ):
            raise _head_mismatch(self.root, path, frame, head)
        if previous is not None:
            before_segment, before = previous
            if before_segment == segment and before.offset + before.length == offset:
                before_last = before.first_seq + before.count - 1
                if frame.first_seq != before_last + 1 or frame.prev_chain != before.chain:
                    raise _unlinked(path, frame, before_last)
        return frame

    def _active_buffer(self, head: Head) -> pa.Buffer:
        """The mapped bytes of the active segment, reused while they cover the committed head
        (committed bytes never change; only bytes past the head are ever cut)."""
        cached = self._active
        if cached is not None and cached[0] == head.segment and cached[1].size >= head.offset:
            return cached[1]
        buf = self._segment_buffer(head.segment, head)
        self._active = (head.segment, buf)
        return buf

    def _known_checked(self, segment: int, offset: int) -> bool:
        """Whether the batch starting at ``offset`` lies in the checked prefix of ``segment``
        (a batch starts before the prefix end only if it also ends by it: batches tile it)."""
        return offset < self._checked_to.get(segment, 0)

    def _is_verified(self, index: int) -> bool:
        """Whether sealed segment ``index`` passed a full CRC check (here or, with the same
        size, mtime and inode, in another process)."""
        if index in self._sealed_ok:
            return True
        if self._verified is None:
            self._verified = _read_verified(self.root)
        if self._verified.get(str(index)) == _stamp(self.segment_path(index)):
            self._sealed_ok.add(index)
            return True
        return False

    def _active_trusted(self, index: int, upto_seq: int) -> bool:
        """Whether the active segment ``index`` is the very file (same size, mtime, ctime and inode)
        whose prefix up to the batch holding ``upto_seq`` passed a full CRC check, here or in
        another process (``verified.json``'s ``active`` entry). Then that prefix counts as
        checked. Any write to the file (an append, a repair, a flipped byte) changes its stamp,
        and the prefix is checked again."""
        if self._verified is None:
            self._verified = _read_verified(self.root)
        entry = self._verified.get(_ACTIVE_KEY)
        if not isinstance(entry, list) or len(entry) != 8:
            return False
        *raw, chain = entry
        numbers = [n for n in raw if isinstance(n, int) and not isinstance(n, bool)]
        if len(numbers) != 7 or not isinstance(chain, str) or not _is_chain(chain):
            return False  # a hand-edited or foreign file, or an older entry
        segment, *stamp, upto, last = numbers
        if segment != index or last < upto_seq or upto <= len(SCHEMA_MESSAGE):
            return False
        if _active_stamp(self.segment_path(index)) != stamp:
            return False
        self._checked[index] = upto_seq
        self._note_checked(index, upto, (last, chain))
        return True

    def _remember_active(
        self, index: int, before: list[int] | None, upto: int, last: int, chain: str
    ) -> None:
        """Record that the active segment ``index``, stamped ``before`` when its check began,
        passed its CRC from its start to byte ``upto`` (seqs up to ``last``, the batch there
        with chain hash ``chain``). Recorded only
        when the file did not change while it was checked and was last written long enough
        before the check that a later write must show a new timestamp (file timestamps are
        coarser than a nanosecond: two writes within one tick can share one)."""
        if before is None or _active_stamp(self.segment_path(index)) != before:
            return
        if time.time_ns() - max(before[1], before[2]) <= SETTLED_NS:
            return
        self._record_active(index, before, upto, last, chain)

    def _record_active(
        self, index: int, stamp: list[int], upto: int, last: int, chain: str
    ) -> None:
        """Write ``verified.json``'s entry for the active segment ``index``, stamped ``stamp``:
        checked to byte ``upto`` (seqs up to ``last``, ending with chain hash ``chain``). Called
        by :meth:`_remember_active` once the file has settled, and by the writer at close
        without that wait, under the ledger lock, when every byte of the file is either a
        prefix this process checked or a commit it wrote itself and nothing was written since
        (the published head is its own): a later commit by any writer changes the size, so the
        stamp cannot outlive the bytes it names."""
        if self._verified is None:
            self._verified = _read_verified(self.root)
        entry = [index, *stamp, upto, last, chain]
        if self._verified.get(_ACTIVE_KEY) != entry:
            self._verified[_ACTIVE_KEY] = entry
            _write_verified(self.root, self._verified)

    def _remember_verified(self, index: int) -> None:
        """Record that every batch of sealed segment ``index`` passed its CRC."""
        self._sealed_ok.add(index)
        if self._verified is None:
            self._verified = _read_verified(self.root)
        self._verified[str(index)] = _stamp(self.segment_path(index))
        _write_verified(self.root, self._verified)

    def resume_after(self, seq: int, segment: int, offset: int, head: Head | None = None) -> bool:
        """Let later scans for seqs after ``seq`` start just past the committed batch at byte
        ``offset`` of ``segment`` (a saved checkpoint's batch) instead of walking the segment
        from its start. Done only when that batch is there and ends at ``seq``; returns
        whether it was."""
        head = head or self.head()
        if not 0 < seq <= head.seq or not 0 <= segment <= head.segment:
            return False
        sealed = segment < head.segment
        try:
            buf = self._segment_buffer(segment, head) if sealed else self._active_buffer(head)
            end = buf.size if sealed else min(head.offset, buf.size)
            known = (sealed and self._is_verified(segment)) or self._known_checked(segment, offset)
            frame = read_frame(
                buf, offset, end, str(self.segment_path(segment)), check_crc=not known
            )
        except CorruptionError:
            return False  # the scan finds (and reports) it
        if frame is None or frame.first_seq + frame.count - 1 != seq:
            return False
        self._marks[seq] = (segment, offset + frame.length)
        self._marks.move_to_end(seq)
        while len(self._marks) > RESUME_MARKS:
            self._marks.popitem(last=False)
        return True

    def _mark(self, previous: int | None, frame: BatchFrame, index: int) -> int:
        """Remember where the current scan ended (one mark per scan, the newest kept)."""
        if previous is not None:
            self._marks.pop(previous, None)
        last = frame.first_seq + frame.count - 1
        self._marks[last] = (index, frame.offset + frame.length)
        self._marks.move_to_end(last)
        while len(self._marks) > RESUME_MARKS:
            self._marks.popitem(last=False)
        return last

    def _resume_point(self, after_seq: int, head: Head) -> tuple[int, int]:
        """Where a scan for seqs after ``after_seq`` starts: in the segment holding
        ``after_seq + 1``, at the latest remembered scan end at or before ``after_seq`` (in
        that segment or a later one), else at the start of that segment."""
        segment = self._segment_for(after_seq + 1, head)
        best: tuple[int, int, int] | None = None
        for seq, (index, offset) in self._marks.items():
            if (
                seq <= min(after_seq, head.seq)
                and segment <= index <= head.segment
                and (best is None or seq > best[0])
            ):
                best = (seq, index, offset)
        if best is None:
            return segment, len(SCHEMA_MESSAGE)
        return best[1], best[2]

    def check(self, upto_seq: int, head: Head | None = None) -> int:
        """CRC-check every committed batch up to the one holding ``upto_seq`` without decoding
        it (raises :class:`CorruptionError`). Checked prefixes are remembered per reader.
        Returns the number of bytes checked."""
        head = head or self.head()
        checked = 0
        for index in range(0, head.segment + 1):
            if self._checked.get(index, 0) >= upto_seq:
                continue
            if index < head.segment and self._is_verified(index):
                continue
            if index == head.segment and self._active_trusted(index, upto_seq):
                break
            before = _active_stamp(self.segment_path(index)) if index == head.segment else None
            buf = self._segment_buffer(index, head)
            end = head.offset if index == head.segment else buf.size
            path = str(self.segment_path(index))
            offset = len(SCHEMA_MESSAGE)
            last = 0
            complete = False
            while offset < end:
                if index < head.segment and is_partial_eos(buf, offset, end):
                    complete = True
                    break
                found = check_frame(buf, offset, end, path)
                if found is None:
                    complete = True
                    if offset + len(EOS) != end:
                        raise CorruptionError(
                            f"End-of-stream marker before the committed end at "
                            f"`{Path(path).name}` offset {offset}. "
                            "Run `contexta ledger verify` to list damage.",
                            file=path,
                            offset=offset,
                            reason="early_eos",
                        )
                    break
                length, first_seq, count = found.length, found.first_seq, found.count
                offset += length
                checked += length
                last = first_seq + count - 1
                self._note_checked(index, offset, (last, found.chain))
                if last >= upto_seq:
                    break
            self._checked[index] = upto_seq if index == head.segment or last >= upto_seq else last
            tip = self._checked_tip.get(index)
            if before is not None and last >= upto_seq and tip is not None:
                self._remember_active(index, before, offset, last, tip[1])
            if index < head.segment and (complete or offset + len(EOS) >= end):
                # walked to the end of a sealed segment: it never changes again, so remember
                # it (here and, keyed by size and mtime, for later processes)
                self._remember_verified(index)
            if last >= upto_seq:
                break
        return checked

    def batches(
        self, head: Head | None = None, *, after_seq: int = 0, keep_segments: bool = True
    ) -> Iterator[pa.RecordBatch]:
        """Committed events with seq > ``after_seq`` (up to ``head``), as record batches
        (``keep_segments`` as for :meth:`frames`)."""
        head = head or self.head()
        for _, frame in self.frames(head, after_seq=after_seq, keep_segments=keep_segments):
            batch = frame.batch
            if frame.first_seq <= after_seq:
                batch = batch.slice(after_seq - frame.first_seq + 1)
            last = frame.first_seq + frame.count - 1
            if last > head.seq:
                batch = batch.slice(0, batch.num_rows - (last - head.seq))
            if batch.num_rows:
                yield batch

    def read_table(self, head: Head | None = None, *, after_seq: int = 0) -> pa.Table:

        return pa.Table.from_batches(list(self.batches(head, after_seq=after_seq)), EVENT_SCHEMA)

    def _segment_for(self, seq: int, head: Head) -> int:
        """Index of the segment holding ``seq`` (binary search over first seqs)."""
        if head.segment == 0:
            return 0
        lo, hi = 0, head.segment
        while lo < hi:
            mid = (lo + hi + 1) // 2
            first = self._first_seq_of(mid, head)
            if first is None or first > seq:
                hi = mid - 1
            else:
                lo = mid
        return lo

    def _first_seq_of(self, index: int, head: Head) -> int | None:
        if index in self._first_seq:
            return self._first_seq[index]
        buf = self._segment_buffer(index, head, keep=False)  # only its first batch is read
        end = head.offset if index == head.segment else buf.size
        path = str(self.segment_path(index))
        # CRC-checked metadata only: never decode (and allocate for) unchecked bytes
        found = (
            check_frame(buf, len(SCHEMA_MESSAGE), end, path) if end > len(SCHEMA_MESSAGE) else None
        )
        if found is None:
            return None
        if index < head.segment:
            self._first_seq[index] = found.first_seq
        return found.first_seq


def _unlinked(path: str, frame: BatchFrame, before: int) -> CorruptionError:
    """A batch that does not continue the log read so far (ending at seq ``before``)."""
    if frame.first_seq != before + 1:
        why = f"Expected seq {before + 1}, got {frame.first_seq}"
    else:
        why = "Chain link broken (prev hash does not match the batch before)"
    return CorruptionError(
        f"{why} at `{Path(path).name}` offset {frame.offset}: the segment does not continue the "
        "log (a stray, swapped or missing segment file). Run `contexta ledger repair` to see "
        "what to do.",
        file=path,
        offset=frame.offset,
        seq=before + 1,
        reason="unlinked_segment",
    )


def _head_mismatch(root: Path, path: str, frame: BatchFrame, head: Head) -> CorruptionError:
    last = frame.first_seq + frame.count - 1
    return CorruptionError(
        f"HEAD names seq {head.seq} at `{Path(path).name}` offset {head.offset}, but the batch "
        f"that ends there is seq {frame.first_seq}..{last} with another chain hash: HEAD does not "
        "belong to this log. Run `contexta ledger repair` to see what to do.",
        file=str(root / "HEAD"),
        offset=frame.offset,
        seq=last,
        reason="head_mismatch",
    )


VERIFIED_NAME = "verified.json"
#: verified.json's entry for the active segment: [segment, size, mtime, ctime, inode, checked
#: bytes, last checked seq, its batch's chain hash] (sealed segments are keyed by their index)
_ACTIVE_KEY = "active"
#: How long before a check the active segment must have been last written for its stamp to be
#: recorded: longer than the coarsest file timestamp granularity expected (one second).
SETTLED_NS = 2_500_000_000


def _stamp(path: Path) -> list[int] | None:
    """What identifies a sealed segment's bytes between checks: size, mtime and inode. Any
    write to the file (a repair, a tool, an attacker) changes the mtime, and a checked segment
    is checked again. ``contexta ledger verify`` ignores this and reads every byte."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def _active_stamp(path: Path) -> list[int] | None:
    """What identifies the active segment's bytes between checks: size, mtime, ctime (which no
    tool can set back) and inode."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def _is_chain(value: object) -> bool:
    return (
        isinstance(value, str)
        and len(value) == len(GENESIS_CHAIN)
        and all(c in "0123456789abcdef" for c in value)
    )


def _read_verified(root: Path) -> dict[str, object]:
    try:
        data = json.loads((root / VERIFIED_NAME).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_verified(root: Path, verified: dict[str, object]) -> None:
    tmp = root / f"{VERIFIED_NAME}.tmp.{os.getpid()}"
    try:
        tmp.write_text(json.dumps(verified))
        os.replace(tmp, root / VERIFIED_NAME)
    except OSError:  # a read-only workspace simply re-checks next time
        with contextlib.suppress(OSError):
            tmp.unlink()
