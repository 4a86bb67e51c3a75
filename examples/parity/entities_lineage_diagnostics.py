"""Deployments, batches, samples, environments, lineage and provenance end to end.

Builds a small workspace in a temporary directory (two training runs of one project, their
stages, batches, samples, a deployment, environment snapshots, artifacts, lineage edges with
provenance, metrics and a degraded record), then asks the Contexta 1.0 questions about them:
entity listings, the run snapshot, diagnostics, lineage traversal, reproducibility audit,
environment diff, run comparison and filtered run listing. Every put is one ledger event.

Run: ``python examples/parity/entities_lineage_diagnostics.py``
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from contexta import Contexta
from contexta.config import UnifiedConfig, WorkspaceConfig
from contexta.contract import (
    ArtifactManifest,
    BatchExecution,
    DegradedPayload,
    DegradedRecord,
    DeploymentExecution,
    EnvironmentSnapshot,
    LineageEdge,
    MetricPayload,
    MetricRecord,
    Project,
    ProvenanceRecord,
    RecordEnvelope,
    Run,
    SampleObservation,
    StageExecution,
)
from contexta.interpretation import MetricCondition, TimeRange

P = "fraud-model"


def seed(ctx: Contexta, scratch: Path) -> None:
    ms, rs = ctx.metadata_store, ctx.record_store
    ms.projects.put_project(
        Project(project_ref=f"project:{P}", name=P, created_at="2025-06-01T00:00:00Z")
    )
    for run, day, auc, numpy in (
        ("baseline", "02", 0.91, "1.26.4"),
        ("retrain", "09", 0.94, "2.0.1"),
    ):
        run_ref, start = f"run:{P}.{run}", f"2025-06-{day}T08:00:00Z"
        ms.runs.put_run(
            Run(
                run_ref=run_ref,
                project_ref=f"project:{P}",
                name=run,
                status="completed",
                started_at=start,
                ended_at=f"2025-06-{day}T12:00:00Z",
            )
        )
        for order, stage in enumerate(("train", "evaluate")):
            ms.stages.put_stage_execution(
                StageExecution(
                    stage_execution_ref=f"stage:{P}.{run}.{stage}",
                    run_ref=run_ref,
                    stage_name=stage,
                    status="completed",
                    started_at=f"2025-06-{day}T{8 + 2 * order:02d}:00:00Z",
                    ended_at=f"2025-06-{day}T{9 + 2 * order:02d}:00:00Z",
                    order_index=order,
                )
            )
        for order, (batch, status) in enumerate((("shard-0", "completed"), ("shard-1", "failed"))):
            ms.batches.put_batch_execution(
                BatchExecution(
                    batch_execution_ref=f"batch:{P}.{run}.train.{batch}",
                    run_ref=run_ref,
                    stage_execution_ref=f"stage:{P}.{run}.train",
                    batch_name=batch,
                    status=status,
                    started_at=f"2025-06-{day}T08:1{order}:00Z",
                    ended_at=f"2025-06-{day}T08:30:00Z",
                    order_index=order,
                )
            )
        ms.samples.put_sample_observation(
            SampleObservation(
                sample_observation_ref=f"sample:{P}.{run}.train.shard-0.txn-42",
                run_ref=run_ref,
                stage_execution_ref=f"stage:{P}.{run}.train",
                sample_name="txn-42",
                observed_at=f"2025-06-{day}T08:15:00Z",
                batch_execution_ref=f"batch:{P}.{run}.train.shard-0",
                retention_class="short",
            )
        )
        ms.environments.put_environment_snapshot(
            EnvironmentSnapshot(
                environment_snapshot_ref=f"environment:{P}.{run}.main",
                run_ref=run_ref,
                captured_at=start,
                python_version="3.11.9",
                platform="linux",
                packages={"numpy": numpy, "torch": "2.3.0"},
                environment_variables={"SEED": "7"},
            )
        )
        rs.append(
            MetricRecord(
                envelope=RecordEnvelope(
                    record_ref=f"record:{P}.{run}.auc",
                    record_type="metric",
                    recorded_at=f"2025-06-{day}T11:00:00Z",
                    observed_at=f"2025-06-{day}T11:00:00Z",
                    producer_ref="example",
                    run_ref=run_ref,
                    stage_execution_ref=f"stage:{P}.{run}.evaluate",
                ),
                payload=MetricPayload(metric_key="auc", value=auc, value_type="float64"),
            )
        )
        body = scratch / f"{run}.bin"
        body.write_bytes(f"weights of {run}".encode())
        ctx.artifact_store.put_artifact(
            ArtifactManifest(
                artifact_ref=f"artifact:{P}.{run}.model",
                artifact_kind="model_bundle",
                created_at=f"2025-06-{day}T11:30:00Z",
                producer_ref="example",
                run_ref=run_ref,
                location_ref=f"vault://{P}/{run}/model.bin",
                stage_execution_ref=f"stage:{P}.{run}.train",
            ),
            body,
        )
    rs.append(
        DegradedRecord(
            envelope=RecordEnvelope(
                record_ref=f"record:{P}.retrain.gpu-oom",
                record_type="degraded",
                recorded_at="2025-06-09T08:20:00Z",
                observed_at="2025-06-09T08:20:00Z",
                producer_ref="example",
                run_ref=f"run:{P}.retrain",
                stage_execution_ref=f"stage:{P}.retrain.train",
                degradation_marker="capture_gap",
            ),
            payload=DegradedPayload(
                issue_key="gpu.oom",
                category="capture",
                severity="error",
                summary="shard-1 lost its GPU",
            ),
        )
    )
    ms.deployments.put_deployment_execution(
        DeploymentExecution(
            deployment_execution_ref=f"deployment:{P}.prod",
            project_ref=f"project:{P}",
            deployment_name="prod",
            status="completed",
            started_at="2025-06-10T00:00:00Z",
            ended_at="2025-06-10T00:05:00Z",
            run_ref=f"run:{P}.retrain",
            artifact_ref=f"artifact:{P}.retrain.model",
        )
    )
    edges = (
        ("retrain-model", "produced_by", f"artifact:{P}.retrain.model", f"run:{P}.retrain"),
        (
            "retrain-from-baseline",
            "derived_from",
            f"artifact:{P}.retrain.model",
            f"artifact:{P}.baseline.model",
        ),
        (
            "prod-from-retrain",
            "deployed_from",
            f"deployment:{P}.prod",
            f"artifact:{P}.retrain.model",
        ),
    )
    for name, kind, source, target in edges:
        ms.relations.put_relation(
            LineageEdge(
                relation_ref=f"relation:{P}.{name}",
                relation_type=kind,
                source_ref=source,
                target_ref=target,
                recorded_at="2025-06-09T12:00:00Z",
                origin_marker="explicit",
                confidence_marker="high",
            )
        )
    ms.provenance.put_provenance(
        ProvenanceRecord(
            provenance_ref=f"provenance:{P}.retrain",
            relation_ref=f"relation:{P}.retrain-model",
            assertion_mode="explicit",
            asserted_at="2025-06-09T12:00:00Z",
            formation_context_ref=f"op:{P}.retrain.train.fit",
            policy_ref="policy.v2",
        )
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ctx = Contexta(
            config=UnifiedConfig(
                project_name=P, workspace=WorkspaceConfig(root_path=root / ".contexta")
            )
        )
        seed(ctx, root)

        print("== entities")
        print("deployments:", [d.deployment_id for d in ctx.list_deployments(P)])
        print(
            "batches of retrain/train:",
            [(b.name, b.status) for b in ctx.list_batches("retrain", "train")],
        )
        print(
            "samples of shard-0:",
            [s.sample_id for s in ctx.list_samples("retrain", "train", "shard-0")],
        )
        try:
            ctx.list_batches("no-such-run")
        except LookupError as exc:
            print("bare id that resolves to nothing:", exc)

        print("\n== snapshot of retrain")
        snap = ctx.get_run_snapshot("retrain")
        print("artifacts:", [a.artifact_ref for a in snap.artifacts])
        print("relations:", [r.relation_ref for r in snap.relations])
        print("provenance:", snap.provenance.provenance_ref, snap.provenance.policy_ref)
        print("notes:", list(snap.completeness_notes))
        origin = ctx.get_artifact_origin("retrain.model")
        print("origin of retrain.model:", origin.run.run_id if origin else None)

        print("\n== diagnostics of retrain")
        for issue in ctx.diagnose_run("retrain").issues:
            print(f"{issue.severity}:{issue.code}: {issue.summary}")

        print("\n== lineage from the prod deployment (downstream = outbound edges)")
        trail = ctx.traverse_lineage(f"deployment:{P}.prod", direction="downstream", max_depth=3)
        for edge in trail.edges:
            print(
                f"depth {edge.depth}: {edge.source_ref} -[{edge.relation_type}]-> {edge.target_ref}"
            )
        print("visited:", list(trail.visited_refs))

        print("\n== reproducibility")
        for run in ("baseline", "retrain"):
            audit = ctx.audit_reproducibility(run)
            print(
                f"{run}: {audit.reproducibility_status}",
                [n.summary for n in audit.completeness_notes],
            )
        diff = ctx.compare_environments("baseline", "retrain")
        print(
            "changed packages:",
            [(c.key, c.left_value, c.right_value) for c in diff.changed_packages],
        )

        print("\n== comparison")
        cmp = ctx.compare_runs("baseline", "retrain")
        print(cmp.summary)
        for change in cmp.artifact_changes:
            print(f"{change.artifact_kind}: {change.change} ({change.change_detail})")
        prov = cmp.provenance_comparison
        print(
            "code revision changed:",
            prov.code_revision_changed,
            "| policy changed:",
            prov.config_hash_changed,
        )

        print("\n== filtered run listing (newest first as soon as a filter is given)")
        good = ctx.list_runs(
            P, metric_conditions=[MetricCondition("auc", "gte", 0.92, stage_name="evaluate")]
        )
        print("auc >= 0.92:", [r.run_id for r in good])
        june = ctx.list_runs(P, time_range=TimeRange(started_after="2025-06-01T00:00:00+02:00"))
        print("started in June:", [r.run_id for r in june])

        print("\n== the ledger")
        kinds = (
            "deployment.put",
            "batch.put",
            "sample.put",
            "environment.put",
            "relation.put",
            "provenance.put",
            "artifact.put",
        )
        print("put events:", {k: len(list(ctx.history(kinds=k))) for k in kinds})
        print("integrity ok:", ctx.metadata_store.check_integrity().ok)
        ctx.close()


if __name__ == "__main__":
    main()
