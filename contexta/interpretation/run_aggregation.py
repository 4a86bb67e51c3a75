"""Aggregates over a population of runs (contract 4.9): one metric's distribution, every
metric per stage, and the run status distribution.

Construct with the facade's query service, as in 1.0:
``AggregationService(ctx.query_service).aggregate_metric("accuracy", project_name="p")``.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import mean
from typing import Any

from ..common.errors import InterpretationError
from .metric_series import (
    check_aggregation,
    metric_by_run,
    observations_by_run,
    percentile,
    population_std,
    representative,
    select_runs,
)
from .results import CompletenessNote, Result

__all__ = [
    "UNASSIGNED_STAGE",
    "AggregationError",
    "AggregationService",
    "MetricAggregate",
    "RunStatusDistribution",
    "RunSummaryTable",
    "StageAggregate",
    "StatusCount",
]

#: Bucket of run-level metrics (recorded without a stage) in :meth:`aggregate_by_stage`.
UNASSIGNED_STAGE = "_unassigned"


class AggregationError(InterpretationError):
    """An aggregate cannot be computed."""

    default_code = "aggregation_failed"


@dataclass(frozen=True, slots=True)
class StageAggregate(Result):
    stage_name: str
    metric_key: str
    count: int
    mean: float
    min: float
    max: float


@dataclass(frozen=True, slots=True)
class RunSummaryTable(Result):
    project_name: str | None
    total_runs: int
    by_stage: tuple[StageAggregate, ...] = ()
    completeness_notes: tuple[CompletenessNote, ...] = ()


@dataclass(frozen=True, slots=True)
class MetricAggregate(Result):
    metric_key: str
    project_name: str | None
    count: int
    mean: float
    std: float
    min: float
    p25: float
    p50: float
    p75: float
    p90: float
    p95: float
    p99: float
    max: float
    completeness_notes: tuple[CompletenessNote, ...] = ()


@dataclass(frozen=True, slots=True)
class StatusCount(Result):
    status: str
    count: int


@dataclass(frozen=True, slots=True)
class RunStatusDistribution(Result):
    project_name: str | None
    total: int
    by_status: tuple[StatusCount, ...] = ()
    completeness_notes: tuple[CompletenessNote, ...] = ()

    @property
    def pass_rate(self) -> float:
        """Share of ``completed`` runs (0.0 for an empty population)."""
        if self.total == 0:
            return 0.0
        return sum(s.count for s in self.by_status if s.status == "completed") / self.total


class AggregationService:
    """Aggregates over the runs of ``list_runs(project_name, query=query)``."""

    def __init__(self, query_service: Any, *, metric_aggregation: str = "latest") -> None:
        self.query_service = query_service
        self.metric_aggregation = check_aggregation(metric_aggregation)

    def aggregate_metric(
        self,
        metric_key: str,
        *,
        query: Any = None,
        project_name: str | None = None,
        stage_name: str | None = None,
    ) -> MetricAggregate:
        """Count, mean, population std, min, max and linearly interpolated percentiles of each
        run's representative value. Runs without the metric get a
        ``missing_metric_for_aggregate:<key>`` warning; no value at all adds
        ``aggregate_population_empty:<key>`` and zeros everywhere."""
        runs = select_runs(self.query_service, project_name, query)
        project = runs[0].project_name if runs else project_name
        values: list[float] = []
        notes: list[CompletenessNote] = []
        found = metric_by_run(self.query_service, [r.run_id for r in runs], metric_key, stage_name)
        for run in runs:
            observed = found[run.run_id]
            value = representative([o.value for o in observed], self.metric_aggregation)
            if value is None:
                notes.append(
                    CompletenessNote(
                        "warning",
                        f"missing_metric_for_aggregate:{metric_key}",
                        {"run_id": run.run_id, "stage_name": stage_name},
                    )
                )
            else:
                values.append(value)
        if not values:
            notes.append(
                CompletenessNote(
                    "warning",
                    f"aggregate_population_empty:{metric_key}",
                    {"project_name": project, "stage_name": stage_name},
                )
            )
            zeros = dict.fromkeys(
                ("mean", "std", "min", "p25", "p50", "p75", "p90", "p95", "p99", "max"), 0.0
            )
            return MetricAggregate(metric_key, project, 0, **zeros, completeness_notes=tuple(notes))
        return MetricAggregate(
            metric_key=metric_key,
            project_name=project,
            count=len(values),
            mean=mean(values),
            std=population_std(values),
            min=min(values),
            p25=percentile(values, 0.25),
            p50=percentile(values, 0.50),
            p75=percentile(values, 0.75),
            p90=percentile(values, 0.90),
            p95=percentile(values, 0.95),
            p99=percentile(values, 0.99),
            max=max(values),
            completeness_notes=tuple(notes),
        )

    def aggregate_by_stage(
        self, *, query: Any = None, project_name: str | None = None
    ) -> RunSummaryTable:
        """Count/mean/min/max of every metric observation per (stage name, metric key),
        sorted; run-level metrics go to the ``_unassigned`` bucket."""
        runs = select_runs(self.query_service, project_name, query)
        buckets: dict[tuple[str, str], list[float]] = {}
        found = observations_by_run(self.query_service, [r.run_id for r in runs])
        for run in runs:
            for o in found[run.run_id]:
                stage = o.stage_bucket or UNASSIGNED_STAGE
                buckets.setdefault((stage, o.key), []).append(o.value)
        rows = tuple(
            StageAggregate(stage, key, len(values), mean(values), min(values), max(values))
            for (stage, key), values in sorted(buckets.items())
        )
        project = runs[0].project_name if runs else project_name
        return RunSummaryTable(project, len(runs), rows)

    def run_status_distribution(
        self, *, query: Any = None, project_name: str | None = None
    ) -> RunStatusDistribution:
        """How many runs have each status (statuses sorted); see ``pass_rate``."""
        runs = select_runs(self.query_service, project_name, query)
        counts: dict[str, int] = {}
        for run in runs:
            counts[run.status] = counts.get(run.status, 0) + 1
        project = runs[0].project_name if runs else project_name
        return RunStatusDistribution(
            project, len(runs), tuple(StatusCount(s, counts[s]) for s in sorted(counts))
        )
