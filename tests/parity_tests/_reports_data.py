"""One small workspace for the trend/alert/aggregation/anomaly/report tests.

The same data was written through Contexta 1.0.0's public API and the outputs recorded; the
tests pin those outputs as literals (they never need the 1.0 installation).

Project ``churn-model``: runs r01..r05 (one a day from 2025-05-01, 08:00-12:00), stages
prep (0), train (1) and evaluate (2); r04 has no evaluate stage (so no accuracy/auc), r05 failed
and also has a run-level ``latency-ms``; ``loss`` is observed three times in train (twice in
r05). r01 carries an event, r02 a degraded record. Project ``empty-proj`` has no run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from contexta import Contexta
from contexta.config import UnifiedConfig, WorkspaceConfig
from contexta.contract import (
    DegradedPayload,
    DegradedRecord,
    MetricPayload,
    MetricRecord,
    Project,
    RecordEnvelope,
    Run,
    StageExecution,
    StructuredEventPayload,
    StructuredEventRecord,
)

P = "churn-model"

RUNS = [
    # name, day, status, train end, losses, accuracy, auc, has evaluate
    ("r01", 1, "completed", "10:30", (0.9, 0.5, 0.31), 0.81, 0.88, True),
    ("r02", 2, "completed", "10:00", (0.8, 0.45, 0.29), 0.83, 0.9, True),
    ("r03", 3, "completed", "10:45", (0.85, 0.4, 0.25), 0.86, 0.91, True),
    ("r04", 4, "completed", "10:15", (0.7, 0.42, 0.3), None, None, False),
    ("r05", 5, "failed", "09:40", (1.2, 1.1), 0.52, 0.61, True),
]


class _Seeder:
    def __init__(self, ctx: Contexta) -> None:
        self.ms, self.rs, self.n = ctx.metadata_store, ctx.record_store, 0

    def env(
        self, run: str, rtype: str, at: str, stage: str | None = None, degradation: str = "none"
    ) -> RecordEnvelope:
        self.n += 1
        return RecordEnvelope(
            record_ref=f"record:{P}.{run}.m{self.n:04d}",
            record_type=rtype,
            recorded_at=at,
            observed_at=at,
            producer_ref="parity.reports",
            run_ref=f"run:{P}.{run}",
            stage_execution_ref=None if stage is None else f"stage:{P}.{run}.{stage}",
            degradation_marker=degradation,
        )

    def metric(
        self,
        run: str,
        key: str,
        value: float,
        at: str,
        stage: str | None = None,
        unit: str | None = None,
    ) -> None:
        self.rs.append(
            MetricRecord(
                envelope=self.env(run, "metric", at, stage),
                payload=MetricPayload(metric_key=key, value=value, value_type="float64", unit=unit),
            )
        )


def seed(ctx: Contexta) -> None:
    """Write the dataset described in the module docstring."""
    s = _Seeder(ctx)
    s.ms.projects.put_project(
        Project(project_ref=f"project:{P}", name=P, created_at="2025-05-01T00:00:00Z")
    )
    s.ms.projects.put_project(
        Project(
            project_ref="project:empty-proj", name="empty-proj", created_at="2025-05-01T00:00:00Z"
        )
    )
    for name, day, status, train_end, losses, acc, auc, has_eval in RUNS:
        d = f"2025-05-0{day}"
        s.ms.runs.put_run(
            Run(
                run_ref=f"run:{P}.{name}",
                project_ref=f"project:{P}",
                name=name,
                status=status,
                started_at=f"{d}T08:00:00Z",
                ended_at=f"{d}T12:00:00Z",
            )
        )
        stages = [
            ("prep", 0, "08:00", "09:00", "completed"),
            ("train", 1, "09:00", train_end, "failed" if status == "failed" else "completed"),
        ]
        if has_eval:
            stages.append(("evaluate", 2, train_end, "12:00", "completed"))
        for sname, order, start, end, sstatus in stages:
            s.ms.stages.put_stage_execution(
                StageExecution(
                    stage_execution_ref=f"stage:{P}.{name}.{sname}",
                    run_ref=f"run:{P}.{name}",
                    stage_name=sname,
                    status=sstatus,
                    started_at=f"{d}T{start}:00Z",
                    ended_at=f"{d}T{end}:00Z",
                    order_index=order,
                )
            )
        for i, loss in enumerate(losses):
            s.metric(name, "loss", loss, f"{d}T09:{10 + 10 * i}:00Z", "train")
        if acc is not None:
            s.metric(name, "accuracy", acc, f"{d}T11:00:00Z", "evaluate")
            s.metric(name, "auc", auc, f"{d}T11:00:00Z", "evaluate")
        if name == "r05":
            s.metric(name, "latency-ms", 120, f"{d}T11:30:00Z", None, unit="ms")
        if name == "r01":
            s.rs.append(
                StructuredEventRecord(
                    envelope=s.env(name, "event", f"{d}T08:05:00Z"),
                    payload=StructuredEventPayload(
                        event_key="data.loaded", level="info", message="Loaded 1000 rows."
                    ),
                )
            )
        if name == "r02":
            s.rs.append(
                DegradedRecord(
                    envelope=s.env(name, "degraded", f"{d}T09:50:00Z", "train", "capture_gap"),
                    payload=DegradedPayload(
                        issue_key="capture.gap",
                        category="capture",
                        severity="warning",
                        summary="lost 2 steps",
                    ),
                )
            )


def open_seeded(root: Path, **config: Any) -> Contexta:
    """A facade over a fresh workspace under ``root`` holding the dataset."""
    ctx = Contexta(
        config=UnifiedConfig(
            project_name=P, workspace=WorkspaceConfig(root_path=root / ".contexta"), **config
        )
    )
    seed(ctx)
    return ctx


def reopen(ctx: Contexta, **config: Any) -> Contexta:
    """Another facade over the same workspace (e.g. with other interpretation settings)."""
    ctx.close()
    return Contexta(
        config=UnifiedConfig(
            project_name=P, workspace=WorkspaceConfig(root_path=Path(ctx.workspace)), **config
        )
    )


def brief(points: Any, *fields: str) -> list[tuple[Any, ...]]:
    """Selected fields of result points, as tuples."""
    return [tuple(getattr(p, f) for f in fields) for p in points]


def notes(items: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """(severity, summary, details) of completeness notes."""
    return [(n.severity, n.summary, dict(n.details)) for n in items]
