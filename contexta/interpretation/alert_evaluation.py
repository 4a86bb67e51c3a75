"""Threshold alerts on metrics (contract 4.9).

An :class:`AlertRule` compares a run's representative value of a metric (the trend
``metric_aggregation``: ``latest`` by default) with a threshold. As in 1.0 a rule is checked
when it is evaluated: an unknown operator raises ``ValidationError`` ``alert_invalid_operator``,
an unknown severity ``alert_invalid_severity``. A missing metric never triggers; the result
carries a ``alert_metric_missing:<key>`` warning instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..common.errors import InterpretationError, ValidationError
from .metric_series import (
    RunLister,
    check_aggregation,
    metric_by_run,
    representative,
    select_runs,
)
from .results import CompletenessNote, EvidenceLink, Result, RunRecord

__all__ = [
    "OPERATORS",
    "SEVERITIES",
    "AlertError",
    "AlertReport",
    "AlertResult",
    "AlertRule",
    "AlertService",
]

OPERATORS = ("gt", "lt", "gte", "lte", "eq", "ne")
SEVERITIES = ("info", "warning", "error")


class AlertError(InterpretationError):
    """An alert cannot be evaluated."""

    default_code = "alert_failed"


@dataclass(frozen=True, slots=True)
class AlertRule:
    """``<metric_key> <operator> <threshold>``, optionally on one stage (by name)."""

    metric_key: str
    operator: str
    threshold: float
    stage_name: str | None = None
    severity: str = "warning"
    name: str | None = None

    def validate(self) -> AlertRule:
        """Raise ``alert_invalid_operator`` / ``alert_invalid_severity``; return self."""
        if self.operator not in OPERATORS:
            raise ValidationError(
                f"AlertRule.operator must be one of {', '.join(OPERATORS)}, got {self.operator!r}.",
                code="alert_invalid_operator",
                details={"operator": self.operator},
            )
        if self.severity not in SEVERITIES:
            raise ValidationError(
                f"AlertRule.severity must be one of {', '.join(SEVERITIES)}, got {self.severity!r}.",
                code="alert_invalid_severity",
                details={"severity": self.severity},
            )
        return self

    @property
    def rule_name(self) -> str:
        """``name`` or ``<metric_key>[@<stage_name>]:<operator>:<threshold>``."""
        if self.name:
            return self.name
        stage = "" if self.stage_name is None else f"@{self.stage_name}"
        return f"{self.metric_key}{stage}:{self.operator}:{self.threshold}"

    def check(self, value: float) -> bool:
        """Whether ``value`` triggers this rule."""
        threshold = self.threshold
        op = self.operator
        if op == "gt":
            return value > threshold
        if op == "lt":
            return value < threshold
        if op == "gte":
            return value >= threshold
        if op == "lte":
            return value <= threshold
        if op == "eq":
            return value == threshold
        if op == "ne":
            return value != threshold
        self.validate()
        raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class AlertResult(Result):
    rule_name: str
    metric_key: str
    run_id: str
    actual_value: float | None
    threshold: float
    operator: str
    triggered: bool
    severity: str
    stage_name: str | None = None
    evidence_links: tuple[EvidenceLink, ...] = ()
    completeness_notes: tuple[CompletenessNote, ...] = ()


@dataclass(frozen=True, slots=True)
class AlertReport(Result):
    run_ids: tuple[str, ...]
    results: tuple[AlertResult, ...] = ()
    completeness_notes: tuple[CompletenessNote, ...] = ()

    @property
    def triggered(self) -> tuple[AlertResult, ...]:
        """The results whose rule fired."""
        return tuple(r for r in self.results if r.triggered)


class AlertService:
    """Evaluates rules against runs read through ``query_service``."""

    def __init__(
        self,
        query_service: Any,
        *,
        metric_aggregation: str = "latest",
        list_runs: RunLister | None = None,
    ) -> None:
        self.query_service = query_service
        self._list_runs = list_runs
        self.metric_aggregation = check_aggregation(metric_aggregation)

    def evaluate_alerts(self, run_id: str, rules: Iterable[AlertRule]) -> tuple[AlertResult, ...]:
        """One :class:`AlertResult` per rule, in rule order (InterpretationError
        ``query_run_not_found`` for an unknown run)."""
        qs = self.query_service
        run_ref = qs.resolve_run(run_id)
        run = qs.run_record(qs.run_model(run_ref))
        return tuple(self._evaluate((run,), tuple(rules)))

    def _evaluate(
        self, runs: Sequence[RunRecord], rules: tuple[AlertRule, ...]
    ) -> list[AlertResult]:
        """Results in run order, then rule order (each rule's metric read for all runs at once)."""
        if not runs:
            return []
        for rule in rules:
            rule.validate()
        refs = [r.run_id for r in runs]
        values = []
        for rule in rules:
            found = metric_by_run(self.query_service, refs, rule.metric_key, rule.stage_name)
            values.append(
                {
                    ref: representative([o.value for o in items], self.metric_aggregation)
                    for ref, items in found.items()
                }
            )
        results = []
        for run in runs:
            link = EvidenceLink("run", run.run_id, run.name)
            for rule, by_run in zip(rules, values, strict=True):
                value = by_run[run.run_id]
                notes: tuple[CompletenessNote, ...] = ()
                if value is None:
                    notes = (
                        CompletenessNote(
                            "warning",
                            f"alert_metric_missing:{rule.metric_key}",
                            {"run_id": run.run_id, "stage_name": rule.stage_name},
                        ),
                    )
                results.append(
                    AlertResult(
                        rule_name=rule.rule_name,
                        metric_key=rule.metric_key,
                        run_id=run.run_id,
                        actual_value=value,
                        threshold=rule.threshold,
                        operator=rule.operator,
                        triggered=False if value is None else rule.check(value),
                        severity=rule.severity,
                        stage_name=rule.stage_name,
                        evidence_links=(link,),
                        completeness_notes=notes,
                    )
                )
        return results

    def evaluate_alerts_fleet(
        self,
        rules: Iterable[AlertRule],
        *,
        query: Any = None,
        project_name: str | None = None,
    ) -> AlertReport:
        """Every rule on every run of ``list_runs(project_name, query=query)`` (run order, then
        rule order); note ``alert_population_empty`` (info) when there is no run."""
        rules = tuple(rules)
        runs = select_runs(self.query_service, project_name, query, self._list_runs)
        results = self._evaluate(runs, rules)
        notes: tuple[CompletenessNote, ...] = ()
        if not runs:
            notes = (
                CompletenessNote("info", "alert_population_empty", {"project_name": project_name}),
            )
        return AlertReport(tuple(r.run_id for r in runs), tuple(results), notes)
