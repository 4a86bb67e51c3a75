"""1.0's store maintenance API, answered for a ledger.

* A store's **schema version** is the version of the projections it reads: their code declares
  it, and the engine rebuilds a saved copy of another version when it loads it. So the schema is
  always the code's; ``plan_migration_for`` has no steps and ``migrate_for`` folds the ledger into
  the projections again (a rebuild, the only migration there is) and reports that no schema
  change was needed, as 1.0 did for a store already at its version.
* A **repair plan** is what ``contexta ledger repair --dry-run`` finds: a torn tail to move
  aside, nothing else (committed batches are never rewritten).
* The record store's module functions call its methods; the artifact store's read, verify,
  retention and stream helpers work on its bindings.

Reached through 1.0's paths (``contexta.store.metadata``, ``.records``, ``.artifacts``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ..common.errors import ValidationError
from .artifact_status import VerificationStatus
from .standalone import open_standalone

__all__ = [
    "CURRENT_METADATA_STORE_SCHEMA_VERSION",
    "METADATA_PROJECTIONS",
    "MigrationPlan",
    "MigrationResult",
    "MigrationStep",
    "RepairCandidate",
    "RepairPlan",
    "RetentionCandidate",
    "RetentionPlan",
    "SchemaInspection",
    "SweepReport",
    "check_integrity",
    "dry_run_migration_for",
    "get_store_schema_version",
    "inspect_schema",
    "migrate_for",
    "open_artifact",
    "plan_migration_for",
    "plan_repairs",
    "plan_retention",
    "put_artifact_from_stream",
    "rebuild_indexes",
    "repair_truncated_tails",
    "verify_all",
]

#: the projections the metadata store reads (its "tables")
METADATA_PROJECTIONS = (
    "projects",
    "runs",
    "stages",
    "deployments",
    "batches",
    "samples",
    "environments",
    "relations",
    "provenance",
)


@dataclass(frozen=True, slots=True)
class SchemaInspection:
    exists: bool
    current_version: str | None
    target_version: str
    requires_migration: bool
    supported: bool
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MigrationStep:
    from_version: str
    to_version: str
    description: str
    step_id: str


@dataclass(frozen=True, slots=True)
class MigrationPlan:
    current_version: str | None
    target_version: str
    steps: tuple[MigrationStep, ...] = ()
    requires_migration: bool = False


@dataclass(frozen=True, slots=True)
class MigrationResult:
    current_version: str | None
    target_version: str
    applied_steps: tuple[MigrationStep, ...] = ()
    dry_run: bool = False
    changed: bool = False
    history_rows: tuple[Any, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RepairCandidate:
    issue_code: str
    ref: str | None
    action: str
    rationale: str


@dataclass(frozen=True, slots=True)
class RepairPlan:
    ok: bool
    candidates: tuple[RepairCandidate, ...] = ()
    actions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SweepReport:
    verification_records: tuple[Any, ...] = ()
    missing_refs: tuple[str, ...] = ()
    drifted_refs: tuple[str, ...] = ()
    orphan_paths: tuple[Path | str, ...] = ()


@dataclass(frozen=True, slots=True)
class RetentionCandidate:
    artifact_ref: str
    action: str
    reason: str


@dataclass(frozen=True, slots=True)
class RetentionPlan:
    keep: tuple[RetentionCandidate, ...] = ()
    review: tuple[RetentionCandidate, ...] = ()


# ---------------------------------------------------------------------- metadata schema


def _code_version() -> str:
    """The metadata projections' declared version (one number while they agree)."""
    from projections import ALL_PROJECTIONS

    versions = {p.version for p in ALL_PROJECTIONS if p.name in METADATA_PROJECTIONS}
    return str(max(versions)) if len(versions) == 1 else "+".join(sorted(map(str, versions)))


CURRENT_METADATA_STORE_SCHEMA_VERSION = _code_version()


def _workspace(source: Any) -> Any:
    workspace = getattr(source, "_workspace", None)
    return workspace if workspace is not None else open_standalone(source)[0]


def get_store_schema_version(source: Any) -> str:
    """The schema version of the metadata a store (or its config) reads."""
    _workspace(source)
    return _code_version()


def inspect_schema(config: Any, *, target_version: str | None = None) -> SchemaInspection:
    workspace = _workspace(config)
    exists = (Path(workspace.root) / "ledger").is_dir()
    current = _code_version()
    target = current if target_version is None else str(target_version)
    status = {s.name: s for s in workspace.projector.status()} if exists else {}
    notes = tuple(
        f"{name}: version {s.version}, folded through seq {s.checkpoint} of {s.head}"
        for name, s in status.items()
        if name in METADATA_PROJECTIONS
    )
    return SchemaInspection(
        exists, current if exists else None, target, False, target == current, notes
    )


def _unsupported(target: str, current: str) -> ValidationError:
    return ValidationError(
        f"Metadata schema version {target!r} is not one this code can produce; its projections "
        f"are at version {current!r}.",
        code="metadata_unsupported_schema_version",
        details={"target_version": target, "current_version": current},
    )


