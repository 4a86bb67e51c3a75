"""The segment files of a ledger folder: listing them in log order and mapping one to read.

Reader, recovery, verify and publish all start here, so none of them needs another to find
the files (this is what keeps the reader and recovery free of an import loop).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from .errors import CorruptionError, LedgerIOError
from .segment import SCHEMA_MESSAGE, segment_index

__all__ = ["SegmentInfo", "check_schema_prefix", "list_segments", "map_segment"]


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    index: int
    path: Path
    size: int


def list_segments(root: Path) -> list[SegmentInfo]:
    """Segment files of the ledger in log order."""
    out: list[SegmentInfo] = []
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        return out
    for entry in entries:
        index = segment_index(entry.name)
        if index is not None:
            out.append(SegmentInfo(index, Path(entry.path), entry.stat().st_size))
    out.sort(key=lambda s: s.index)
    return out


def map_segment(path: Path) -> pa.Buffer:
    """The whole file memory-mapped; a missing file raises ``FileNotFoundError`` as is."""
    try:
        with pa.memory_map(str(path), "r") as source:
            return source.read_buffer()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise LedgerIOError(f"Cannot read segment `{path.name}`: {exc}", file=str(path)) from exc


def check_schema_prefix(buf: pa.Buffer, path: Path) -> None:
    size = len(SCHEMA_MESSAGE)
    if buf.size < size or bytes(memoryview(buf)[:size]) != SCHEMA_MESSAGE:
        raise CorruptionError(
            f"Segment header is not the ledger schema at `{path.name}` offset 0. "
            "Run `contexta ledger verify` to list damage.",
            file=str(path),
            offset=0,
            reason="schema",
        )
