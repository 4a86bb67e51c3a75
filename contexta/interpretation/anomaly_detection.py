"""Anomaly detection against a baseline of runs (contract 4.9).

A :class:`MetricBaseline` is the mean, population standard deviation and the linearly
interpolated 5th/95th percentiles of each baseline run's representative value of a metric. A
run's value is scored by its z-score against it; severity is ``info`` below the z threshold
(2.5 by default), ``warning`` from the threshold up to 1.5 times it, ``error`` beyond. As in
1.0, a baseline with zero spread scores 0.0 (same value) or infinity, always ``info``.

Construct with the facade's query service, as in 1.0: ``AnomalyService(ctx.query_service)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import fabs
from statistics import mean
from typing import Any

from ..common.errors import InterpretationError, ValidationError
from .metric_series import (
    check_aggregation,
    metric_by_run,
    metric_observations,
    percentile,
    population_std,
    representative,
    run_observations,
    select_runs,
)
from .results import CompletenessNote, EvidenceLink, Result

__all__ = [
    "AnomalyError",
    "AnomalyPolicy",
    "AnomalyResult",
    "AnomalyService",
    "MetricBaseline",
    "severity_for_z_score",
]


class AnomalyError(InterpretationError):
    """Anomalies cannot be computed."""

    default_code = "anomaly_failed"


@dataclass(frozen=True, slots=True)
class MetricBaseline(Result):
    metric_key: str
    mean: float
    std: float
    p5: float
    p95: float
    computed_from_n_runs: int


@dataclass(frozen=True, slots=True)
class AnomalyResult(Result):
    metric_key: str
    run_id: str
    actual_value: float
    expected_range: tuple[float, float]
    z_score: float
    severity: str
    evidence_links: tuple[EvidenceLink, ...] = ()
    completeness_notes: tuple[CompletenessNote, ...] = ()


@dataclass(frozen=True, slots=True)
class AnomalyPolicy:
    """Thresholds of :class:`AnomalyService` (``anomaly_invalid_z_score_threshold``,
    ``anomaly_invalid_min_baseline_runs``, ``trend_invalid_metric_aggregation``)."""

    z_score_threshold: float = 2.5
    min_baseline_runs: int = 3
    monitored_metrics: tuple[str, ...] = ()
    metric_aggregation: str = "latest"

    def __post_init__(self) -> None:
        z = self.z_score_threshold
        if isinstance(z, bool) or not isinstance(z, (int, float)) or not z > 0:
            raise ValidationError(
                f"z_score_threshold must be a positive number, got {z!r}.",
                code="anomaly_invalid_z_score_threshold",
                details={"z_score_threshold": z},
            )
        n = self.min_baseline_runs
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValidationError(
                f"min_baseline_runs must be an integer of at least 1, got {n!r}.",
                code="anomaly_invalid_min_baseline_runs",
                details={"min_baseline_runs": n},
            )
        object.__setattr__(self, "monitored_metrics", tuple(self.monitored_metrics))
        check_aggregation(self.metric_aggregation)


def severity_for_z_score(abs_z: float, threshold: float) -> str:
    """``info`` below ``threshold``, ``warning`` below 1.5 x ``threshold``, else ``error``."""
    if abs_z < threshold:
        return "info"
    if abs_z < threshold * 1.5:
        return "warning"
    return "error"


class AnomalyService:
    """Baselines and z-score anomalies over runs read through ``query_service``."""

    def __init__(
        self,
        query_service: Any,
        *,
        z_score_threshold: float = 2.5,
        min_baseline_runs: int = 3,
        metric_aggregation: str = "latest",
        monitored_metrics: Sequence[str] = (),
    ) -> None:
        self.query_service = query_service
        self.config = AnomalyPolicy(
            z_score_threshold=z_score_threshold,
            min_baseline_runs=min_baseline_runs,
            monitored_metrics=tuple(monitored_metrics),
            metric_aggregation=metric_aggregation,
        )

    def _value(self, run_ref: str, metric_key: str, stage_name: str | None) -> float | None:
        observed = metric_observations(self.query_service, run_ref, metric_key, stage_name)
        return representative([o.value for o in observed], self.config.metric_aggregation)

    def compute_baseline(
        self,
        metric_key: str,
        *,
        query: Any = None,
        project_name: str | None = None,
        stage_name: str | None = None,
    ) -> MetricBaseline:
        """Baseline of ``metric_key`` over ``list_runs(project_name, query=query)`` (runs
        without the metric are skipped; no value at all gives zeros and n = 0)."""
        runs = select_runs(self.query_service, project_name, query)
        return self._baseline(metric_key, [r.run_id for r in runs], stage_name)

    def _baseline(
        self, metric_key: str, run_refs: Sequence[str], stage_name: str | None
    ) -> MetricBaseline:
        aggregation = self.config.metric_aggregation
        found = metric_by_run(self.query_service, run_refs, metric_key, stage_name)
        values = [
            v
            for v in (
                representative([o.value for o in found[ref]], aggregation) for ref in run_refs
            )
            if v is not None
        ]
        if not values:
            return MetricBaseline(metric_key, 0.0, 0.0, 0.0, 0.0, 0)
        return MetricBaseline(
            metric_key=metric_key,
            mean=mean(values),
            std=population_std(values),
            p5=percentile(values, 0.05),
            p95=percentile(values, 0.95),
            computed_from_n_runs=len(values),
        )

    def detect_anomalies(
        self, run_id: str, *, baseline: MetricBaseline, stage_name: str | None = None
    ) -> tuple[AnomalyResult, ...]:
        """Score the run's value of ``baseline.metric_key``: one result, or none when the run
        lacks the metric. A baseline smaller than ``min_baseline_runs`` adds
        ``baseline_population_small:<key>``."""
        qs = self.query_service
        run_ref = qs.resolve_run(run_id)
        value = self._value(run_ref, baseline.metric_key, stage_name)
        if value is None:
            return ()
        notes: tuple[CompletenessNote, ...] = ()
        if baseline.computed_from_n_runs < self.config.min_baseline_runs:
            notes = (
                CompletenessNote(
                    "warning",
                    f"baseline_population_small:{baseline.metric_key}",
                    {"computed_from_n_runs": baseline.computed_from_n_runs},
                ),
            )
        threshold = self.config.z_score_threshold
        if baseline.std == 0.0:
            z_score = 0.0 if value == baseline.mean else float("inf")
            severity = "info"
        else:
            z_score = (value - baseline.mean) / baseline.std
            severity = severity_for_z_score(fabs(z_score), threshold)
        spread = threshold * baseline.std
        return (
            AnomalyResult(
                metric_key=baseline.metric_key,
                run_id=run_ref,
                actual_value=value,
                expected_range=(baseline.mean - spread, baseline.mean + spread),
                z_score=z_score,
                severity=severity,
                evidence_links=(EvidenceLink("run", run_ref, qs.run_model(run_ref).name),),
                completeness_notes=notes,
            ),
        )

    def detect_anomalies_in_run(
        self,
        run_id: str,
        *,
        baseline_query: Any = None,
        metric_keys: Sequence[str] | None = None,
        stage_name: str | None = None,
    ) -> tuple[AnomalyResult, ...]:
        """Score every metric of the run (``metric_keys``, else ``monitored_metrics`` present
        in the run, else every key it recorded, first-seen order) against a baseline of the
        *other* runs of its project (filtered by ``baseline_query``). Metrics whose baseline has
        fewer than two runs are skipped."""
        qs = self.query_service
        run_ref = qs.resolve_run(run_id)
        record = qs.run_record(qs.run_model(run_ref))
        keys = tuple(metric_keys) if metric_keys is not None else self._keys(run_ref, stage_name)
        population = select_runs(qs, record.project_name, baseline_query)
        others = [r.run_id for r in population if r.run_id != run_ref]
        baseline_refs = others or [r.run_id for r in population]
        results: list[AnomalyResult] = []
        for key in keys:
            baseline = self._baseline(key, baseline_refs, stage_name)
            if baseline.computed_from_n_runs < 2:
                continue
            results.extend(self.detect_anomalies(run_ref, baseline=baseline, stage_name=stage_name))
        return tuple(results)

    def _keys(self, run_ref: str, stage_name: str | None) -> tuple[str, ...]:
        suffix = None if stage_name is None else f".{stage_name}"
        seen = dict.fromkeys(
            o.key
            for o in sorted(run_observations(self.query_service, run_ref), key=lambda o: o.seq)
            if suffix is None or (o.stage_ref is not None and o.stage_ref.endswith(suffix))
        )
        monitored = self.config.monitored_metrics
        if monitored:
            return tuple(k for k in monitored if k in seen)
        return tuple(seen)
