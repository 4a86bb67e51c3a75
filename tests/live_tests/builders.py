"""Contract objects for the live tests (shared by the tests and the writer process)."""

from __future__ import annotations

from typing import Any

from contexta.contract import (
    MetricPayload,
    MetricRecord,
    Project,
    RecordEnvelope,
    Run,
    StageExecution,
    StructuredEventPayload,
    StructuredEventRecord,
)

T0 = "2026-01-01T00:00:00Z"


def seed_run(ctx: Any, project: str, run: str, *, stages: tuple[str, ...] = ("train",)) -> str:
    """Put the project (if new), the run and its stages; returns the run ref."""
    store = ctx.metadata_store
    if project not in {p.name for p in store.projects.list_projects()}:
        store.projects.put_project(
            Project(project_ref=f"project:{project}", name=project, created_at=T0)
        )
    run_ref = f"run:{project}.{run}"
    store.runs.put_run(
        Run(
            run_ref=run_ref,
            project_ref=f"project:{project}",
            name=run,
            status="open",
            started_at=T0,
        )
    )
    for i, stage in enumerate(stages):
        store.stages.put_stage_execution(
            StageExecution(
                stage_execution_ref=f"stage:{project}.{run}.{stage}",
                run_ref=run_ref,
                stage_name=stage,
                status="open",
                started_at=T0,
                order_index=i,
            )
        )
    return run_ref


def metric(
    project: str, run: str, key: str, value: float, rid: str, *, stage: str | None = "train"
) -> MetricRecord:
    return MetricRecord(
        envelope=RecordEnvelope(
            record_ref=f"record:{project}.{run}.{rid}",
            record_type="metric",
            recorded_at=T0,
            observed_at=T0,
            producer_ref="tests.live",
            run_ref=f"run:{project}.{run}",
            stage_execution_ref=f"stage:{project}.{run}.{stage}" if stage else None,
        ),
        payload=MetricPayload(metric_key=key, value=value, value_type="float64"),
    )


def event(
    project: str,
    run: str,
    key: str,
    message: str,
    rid: str,
    *,
    stage: str | None = "train",
    level: str = "info",
) -> StructuredEventRecord:
    return StructuredEventRecord(
        envelope=RecordEnvelope(
            record_ref=f"record:{project}.{run}.{rid}",
            record_type="event",
            recorded_at=T0,
            observed_at=T0,
            producer_ref="tests.live",
            run_ref=f"run:{project}.{run}",
            stage_execution_ref=f"stage:{project}.{run}.{stage}" if stage else None,
        ),
        payload=StructuredEventPayload(event_key=key, level=level, message=message),
    )
