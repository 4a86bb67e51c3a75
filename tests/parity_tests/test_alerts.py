"""Alerts (contract 4.9) on the shared dataset; literals recorded from Contexta 1.0.0."""

from __future__ import annotations

import pytest

from contexta.common.errors import InterpretationError, ValidationError
from contexta.config import InterpretationConfig
from contexta.config import TrendPolicy as ConfigTrendPolicy
from contexta.interpretation import (
    AlertReport,
    AlertResult,
    AlertRule,
    AlertService,
    EvidenceLink,
    RunListQuery,
)

from ._reports_data import P, notes, open_seeded, reopen

RUN = "run:churn-model."
RULES = (
    AlertRule("accuracy", "gt", 0.8, stage_name="evaluate"),
    AlertRule("loss", "lt", 0.3, severity="error", name="low-loss"),
    AlertRule("auc", "gte", 1),
    AlertRule("nope", "eq", 0),
    AlertRule("latency-ms", "ne", 120),
)
FIELDS = (
    "rule_name",
    "run_id",
    "actual_value",
    "threshold",
    "operator",
    "triggered",
    "severity",
    "stage_name",
)


def rows(results: tuple[AlertResult, ...]) -> list[tuple]:
    return [tuple(getattr(r, f) for f in FIELDS) for r in results]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory):
    return open_seeded(tmp_path_factory.mktemp("alerts"))


def test_one_result_per_rule_in_rule_order(ctx) -> None:
    results = ctx.evaluate_alerts("r01", RULES)
    assert rows(results) == [
        ("accuracy@evaluate:gt:0.8", RUN + "r01", 0.81, 0.8, "gt", True, "warning", "evaluate"),
        ("low-loss", RUN + "r01", 0.31, 0.3, "lt", False, "error", None),
        ("auc:gte:1", RUN + "r01", 0.88, 1, "gte", False, "warning", None),
        ("nope:eq:0", RUN + "r01", None, 0, "eq", False, "warning", None),
        ("latency-ms:ne:120", RUN + "r01", None, 120, "ne", False, "warning", None),
    ]
    assert {r.evidence_links for r in results} == {(EvidenceLink("run", RUN + "r01", "r01"),)}
    assert [notes(r.completeness_notes) for r in results[2:]] == [
        [],
        [("warning", "alert_metric_missing:nope", {"run_id": RUN + "r01", "stage_name": None})],
        [
            (
                "warning",
                "alert_metric_missing:latency-ms",
                {"run_id": RUN + "r01", "stage_name": None},
            )
        ],
    ]


def test_run_level_metric_and_failed_run(ctx) -> None:
    results = ctx.evaluate_alerts("run:churn-model.r05", RULES)
    assert [(r.actual_value, r.triggered) for r in results] == [
        (0.52, False),
        (1.1, False),
        (0.61, False),
        (None, False),
        (120.0, False),
    ]


@pytest.mark.parametrize(
    ("operator", "threshold", "fires"),
    [
        ("gt", 0.31, False),
        ("gte", 0.31, True),
        ("lt", 0.32, True),
        ("lte", 0.31, True),
        ("eq", 0.31, True),
        ("ne", 0.31, False),
        ("eq", 0.3, False),
        ("ne", 0.3, True),
    ],
)
def test_every_operator(ctx, operator: str, threshold: float, fires: bool) -> None:
    (result,) = ctx.evaluate_alerts("r01", [AlertRule("loss", operator, threshold)])
    assert result.actual_value == 0.31 and result.triggered is fires


def test_rules_are_checked_when_evaluated_with_1_0_codes(ctx) -> None:
    bad_operator = AlertRule("loss", "GT", 1)  # constructing is fine, as in 1.0
    with pytest.raises(ValidationError) as info:
        ctx.evaluate_alerts("r01", [bad_operator])
    assert info.value.code == "alert_invalid_operator"
    with pytest.raises(ValidationError) as info:
        ctx.evaluate_alerts("r01", [AlertRule("loss", "gt", 1, severity="critical")])
    assert info.value.code == "alert_invalid_severity"
    with pytest.raises(InterpretationError) as info:
        ctx.evaluate_alerts("ghost", RULES)
    assert info.value.code == "query_run_not_found"
    assert ctx.evaluate_alerts("r01", []) == ()


def test_fleet_evaluates_every_rule_on_every_run(ctx) -> None:
    report = ctx.evaluate_alerts_fleet(RULES[:2], project_name=P)
    assert isinstance(report, AlertReport)
    assert report.run_ids == tuple(RUN + r for r in ("r01", "r02", "r03", "r04", "r05"))
    assert [(r.run_id[-3:], r.rule_name, r.actual_value, r.triggered) for r in report.results] == [
        ("r01", "accuracy@evaluate:gt:0.8", 0.81, True),
        ("r01", "low-loss", 0.31, False),
        ("r02", "accuracy@evaluate:gt:0.8", 0.83, True),
        ("r02", "low-loss", 0.29, True),
        ("r03", "accuracy@evaluate:gt:0.8", 0.86, True),
        ("r03", "low-loss", 0.25, True),
        ("r04", "accuracy@evaluate:gt:0.8", None, False),
        ("r04", "low-loss", 0.3, False),
        ("r05", "accuracy@evaluate:gt:0.8", 0.52, False),
        ("r05", "low-loss", 1.1, False),
    ]
    assert report.completeness_notes == ()
    assert [r.run_id[-3:] for r in report.triggered] == ["r01", "r02", "r02", "r03", "r03"]


def test_fleet_with_query_and_empty_population(ctx) -> None:
    query = RunListQuery(project_name=P, status="completed", sort_by="name", sort_desc=True)
    report = ctx.evaluate_alerts_fleet(RULES[:1], query=query)
    assert [r[-3:] for r in report.run_ids] == ["r04", "r03", "r02", "r01"]
    empty = ctx.evaluate_alerts_fleet(RULES[:2], project_name="empty-proj")
    assert (empty.run_ids, empty.results) == ((), ())
    assert notes(empty.completeness_notes) == [
        ("info", "alert_population_empty", {"project_name": "empty-proj"})
    ]


def test_value_follows_the_trend_aggregation(ctx) -> None:
    other = reopen(
        ctx, interpretation=InterpretationConfig(trend=ConfigTrendPolicy(metric_aggregation="max"))
    )
    (result,) = other.evaluate_alerts("r01", [AlertRule("loss", "gt", 0.5)])
    assert (result.rule_name, result.actual_value, result.triggered) == ("loss:gt:0.5", 0.9, True)


def test_service_constructed_from_the_query_service(ctx) -> None:
    service = AlertService(ctx.query_service, metric_aggregation="min")
    (result,) = service.evaluate_alerts("r02", [AlertRule("loss", "lte", 0.29)])
    assert (result.actual_value, result.triggered) == (0.29, True)
    with pytest.raises(ValidationError) as info:
        AlertService(ctx.query_service, metric_aggregation="median")
    assert info.value.code == "trend_invalid_metric_aggregation"


def test_rule_validate_and_default_name() -> None:
    rule = AlertRule("loss", "lt", 0.25, stage_name="train")
    assert rule.validate() is rule and rule.rule_name == "loss@train:lt:0.25"
    assert AlertRule("loss", "lt", 1, name="custom").rule_name == "custom"
