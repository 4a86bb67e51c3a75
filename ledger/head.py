"""The committed head: the last committed seq and where it ends.

``HEAD`` is a small fixed-size JSON record with its own CRC, rewritten in place after every
commit (a rename per commit costs hundreds of microseconds on some file systems).
Readers trust it: they never read past ``offset`` of the active segment, so a commit in flight
or a torn tail is invisible to them. Writers re-derive it from the active segment when it is
missing, damaged or disagrees with the file (see :mod:`ledger.recovery`).
"""

from __future__ import annotations

import json
import os
import time
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

from .fs import FileSystem
from .segment import GENESIS_CHAIN, SCHEMA_MESSAGE

__all__ = ["HEAD_NAME", "HEAD_SIZE", "Head", "open_head", "read_head", "write_head"]

HEAD_NAME = "HEAD"


@dataclass(frozen=True, slots=True)
class Head:
    """Position of the last committed batch.

    ``seq``: last committed seq (0 for an empty ledger); ``segment``: index of the active
    segment; ``offset``: byte length of its committed prefix; ``chain``: chain hash of the last
    batch; ``tx_time``: its transaction time in microseconds; ``segment_started``: tx time (us)
    of the active segment's creation, for the age-based roll; ``synced``: length of the active
    segment's prefix known to be fsynced when the head was published (None: unknown, taken as
    ``offset``); ``boot``: boot id of the machine that published it ("" when unknown).
    ``synced`` and ``boot`` let recovery accept the loss of never-fsynced commits after a
    machine restart (``flush`` mode) while still treating any other missing bytes as damage.
    """

    seq: int = 0
    segment: int = 0
    offset: int = len(SCHEMA_MESSAGE)
    chain: str = GENESIS_CHAIN
    tx_time: int = 0
    segment_started: int = 0
    synced: int | None = None
    boot: str = ""

    @property
    def durable_offset(self) -> int:
        """Offset up to which the active segment was fsynced (``offset`` when unknown)."""
        return self.offset if self.synced is None else min(self.synced, self.offset)

    def to_bytes(self) -> bytes:
        body = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return json.dumps({"head": json.loads(body), "crc": zlib.crc32(body.encode())}).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Head:
        """Parse a HEAD file; raises ValueError when it is damaged."""
        outer = json.loads(data)
        body = json.dumps(outer["head"], sort_keys=True, separators=(",", ":"))
        if zlib.crc32(body.encode()) != outer["crc"]:
            raise ValueError("HEAD checksum mismatch")
        fields = outer["head"]
        head = cls(
            seq=int(fields["seq"]),
            segment=int(fields["segment"]),
            offset=int(fields["offset"]),
            chain=str(fields["chain"]),
            tx_time=int(fields["tx_time"]),
            segment_started=int(fields.get("segment_started", 0)),
            synced=None if fields.get("synced") is None else int(fields["synced"]),
            boot=str(fields.get("boot", "")),
        )
        if head.seq < 0 or head.segment < 0 or head.offset < len(SCHEMA_MESSAGE):
            raise ValueError("HEAD values out of range")
        return head


HEAD_SIZE = 512


def read_head(root: Path, *, attempts: int = 50) -> Head | None:
    """The head as last published, or None when there is no readable HEAD file.

    HEAD is rewritten in place; a read that races a rewrite sees a checksum mismatch and is
    retried, so a reader never acts on a half-written head.
    """
    path = root / HEAD_NAME
    for attempt in range(attempts):
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            return Head.from_bytes(data.rstrip(b" \n\x00"))
        except (ValueError, KeyError, TypeError):
            if len(data) != HEAD_SIZE:
                return None  # not a rewrite in flight (those keep the size): damaged or empty
            if attempt + 1 < attempts:
                time.sleep(0.0002 * (attempt + 1))
    return None


def open_head(root: Path, fs: FileSystem) -> int:
    """A descriptor for rewriting HEAD in place (created atomically when absent)."""
    path = root / HEAD_NAME
    if not path.exists():
        tmp = root / f"{HEAD_NAME}.tmp.{os.getpid()}"
        fd = fs.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        try:
            fs.pwrite(fd, _padded(Head()), 0)
        finally:
            fs.close(fd)
        fs.replace(tmp, path)
    return fs.open(path, os.O_RDWR)


def write_head(fd: int, head: Head, fs: FileSystem) -> None:
    """Rewrite HEAD in place: one fixed-size ``pwrite``. Not fsynced: after a power loss the
    head is re-derived from the (fsynced) segment, so a stale or torn HEAD only costs a scan of
    the active segment, never a commit."""
    fs.pwrite(fd, _padded(head), 0)


def _padded(head: Head) -> bytes:
    data = head.to_bytes()
    if len(data) >= HEAD_SIZE:  # pragma: no cover - a head is ~200 bytes
        raise ValueError("head record too large")
    return data + b" " * (HEAD_SIZE - 1 - len(data)) + b"\n"
