"""One workspace exercising every metadata entity, for the entity/diagnostics/lineage/run-list
tests.

The same data was written through Contexta 1.0.0's public API and its answers recorded; the
tests pin those answers as literals (they never need the 1.0 installation). Artifacts are
written here as ``artifact.put`` events (the artifact store writes the same events), with
``hash_value``/``size_bytes`` set to what 1.0's store computed from the bodies.

Project ``proj-a`` ("Project A"): runs r1 (completed, three stages, batches, samples, three
deployments, two environment snapshots, relations, provenance, metrics, an event and two
degraded records), r2 (failed train stage, open deploy-check stage without order), r3 (failed,
no stages, run-level metric), r0 (open, nothing). Project ``proj-b``: run r1b with one stage.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

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
    StructuredEventPayload,
    StructuredEventRecord,
)
from contexta.events import entity_event

END = "2025-02-01T11:00:00Z"


def open_ctx(root: Path, **config: Any) -> Contexta:
    return Contexta(
        config=UnifiedConfig(
            project_name="proj-a", workspace=WorkspaceConfig(root_path=root), **config
        )
    )


class Writer:
    """Small builders over one Contexta (names as in the module docstring)."""

    def __init__(self, ctx: Contexta, first_record: int = 1000) -> None:
        self.ctx = ctx
        self.ms = ctx.metadata_store
        self.rs = ctx.record_store
        self.n = first_record - 1  # later writers must not reuse the scenario's record refs

    def run(self, p: str, r: str, started: str, status: str = "completed") -> None:
        self.ms.runs.put_run(
            Run(
                run_ref=f"run:{p}.{r}",
                project_ref=f"project:{p}",
                name=r,
                status=status,
                started_at=started,
                ended_at=None if status == "open" else "2025-02-01T12:00:00Z",
            )
        )

    def stage(
        self, p: str, r: str, s: str, order: int | None, started: str, status: str = "completed"
    ) -> None:
        self.ms.stages.put_stage_execution(
            StageExecution(
                stage_execution_ref=f"stage:{p}.{r}.{s}",
                run_ref=f"run:{p}.{r}",
                stage_name=s,
                status=status,
                started_at=started,
                ended_at=None if status == "open" else END,
                order_index=order,
            )
        )

    def deployment(
        self,
        p: str,
        name: str,
        status: str,
        started: str,
        order: int | None = None,
        run: str | None = None,
        artifact: str | None = None,
    ) -> DeploymentExecution:
        return self.ms.deployments.put_deployment_execution(
            DeploymentExecution(
                deployment_execution_ref=f"deployment:{p}.{name}",
                project_ref=f"project:{p}",
                deployment_name=name,
                status=status,
                started_at=started,
                ended_at=None if status == "open" else "2025-02-02T00:00:00Z",
                order_index=order,
                run_ref=run,
                artifact_ref=artifact,
            )
        )

    def batch(
        self, p: str, r: str, s: str, b: str, status: str, started: str, order: int | None
    ) -> None:
        self.ms.batches.put_batch_execution(
            BatchExecution(
                batch_execution_ref=f"batch:{p}.{r}.{s}.{b}",
                run_ref=f"run:{p}.{r}",
                stage_execution_ref=f"stage:{p}.{r}.{s}",
                batch_name=b,
                status=status,
                started_at=started,
                ended_at=None if status == "open" else END,
                order_index=order,
            )
        )

    def sample(
        self,
        p: str,
        r: str,
        s: str,
        name: str,
        observed: str,
        b: str | None = None,
        retention: str | None = None,
    ) -> None:
        owner = f"{p}.{r}.{s}" + (f".{b}" if b else "")
        self.ms.samples.put_sample_observation(
            SampleObservation(
                sample_observation_ref=f"sample:{owner}.{name}",
                run_ref=f"run:{p}.{r}",
                stage_execution_ref=f"stage:{p}.{r}.{s}",
                sample_name=name,
                observed_at=observed,
                batch_execution_ref=f"batch:{p}.{r}.{s}.{b}" if b else None,
                retention_class=retention,
            )
        )

    def environment(
        self,
        p: str,
        r: str,
        key: str,
        captured: str,
        py: str,
        platform: str,
        packages: dict[str, str] | None,
        variables: dict[str, str] | None = None,
    ) -> None:
        self.ms.environments.put_environment_snapshot(
            EnvironmentSnapshot(
                environment_snapshot_ref=f"environment:{p}.{r}.{key}",
                run_ref=f"run:{p}.{r}",
                captured_at=captured,
                python_version=py,
                platform=platform,
                packages=packages,
                environment_variables=variables,
            )
        )

    def relation(
        self,
        name: str,
        rtype: str,
        src: str,
        tgt: str,
        recorded: str,
        evidence: tuple[str, ...] = (),
    ) -> LineageEdge:
        return self.ms.relations.put_relation(
            LineageEdge(
                relation_ref=f"relation:{name}",
                relation_type=rtype,
                source_ref=src,
                target_ref=tgt,
                recorded_at=recorded,
                origin_marker="explicit",
                confidence_marker="high",
                evidence_refs=evidence,
            )
        )

    def provenance(
        self,
        name: str,
        relation: str,
        asserted: str,
        formation: str | None = None,
        policy: str | None = None,
        bundle: str | None = None,
        mode: str = "explicit",
    ) -> ProvenanceRecord:
        return self.ms.provenance.put_provenance(
            ProvenanceRecord(
                provenance_ref=f"provenance:{name}",
                relation_ref=f"relation:{relation}",
                assertion_mode=mode,
                asserted_at=asserted,
                formation_context_ref=formation,
                policy_ref=policy,
                evidence_bundle_ref=bundle,
            )
        )

    def envelope(
        self, r: str, rtype: str, stage: str | None, observed: str, marker: str, p: str = "proj-a"
    ) -> RecordEnvelope:
        self.n += 1
        return RecordEnvelope(
            record_ref=f"record:{p}.{r}.m{self.n}",
            record_type=rtype,
            recorded_at="2025-02-01T12:00:00Z",
            observed_at=observed,
            producer_ref="scenario",
            run_ref=f"run:{p}.{r}",
            stage_execution_ref=f"stage:{p}.{r}.{stage}" if stage else None,
            degradation_marker=marker,
        )

    def metric(
        self,
        r: str,
        key: str,
        value: float,
        stage: str | None = None,
        observed: str = END,
        marker: str = "none",
    ) -> None:
        self.rs.append(
            MetricRecord(
                envelope=self.envelope(r, "metric", stage, observed, marker),
                payload=MetricPayload(metric_key=key, value=value, value_type="float64"),
            )
        )

    def degraded(self, r: str, key: str, severity: str, stage: str | None, marker: str) -> None:
        self.rs.append(
            DegradedRecord(
                envelope=self.envelope(r, "degraded", stage, END, marker),
                payload=DegradedPayload(
                    issue_key=key, category="capture", severity=severity, summary=key
                ),
            )
        )

    def artifact(
        self,
        r: str,
        key: str,
        kind: str,
        body: bytes,
        stage: str | None = None,
        location: str | None = None,
        p: str = "proj-a",
    ) -> ArtifactManifest:
        manifest = ArtifactManifest(
            artifact_ref=f"artifact:{p}.{r}.{key}",
            artifact_kind=kind,
            created_at=END,
            producer_ref="scenario",
            run_ref=f"run:{p}.{r}",
            location_ref=location or f"vault://{r}/{key}.bin",
            stage_execution_ref=f"stage:{p}.{r}.{stage}" if stage else None,
            hash_value=hashlib.sha256(body).hexdigest(),
            size_bytes=len(body),
        )
        ws = self.ctx._workspace
        ws.write((entity_event(manifest, ws.actor),))
        return manifest


def build(root: Path, **config: Any) -> Contexta:
    """Write the scenario into a fresh workspace at ``root``; returns its Contexta."""
    ctx = open_ctx(root, **config)
    w = Writer(ctx, first_record=1)
    w.ms.projects.put_project(
        Project(project_ref="project:proj-a", name="Project A", created_at="2025-01-01T00:00:00Z")
    )
    w.ms.projects.put_project(
        Project(project_ref="project:proj-b", name="proj-b", created_at="2025-01-01T00:00:00Z")
    )
    w.run("proj-a", "r1", "2025-02-01T09:00:00Z")
    w.run("proj-a", "r2", "2025-02-01T10:00:00Z")
    w.run("proj-a", "r3", "2025-02-01T08:00:00Z", status="failed")
    w.run("proj-a", "r0", "2025-02-01T09:00:00Z", status="open")
    w.run("proj-b", "r1b", "2025-02-01T09:30:00Z")
    w.stage("proj-a", "r1", "prepare", 0, "2025-02-01T09:00:00Z")
    w.stage("proj-a", "r1", "train", 1, "2025-02-01T09:10:00Z")
    w.stage("proj-a", "r1", "evaluate", 2, "2025-02-01T09:20:00Z")
    w.stage("proj-a", "r2", "prepare", 0, "2025-02-01T10:00:00Z")
    w.stage("proj-a", "r2", "train", 1, "2025-02-01T10:10:00Z", status="failed")
    w.stage("proj-a", "r2", "deploy-check", None, "2025-02-01T10:05:00Z", status="open")
    w.stage("proj-b", "r1b", "train", 0, "2025-02-01T09:30:00Z")
    w.deployment(
        "proj-a",
        "serve-b",
        "completed",
        "2025-02-01T13:00:00Z",
        1,
        "run:proj-a.r1",
        "artifact:proj-a.r1.model",
    )
    w.deployment("proj-a", "serve-a", "failed", "2025-02-01T14:00:00Z", None, "run:proj-a.r1")
    w.deployment("proj-a", "canary", "open", "2025-02-01T12:30:00Z", 0, "run:proj-a.r1")
    w.deployment("proj-a", "shadow", "completed", "2025-02-01T15:00:00Z", 2, "run:proj-a.r2")
    w.deployment("proj-a", "orphan", "completed", "2025-02-01T15:00:00Z", None, "run:proj-a.ghost")
    w.deployment("proj-b", "serve", "completed", "2025-02-01T15:00:00Z", None)
    w.batch("proj-a", "r1", "train", "b1", "completed", "2025-02-01T09:11:00Z", 1)
    w.batch("proj-a", "r1", "train", "b0", "failed", "2025-02-01T09:12:00Z", 0)
    w.batch("proj-a", "r1", "train", "b2", "cancelled", "2025-02-01T09:10:30Z", None)
    w.batch("proj-a", "r1", "evaluate", "b1", "open", "2025-02-01T09:21:00Z", 0)
    w.batch("proj-a", "r1", "prepare", "e0", "completed", "2025-02-01T09:01:00Z", 0)
    w.batch("proj-a", "r2", "train", "bx", "completed", "2025-02-01T10:11:00Z", 0)
    w.sample("proj-a", "r1", "train", "s2", "2025-02-01T09:11:30Z", "b1")
    w.sample("proj-a", "r1", "train", "s1", "2025-02-01T09:11:40Z", "b1", retention="short")
    w.sample("proj-a", "r1", "train", "s3", "2025-02-01T09:11:20Z")
    w.sample("proj-a", "r1", "train", "s9", "2025-02-01T09:12:20Z", "b0")
    w.sample("proj-a", "r1", "evaluate", "s1", "2025-02-01T09:21:20Z")
    for i in range(12):
        w.sample("proj-a", "r1", "prepare", f"x{i:02d}", f"2025-02-01T09:01:{i:02d}Z", "e0")
    w.environment(
        "proj-a", "r1", "boot", "2025-02-01T09:00:00Z", "3.11.1", "linux", {"numpy": "1.0"}
    )
    w.environment(
        "proj-a",
        "r1",
        "final",
        END,
        "3.11.2",
        "linux",
        {"numpy": "1.1", "torch": "2.0", "pandas": "2.1"},
        {"SEED": "1", "HOME": "/root"},
    )
    w.environment(
        "proj-a",
        "r2",
        "main",
        "2025-02-01T10:00:00Z",
        "3.11.2",
        "darwin",
        {"numpy": "1.2", "torch": "2.0", "scipy": "1.0"},
        {"SEED": "2", "CUDA": "0"},
    )
    w.environment("proj-a", "r3", "main", "2025-02-01T08:00:00Z", "3.12.0", "linux", None)
    w.relation(
        "proj-a.r1.produced", "produced_by", "artifact:proj-a.r1.model", "run:proj-a.r1", END
    )
    w.relation(
        "proj-a.r1.train-used",
        "used",
        "stage:proj-a.r1.train",
        "artifact:proj-a.r1.data",
        "2025-02-01T09:10:00Z",
        evidence=("record:proj-a.r1.m1", "dataset:vendor.v1"),
    )
    w.relation(
        "proj-a.r1.deploy",
        "deployed_from",
        "deployment:proj-a.serve-b",
        "artifact:proj-a.r1.model",
        "2025-02-01T13:00:00Z",
    )
    w.relation(
        "proj-a.r1.batch",
        "observed_in",
        "sample:proj-a.r1.train.b1.s1",
        "batch:proj-a.r1.train.b1",
        "2025-02-01T09:11:40Z",
    )
    w.relation(
        "proj-a.r2.derived",
        "derived_from",
        "artifact:proj-a.r2.model",
        "artifact:proj-a.r1.model",
        "2025-02-01T12:00:00Z",
    )
    w.relation(
        "proj-a.r2.op",
        "generated_from",
        "op:proj-a.r2.train.fit",
        "run:proj-a.r2",
        "2025-02-01T10:30:00Z",
    )
    w.relation(
        "a-dataset", "consumed_by", "dataset:vendor.v1", "run:proj-a.r2", "2025-02-01T10:00:00Z"
    )
    w.relation(
        "proj-a.r3.env",
        "observed_in",
        "environment:proj-a.r3.main",
        "run:proj-a.r3",
        "2025-02-01T08:00:00Z",
    )
    w.relation(
        "chain.one",
        "derived_from",
        "artifact:proj-a.r2.deep",
        "artifact:proj-a.r2.model",
        "2025-02-01T12:30:00Z",
    )
    w.relation(
        "proj-a.r1.rec",
        "observed_in",
        "record:proj-a.r1.m1",
        "run:proj-a.r1",
        "2025-02-01T11:30:00Z",
    )
    w.provenance(
        "p1",
        "proj-a.r1.produced",
        END,
        "op:proj-a.r1.train.fit",
        "policy.v1",
        "artifact:proj-a.r1.bundle",
    )
    w.provenance(
        "p2",
        "proj-a.r1.train-used",
        "2025-02-01T11:30:00Z",
        None,
        "policy.v2",
        None,
        mode="inferred",
    )
    w.provenance(
        "p3",
        "proj-a.r2.derived",
        "2025-02-01T12:00:00Z",
        "op:proj-a.r2.train.fit",
        "policy.v1",
        "artifact:proj-a.r2.bundle",
    )
    w.provenance("p4", "proj-a.r2.op", END, "op:proj-a.r2.train.fit", "policy.v1", None)
    w.metric("r1", "loss", 0.5, "train", "2025-02-01T09:15:00Z")
    w.metric("r1", "loss", 0.4, "train", "2025-02-01T09:16:00Z", marker="partial_failure")
    w.metric("r1", "accuracy", 0.9, "evaluate")
    w.metric("r1", "auc", 0.8, "evaluate")
    w.metric("r1", "throughput", 120, None)
    w.metric("r2", "loss", 0.45, "train")
    w.metric("r2", "accuracy", 0.92, "prepare")
    w.metric("r2", "throughput", 100, None)
    w.metric("r3", "accuracy", 0.7, None)
    w.rs.append(
        StructuredEventRecord(
            envelope=w.envelope("r1", "event", "prepare", END, "none"),
            payload=StructuredEventPayload(event_key="data.loaded", level="info", message="loaded"),
        )
    )
    w.degraded("r1", "gpu.oom", "error", "train", "capture_gap")
    w.degraded("r2", "import.loss", "warning", None, "import_loss")
    w.artifact("r1", "model", "model_bundle", b"model-1", "train")
    w.artifact("r1", "data", "dataset_snapshot", b"data-1")
    w.artifact("r1", "ckpt", "checkpoint", b"ck-1", "train")
    w.artifact("r2", "model", "model_bundle", b"model-2", "train", location="vault://r1/model.bin")
    w.artifact("r2", "data", "dataset_snapshot", b"data-1", location="vault://r1/data.bin")
    w.artifact("r2", "ckpt-a", "checkpoint", b"ck-2")
    w.artifact("r2", "ckpt-b", "checkpoint", b"ck-3")
    w.artifact("r2", "deep", "feature_set", b"fs")
    w.artifact("r3", "model", "model_bundle", b"model-1", location="vault://r1/model.bin")
    return ctx
