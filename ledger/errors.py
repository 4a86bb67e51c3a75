"""Errors of the ledger layer.

One base class, :class:`LedgerError`, with a stable ``code`` and the offending values in
``details``. The public face translates these at its boundary.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CorruptionError",
    "DurabilityError",
    "LedgerClosedError",
    "LedgerError",
    "LedgerIOError",
    "LedgerLockError",
    "LedgerValidationError",
]


class LedgerError(Exception):
    """Base class of every ledger error."""

    code = "ledger_error"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details: dict[str, Any] = details


class CorruptionError(LedgerError):
    """Committed bytes fail a CRC, chain, framing or sequence check.

    ``details`` names the segment ``file``, the byte ``offset`` of the damaged batch and, when
    known, the ``seq`` it should start at.
    """

    code = "ledger_corrupt"


class LedgerIOError(LedgerError):
    """The operating system refused a read or write (disk full, I/O error, permissions)."""

    code = "ledger_io_error"


class DurabilityError(LedgerIOError):
    """An fsync failed. The writer that saw it is closed for good: after a failed fsync the page
    cache may have dropped the dirty pages, so retrying could report success for lost data."""

    code = "ledger_fsync_failed"


class LedgerLockError(LedgerError):
    """The ledger lock could not be taken within the timeout."""

    code = "ledger_lock_timeout"


class LedgerClosedError(LedgerError):
    """The writer was used after it was closed (or after a fatal durability error)."""

    code = "ledger_closed"


class LedgerValidationError(LedgerError):
    """An event handed to ``append`` does not fit the ledger's event row (a step beyond int64, a
    time outside years 1 to 9999, a string that is not valid UTF-8, ...). ``details`` names the
    ``field``, the ``value`` (its repr, shortened) and the ``index`` of the event in the call.
    Nothing of that call was buffered."""

    code = "ledger_invalid_event"
