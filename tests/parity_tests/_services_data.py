"""A small workspace for the service tests: two runs of one project with stages and metrics,
written through 1.0's public API only (so the same module ran under Contexta 1.0.0 to record
``_services_c10``), and an in-memory repository built the way 1.0's users build one."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contexta import Contexta
from contexta.config import UnifiedConfig, WorkspaceConfig
from contexta.contract import (
    MetricPayload,
    MetricRecord,
    Project,
    RecordEnvelope,
    Run,
    StageExecution,
)

T0 = "2025-03-01T10:00:00Z"
T1 = "2025-03-01T11:00:00Z"
RUNS = {  # run -> (status, started, {stage: {metric: value}})
    "base": (
        "completed",
        "2025-03-01T10:00:00Z",
        {"train": {"loss": 0.5, "acc": 0.80}, "evaluate": {"f1": 0.70}},
    ),
    "tuned": (
        "completed",
        "2025-03-01T10:10:00Z",
        {"train": {"loss": 0.3, "acc": 0.80}, "evaluate": {"f1": 0.75}},
    ),
    "broken": ("failed", "2025-03-01T10:20:00Z", {"train": {"loss": 0.9}}),
}


def build(root: Path) -> Contexta:
    ctx = Contexta(
        config=UnifiedConfig(
            project_name="svc", workspace=WorkspaceConfig(root_path=str(root / ".contexta"))
        )
    )
    store = ctx.metadata_store
    store.projects.put_project(Project(project_ref="project:svc", name="svc", created_at=T0))
    for name, (status, started, stages) in RUNS.items():
        run_ref = f"run:svc.{name}"
        store.runs.put_run(
            Run(
                run_ref=run_ref,
                project_ref="project:svc",
                name=name,
                status=status,
                started_at=started,
                ended_at=T1,
            )
        )
        for order, (stage, metrics) in enumerate(stages.items(), start=1):
            stage_ref = f"stage:svc.{name}.{stage}"
            store.stages.put_stage_execution(
                StageExecution(
                    stage_execution_ref=stage_ref,
                    run_ref=run_ref,
                    stage_name=stage,
                    status=status,
                    started_at=started,
                    ended_at=T1,
                    order_index=order,
                )
            )
            for key, value in metrics.items():
                ctx.record_store.append(
                    MetricRecord(
                        envelope=RecordEnvelope(
                            record_ref=f"record:svc.{name}.{stage}-{key}",
                            record_type="metric",
                            recorded_at=T1,
                            observed_at=T1,
                            producer_ref="tests",
                            run_ref=run_ref,
                            stage_execution_ref=stage_ref,
                            completeness_marker="complete",
                            degradation_marker="none",
                        ),
                        payload=MetricPayload(metric_key=key, value=value, value_type="float64"),
                    )
                )
    return ctx


@dataclass
class MemoryRepository:
    """An in-memory repository: plain tuples of result models, filtered on demand."""

    projects: tuple[str, ...] = ()
    runs: tuple[Any, ...] = ()
    stages: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    records: dict[str, tuple[Any, ...]] = field(default_factory=dict)

    def list_projects(self) -> tuple[str, ...]:
        return self.projects

    def list_runs(self, project_name: str | None = None) -> tuple[Any, ...]:
        return tuple(r for r in self.runs if project_name in (None, r.project_name))

    def get_run(self, run_id: str) -> Any:
        return next((r for r in self.runs if run_id in (r.run_id, r.name)), None)

    def list_deployments(
        self, project_name: str | None = None, run_id: str | None = None
    ) -> tuple[Any, ...]:
        return ()

    def list_stages(self, run_id: str) -> tuple[Any, ...]:
        return self.stages.get(run_id, ())

    def list_batches(self, run_id: str, stage_id: str | None = None) -> tuple[Any, ...]:
        return ()

    def list_samples(
        self, run_id: str, stage_id: str | None = None, batch_id: str | None = None
    ) -> tuple[Any, ...]:
        return ()

    def list_records(
        self, *, run_id: str, stage_id: str | None = None, record_type: str | None = None
    ) -> tuple[Any, ...]:
        return tuple(
            r
            for r in self.records.get(run_id, ())
            if stage_id in (None, r.stage_id) and record_type in (None, r.record_type)
        )

    def list_relations(self, subject_ref: str | None = None) -> tuple[Any, ...]:
        return ()

    def get_provenance(self, run_id: str) -> Any:
        return None

    def get_artifact(self, artifact_ref: str) -> Any:
        return None

    def list_artifacts(
        self, *, run_id: str | None = None, stage_id: str | None = None
    ) -> tuple[Any, ...]:
        return ()


def memory_copy(repository: Any) -> MemoryRepository:
    """The runs, stages and records of ``repository`` held in memory."""
    runs = tuple(repository.list_runs())
    return MemoryRepository(
        projects=tuple(repository.list_projects()),
        runs=runs,
        stages={r.run_id: tuple(repository.list_stages(r.run_id)) for r in runs},
        records={r.run_id: tuple(repository.list_records(run_id=r.run_id)) for r in runs},
    )


def answers(query_service: Any, compare_service: Any) -> dict[str, Any]:
    """The questions both sides are asked, as plain data."""
    from contexta.interpretation import RunListQuery

    snap = query_service.get_run_snapshot("run:svc.tuned")
    comparison = compare_service.compare_runs("run:svc.base", "run:svc.tuned")
    multi = compare_service.compare_multiple_runs(
        ["run:svc.base", "run:svc.tuned", "run:svc.broken"]
    )
    failed = query_service.list_runs(query=RunListQuery(status="failed"))
    return {
        "projects": list(query_service.list_projects()),
        "runs": [r.run_id for r in query_service.list_runs("svc")],
        "failed": [r.run_id for r in failed],
        "snapshot_stages": [(s.name, s.status) for s in snap.stages],
        "snapshot_records": sorted((r.key, r.value) for r in snap.records),
        "snapshot_notes": list(snap.completeness_notes),
        "snapshot_links": [(link.kind, link.ref) for link in snap.evidence_links],
        "compare_summary": comparison.summary,
        "compare_deltas": [
            (row.stage_name, d.metric_key, d.left_value, d.right_value)
            for row in comparison.stage_comparisons
            for d in row.metric_deltas
        ],
        "multi_rows": [
            (row.stage_name, row.metric_key, list(row.values), row.best_run_id)
            for row in multi.metric_table
        ],
        "best_f1": compare_service.select_best_run(
            ["run:svc.base", "run:svc.tuned"], "f1", stage_name="evaluate"
        ),
        "best_loss": compare_service.select_best_run(
            ["run:svc.base", "run:svc.tuned", "run:svc.broken"],
            "loss",
            stage_name="train",
            higher_is_better=False,
        ),
        "batches": list(query_service.list_batches("run:svc.base")),
        "deployments": list(query_service.list_deployments("svc")),
        "origin": query_service.get_artifact_origin("artifact:svc.base.none"),
    }
