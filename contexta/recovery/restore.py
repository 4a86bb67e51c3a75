"""Verifying and restoring backups written by :func:`create_workspace_backup`.

``restore_workspace`` always verifies first: every file against the manifest's size and
sha256, and the ledger's CRCs and hash chain up to the manifest's head. A verify-only plan
stops there (status ``FAILURE`` with the problems listed if anything is off); otherwise a
damaged backup is refused. Applying replaces the target's ``ledger/`` and ``artifacts/``
(after a safety backup of the target when ``recovery.create_backup_before_restore``), merges
cache/exports when the backup has them, and drops the target's projections, which the next
open rebuilds from the restored ledger. Close every ``Contexta`` open on the target first.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

from ledger import verify

from .backup import (
    _now,
    commit_live_writers,
    create_workspace_backup,
    hash_file,
    plan_workspace_backup,
)
from .errors import RestoreError
from .models import RestorePlan, RestoreResult

__all__ = ["plan_restore", "restore_workspace", "verify_backup"]

_REPLACED = ("ledger", "artifacts")
_MERGED = ("cache", "exports")


def _resolve(config: Any, backup_ref: str | Path) -> tuple[str, Path]:
    text = str(backup_ref).strip()
    candidate = Path(text).expanduser()
    if (candidate / "manifest.json").is_file():
        root = candidate.resolve()
        return root.name, root
    root = Path(config.recovery.backup_root) / text
    if not root.is_dir():
        raise RestoreError(f"No backup {text!r} under {config.recovery.backup_root} (nor a backup "
                           "directory at that path).", code="recovery_backup_not_found",
                           details={"backup_ref": text, "backup_root": str(root)})
    return text, root


def plan_restore(config: Any, backup_ref: str, *, target_workspace: str | Path | None = None,
                 verify_only: bool = False) -> RestorePlan:
    """Plan a restore of ``backup_ref`` (a name under ``recovery.backup_root`` or a backup
    directory) into ``target_workspace`` (default: this config's workspace)."""
    ref, source = _resolve(config, backup_ref)
    target = Path(target_workspace or config.workspace.root_path).expanduser().resolve()
    return RestorePlan(
        backup_ref=ref, source_root=source, target_workspace=target,
        staging_root=Path(config.recovery.restore_staging_root) / ref,
        create_safety_backup=bool(config.recovery.create_backup_before_restore),
        verify_only=verify_only, notes=("verify_only" if verify_only else "apply_restore",))


def _manifest(source: Path) -> dict[str, Any]:
    path = source / "manifest.json"
    if not path.is_file():
        raise RestoreError(f"Backup manifest {path} is missing.", code="recovery_manifest_missing",
                           details={"source_root": str(source)})
    try:
        data = json.loads(path.read_text())
    except ValueError as exc:
        raise RestoreError(f"Backup manifest {path} is not JSON: {exc}",
                           code="recovery_manifest_invalid") from exc
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        raise RestoreError(f"Backup manifest {path} has no file list.",
                           code="recovery_manifest_invalid")
    return data


def verify_backup(source: Path) -> tuple[list[str], list[str], dict[str, Any]]:
    """Check a backup directory: (problems, notes, ledger facts)."""
    manifest = _manifest(source)
    problems: list[str] = []
    for relative, expected in sorted(manifest["files"].items()):
        path = source / relative
        if not path.is_file():
            problems.append(f"missing:{relative}")
            continue
        size, digest = hash_file(path)
        if size != expected.get("size") or digest != expected.get("sha256"):
            problems.append(f"hash_mismatch:{relative}")
    head = manifest.get("head") or {}
    ledger_root = source / "workspace" / "ledger"
    facts: dict[str, Any] = {"manifest_seq": head.get("seq", 0)}
    if ledger_root.is_dir():
        report = verify(ledger_root)
        facts.update(last_seq=report.last_seq, events=report.events, chain=report.chain)
        problems += [f"ledger:{f.code}:{f.message}" for f in report.findings
                     if f.severity == "error"]
        if report.last_seq != head.get("seq") or report.chain != head.get("chain"):
            problems.append(f"ledger_head_mismatch:seq={report.last_seq},"
                            f"manifest_seq={head.get('seq')}")
    notes = [f"files_verified:{len(manifest['files'])}",
             f"ledger_chain_verified:seq={facts.get('last_seq', 0)}"]
    return problems, notes, facts


def _counts(workspace: Path) -> dict[str, Any]:
    from ..store.artifacts import ArtifactStore, VaultConfig
    from ..workspace import Workspace

    ws = Workspace(workspace)
    try:
        runs = ws.latest("runs").num_rows
        records = ws.table("records").num_rows
        summary = ArtifactStore(VaultConfig(root_path=workspace / "artifacts"),
                                workspace=ws).inspect_store()
    finally:
        ws.close()
    return {"metadata": {"run_count": runs},
            "records": {"record_count": records, "integrity_state": "OK"},
            "artifacts": {"artifact_count": summary.artifact_count,
                          "verified_count": summary.verified_count,
                          "missing_count": summary.missing_count,
                          "drift_count": summary.drift_count,
                          "orphan_count": summary.orphan_count}}


def restore_workspace(config: Any, plan: RestorePlan) -> RestoreResult:
    """Verify the backup, then (unless verify-only) restore it into the plan's target."""
    manifest = _manifest(plan.source_root)
    problems, notes, facts = verify_backup(plan.source_root)
    if problems:
        if plan.verify_only:
            return RestoreResult(status="FAILURE", warnings=tuple(problems), notes=plan.notes,
                                 details=facts, backup_ref=plan.backup_ref,
                                 target_workspace=plan.target_workspace, applied=False,
                                 verification_notes=tuple(notes))
        raise RestoreError(f"Backup {plan.backup_ref!r} failed verification ({len(problems)} "
                           f"problem(s), first: {problems[0]}); nothing was restored.",
                           code="recovery_backup_corrupt",
                           details={"backup_ref": plan.backup_ref, "problems": problems[:20]})
    staged = plan.staging_root / "workspace"
    if staged.exists():
        shutil.rmtree(staged)
    staged.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(plan.source_root / "workspace", staged)
    try:
        planes = _counts(staged)
        planes["ledger"] = facts
        safety_ref = None
        if not plan.verify_only:
            safety_ref = _apply(config, plan, staged)
    finally:
        shutil.rmtree(plan.staging_root, ignore_errors=True)
    notes.append(f"manifest:{manifest.get('backup_ref', plan.backup_ref)}")
    if not plan.verify_only:
        notes.append("projections_dropped:rebuilt_on_open")
    return RestoreResult(status="SUCCESS", notes=plan.notes, details=facts,
                         backup_ref=plan.backup_ref, target_workspace=plan.target_workspace,
                         applied=not plan.verify_only, plane_results=planes,
                         safety_backup_ref=safety_ref, verification_notes=tuple(notes))


def _apply(config: Any, plan: RestorePlan, staged: Path) -> str | None:
    target = plan.target_workspace
    commit_live_writers(target / "ledger")
    safety_ref = None
    if plan.create_safety_backup and (target / "ledger").is_dir():
        from ..config import load_config

        target_config = (config if Path(config.workspace.root_path).resolve() == target
                         else load_config(workspace=target))
        safety = replace(plan_workspace_backup(target_config, label="pre-restore-safety"),
                         backup_root=Path(config.recovery.backup_root))
        safety_ref = create_workspace_backup(target_config, safety).backup_ref
    target.mkdir(parents=True, exist_ok=True)
    aside = target / f".restore-old-{_now().replace(':', '-').replace('.', '_')}"
    for section in _REPLACED:
        incoming = staged / section
        if not incoming.exists():
            continue
        current = target / section
        if current.exists():
            aside.mkdir(exist_ok=True)
            current.rename(aside / section)
        shutil.move(str(incoming), str(current))
    for section in _MERGED:
        if (staged / section).exists():
            shutil.copytree(staged / section, target / section, dirs_exist_ok=True)
    shutil.rmtree(target / "projections", ignore_errors=True)
    shutil.rmtree(aside, ignore_errors=True)
    return safety_ref
