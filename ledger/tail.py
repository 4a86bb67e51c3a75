"""Reading a ledger's new commits as they land: :class:`LedgerTail`.

A tail keeps its byte position in the ledger and, on each :meth:`LedgerTail.read`, decodes only
the batches between that position and the head committed now -- never past it, so a commit in
flight is invisible until its head is published.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from .errors import CorruptionError
from .head import Head
from .reader import LedgerReader
from .segment import EOS, SCHEMA_MESSAGE, read_frame, segment_name

__all__ = ["LedgerTail"]


class LedgerTail:
    """Reads the batches committed after ``after_seq``, a little more on each :meth:`read`.

    The tail remembers the segment and byte offset just past the last batch it read, so each
    read decodes only new batches (:attr:`frames_read` counts them). It reads up to the head
    published at the time of the read and never past it; when the head has moved to a later
    segment it finishes the old one (up to its end-of-stream marker) and goes on from the start
    of the next. Every batch read passes its CRC (:class:`ledger.CorruptionError` otherwise).
    """

    def __init__(self, root: Path | str, *, after_seq: int = 0, head: Head | None = None) -> None:
        self.root = Path(root)
        self.last_seq = after_seq
        self.frames_read = 0
        self._reader = LedgerReader(self.root)  # for the head and a first locate only
        self._position: tuple[int, int] | None = None
        if head is not None and head.seq == after_seq:
            self._position = (head.segment, head.offset)

    def read(self) -> list[pa.RecordBatch]:
        """New committed events (rows with seq > :attr:`last_seq`), up to the current head."""
        head = self._reader.head()
        if head.seq <= self.last_seq:
            return []
        if self._position is None:
            self._position = self._locate(head)
        segment, offset = self._position
        out: list[pa.RecordBatch] = []
        while True:
            offset = self._read_segment(segment, offset, head, out)
            self._position = (segment, offset)
            if segment >= head.segment or self.last_seq >= head.seq:
                return out
            segment, offset = segment + 1, len(SCHEMA_MESSAGE)

    def _read_segment(
        self, segment: int, offset: int, head: Head, out: list[pa.RecordBatch]
    ) -> int:
        path = self.root / segment_name(segment)
        buf = _map_committed(path, head)
        end = head.offset if segment == head.segment else buf.size
        if end > buf.size:
            raise CorruptionError(
                f"Segment `{path.name}` is shorter ({buf.size} bytes) than its committed head "
                f"({end}). Run `contexta ledger verify` to list damage.",
                file=str(path),
                offset=buf.size,
                reason="truncated_committed",
            )
        while offset < end and self.last_seq < head.seq:
            rest = end - offset
            if (
                segment < head.segment
                and rest <= len(EOS)
                and (bytes(memoryview(buf)[offset:end]) == EOS[:rest])
            ):
                break  # the sealed segment's end-of-stream marker (maybe still being written)
            frame = read_frame(buf, offset, end, str(path))
            if frame is None:
                break
            last = frame.first_seq + frame.count - 1
            if last > head.seq:  # never past the head (which always ends a whole batch)
                break
            self.frames_read += 1
            offset += frame.length
            if last <= self.last_seq:
                continue
            batch = frame.batch
            if frame.first_seq <= self.last_seq:  # a tail started inside this batch
                batch = batch.slice(self.last_seq - frame.first_seq + 1)
            self.last_seq = last
            out.append(batch)
        return offset

    def _locate(self, head: Head) -> tuple[int, int]:
        """Segment and offset of the batch holding ``last_seq + 1`` (a one-time scan)."""
        for segment, frame in self._reader.frames(head, after_seq=self.last_seq, check_crc=True):
            return segment, frame.offset
        return head.segment, head.offset  # pragma: no cover - head.seq > last_seq found one


def _map_committed(path: Path, head: Head) -> pa.Buffer:
    try:
        with pa.memory_map(str(path), "r") as source:
            return source.read_buffer()
    except FileNotFoundError as exc:
        raise CorruptionError(
            f"Segment `{path.name}` is missing (expected by the head at seq {head.seq}). "
            "Run `contexta ledger verify` to list damage.",
            file=str(path),
            offset=0,
            reason="missing_segment",
        ) from exc
