"""AnomalyService (contract 4.9) on the shared dataset; literals recorded from 1.0.0."""

from __future__ import annotations

import math

import pytest

from contexta.common.errors import ValidationError
from contexta.interpretation import (
    AnomalyPolicy,
    AnomalyResult,
    AnomalyService,
    EvidenceLink,
    MetricBaseline,
    RunListQuery,
)
from contexta.interpretation.anomaly import severity_for_z_score

from ._reports_data import P, notes, open_seeded

RUN = "run:churn-model."


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> AnomalyService:
    return AnomalyService(open_seeded(tmp_path_factory.mktemp("anomaly")).query_service)


def test_compute_baseline(service) -> None:
    assert service.compute_baseline("accuracy", project_name=P) == MetricBaseline(
        "accuracy", 0.755, 0.13683932183404007, 0.5635, 0.8554999999999999, 4
    )
    assert service.compute_baseline("nope", project_name=P) == MetricBaseline(
        "nope", 0.0, 0.0, 0.0, 0.0, 0
    )
    assert service.compute_baseline("latency-ms", project_name=P) == MetricBaseline(
        "latency-ms", 120.0, 0.0, 120.0, 120.0, 1
    )
    completed = service.compute_baseline(
        "loss", query=RunListQuery(project_name=P, status="completed")
    )
    assert completed == MetricBaseline("loss", 0.2875, 0.022776083947860744, 0.256, 0.3085, 4)


def test_detect_anomalies_scores_against_a_given_baseline(service) -> None:
    baseline = service.compute_baseline("accuracy", project_name=P)
    (result,) = service.detect_anomalies("r05", baseline=baseline)
    assert result == AnomalyResult(
        metric_key="accuracy",
        run_id=RUN + "r05",
        actual_value=0.52,
        expected_range=(0.41290169541489985, 1.0970983045851002),
        z_score=-1.7173426238183938,
        severity="info",
        evidence_links=(EvidenceLink("run", RUN + "r05", "r05"),),
    )
    assert service.detect_anomalies("r04", baseline=baseline) == ()


def test_small_or_flat_baselines(service) -> None:
    latency = service.compute_baseline("latency-ms", project_name=P)
    (result,) = service.detect_anomalies("r05", baseline=latency)
    assert (result.z_score, result.severity, result.expected_range) == (0.0, "info", (120.0, 120.0))
    assert notes(result.completeness_notes) == [
        ("warning", "baseline_population_small:latency-ms", {"computed_from_n_runs": 1})
    ]
    flat = MetricBaseline("loss", 0.5, 0.0, 0.5, 0.5, 3)
    (other,) = service.detect_anomalies("r01", baseline=flat)
    # 1.0: zero spread scores infinity but stays "info"
    assert math.isinf(other.z_score) and other.severity == "info" and other.completeness_notes == ()


def test_detect_anomalies_in_run_uses_the_other_runs_as_baseline(service) -> None:
    results = service.detect_anomalies_in_run("r05")
    assert [(r.metric_key, r.actual_value, r.z_score, r.severity) for r in results] == [
        ("loss", 1.1, 35.673384496649376, "error"),
        ("accuracy", 0.52, -15.248813586291698, "error"),
        ("auc", 0.61, -22.984466804468482, "error"),
    ]
    assert results[0].expected_range == (0.2305597901303481, 0.34444020986965185)
    healthy = service.detect_anomalies_in_run("run:churn-model.r01")
    assert [(r.metric_key, r.z_score, r.severity) for r in healthy] == [
        ("loss", -0.49217728646599623, "info"),
        ("accuracy", 0.47713475340501826, "info"),
        ("auc", 0.5271067837010364, "info"),
    ]


def test_detect_anomalies_in_run_options(service) -> None:
    train = service.detect_anomalies_in_run("r05", stage_name="train")
    assert [r.metric_key for r in train] == ["loss"]
    tight = AnomalyService(service.query_service, z_score_threshold=1.0)
    chosen = tight.detect_anomalies_in_run("r05", metric_keys=("loss", "auc"))
    assert [(r.metric_key, r.expected_range) for r in chosen] == [
        ("loss", (0.26472391605213924, 0.3102760839478607)),
        ("auc", (0.8841944753774202, 0.9091388579559132)),
    ]
    monitored = AnomalyService(service.query_service, monitored_metrics=("auc", "nope"))
    assert [r.metric_key for r in monitored.detect_anomalies_in_run("r05")] == ["auc"]
    assert (
        service.detect_anomalies_in_run("r05", baseline_query=RunListQuery(status="failed")) == ()
    )
    short = service.detect_anomalies_in_run(
        "r01", baseline_query=RunListQuery(status="completed", limit=2)
    )
    assert short == ()  # baseline of one other run: skipped


@pytest.mark.parametrize(
    ("abs_z", "severity"),
    [
        (0.0, "info"),
        (2.49, "info"),
        (2.5, "warning"),
        (3.74, "warning"),
        (3.75, "error"),
        (math.inf, "error"),
    ],
)
def test_severity_bands(abs_z: float, severity: str) -> None:
    assert severity_for_z_score(abs_z, 2.5) == severity


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"z_score_threshold": 0}, "anomaly_invalid_z_score_threshold"),
        ({"z_score_threshold": -1.5}, "anomaly_invalid_z_score_threshold"),
        ({"min_baseline_runs": 0}, "anomaly_invalid_min_baseline_runs"),
        ({"min_baseline_runs": 2.5}, "anomaly_invalid_min_baseline_runs"),
        ({"metric_aggregation": "median"}, "trend_invalid_metric_aggregation"),
    ],
)
def test_policy_codes(service, kwargs: dict, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        AnomalyService(service.query_service, **kwargs)
    assert info.value.code == code
    with pytest.raises(ValidationError):
        AnomalyPolicy(**kwargs)
