"""Backup, restore and replay (contract 4.12, decision 8.9): they must work on 1.0's surface."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contexta import Contexta
from contexta.contract import ArtifactManifest, Project, Run
from contexta.events import entity_event
from contexta.recovery import (
    BackupPlan,
    BackupResult,
    ReplayBatchResult,
    RestoreError,
    RestorePlan,
    RestoreResult,
    create_workspace_backup,
    plan_restore,
    plan_workspace_backup,
    replay_outbox,
    restore_workspace,
)
from ledger import Ledger, list_segments, read_head, verify

QUIET = {"capture": {"capture_environment_snapshot": False}}


def open_ctx(root: Path) -> Contexta:
    return Contexta(workspace=str(root), config=dict(QUIET))


def train(ctx: Contexta, name: str, loss: float) -> str:
    with ctx.run(name) as run, run.stage("train") as stage:
        stage.metric("loss", loss)
    return run.ref


def summary(ctx: Contexta) -> list[tuple[str, str, list[float]]]:
    out = []
    for run in ctx.list_runs():
        values = [r.value for r in ctx.get_run_snapshot(run.run_id).records]
        out.append((run.run_id, run.status, values))
    return out


@pytest.fixture()
def populated(tmp_path: Path) -> Contexta:
    ctx = open_ctx(tmp_path / "ws")
    ref = train(ctx, "baseline", 0.5)
    source = tmp_path / "model.bin"
    source.write_bytes(b"model weights")
    ctx.artifact_store.put_artifact(
        ArtifactManifest(
            artifact_ref=f"artifact:{ref[4:]}.model",
            artifact_kind="model_bundle",
            created_at="2025-01-01T00:00:00Z",
            producer_ref="trainer",
            run_ref=ref,
            location_ref="model.bin",
        ),
        source,
    )
    return ctx


def backup(ctx: Contexta, **options: object) -> BackupResult:
    return create_workspace_backup(ctx.config, plan_workspace_backup(ctx.config, **options))  # type: ignore[arg-type]


def test_plan_names_sections_and_estimates_bytes(populated: Contexta) -> None:
    plan = plan_workspace_backup(populated.config, label="Nightly run!", include_cache=True)
    assert isinstance(plan, BackupPlan)
    assert plan.backup_ref.startswith("Nightly-run-")
    assert plan.included_sections == ("config", "ledger", "artifacts", "cache")
    assert "exports_excluded" in plan.notes and plan.estimated_bytes > 0
    assert plan.backup_root == Path(populated.workspace) / "exports" / "backups"


def test_backup_is_a_verified_prefix_with_a_hash_manifest(populated: Contexta) -> None:
    result = backup(populated, label="b")
    assert isinstance(result, BackupResult)
    assert (result.status, result.included_sections) == (
        "SUCCESS",
        ("config", "ledger", "artifacts"),
    )
    assert result.to_dict()["status"] == "SUCCESS"  # 1.0 raised TypeError building the result
    manifest = json.loads((result.location / "manifest.json").read_text())
    assert manifest["head"]["seq"] == result.details["last_seq"] == populated._workspace.head().seq
    files = manifest["files"]
    assert any(name.startswith("workspace/artifacts/objects/") for name in files)
    assert "workspace/ledger/HEAD" in files and "workspace/config/resolved.config.json" in files
    report = verify(result.location / "workspace" / "ledger")
    assert report.ok and report.last_seq == manifest["head"]["seq"]
    assert result.bytes_written >= sum(f["size"] for f in files.values())


def test_backup_commits_buffered_writes_first(tmp_path: Path) -> None:
    ctx = open_ctx(tmp_path / "ws")
    run = ctx.run("live")
    run.metric("loss", 1.0)  # buffered in this process, not committed yet
    result = backup(ctx)
    restored = tmp_path / "restored"
    restore_workspace(
        ctx.config, plan_restore(ctx.config, result.backup_ref, target_workspace=restored)
    )
    (listed,) = open_ctx(restored).list_runs()
    assert listed.status == "open"
    assert [r.key for r in open_ctx(restored).get_run_snapshot(listed.run_id).records] == ["loss"]
    run.close()


def test_backup_excludes_bytes_past_the_head(populated: Contexta) -> None:
    populated.close()
    ledger_root = Path(populated.workspace) / "ledger"
    head = read_head(ledger_root)
    active = list_segments(ledger_root)[-1].path
    with active.open("ab") as handle:  # an uncommitted, torn tail of a dead writer
        handle.write(b"\x00garbage-after-the-head")
    result = backup(populated)
    copied = result.location / "workspace" / "ledger" / active.name
    assert copied.stat().st_size == head.offset
    assert verify(result.location / "workspace" / "ledger").ok


def test_backup_of_a_multi_segment_ledger(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ledger = Ledger(ws / "ledger", roll_bytes=2048)
    ledger.append_many(
        [
            entity_event(
                Project(project_ref="project:p", name="p", created_at="2025-01-01T00:00:00Z"),
                "t@h:1",
            )
        ]
    )
    for i in range(40):
        ledger.append(
            entity_event(
                Run(
                    run_ref=f"run:p.r{i}",
                    project_ref="project:p",
                    name=f"r{i}",
                    status="open",
                    started_at="2025-01-01T00:00:00Z",
                ),
                "t@h:1",
            )
        )
        ledger.commit()
    ledger.close()
    assert len(list_segments(ws / "ledger")) > 2
    ctx = open_ctx(ws)
    result = backup(ctx)
    assert result.status == "SUCCESS" and result.details["last_seq"] == 41
    restored = tmp_path / "restored"
    restore_workspace(
        ctx.config, plan_restore(ctx.config, result.backup_ref, target_workspace=restored)
    )
    assert len(open_ctx(restored).list_runs()) == 40


def test_verify_only_checks_hashes_and_changes_nothing(populated: Contexta) -> None:
    result = backup(populated)
    plan = plan_restore(populated.config, result.backup_ref, verify_only=True)
    assert isinstance(plan, RestorePlan) and plan.verify_only
    before = summary(populated)
    outcome = restore_workspace(populated.config, plan)
    assert isinstance(outcome, RestoreResult)
    assert (outcome.status, outcome.applied) == ("SUCCESS", False)
    assert outcome.plane_results["metadata"] == {"run_count": 1}
    assert outcome.plane_results["artifacts"]["verified_count"] == 1
    assert any(n.startswith("ledger_chain_verified:") for n in outcome.verification_notes)
    assert summary(populated) == before


def test_a_damaged_backup_fails_verification_and_is_never_applied(
    populated: Contexta, tmp_path: Path
) -> None:
    result = backup(populated)
    segment = next((result.location / "workspace" / "ledger").glob("segment-*"))
    data = bytearray(segment.read_bytes())
    data[-5] ^= 0xFF
    segment.write_bytes(bytes(data))
    checked = restore_workspace(
        populated.config, plan_restore(populated.config, result.backup_ref, verify_only=True)
    )
    assert checked.status == "FAILURE" and not checked.applied
    assert any(
        w.startswith(f"hash_mismatch:workspace/ledger/{segment.name}") for w in checked.warnings
    )
    assert any(w.startswith("ledger:") for w in checked.warnings)
    target = tmp_path / "target"
    with pytest.raises(RestoreError) as err:
        restore_workspace(
            populated.config,
            plan_restore(populated.config, result.backup_ref, target_workspace=target),
        )
    assert err.value.code == "recovery_backup_corrupt"
    assert not target.exists()


def test_restore_into_a_new_workspace(populated: Contexta, tmp_path: Path) -> None:
    result = backup(populated)
    target = tmp_path / "fresh"
    outcome = restore_workspace(
        populated.config,
        plan_restore(populated.config, str(result.location), target_workspace=target),
    )
    assert (outcome.status, outcome.applied, outcome.safety_backup_ref) == ("SUCCESS", True, None)
    restored = open_ctx(target)
    assert summary(restored) == summary(populated)
    assert (
        restored.artifact_store.read_artifact_bytes("artifact:default.baseline.model")
        == b"model weights"
    )
    assert restored.verify_ledger().ok


def test_restore_in_place_rolls_back_and_keeps_a_safety_backup(
    populated: Contexta, tmp_path: Path
) -> None:
    result = backup(populated)
    train(populated, "after-backup", 0.1)
    populated.close()
    config = populated.config
    outcome = restore_workspace(config, plan_restore(config, result.backup_ref))
    assert outcome.applied and outcome.safety_backup_ref is not None
    assert [r.name for r in open_ctx(Path(populated.workspace)).list_runs()] == ["baseline"]
    safety_target = tmp_path / "safety"
    restore_workspace(
        config, plan_restore(config, outcome.safety_backup_ref, target_workspace=safety_target)
    )
    assert [r.name for r in open_ctx(safety_target).list_runs()] == ["baseline", "after-backup"]


def test_unknown_backup_is_a_typed_error(populated: Contexta) -> None:
    with pytest.raises(RestoreError) as err:
        plan_restore(populated.config, "no-such-backup")
    assert err.value.code == "recovery_backup_not_found"


def test_replay_outbox_is_truthfully_empty(populated: Contexta) -> None:
    result = replay_outbox(populated.config)
    assert isinstance(result, ReplayBatchResult)
    assert (
        result.status,
        result.entries,
        result.acknowledged_count,
        result.pending_count,
        result.dead_lettered_count,
    ) == ("SUCCESS", (), 0, 0, 0)
    assert "outbox_empty" in result.notes and result.to_dict()["status"] == "SUCCESS"
    outbox = Path(populated.config.recovery.outbox_root)
    outbox.mkdir(parents=True)
    (outbox / "failed_deliveries.jsonl").write_text('{"replay_ref": "a"}\n{"replay_ref": "b"}\n')
    legacy = replay_outbox(populated.config)
    assert (legacy.status, legacy.pending_count) == ("DEGRADED", 2)
