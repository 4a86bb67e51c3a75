"""A small workspace written only through calls Contexta 1.0 and this package share.

``tests/ui_tests/record_c10.py`` runs it under Contexta 1.0 and records the HTTP answers in
``data/c10_routes.json``; ``test_routes_parity.py`` writes the same workspace here and compares.

Project ``vision``: runs ``baseline`` (completed; stages prepare/train/evaluate, a loss curve of
five steps, accuracy and f1 at evaluate, an event, a degraded record, an environment, a model
artifact, provenance), ``wide`` (completed; same stages, better accuracy, other environment),
``broken`` (failed; train failed), ``pending`` (open). Project ``nlp``: run ``bert``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from contexta import Contexta
from contexta.config import UnifiedConfig, WorkspaceConfig
from contexta.contract import (
    ArtifactManifest,
    DegradedPayload,
    DegradedRecord,
    EnvironmentSnapshot,
    ExtensionFieldSet,
    LineageEdge,
    MetricPayload,
    MetricRecord,
    Project,
    ProvenanceRecord,
    RecordEnvelope,
    Run,
    StageExecution,
    StructuredEventPayload,
    StructuredEventRecord,
)

DAY = "2025-03-0{day}T{hour:02d}:{minute:02d}:00Z"


def at(day: int, hour: int, minute: int = 0) -> str:
    return DAY.format(day=day, hour=hour, minute=minute)


class Scenario:
    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.ms = ctx.metadata_store
        self.rs = ctx.record_store
        self.n = 0

    def run(
        self,
        p: str,
        r: str,
        day: int,
        status: str = "completed",
        params: dict[str, Any] | None = None,
    ) -> None:
        extensions = (
            () if not params else (ExtensionFieldSet(namespace="train.params", fields=params),)
        )
        self.ms.runs.put_run(
            Run(
                run_ref=f"run:{p}.{r}",
                project_ref=f"project:{p}",
                name=r,
                status=status,
                started_at=at(day, 9),
                ended_at=None if status == "open" else at(day, 12),
                extensions=extensions,
            )
        )

    def stage(
        self, p: str, r: str, s: str, day: int, order: int, status: str = "completed"
    ) -> None:
        self.ms.stages.put_stage_execution(
            StageExecution(
                stage_execution_ref=f"stage:{p}.{r}.{s}",
                run_ref=f"run:{p}.{r}",
                stage_name=s,
                status=status,
                started_at=at(day, 9 + order),
                ended_at=at(day, 10 + order),
                order_index=order,
            )
        )

    def envelope(
        self, p: str, r: str, kind: str, stage: str | None, observed: str, marker: str = "none"
    ) -> RecordEnvelope:
        self.n += 1
        return RecordEnvelope(
            record_ref=f"record:{p}.{r}.r{self.n}",
            record_type=kind,
            recorded_at=observed,
            observed_at=observed,
            producer_ref="scenario",
            run_ref=f"run:{p}.{r}",
            stage_execution_ref=None if stage is None else f"stage:{p}.{r}.{stage}",
            degradation_marker=marker,
        )

    def metric(
        self,
        p: str,
        r: str,
        key: str,
        value: float,
        stage: str | None,
        observed: str,
        step: int | None = None,
    ) -> None:
        tags = None if step is None else {"step": str(step)}
        self.rs.append(
            MetricRecord(
                envelope=self.envelope(p, r, "metric", stage, observed),
                payload=MetricPayload(metric_key=key, value=value, value_type="float64", tags=tags),
            )
        )


def build(root: Path, *, params: bool = False) -> Any:
    """Write the scenario into a new workspace at ``root``; returns its Contexta. ``params``
    gives two runs params as extension fields (this package shows them; 1.0 refuses to read
    runs with an unregistered extension namespace, so the recorded answers have none)."""
    ctx = Contexta(
        config=UnifiedConfig(project_name="vision", workspace=WorkspaceConfig(root_path=root))
    )
    s = Scenario(ctx)
    s.ms.projects.put_project(
        Project(project_ref="project:vision", name="vision", created_at="2025-03-01T00:00:00Z")
    )
    s.ms.projects.put_project(
        Project(project_ref="project:nlp", name="nlp", created_at="2025-03-01T00:00:00Z")
    )
    runs = [
        ("baseline", 1, "completed"),
        ("wide", 2, "completed"),
        ("broken", 3, "failed"),
        ("pending", 4, "open"),
    ]
    given = (
        {
            "baseline": {"lr": 0.001, "batch_size": 64, "optimizer": "adam"},
            "wide": {"lr": 0.0005, "batch_size": 64, "optimizer": "adam"},
        }
        if params
        else {}
    )
    for name, day, status in runs:
        s.run("vision", name, day, status, given.get(name))
    s.run("nlp", "bert", 5)
    for name, day, _ in runs[:3]:
        s.stage("vision", name, "prepare", day, 0)
        s.stage("vision", name, "train", day, 1, "failed" if name == "broken" else "completed")
        if name != "broken":
            s.stage("vision", name, "evaluate", day, 2)
    s.stage("nlp", "bert", "train", 5, 0)
    for step, loss in enumerate((2.0, 1.2, 0.9, 0.7, 0.65), start=1):
        s.metric("vision", "baseline", "loss", loss, "train", at(1, 10, step), step)
    for step, loss in enumerate((1.8, 0.9, 0.6, 0.5), start=1):
        s.metric("vision", "wide", "loss", loss, "train", at(2, 10, step), step)
    s.metric("vision", "broken", "loss", 3.5, "train", at(3, 10, 1), 1)
    s.metric("vision", "baseline", "accuracy", 0.81, "evaluate", at(1, 11, 30))
    s.metric("vision", "baseline", "f1", 0.77, "evaluate", at(1, 11, 31))
    s.metric("vision", "wide", "accuracy", 0.86, "evaluate", at(2, 11, 30))
    s.metric("vision", "wide", "f1", 0.80, "evaluate", at(2, 11, 31))
    s.metric("vision", "baseline", "throughput", 410.0, None, at(1, 12))
    s.metric("vision", "wide", "throughput", 380.0, None, at(2, 12))
    s.metric("nlp", "bert", "loss", 0.3, "train", at(5, 10), 1)
    s.rs.append(
        StructuredEventRecord(
            envelope=s.envelope("vision", "baseline", "event", "prepare", at(1, 9, 5)),
            payload=StructuredEventPayload(
                event_key="data.loaded", level="info", message="loaded 50000 images"
            ),
        )
    )
    s.rs.append(
        DegradedRecord(
            envelope=s.envelope(
                "vision", "broken", "degraded", "train", at(3, 10, 2), "capture_gap"
            ),
            payload=DegradedPayload(
                issue_key="gpu.oom",
                category="capture",
                severity="error",
                summary="out of memory on device 0",
            ),
        )
    )
    for name, key, py, packages in (
        ("baseline", "main", "3.11.4", {"torch": "2.1", "numpy": "1.26"}),
        ("wide", "main", "3.11.6", {"torch": "2.2", "numpy": "1.26", "timm": "0.9"}),
    ):
        s.ms.environments.put_environment_snapshot(
            EnvironmentSnapshot(
                environment_snapshot_ref=f"environment:vision.{name}.{key}",
                run_ref=f"run:vision.{name}",
                captured_at=at(1, 9),
                python_version=py,
                platform="linux",
                packages=packages,
                environment_variables={"SEED": "7"},
            )
        )
    s.ms.relations.put_relation(
        LineageEdge(
            relation_ref="relation:vision.baseline.produced",
            relation_type="produced_by",
            source_ref="artifact:vision.baseline.model",
            target_ref="run:vision.baseline",
            recorded_at=at(1, 12),
            origin_marker="explicit",
            confidence_marker="high",
        )
    )
    s.ms.provenance.put_provenance(
        ProvenanceRecord(
            provenance_ref="provenance:vision.baseline",
            relation_ref="relation:vision.baseline.produced",
            assertion_mode="explicit",
            asserted_at=at(1, 12),
            formation_context_ref="op:vision.baseline.train.fit",
            policy_ref="policy.v1",
            evidence_bundle_ref="artifact:vision.baseline.bundle",
        )
    )
    body = root.parent / f"{root.name}-model.bin"
    body.write_bytes(b"weights-of-the-baseline-model")
    s.ctx.artifact_store.put_artifact(
        ArtifactManifest(
            artifact_ref="artifact:vision.baseline.model",
            artifact_kind="model_bundle",
            created_at=at(1, 12),
            producer_ref="scenario",
            run_ref="run:vision.baseline",
            stage_execution_ref="stage:vision.baseline.train",
            location_ref="vault://baseline/model.bin",
        ),
        body,
    )
    return ctx


#: (label, path) of every route recorded; the same list drives recording and comparison.
ROUTES: list[tuple[str, str]] = [
    ("projects", "/projects"),
    ("runs", "/runs"),
    ("runs_project", "/runs?project=vision"),
    ("runs_status", "/runs?project=vision&status=completed"),
    ("runs_paged", "/runs?project=vision&limit=2&offset=1&sort=started_at&desc=false"),
    ("runs_sort_name", "/runs?sort=name&desc=false"),
    ("runs_after", "/runs?after=2025-03-02T00:00:00Z"),
    ("run", "/runs/run:vision.baseline"),
    ("run_full_ref", "/runs/run:vision.wide"),
    ("run_diagnostics", "/runs/run:vision.broken/diagnostics"),
    ("run_diagnostics_ok", "/runs/run:vision.baseline/diagnostics"),
    ("run_lineage", "/runs/run:vision.baseline/lineage"),
    ("run_lineage_up", "/runs/run:vision.baseline/lineage?direction=upstream&depth=1"),
    ("run_report", "/runs/run:vision.baseline/report"),
    ("run_anomalies", "/runs/run:vision.wide/anomalies?project=vision"),
    ("run_reproducibility", "/runs/run:vision.baseline/reproducibility"),
    ("run_reproducibility_none", "/runs/run:vision.broken/reproducibility"),
    ("run_env_diff", "/runs/run:vision.baseline/environment-diff/run:vision.wide"),
    ("compare", "/compare?left=run:vision.baseline&right=run:vision.wide"),
    ("compare_multi", "/compare/multi?run_ids=run:vision.broken,run:nlp.bert"),
    ("compare_multi_mixed", "/compare/multi?run_ids=run:vision.baseline,run:vision.wide"),
    ("trend", "/metrics/trend?metric=accuracy&project=vision&stage=evaluate"),
    ("trend_loss", "/metrics/trend?metric=loss&project=vision"),
    ("aggregate", "/metrics/aggregate?metric=accuracy&project=vision&stage=evaluate"),
    (
        "alerts",
        "/alerts/evaluate/run:vision.baseline?metric=accuracy&operator=lt&threshold=0.85&stage=evaluate",
    ),
    (
        "alerts_ok",
        "/alerts/evaluate/run:vision.wide?metric=accuracy&operator=lt&threshold=0.85&severity=error",
    ),
    ("search_runs", "/search/runs?q=WI"),
    ("search_runs_project", "/search/runs?q=b&project=vision&limit=5"),
    ("search_artifacts", "/search/artifacts?q=model"),
    ("search_artifacts_kind", "/search/artifacts?q=model&kind=dataset_snapshot"),
    # errors
    ("err_unknown", "/nothing/here"),
    ("err_missing_param", "/compare?left=run:vision.baseline"),
    ("err_unknown_run", "/runs/run:vision.ghost"),
    ("err_bad_int", "/runs?limit=abc"),
    ("err_bad_suffix", "/runs/run:vision.baseline/whatever"),
    ("err_bad_direction", "/runs/run:vision.baseline/lineage?direction=sideways"),
    ("err_multi_one", "/compare/multi?run_ids=run:vision.baseline"),
    ("err_search_no_q", "/search/runs"),
]
