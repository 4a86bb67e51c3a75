"""Plans and results of the recovery workflows (1.0's types; statuses upper-cased).

1.0 declared these as slotted dataclasses calling zero-argument ``super()`` in
``__post_init__``, which raised ``TypeError``; here each subclass calls its base explicitly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..common.errors import ValidationError

__all__ = [
    "BackupPlan",
    "BackupResult",
    "ImportResult",
    "RecoveryResult",
    "ReplayBatchResult",
    "ReplayEntryResult",
    "RestorePlan",
    "RestoreResult",
]

STATUSES = ("SUCCESS", "DEGRADED", "FAILURE", "SKIPPED", "PENDING")


def _frozen(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType({key: value[key] for key in sorted(value)} if value else {})


def _status(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(
            "status must be a non-blank string.",
            code="recovery_invalid_text",
            details={"field_name": "status"},
        )
    return value.strip().upper()


def _count(name: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValidationError(
            f"{name} must be a non-negative integer, got {value!r}.",
            code="recovery_invalid_number",
            details={"field_name": name},
        )
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


class _Dict:
    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class RecoveryResult(_Dict):
    status: str
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    details: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", _status(self.status))
        object.__setattr__(self, "warnings", tuple(str(w) for w in self.warnings))
        object.__setattr__(self, "notes", tuple(str(n) for n in self.notes))
        object.__setattr__(self, "details", _frozen(self.details))

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCESS"


@dataclass(frozen=True, slots=True)
class ReplayEntryResult(_Dict):
    replay_ref: str
    family: str
    target: str
    status: str
    detail: str = ""
    attempts: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", _status(self.status))
        object.__setattr__(self, "attempts", _count("attempts", self.attempts))


@dataclass(frozen=True, slots=True)
class ReplayBatchResult(RecoveryResult):
    entries: tuple[ReplayEntryResult, ...] = ()
    acknowledged_count: int = 0
    pending_count: int = 0
    dead_lettered_count: int = 0

    def __post_init__(self) -> None:
        RecoveryResult.__post_init__(self)
        object.__setattr__(self, "entries", tuple(self.entries))
        for name in ("acknowledged_count", "pending_count", "dead_lettered_count"):
            _count(name, getattr(self, name))


@dataclass(frozen=True, slots=True)
class BackupPlan(_Dict):
    backup_ref: str
    workspace_root: Path
    backup_root: Path
    included_sections: tuple[str, ...]
    estimated_bytes: int
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "workspace_root", Path(self.workspace_root))
        object.__setattr__(self, "backup_root", Path(self.backup_root))
        object.__setattr__(self, "included_sections", tuple(self.included_sections))
        object.__setattr__(self, "estimated_bytes", _count("estimated_bytes", self.estimated_bytes))
        object.__setattr__(self, "notes", tuple(self.notes))


@dataclass(frozen=True, slots=True)
class BackupResult(RecoveryResult):
    backup_ref: str = ""
    created_at: str = ""
    location: Path | None = None
    included_sections: tuple[str, ...] = ()
    bytes_written: int = 0
    verification_notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        RecoveryResult.__post_init__(self)
        object.__setattr__(self, "location", None if self.location is None else Path(self.location))
        object.__setattr__(self, "included_sections", tuple(self.included_sections))
        object.__setattr__(self, "bytes_written", _count("bytes_written", self.bytes_written))
        object.__setattr__(self, "verification_notes", tuple(self.verification_notes))


@dataclass(frozen=True, slots=True)
class RestorePlan(_Dict):
    backup_ref: str
    source_root: Path
    target_workspace: Path
    staging_root: Path
    create_safety_backup: bool
    verify_only: bool = False
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("source_root", "target_workspace", "staging_root"):
            object.__setattr__(self, name, Path(getattr(self, name)))
        for name in ("create_safety_backup", "verify_only"):
            if not isinstance(getattr(self, name), bool):
                raise ValidationError(
                    f"{name} must be a bool.",
                    code="recovery_invalid_bool",
                    details={"field_name": name},
                )
        object.__setattr__(self, "notes", tuple(self.notes))


@dataclass(frozen=True, slots=True)
class RestoreResult(RecoveryResult):
    backup_ref: str = ""
    target_workspace: Path | None = None
    applied: bool = False
    plane_results: Mapping[str, Any] | None = None
    safety_backup_ref: str | None = None
    verification_notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        RecoveryResult.__post_init__(self)
        if self.target_workspace is not None:
            object.__setattr__(self, "target_workspace", Path(self.target_workspace))
        object.__setattr__(self, "plane_results", _frozen(self.plane_results))
        object.__setattr__(self, "verification_notes", tuple(self.verification_notes))


@dataclass(frozen=True, slots=True)
class ImportResult(RecoveryResult):
    source_root: Path | None = None
    target_workspace: Path | None = None
    created_run_count: int = 0
    created_artifact_count: int = 0
    created_record_count: int = 0
    loss_notes: tuple[str, ...] = ()
    verification_notes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        RecoveryResult.__post_init__(self)
        for name in ("created_run_count", "created_artifact_count", "created_record_count"):
            _count(name, getattr(self, name))
