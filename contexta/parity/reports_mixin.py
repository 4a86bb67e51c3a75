"""Facade methods mixed into ``Contexta`` (see ``contexta.facade``): trends, alerts, reports
and report comparison (contract 4.9, 4.10, 4.5), with 1.0's lazily created services (their
modules imported on first use, so importing ``contexta`` stays cheap)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..interpretation.alerts import AlertReport, AlertResult, AlertRule, AlertService
    from ..interpretation.reporting import ReportBuilder, ReportComparison, ReportDocument
    from ..interpretation.trends import (
        ArtifactSizeTrend,
        DurationTrend,
        MetricTrend,
        StepSeries,
        TrendService,
    )

__all__ = ["ReportsMixin"]


class ReportsMixin:
    """Mixed into ``Contexta``; uses ``self._workspace``, ``self.config`` and
    ``self.query_service``."""

    # The facade provides these (declared for type checkers only).
    config: Any
    query_service: Any
    list_runs: Any
    get_run_snapshot: Any
    compare_runs: Any
    compare_multiple_runs: Any

    # ------------------------------------------------------------------ services

    @cached_property
    def trend_service(self) -> TrendService:
        """Trends with ``config.interpretation.trend`` (window, aggregation)."""
        from ..interpretation.trends import TrendService

        return TrendService(
            self.query_service, config=self.config.interpretation.trend, list_runs=self.list_runs
        )

    @cached_property
    def alert_service(self) -> AlertService:
        """Alerts valued with ``config.interpretation.trend.metric_aggregation``."""
        from ..interpretation.alerts import AlertService

        return AlertService(
            self.query_service,
            metric_aggregation=self.config.interpretation.trend.metric_aggregation,
            list_runs=self.list_runs,
        )

    @cached_property
    def report_builder(self) -> ReportBuilder:
        from ..interpretation.reporting import ReportBuilder

        return ReportBuilder()

    # ------------------------------------------------------------------ trends

    def get_metric_trend(
        self,
        metric_key: str,
        *,
        project_name: str | None = None,
        stage_name: str | None = None,
        query: Any = None,
    ) -> MetricTrend:
        """One point per run (the last ``default_window_runs`` of ``list_runs(project_name,
        query=query)``) holding ``metric_key``; a note for each run without it."""
        return self.trend_service.get_metric_trend(
            metric_key, project_name=project_name, stage_name=stage_name, query=query
        )

    def get_step_series(
        self,
        run_id: str,
        metric_key: str,
        *,
        stage_id: str | None = None,
        stage_name: str | None = None,
    ) -> StepSeries:
        """The run's observations of ``metric_key`` in time order (``stage_name`` is resolved
        to the run's first stage of that name; no such stage means no stage filter, as in 1.0)."""
        if stage_id is None and stage_name is not None:
            snapshot = self.get_run_snapshot(run_id)
            stage_id = next((s.stage_id for s in snapshot.stages if s.name == stage_name), None)
        return self.trend_service.get_step_series(run_id, metric_key, stage_id=stage_id)

    def get_stage_duration_trend(
        self, stage_name: str, *, project_name: str | None = None, query: Any = None
    ) -> DurationTrend:
        """Duration in seconds of the stage named ``stage_name`` in each run."""
        return self.trend_service.get_stage_duration_trend(
            stage_name, project_name=project_name, query=query
        )

    def get_artifact_size_trend(
        self, artifact_kind: str, *, project_name: str | None = None, query: Any = None
    ) -> ArtifactSizeTrend:
        """``size_bytes`` of each artifact of ``artifact_kind`` in each run."""
        return self.trend_service.get_artifact_size_trend(
            artifact_kind, project_name=project_name, query=query
        )

    # ------------------------------------------------------------------ alerts

    def evaluate_alerts(self, run_id: str, rules: Sequence[AlertRule]) -> tuple[AlertResult, ...]:
        """One result per rule for one run."""
        return self.alert_service.evaluate_alerts(run_id, list(rules))

    def evaluate_alerts_fleet(
        self, rules: Sequence[AlertRule], *, project_name: str | None = None, query: Any = None
    ) -> AlertReport:
        """Every rule on every run of ``list_runs(project_name, query=query)``."""
        return self.alert_service.evaluate_alerts_fleet(
            list(rules), project_name=project_name, query=query
        )

    # ------------------------------------------------------------------ reports

    def build_snapshot_report(self, run_id: str) -> ReportDocument:
        """Snapshot and diagnostics of one run as a report."""
        from ..interpretation.reporting.builders import features_used

        snapshot = self.get_run_snapshot(run_id)
        diagnostics = self.diagnose_run(run_id)  # type: ignore[attr-defined]
        return self.report_builder.build_snapshot_report(
            snapshot, diagnostics, features_used=features_used(self.query_service)
        )

    def build_run_report(self, left_run_id: str, right_run_id: str) -> ReportDocument:
        """``compare_runs(left, right)`` with the left run's diagnostics as a report."""
        from ..interpretation.reporting.builders import features_used

        comparison = self.compare_runs(left_run_id, right_run_id)
        diagnostics = self.diagnose_run(left_run_id)  # type: ignore[attr-defined]
        snapshots = (self.get_run_snapshot(left_run_id), self.get_run_snapshot(right_run_id))
        return self.report_builder.build_run_report(
            comparison,
            diagnostics,
            snapshots=snapshots,
            features_used=features_used(self.query_service),
        )

    def build_multi_run_report(self, run_ids: Sequence[str]) -> ReportDocument:
        """``compare_multiple_runs(run_ids)`` as a report."""
        from ..interpretation.reporting.builders import features_used

        comparison = self.compare_multiple_runs(run_ids)
        return self.report_builder.build_multi_run_report(
            comparison,
            snapshots=tuple(self.get_run_snapshot(run_id) for run_id in comparison.run_ids),
            features_used=features_used(self.query_service),
        )

    def build_project_summary_report(self, project_name: str) -> ReportDocument:
        """The project's runs (``list_runs(project_name)`` order); an unknown or empty project
        gives ``No runs.`` and the note ``info: project_runs_empty``."""
        from ..interpretation.results import CompletenessNote

        runs = tuple(self.list_runs(project_name))
        notes: tuple[CompletenessNote, ...] = ()
        if not runs:
            notes = (
                CompletenessNote("info", "project_runs_empty", {"project_name": project_name}),
            )
        return self.report_builder.build_project_summary_report(
            project_name, runs=runs, notes=notes
        )

    def build_trend_report(
        self,
        metric_key: str,
        *,
        project_name: str | None = None,
        stage_name: str | None = None,
        query: Any = None,
    ) -> ReportDocument:
        """``get_metric_trend(...)`` as a report."""
        from ..interpretation.metric_series import select_runs

        trend = self.get_metric_trend(
            metric_key, project_name=project_name, stage_name=stage_name, query=query
        )
        service = self.trend_service
        total = len(select_runs(service.query_service, project_name, query, self.list_runs))
        return self.report_builder.build_trend_report(
            trend, runs_total=total, window=service.config.default_window_runs
        )

    def build_alert_report(self, run_id: str, rules: Sequence[AlertRule]) -> ReportDocument:
        """``evaluate_alerts(run_id, rules)`` as a report (Triggered, Passed)."""
        return self.report_builder.build_alert_report(self.evaluate_alerts(run_id, rules))

    def compare_report_documents(self, left: Any, right: Any) -> ReportComparison:
        """Section-by-section diff of two reports (documents or their dicts)."""
        from ..interpretation.reporting import compare_report_documents

        return compare_report_documents(left, right)
