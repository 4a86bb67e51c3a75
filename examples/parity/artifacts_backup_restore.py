"""Artifacts, backup and restore, end to end (the recovery demos that failed on Contexta 1.0).

Stores a model file as a run's artifact, verifies it, exports it and imports it into a second
workspace, backs the first workspace up, verifies the backup, restores it into a new
workspace, and shows that the restored history still holds the artifact's put:

    uv run python examples/parity/artifacts_backup_restore.py [--workspace DIR]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from contexta import Contexta
from contexta.contract import ArtifactManifest
from contexta.recovery import (
    create_workspace_backup,
    plan_restore,
    plan_workspace_backup,
    replay_outbox,
    restore_workspace,
)
from contexta.store.artifacts import export_artifact, import_export_package, inspect_store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workspace", default=None, help="default: a fresh temporary directory")
    args = parser.parse_args()
    base = Path(args.workspace or tempfile.mkdtemp(prefix="contexta-recovery-"))
    ctx = Contexta(workspace=str(base / "main"), config={"project_name": "recovery-demo"})

    with ctx.run("train-v1") as run, run.stage("train") as stage:
        stage.metric("train.loss", 0.21)
    model = base / "model-v1.bin"
    model.write_bytes(b"pretend these are weights\n" * 64)
    manifest = ArtifactManifest(
        artifact_ref=f"artifact:{run.ref[4:]}.model",
        artifact_kind="model_bundle",
        created_at="2025-06-01T12:00:00Z",
        producer_ref="trainer",
        run_ref=run.ref,
        stage_execution_ref=f"stage:{run.ref[4:]}.train",
        location_ref="vault://model-v1.bin",
    )
    ref = str(manifest.artifact_ref)

    receipt = ctx.artifact_store.put_artifact(manifest, model)
    print(
        f"Stored {ref}: {receipt.bytes_written} bytes at objects/"
        f"{receipt.path.parent.name}/{receipt.path.name[:12]}..."
    )
    print(f"Verify: {ctx.artifact_store.verify_artifact(ref).status.value}")
    summary = inspect_store(ctx.artifact_store)
    print(
        f"Store: {summary.artifact_count} artifact(s), {summary.verified_count} verified, "
        f"{summary.orphan_count} orphan(s)"
    )
    print(
        f"Snapshot artifacts: {[a.artifact_ref for a in ctx.get_run_snapshot(run.ref).artifacts]}"
    )

    exported = export_artifact(ctx.artifact_store, ref, export_root=base / "exports")
    print(f"\nExported to {exported.export_directory.name}/")
    other = Contexta(workspace=str(base / "other"))
    imported = import_export_package(other.artifact_store, exported.export_directory)
    print(
        f"Import into another workspace: {imported.outcome.value}, {imported.bytes_written} bytes"
    )
    again = import_export_package(other.artifact_store, exported.export_directory)
    print(f"Import again: {again.outcome.value}")

    backup = create_workspace_backup(ctx.config, plan_workspace_backup(ctx.config, label="demo"))
    print(
        f"\nBackup {backup.backup_ref}: {backup.status}, sections "
        f"{list(backup.included_sections)}, {backup.details['file_count']} files, "
        f"ledger up to seq {backup.details['last_seq']}"
    )
    checked = restore_workspace(
        ctx.config, plan_restore(ctx.config, backup.backup_ref, verify_only=True)
    )
    print(
        f"Verify-only restore: {checked.status}, applied={checked.applied}, "
        f"{list(checked.verification_notes[:2])}"
    )
    target = base / "restored"
    restored = restore_workspace(
        ctx.config, plan_restore(ctx.config, backup.backup_ref, target_workspace=target)
    )
    print(
        f"Restore into {target.name}/: {restored.status}, "
        f"runs={restored.plane_results['metadata']['run_count']}, "
        f"artifacts verified={restored.plane_results['artifacts']['verified_count']}"
    )

    new = Contexta(workspace=str(target))
    print(f"Restored runs: {[r.run_id for r in new.list_runs()]}")
    print(
        f"Restored body matches: {new.artifact_store.read_artifact_bytes(ref) == model.read_bytes()}"
    )
    for event in new.history(kinds="artifact.put"):
        print(f"History: seq {event.seq} {event.kind} {event.ref} by {event.actor.split('@')[0]}")
    print(
        f"Outbox replay: {replay_outbox(ctx.config).status} {list(replay_outbox(ctx.config).notes)}"
    )
    for c in (ctx, other, new):
        c.close()


if __name__ == "__main__":
    main()
