"""Trends across runs (contract 4.9): a metric over runs, a metric over steps within a run,
stage durations and artifact sizes.

Runs are selected like ``list_runs(project_name, query=query)`` (plain call: ascending
``started_at``), and trends keep only the **last** ``default_window_runs`` of them. A run's
representative value of a metric is its observations of that key (optionally restricted to a
stage name: the stage ref ends with ``.<stage_name>``), ordered by observation instant, then
reduced by ``metric_aggregation`` (``latest`` = the last one, or ``max``/``min``/``mean``).
Missing data never raises: it becomes a :class:`CompletenessNote` with a stable summary
(``missing_metric_for_run:<key>``, ``step_series_empty:<key>``, ...).

Run selection and metric observations live in :mod:`.metric_series` (shared with alerts,
aggregation and anomaly detection).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..common.errors import InterpretationError, ValidationError
from ..contract.timestamps import timestamp_micros
from .metric_series import (
    RunLister,
    check_aggregation,
    metric_by_run,
    metric_observations,
    metric_payloads,
    recorded_step,
    representative,
    select_runs,
)
from .results import CompletenessNote, Result, RunRecord

__all__ = [
    "ArtifactSizePoint",
    "ArtifactSizeTrend",
    "DurationTrend",
    "MetricTrend",
    "StageDurationPoint",
    "StepPoint",
    "StepSeries",
    "TrendError",
    "TrendPoint",
    "TrendPolicy",
    "TrendService",
]


class TrendError(InterpretationError):
    """A trend cannot be computed."""

    default_code = "trend_failed"


# ---------------------------------------------------------------------- result types


@dataclass(frozen=True, slots=True)
class TrendPoint(Result):
    run_id: str
    run_name: str
    value: float
    captured_at: str | None = None
    stage_name: str | None = None


@dataclass(frozen=True, slots=True)
class MetricTrend(Result):
    metric_key: str
    project_name: str | None
    points: tuple[TrendPoint, ...] = ()
    completeness_notes: tuple[CompletenessNote, ...] = ()

    @property
    def values(self) -> tuple[float, ...]:
        """The point values, in run order."""
        return tuple(point.value for point in self.points)


@dataclass(frozen=True, slots=True)
class StepPoint(Result):
    step: int
    value: float
    observed_at: str


@dataclass(frozen=True, slots=True)
class StepSeries(Result):
    run_id: str
    metric_key: str
    stage_id: str | None
    points: tuple[StepPoint, ...] = ()
    completeness_notes: tuple[CompletenessNote, ...] = ()
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class StageDurationPoint(Result):
    run_id: str
    run_name: str
    stage_name: str
    duration_seconds: float
    started_at: str | None = None


@dataclass(frozen=True, slots=True)
class DurationTrend(Result):
    stage_name: str
    project_name: str | None
    points: tuple[StageDurationPoint, ...] = ()
    completeness_notes: tuple[CompletenessNote, ...] = ()


@dataclass(frozen=True, slots=True)
class ArtifactSizePoint(Result):
    run_id: str
    run_name: str
    artifact_kind: str
    size_bytes: int
    artifact_ref: str
    created_at: str | None = None


@dataclass(frozen=True, slots=True)
class ArtifactSizeTrend(Result):
    artifact_kind: str
    project_name: str | None
    points: tuple[ArtifactSizePoint, ...] = ()
    completeness_notes: tuple[CompletenessNote, ...] = ()


@dataclass(frozen=True, slots=True)
class TrendPolicy:
    """Window and aggregation of trends (``trend_invalid_window_runs``,
    ``trend_invalid_metric_aggregation``)."""

    default_window_runs: int = 20
    metric_aggregation: str = "latest"

    def __post_init__(self) -> None:
        window = self.default_window_runs
        if not isinstance(window, int) or isinstance(window, bool) or window <= 0:
            raise ValidationError(
                f"default_window_runs must be a positive integer, got {window!r}.",
                code="trend_invalid_window_runs",
                details={"default_window_runs": window},
            )
        check_aggregation(self.metric_aggregation)


# ---------------------------------------------------------------------- service


class TrendService:
    """Trends over ``query_service`` (the facade's ``ctx.query_service``).

    ``config`` is anything with ``default_window_runs`` and ``metric_aggregation`` (the
    workspace's ``config.interpretation.trend`` or a :class:`TrendPolicy`). ``list_runs`` (the
    facade passes its own) selects runs; by default the query service's listing is used.
    """

    def __init__(
        self, query_service: Any, *, config: Any = None, list_runs: RunLister | None = None
    ) -> None:
        self.query_service = query_service
        self._list_runs = list_runs
        policy = config or TrendPolicy()
        self.config = TrendPolicy(
            default_window_runs=policy.default_window_runs,
            metric_aggregation=policy.metric_aggregation,
        )

    def _window(self, project_name: str | None, query: Any) -> tuple[RunRecord, ...]:
        runs = select_runs(self.query_service, project_name, query, self._list_runs)
        return runs[-self.config.default_window_runs :]

    def get_metric_trend(
        self,
        metric_key: str,
        *,
        query: Any = None,
        project_name: str | None = None,
        stage_name: str | None = None,
    ) -> MetricTrend:
        """One point per run in the window that has the metric; a
        ``missing_metric_for_run:<key>`` warning for each run that has not."""
        points: list[TrendPoint] = []
        notes: list[CompletenessNote] = []
        runs = self._window(project_name, query)
        found = metric_by_run(self.query_service, [r.run_id for r in runs], metric_key, stage_name)
        for run in runs:
            observed = found[run.run_id]
            value = representative([o.value for o in observed], self.config.metric_aggregation)
            if value is None:
                notes.append(
                    CompletenessNote(
                        "warning",
                        f"missing_metric_for_run:{metric_key}",
                        {"run_id": run.run_id, "stage_name": stage_name},
                    )
                )
                continue
            points.append(
                TrendPoint(run.run_id, run.name, value, observed[-1].observed_at, stage_name)
            )
        return MetricTrend(metric_key, _project(runs, project_name), tuple(points), tuple(notes))

    def get_step_series(
        self, run_id: str, metric_key: str, *, stage_id: str | None = None
    ) -> StepSeries:
        """The run's observations of ``metric_key`` (of ``stage_id`` when given) in time
        order; ``step`` is the recorded step when there is one (see :func:`recorded_step`),
        else the 0-based position as in 1.0."""
        qs = self.query_service
        run_ref = qs.resolve_run(run_id)
        observed = metric_observations(qs, run_ref, metric_key, stage_id=stage_id)
        payloads = metric_payloads(qs, run_ref, observed)
        steps = [recorded_step(o, p) for o, p in zip(observed, payloads, strict=True)]
        points = tuple(
            StepPoint(i if step is None else step, o.value, o.observed_at)
            for i, (o, step) in enumerate(zip(observed, steps, strict=True))
        )
        notes: tuple[CompletenessNote, ...] = ()
        if not points:
            notes = (
                CompletenessNote(
                    "info",
                    f"step_series_empty:{metric_key}",
                    {"run_id": run_ref, "stage_id": stage_id},
                ),
            )
        unit = getattr(payloads[0], "unit", None) if payloads else None
        return StepSeries(run_ref, metric_key, stage_id, points, notes, unit)

    def get_stage_duration_trend(
        self, stage_name: str, *, query: Any = None, project_name: str | None = None
    ) -> DurationTrend:
        """Seconds from start to end of the first stage named ``stage_name`` in each run."""
        points: list[StageDurationPoint] = []
        notes: list[CompletenessNote] = []
        runs = self._window(project_name, query)
        for run in runs:
            stage = next(
                (s for s in self.query_service.stages_of(run.run_id) if s.stage_name == stage_name),
                None,
            )
            if stage is None:
                notes.append(
                    CompletenessNote(
                        "warning",
                        f"missing_stage_for_duration:{stage_name}",
                        {"run_id": run.run_id},
                    )
                )
                continue
            if stage.started_at is None or stage.ended_at is None:
                notes.append(
                    CompletenessNote(
                        "warning",
                        f"stage_duration_unavailable:{stage_name}",
                        {"run_id": run.run_id, "stage_id": str(stage.stage_execution_ref)},
                    )
                )
                continue
            seconds = (timestamp_micros(stage.ended_at) - timestamp_micros(stage.started_at)) / 1e6
            points.append(
                StageDurationPoint(run.run_id, run.name, stage_name, seconds, stage.started_at)
            )
        return DurationTrend(stage_name, _project(runs, project_name), tuple(points), tuple(notes))

    def get_artifact_size_trend(
        self, artifact_kind: str, *, query: Any = None, project_name: str | None = None
    ) -> ArtifactSizeTrend:
        """``size_bytes`` of every artifact of ``artifact_kind`` in each run's snapshot."""
        points: list[ArtifactSizePoint] = []
        notes: list[CompletenessNote] = []
        runs = self._window(project_name, query)
        for run in runs:
            artifacts = [
                a
                for a in self.query_service.snapshot(run.run_id).artifacts
                if a.kind == artifact_kind
            ]
            if not artifacts:
                notes.append(
                    CompletenessNote(
                        "warning", f"missing_artifact_kind:{artifact_kind}", {"run_id": run.run_id}
                    )
                )
            for artifact in artifacts:
                if artifact.size_bytes is None:
                    notes.append(
                        CompletenessNote(
                            "warning",
                            f"artifact_size_unavailable:{artifact_kind}",
                            {"run_id": run.run_id, "artifact_ref": artifact.artifact_ref},
                        )
                    )
                    continue
                points.append(
                    ArtifactSizePoint(
                        run.run_id,
                        run.name,
                        artifact_kind,
                        artifact.size_bytes,
                        artifact.artifact_ref,
                        artifact.created_at,
                    )
                )
        return ArtifactSizeTrend(
            artifact_kind, _project(runs, project_name), tuple(points), tuple(notes)
        )


def _project(runs: Sequence[RunRecord], project_name: str | None) -> str | None:
    return runs[0].project_name if runs else project_name
