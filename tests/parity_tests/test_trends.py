"""Trends (contract 4.9) on the shared dataset; literals recorded from Contexta 1.0.0."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from contexta.common.errors import InterpretationError, ValidationError
from contexta.config import InterpretationConfig
from contexta.config import TrendPolicy as ConfigTrendPolicy
from contexta.contract import ArtifactManifest, MetricPayload, MetricRecord, RecordEnvelope
from contexta.interpretation import (
    MetricTrend,
    RunListQuery,
    StepSeries,
    TrendPoint,
    TrendPolicy,
    TrendService,
)
from contexta.interpretation.results import ArtifactRecord, RunRecord

from ._reports_data import P, brief, notes, open_seeded, reopen

RUN = "run:churn-model."


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory):
    return open_seeded(tmp_path_factory.mktemp("trends"))


def test_metric_trend_has_one_point_per_run_with_the_metric_and_notes_the_others(ctx) -> None:
    trend = ctx.get_metric_trend("accuracy", project_name=P)
    assert isinstance(trend, MetricTrend) and isinstance(trend.points[0], TrendPoint)
    assert (trend.metric_key, trend.project_name) == ("accuracy", P)
    assert brief(trend.points, "run_id", "run_name", "value", "captured_at", "stage_name") == [
        (RUN + "r01", "r01", 0.81, "2025-05-01T11:00:00Z", None),
        (RUN + "r02", "r02", 0.83, "2025-05-02T11:00:00Z", None),
        (RUN + "r03", "r03", 0.86, "2025-05-03T11:00:00Z", None),
        (RUN + "r05", "r05", 0.52, "2025-05-05T11:00:00Z", None),
    ]
    assert trend.values == (0.81, 0.83, 0.86, 0.52)
    assert notes(trend.completeness_notes) == [
        ("warning", "missing_metric_for_run:accuracy", {"run_id": RUN + "r04", "stage_name": None})
    ]


def test_stage_filter_keeps_the_stage_name_on_points_and_notes(ctx) -> None:
    trend = ctx.get_metric_trend("accuracy", project_name=P, stage_name="evaluate")
    assert {p.stage_name for p in trend.points} == {"evaluate"}
    assert notes(trend.completeness_notes)[0][2] == {
        "run_id": RUN + "r04",
        "stage_name": "evaluate",
    }
    assert ctx.get_metric_trend("accuracy", project_name=P, stage_name="train").points == ()


def test_latest_value_is_the_last_observation_in_time(ctx) -> None:
    trend = ctx.get_metric_trend("loss", project_name=P, stage_name="train")
    assert brief(trend.points, "run_name", "value", "captured_at") == [
        ("r01", 0.31, "2025-05-01T09:30:00Z"),
        ("r02", 0.29, "2025-05-02T09:30:00Z"),
        ("r03", 0.25, "2025-05-03T09:30:00Z"),
        ("r04", 0.3, "2025-05-04T09:30:00Z"),
        ("r05", 1.1, "2025-05-05T09:20:00Z"),
    ]
    assert trend.completeness_notes == ()


def test_unknown_project_gives_an_empty_trend_named_as_asked(ctx) -> None:
    trend = ctx.get_metric_trend("loss", project_name="ghost")
    assert (trend.project_name, trend.points, trend.completeness_notes) == ("ghost", (), ())


def test_all_projects_and_missing_key_note_every_run_in_list_order(ctx) -> None:
    trend = ctx.get_metric_trend("nope")
    assert trend.points == () and trend.project_name == P
    assert [n[2]["run_id"] for n in notes(trend.completeness_notes)] == [
        RUN + r for r in ("r01", "r02", "r03", "r04", "r05")
    ]
    assert {n.summary for n in trend.completeness_notes} == {"missing_metric_for_run:nope"}


def test_window_keeps_the_last_runs_and_aggregation_follows_the_config(ctx) -> None:
    other = reopen(
        ctx,
        interpretation=InterpretationConfig(
            trend=ConfigTrendPolicy(default_window_runs=2, metric_aggregation="max")
        ),
    )
    trend = other.get_metric_trend("loss", project_name=P)
    # max of each run's observations; captured_at stays the last observation (1.0)
    assert brief(trend.points, "run_name", "value", "captured_at") == [
        ("r04", 0.7, "2025-05-04T09:30:00Z"),
        ("r05", 1.2, "2025-05-05T09:20:00Z"),
    ]
    window = other.get_metric_trend("accuracy")
    assert brief(window.points, "run_name") == [("r05",)]
    assert notes(window.completeness_notes)[0][2]["run_id"] == RUN + "r04"


def test_query_selects_and_orders_the_runs(ctx) -> None:
    desc = ctx.get_metric_trend(
        "loss", project_name=P, query=RunListQuery(status="completed", sort_desc=True)
    )
    assert brief(desc.points, "run_name", "value") == [
        ("r04", 0.3),
        ("r03", 0.25),
        ("r02", 0.29),
        ("r01", 0.31),
    ]
    limited = ctx.get_metric_trend("loss", query=RunListQuery(project_name=P, limit=2))
    assert brief(limited.points, "run_name") == [("r01",), ("r02",)]


def test_step_series_uses_the_position_when_no_step_was_recorded(ctx) -> None:
    series = ctx.get_step_series("r01", "loss", stage_name="train")
    assert isinstance(series, StepSeries)
    assert (series.run_id, series.stage_id, series.unit) == (
        RUN + "r01",
        "stage:churn-model.r01.train",
        None,
    )
    assert brief(series.points, "step", "value", "observed_at") == [
        (0, 0.9, "2025-05-01T09:10:00Z"),
        (1, 0.5, "2025-05-01T09:20:00Z"),
        (2, 0.31, "2025-05-01T09:30:00Z"),
    ]
    everywhere = ctx.get_step_series("run:churn-model.r01", "loss")
    assert everywhere.stage_id is None and everywhere.points == series.points


def test_step_series_unit_notes_and_errors(ctx) -> None:
    latency = ctx.get_step_series("r05", "latency-ms")
    assert (latency.unit, brief(latency.points, "step", "value")) == ("ms", [(0, 120.0)])
    missing = ctx.get_step_series("r01", "nope", stage_name="ghost")
    assert missing.points == () and missing.stage_id is None
    assert notes(missing.completeness_notes) == [
        ("info", "step_series_empty:nope", {"run_id": RUN + "r01", "stage_id": None})
    ]
    # 1.0 quirk kept: a stage name the run does not have means "no stage filter"
    assert len(ctx.get_step_series("r01", "loss", stage_name="ghost").points) == 3
    with pytest.raises(InterpretationError) as info:
        ctx.get_step_series("zz", "loss")
    assert info.value.code == "query_run_not_found"


def test_step_series_reads_the_step_kept_by_runtime_capture(tmp_path: Path) -> None:
    from contexta import Contexta

    cap = Contexta(workspace=tmp_path / ".contexta")
    with cap.run("exp one") as run, run.stage("train") as stage:
        for step in (10, 20, 30):
            stage.metric("loss", 1.0 / step, step=step)
    series = cap.get_step_series(run.ref, "loss", stage_name="train")
    assert [p.step for p in series.points] == [10, 20, 30]


def test_stage_duration_trend(ctx) -> None:
    trend = ctx.get_stage_duration_trend("evaluate", project_name=P)
    assert trend.stage_name == "evaluate" and trend.project_name == P
    assert brief(trend.points, "run_name", "duration_seconds", "started_at") == [
        ("r01", 5400.0, "2025-05-01T10:30:00Z"),
        ("r02", 7200.0, "2025-05-02T10:00:00Z"),
        ("r03", 4500.0, "2025-05-03T10:45:00Z"),
        ("r05", 8400.0, "2025-05-05T09:40:00Z"),
    ]
    assert notes(trend.completeness_notes) == [
        ("warning", "missing_stage_for_duration:evaluate", {"run_id": RUN + "r04"})
    ]
    failed = ctx.get_stage_duration_trend(
        "train", query=RunListQuery(project_name=P, status="failed")
    )
    assert brief(failed.points, "run_name", "duration_seconds") == [("r05", 2400.0)]


def test_artifact_size_trend(tmp_path: Path) -> None:
    ctx = open_seeded(tmp_path)
    for run, size in (("r01", 100), ("r02", 250)):
        body = tmp_path / f"{run}.bin"
        body.write_bytes(b"x" * size)
        ctx.artifact_store.put_artifact(
            ArtifactManifest(
                artifact_ref=f"artifact:{P}.{run}.model-ckpt",
                artifact_kind="checkpoint",
                created_at=f"2025-05-0{run[-1]}T12:00:00Z",
                producer_ref="parity.reports",
                run_ref=f"run:{P}.{run}",
                location_ref=f"vault://{run}/ckpt",
                size_bytes=size,
            ),
            body,
        )
    trend = ctx.get_artifact_size_trend("checkpoint", project_name=P)
    assert brief(trend.points, "run_name", "artifact_kind", "size_bytes", "artifact_ref") == [
        ("r01", "checkpoint", 100, f"artifact:{P}.r01.model-ckpt"),
        ("r02", "checkpoint", 250, f"artifact:{P}.r02.model-ckpt"),
    ]
    # created_at is the snapshot's (1.0: when the artifact store took the body in)
    snapshot = {a.artifact_ref: a.created_at for a in ctx.get_run_snapshot("r01").artifacts}
    assert trend.points[0].created_at == snapshot[f"artifact:{P}.r01.model-ckpt"]
    assert notes(trend.completeness_notes) == [
        ("warning", "missing_artifact_kind:checkpoint", {"run_id": RUN + r})
        for r in ("r03", "r04", "r05")
    ]


def test_artifact_without_size_is_noted() -> None:
    run = RunRecord("run:p.a", "p", "a", "completed", "2025-01-01T00:00:00Z")
    artifact = ArtifactRecord(
        "artifact:p.a.x", "run:p.a", None, "checkpoint", "2025-01-01T00:00:00Z", "vault://x"
    )
    qs = SimpleNamespace(
        list_runs=lambda project=None: (run,),
        snapshot=lambda run_id: SimpleNamespace(artifacts=(artifact,)),
    )
    trend = TrendService(qs).get_artifact_size_trend("checkpoint")
    assert trend.points == () and trend.project_name == "p"
    assert notes(trend.completeness_notes) == [
        (
            "warning",
            "artifact_size_unavailable:checkpoint",
            {"run_id": "run:p.a", "artifact_ref": "artifact:p.a.x"},
        )
    ]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"default_window_runs": 0}, "trend_invalid_window_runs"),
        ({"default_window_runs": True}, "trend_invalid_window_runs"),
        ({"metric_aggregation": "median"}, "trend_invalid_metric_aggregation"),
    ],
)
def test_trend_policy_codes(kwargs: dict, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        TrendPolicy(**kwargs)
    assert info.value.code == code


def test_trend_service_properties_are_cached_and_follow_the_config(ctx) -> None:
    assert ctx.trend_service is ctx.trend_service
    assert ctx.trend_service.config == TrendPolicy(20, "latest")
    assert ctx.alert_service.metric_aggregation == "latest"
    assert ctx.report_builder is ctx.report_builder


def test_services_over_an_as_of_view_see_only_what_was_committed_then(tmp_path: Path) -> None:
    import time
    from datetime import UTC, datetime

    from contexta.interpretation import AggregationService

    ctx = open_seeded(tmp_path)
    ctx.flush()
    before = datetime.now(UTC)
    time.sleep(0.01)
    ctx.record_store.append(
        MetricRecord(
            envelope=RecordEnvelope(
                record_ref=f"record:{P}.r01.late",
                record_type="metric",
                recorded_at="2025-05-01T09:40:00Z",
                observed_at="2025-05-01T09:40:00Z",
                producer_ref="parity.reports",
                run_ref=f"run:{P}.r01",
                stage_execution_ref=f"stage:{P}.r01.train",
            ),
            payload=MetricPayload(metric_key="loss", value=0.05, value_type="float64"),
        )
    )
    now = TrendService(ctx.query_service).get_metric_trend("loss", project_name=P)
    then = TrendService(ctx.as_of(before).query_service).get_metric_trend("loss", project_name=P)
    assert (now.values[0], then.values[0]) == (0.05, 0.31)
    past = AggregationService(ctx.as_of(before).query_service)
    assert past.aggregate_metric("loss", project_name=P).min == 0.25
