"""Errors of backup, restore and replay (stable ``recovery_*`` codes)."""

from __future__ import annotations

from ..common.errors import ContextaError

__all__ = ["BackupError", "RecoveryError", "ReplayError", "RestoreError"]


class RecoveryError(ContextaError):
    """Base of the recovery errors."""

    default_code = "recovery_failed"


class BackupError(RecoveryError):
    """A backup could not be planned or written."""

    default_code = "recovery_backup_failed"


class RestoreError(RecoveryError):
    """A backup could not be found, trusted or applied."""

    default_code = "recovery_restore_failed"


class ReplayError(RecoveryError):
    """An outbox could not be read."""

    default_code = "recovery_replay_failed"
