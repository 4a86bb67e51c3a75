"""The error hierarchy of the public face.

Every error raised by the library derives from :class:`ContextaError` and carries a stable
``code`` (a snake_case string that never changes meaning), a human message naming what was
wrong and where, optional read-only ``details`` and the ``cause`` it was translated from.
"""

from __future__ import annotations

import errno as _errno
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

__all__ = [
    "AppendError",
    "ClosedError",
    "ConfigurationError",
    "ConflictError",
    "ContextaError",
    "DependencyError",
    "IntegrityError",
    "InterpretationError",
    "NotFoundError",
    "ReadOnlyStoreError",
    "RecordError",
    "SerializationError",
    "ValidationError",
    "WorkspaceError",
    "close_matches",
    "from_os_error",
]


class ContextaError(Exception):
    """Base class of every error raised by the library."""

    default_code = "contexta_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: Mapping[str, Any] | None = None,
        retryable: bool = False,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details: Mapping[str, Any] | None = (
            MappingProxyType(dict(details)) if details is not None else None
        )
        self.retryable = retryable
        self.cause = cause
        if cause is not None:
            self.__cause__ = cause

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "error_type": type(self).__name__,
            "code": self.code,
            "message": self.message,
            "details": dict(self.details) if self.details is not None else None,
            "retryable": self.retryable,
            "cause": repr(self.cause) if self.cause is not None else None,
        }


class ValidationError(ContextaError):
    """A value does not satisfy the contract (a field, a ref, a query option)."""

    default_code = "validation_failed"


class DependencyError(ContextaError):
    """An optional package a feature needs is not installed (the message names the extra)."""

    default_code = "dependency_missing"


class SerializationError(ContextaError):
    """A value has no canonical JSON form (a non-finite float, a non-string key, a set...)."""

    default_code = "serialization_failed"


class ConflictError(ContextaError):
    """Two values that must be distinct or consistent are not."""

    default_code = "conflict"


class NotFoundError(ContextaError):
    """A referenced object does not exist."""

    default_code = "not_found"


class ReadOnlyStoreError(ContextaError):
    """A write was attempted through a read-only store or view."""

    default_code = "read_only"


class ConfigurationError(ContextaError):
    """The configuration is invalid."""

    default_code = "invalid_config_value"


class InterpretationError(ContextaError):
    """A query cannot be answered (for example an unknown run)."""

    default_code = "interpretation_failed"


class RecordError(ContextaError):
    """Stored records cannot be read back."""

    default_code = "record_error"


class AppendError(ContextaError):
    """Records could not be written (an I/O failure, never bad input)."""

    default_code = "append_failed"


class IntegrityError(ContextaError):
    """Stored data failed an integrity check (CRC, chain, sequence)."""

    default_code = "integrity_failed"


class ClosedError(ContextaError):
    """The object was used after it was closed for good."""

    default_code = "closed"


class WorkspaceError(ContextaError):
    """The workspace cannot be used: missing, not a directory, unreadable or unwritable."""

    default_code = "workspace_invalid"


#: errno -> (stable code, what it means for the user)
_OS_CODES: dict[int, tuple[str, str]] = {
    _errno.ENOSPC: ("disk_full", "the disk is full"),
    _errno.EDQUOT: ("disk_full", "the disk quota is exhausted"),
    _errno.EROFS: ("read_only_filesystem", "the file system is read-only"),
    _errno.EACCES: ("permission_denied", "permission denied"),
    _errno.EPERM: ("permission_denied", "the operation is not permitted"),
    _errno.ENOTDIR: ("not_a_directory", "a part of the path is a file, not a directory"),
    _errno.EISDIR: ("is_a_directory", "the path is a directory, not a file"),
    _errno.ENOENT: ("path_not_found", "no such file or directory"),
    _errno.EEXIST: ("path_exists", "the path already exists"),
    _errno.ENAMETOOLONG: ("path_too_long", "the path is too long"),
    _errno.EIO: ("io_error", "an input/output error"),
}


def from_os_error(exc: OSError, action: str, path: object = None) -> ContextaError:
    """``exc`` as a typed error: a stable code from its errno, a message saying what was being
    done (``action``, e.g. ``"saving the projections"``) on which path, and why."""
    code, reason = _OS_CODES.get(exc.errno or 0, ("io_error", exc.strerror or str(exc)))
    where = path if path is not None else exc.filename
    at = f" at {where}" if where is not None else ""
    error_type: type[ContextaError] = {
        "read_only_filesystem": ReadOnlyStoreError,
        "disk_full": AppendError,
    }.get(code, WorkspaceError)
    name = _errno.errorcode.get(exc.errno or 0)
    culprit = exc.filename if exc.filename is not None and str(exc.filename) != str(where) else None
    on = f": {culprit}" if culprit is not None else ""
    return error_type(
        f"Failed {action}{at}: {reason}{on}" + (f" ({name})." if name else "."),
        code=code,
        details={
            "action": action,
            "path": None if where is None else str(where),
            "errno": exc.errno,
        },
        retryable=code == "disk_full",
        cause=exc,
    )


def close_matches(given: object, known: Iterable[str], n: int = 3) -> list[str]:
    """The names in ``known`` closest to ``given`` (for "did you mean ...?" in not-found
    messages); empty when nothing is close."""
    if not isinstance(given, str):
        return []
    import difflib  # only an error message needs it (about 8 ms of every import otherwise)

    return difflib.get_close_matches(given, list(known), n=n, cutoff=0.6)
