"""The event log: segmented Arrow IPC files with a gap-free global seq.

Vocabulary: ``append`` (buffer), ``commit`` (one batch under the lock), ``read``/``scan``
(committed batches up to the head), ``seal`` (finish a segment), ``recover`` (torn tails),
``verify`` (every CRC, the chain, seq continuity).
"""

from .errors import (
    CorruptionError,
    DurabilityError,
    LedgerClosedError,
    LedgerError,
    LedgerIOError,
    LedgerLockError,
    LedgerValidationError,
)
from .fs import FileSystem
from .head import Head, read_head
from .reader import LedgerReader, list_segments
from .recovery import RecoveryReport
from .schema import COLUMNS, EVENT_SCHEMA, SCHEMA_VERSION, PendingEvent
from .segment import segment_name
from .tail import LedgerTail
from .verify import VerifyFinding, VerifyReport, verify
from .writer import CommitInfo, Durability, Ledger, open_writers

__all__ = [
    "COLUMNS",
    "EVENT_SCHEMA",
    "SCHEMA_VERSION",
    "CommitInfo",
    "CorruptionError",
    "Durability",
    "DurabilityError",
    "FileSystem",
    "Head",
    "Ledger",
    "LedgerClosedError",
    "LedgerError",
    "LedgerIOError",
    "LedgerLockError",
    "LedgerReader",
    "LedgerTail",
    "LedgerValidationError",
    "PendingEvent",
    "RecoveryReport",
    "VerifyFinding",
    "VerifyReport",
    "list_segments",
    "open_writers",
    "read_head",
    "segment_name",
    "verify",
]
