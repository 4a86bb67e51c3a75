"""A run with one long loss series (a smooth decay, one spike up and one dip down), written
through the record store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from contexta import Contexta
from contexta.contract import MetricPayload, MetricRecord, Project, RecordEnvelope, Run

SPIKE_STEP, SPIKE = 654_321, 50.0
DIP_STEP, DIP = 123_457, -5.0


def value_at(step: int) -> float:
    base = 1.0 / (1.0 + step / 1000.0)
    return base + (SPIKE if step == SPIKE_STEP else 0.0) + (DIP if step == DIP_STEP else 0.0)


def write_long_series(root: Path, steps: int, chunk: int = 50_000) -> Any:
    ctx = Contexta(workspace=root)
    ms = ctx.metadata_store
    ms.projects.put_project(
        Project(project_ref="project:big", name="big", created_at="2025-01-01T00:00:00Z")
    )
    ms.runs.put_run(
        Run(
            run_ref="run:big.long",
            project_ref="project:big",
            name="long",
            status="completed",
            started_at="2025-01-01T00:00:00Z",
            ended_at="2025-01-02T00:00:00Z",
        )
    )
    batch = []
    for step in range(steps):
        observed = (
            f"2025-01-01T{step // 3_600_000 % 24:02d}:{step // 60_000 % 60:02d}:"
            f"{step // 1000 % 60:02d}.{step % 1000:03d}Z"
        )
        batch.append(
            MetricRecord(
                envelope=RecordEnvelope(
                    record_ref=f"record:big.long.l{step}",
                    record_type="metric",
                    recorded_at=observed,
                    observed_at=observed,
                    producer_ref="series",
                    run_ref="run:big.long",
                ),
                payload=MetricPayload(
                    metric_key="loss",
                    value=value_at(step),
                    value_type="float64",
                    tags={"step": str(step)},
                ),
            )
        )
        if len(batch) == chunk:
            ctx.record_store.append_many(batch)
            batch = []
    if batch:
        ctx.record_store.append_many(batch)
    ctx.flush()
    return ctx