def plan_migration_for(config: Any, *, target_version: str | None = None) -> MigrationPlan:
    inspection = inspect_schema(config, target_version=target_version)
    if not inspection.supported:
        raise _unsupported(inspection.target_version, _code_version())
    return MigrationPlan(inspection.current_version, inspection.target_version)


def dry_run_migration_for(config: Any, *, target_version: str | None = None) -> MigrationResult:
    plan = plan_migration_for(config, target_version=target_version)
    return MigrationResult(
        plan.current_version,
        plan.target_version,
        dry_run=True,
        warnings=("no_schema_changes_required",),
    )


def migrate_for(config: Any, *, target_version: str | None = None) -> MigrationResult:
    """Rebuild the metadata projections from the ledger and save them."""
    from ..common.errors import ReadOnlyStoreError

    if getattr(config, "read_only", False):
        raise ReadOnlyStoreError(
            "The metadata store is read-only; nothing was rebuilt.", code="metadata_store_read_only"
        )
    plan = plan_migration_for(config, target_version=target_version)
    workspace = _workspace(config)
    workspace.flush()
    workspace.projector.rebuild(METADATA_PROJECTIONS)
    return MigrationResult(
        plan.current_version, plan.target_version, warnings=("no_schema_changes_required",)
    )


def plan_repairs(source: Any = None) -> RepairPlan:
    """What a repair would do: for a store (or config), what ``ledger repair --dry-run``
    finds; for an integrity report, one candidate to review per issue."""
    if source is None:
        return RepairPlan(True)
    issues = getattr(source, "issues", None)
    if issues is not None:
        candidates = tuple(
            RepairCandidate(
                getattr(i, "code", "issue"),
                getattr(i, "ref", None),
                "review",
                getattr(i, "message", ""),
            )
            for i in issues
        )
        return RepairPlan(not candidates, candidates)
    report = _workspace(source).ledger.recover(dry_run=True)
    actions = tuple(report.actions)
    candidates = tuple(
        RepairCandidate("ledger_torn_tail", report.segment, "move_aside", action)
        for action in actions
    )
    return RepairPlan(not actions, candidates, actions)


# ---------------------------------------------------------------------- record store functions


def check_integrity(store: Any) -> Any:
    return store.check_integrity()


def rebuild_indexes(store: Any) -> Any:
    return store.rebuild_indexes()


def repair_truncated_tails(store: Any) -> Any:
    return store.repair_truncated_tails()


def export_jsonl(store: Any, destination: str | Path, scan_filter: Any = None) -> Any:
    return store.export_jsonl(destination, scan_filter)


# ---------------------------------------------------------------------- artifact helpers


def open_artifact(store: Any, artifact_ref: str, *, mode: str = "rb") -> BinaryIO:
    if "b" not in mode or any(flag in mode for flag in "wa+"):
        raise ValidationError(
            f"open_artifact reads bodies in binary only, got mode {mode!r}.",
            code="artifact_store_invalid_open_mode",
            details={"mode": mode},
        )
    return store.open_artifact(artifact_ref, mode=mode)  # type: ignore[no-any-return]


def verify_all(store: Any) -> SweepReport:
    """Verify every bound body; missing and drifted refs listed apart."""
    reports = tuple(store.verify_artifact(ref) for ref in store.list_refs())
    missing = tuple(r.artifact_ref for r in reports if r.status is VerificationStatus.MISSING)
    drifted = tuple(
        r.artifact_ref
        for r in reports
        if r.status not in (VerificationStatus.MISSING, VerificationStatus.VERIFIED)
    )
    return SweepReport(reports, missing, drifted, _orphans(store))


def _orphans(store: Any) -> tuple[str, ...]:
    bound = {b.hash_value for b in store.bindings()}
    objects = Path(store.root_path) / "objects"
    if not objects.is_dir():
        return ()
    return tuple(
        sorted(
            str(p)
            for p in objects.glob("*/*")
            if p.is_file() and p.parent.name + p.name not in bound
        )
    )


def plan_retention(store: Any, *, refs_to_keep: Iterable[str] | None = None) -> RetentionPlan:
    """Which bound artifacts the caller pinned (keep) and which to review."""
    pinned = {str(ref) for ref in refs_to_keep or ()}
    keep, review = [], []
    for ref in store.list_refs():
        if ref in pinned:
            keep.append(RetentionCandidate(ref, "keep", "listed in refs_to_keep"))
        else:
            review.append(RetentionCandidate(ref, "review", "bound, not listed in refs_to_keep"))
    return RetentionPlan(tuple(keep), tuple(review))


def put_artifact_from_stream(
    store: Any, manifest: Any, stream: BinaryIO, *, source_name: str
) -> Any:
    """Write ``stream`` under the store's staging directory, then adopt it as the body."""
    staged = Path(store.staging_path(source_name))
    staged.parent.mkdir(parents=True, exist_ok=True)
    try:
        with staged.open("wb") as out:
            shutil.copyfileobj(stream, out, store.config.chunk_size_bytes)
        return store.put_artifact(manifest, staged, mode="adopt", source_name=source_name)
    finally:
        staged.unlink(missing_ok=True)
