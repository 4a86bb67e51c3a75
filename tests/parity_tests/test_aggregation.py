"""AggregationService (contract 4.9) on the shared dataset; literals recorded from 1.0.0."""

from __future__ import annotations

import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contexta.common.errors import ValidationError
from contexta.interpretation import (
    AggregationService,
    MetricAggregate,
    RunListQuery,
    RunStatusDistribution,
    StageAggregate,
    StatusCount,
    TimeRange,
)
from contexta.interpretation.metric_series import percentile, population_std

from ._reports_data import P, notes, open_seeded

RUN = "run:churn-model."
STATS = ("count", "mean", "std", "min", "p25", "p50", "p75", "p90", "p95", "p99", "max")


def stats(aggregate: MetricAggregate) -> tuple:
    return tuple(getattr(aggregate, f) for f in STATS)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> AggregationService:
    return AggregationService(open_seeded(tmp_path_factory.mktemp("aggregation")).query_service)


def test_aggregate_metric_population_std_and_interpolated_percentiles(service) -> None:
    accuracy = service.aggregate_metric("accuracy", project_name=P)
    assert (accuracy.metric_key, accuracy.project_name) == ("accuracy", P)
    assert stats(accuracy) == (
        4,
        0.755,
        0.13683932183404007,
        0.52,
        0.7375,
        0.8200000000000001,
        0.8374999999999999,
        0.851,
        0.8554999999999999,
        0.8591,
        0.86,
    )
    assert notes(accuracy.completeness_notes) == [
        (
            "warning",
            "missing_metric_for_aggregate:accuracy",
            {"run_id": RUN + "r04", "stage_name": None},
        )
    ]
    loss = service.aggregate_metric("loss", project_name=P, stage_name="train")
    assert stats(loss) == (
        5,
        0.45,
        0.32563783563953386,
        0.25,
        0.29,
        0.3,
        0.31,
        0.784,
        0.942,
        1.0684,
        1.1,
    )
    assert loss.completeness_notes == ()


def test_aggregate_metric_with_mean_per_run(service) -> None:
    mean_service = AggregationService(service.query_service, metric_aggregation="mean")
    loss = mean_service.aggregate_metric("loss", project_name=P)
    assert stats(loss) == (
        5,
        0.6413333333333333,
        0.25628629824215465,
        0.47333333333333333,
        0.5,
        0.5133333333333333,
        0.5700000000000001,
        0.918,
        1.0339999999999998,
        1.1267999999999998,
        1.15,
    )


def test_empty_population_gives_zeros_and_two_kinds_of_notes(service) -> None:
    missing = service.aggregate_metric("nope", project_name=P)
    assert stats(missing) == (0, *([0.0] * 10))
    found = notes(missing.completeness_notes)
    assert [n[2].get("run_id") for n in found[:-1]] == [
        RUN + r for r in ("r01", "r02", "r03", "r04", "r05")
    ]
    assert found[-1] == (
        "warning",
        "aggregate_population_empty:nope",
        {"project_name": P, "stage_name": None},
    )
    unknown = service.aggregate_metric("loss", project_name="ghost")
    assert unknown.project_name == "ghost" and unknown.count == 0


def test_aggregate_by_stage_counts_every_observation_and_buckets_run_level(service) -> None:
    table = service.aggregate_by_stage(project_name=P)
    assert (table.project_name, table.total_runs, table.completeness_notes) == (P, 5, ())
    assert table.by_stage == (
        StageAggregate("_unassigned", "latency-ms", 1, 120.0, 120.0, 120.0),
        StageAggregate("evaluate", "accuracy", 4, 0.755, 0.52, 0.86),
        StageAggregate("evaluate", "auc", 4, 0.825, 0.61, 0.91),
        StageAggregate("train", "loss", 14, 0.605, 0.25, 1.2),
    )


def test_run_status_distribution_and_pass_rate(service) -> None:
    distribution = service.run_status_distribution(project_name=P)
    assert isinstance(distribution, RunStatusDistribution)
    assert distribution.by_status == (StatusCount("completed", 4), StatusCount("failed", 1))
    assert (distribution.total, distribution.pass_rate) == (5, 0.8)
    empty = service.run_status_distribution(project_name="empty-proj")
    assert (empty.project_name, empty.total, empty.by_status, empty.pass_rate) == (
        "empty-proj",
        0,
        (),
        0.0,
    )


def test_queries_select_the_population(service) -> None:
    later = service.aggregate_metric(
        "accuracy",
        query=RunListQuery(
            project_name=P, time_range=TimeRange(started_after="2025-05-02T00:00:00Z")
        ),
    )
    assert (later.count, later.mean, later.p50) == (3, 0.7366666666666667, 0.83)
    failed = service.aggregate_by_stage(query=RunListQuery(project_name=P, status="failed"))
    assert failed.total_runs == 1
    assert failed.by_stage[-1] == StageAggregate("train", "loss", 2, 1.15, 1.1, 1.2)
    first3 = service.run_status_distribution(query=RunListQuery(project_name=P, limit=3))
    assert (first3.total, first3.by_status) == (3, (StatusCount("completed", 3),))


def test_unknown_aggregation_is_refused(service) -> None:
    with pytest.raises(ValidationError) as info:
        AggregationService(service.query_service, metric_aggregation="p50")
    assert info.value.code == "trend_invalid_metric_aggregation"


finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)


@given(st.lists(finite, min_size=1, max_size=40), st.floats(min_value=0, max_value=1))
def test_percentile_is_within_range_and_monotone(values: list[float], q: float) -> None:
    low, high = min(values), max(values)
    assert percentile(values, 0.0) == low and percentile(values, 1.0) == high
    p = percentile(values, q)
    assert low - 1e-6 <= p <= high + 1e-6
    assert percentile(values, min(1.0, q + 0.1)) >= p - 1e-6


@given(st.lists(finite, min_size=2, max_size=40))
def test_population_std_matches_pstdev(values: list[float]) -> None:
    assert population_std(values) == pytest.approx(statistics.pstdev(values), rel=1e-6, abs=1e-6)
