"""The read surface of a workspace: every query ``Contexta`` answers, in one class.

Each public read answers from **one snapshot** (:meth:`contexta.workspace.Workspace.snapshot`):
the ledger head is read once, the projections are caught up to it at most once, and every table,
index and body the answer needs is taken at that head's seq. A read made of other reads (a
report is a comparison, diagnostics and snapshots) shares the one snapshot, so no answer mixes
facts folded at different heads while another process writes.

``Reads(workspace, config)`` answers as of now; ``Reads(workspace, config, as_of_us)`` answers
as of a past transaction time, which is what :meth:`Contexta.as_of` returns (an
:class:`AsOfView`, the same class pinned at that time and refusing writes).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, NoReturn

from .common.errors import ReadOnlyStoreError
from .workspace import Snapshot, Workspace

if TYPE_CHECKING:
    import pyarrow as pa

    from .config.models import UnifiedConfig
    from .history import LedgerEvent
    from .interpretation.alert_evaluation import AlertReport, AlertResult, AlertRule, AlertService
    from .interpretation.lineage_traversal import LineageService, LineageTraversal
    from .interpretation.provenance_audit import (
        EnvironmentDiff,
        ProvenanceService,
        ReproducibilityAudit,
    )
    from .interpretation.reporting import ReportBuilder, ReportComparison, ReportDocument
    from .interpretation.results import (
        BatchRecord,
        DeploymentRecord,
        MultiRunComparison,
        ProvenanceView,
        RunComparison,
        RunRecord,
        RunSnapshot,
        SampleRecord,
    )
    from .interpretation.run_comparison import CompareService
    from .interpretation.run_diagnostics import DiagnosticsResult, DiagnosticsService
    from .interpretation.run_list import MetricCondition, RunListQuery, TimeRange
    from .interpretation.run_lookup import RunLookup
    from .interpretation.trend_analysis import (
        ArtifactSizeTrend,
        DurationTrend,
        MetricTrend,
        StepSeries,
        TrendService,
    )
    from .interpretation.workspace_queries import QueryService
    from .interpretation.workspace_repository import WorkspaceRepository

__all__ = ["AsOfView", "Reads"]


class Reads:
    """Every query over ``workspace`` as of ``as_of_us`` (None: now), each from one snapshot."""

    def __init__(
        self, workspace: Workspace, config: UnifiedConfig, as_of_us: int | None = None
    ) -> None:
        self._workspace = workspace
        self.config = config
        self.as_of_us = as_of_us

    def _snapshot(self) -> AbstractContextManager[Snapshot]:
        return self._workspace.snapshot()

    # ------------------------------------------------------------------ services (1.0 names)

    @cached_property
    def query_service(self) -> QueryService:
        """The query service every read here goes through (as of ``as_of_us``)."""
        from .interpretation.workspace_queries import QueryService

        return QueryService(self._workspace, self.config, self.as_of_us)

    def _run_lookup(self) -> RunLookup:
        """The query service when this view has one, else the run lookup alone (``history``
        of one run resolves its id without loading the query service and its result types)."""
        found = self.__dict__.get("query_service") or self.__dict__.get("_lookup")
        if found is None:
            from .interpretation.run_lookup import RunLookup

            found = self.__dict__["_lookup"] = RunLookup(self._workspace, self.as_of_us)
        return found  # type: ignore[no-any-return]

    @cached_property
    def repository(self) -> WorkspaceRepository:
        """1.0's composite repository over this workspace (what the services read)."""
        from .interpretation.workspace_repository import WorkspaceRepository

        return WorkspaceRepository(self.query_service)

    @cached_property
    def compare_service(self) -> CompareService:
        """1.0's ``CompareService`` over this workspace, with the configured policy."""
        from .interpretation.run_comparison import CompareService

        return CompareService(self.query_service, config=self.config.interpretation.comparison)

    @property
    def diagnostics_service(self) -> DiagnosticsService:
        """Diagnostics over ``query_service`` with ``config.interpretation.diagnostics``."""
        from .interpretation.run_diagnostics import DiagnosticsService

        policy = getattr(getattr(self.config, "interpretation", None), "diagnostics", None)
        return DiagnosticsService(self.query_service, config=policy)

    @property
    def lineage_service(self) -> LineageService:
        from .interpretation.lineage_traversal import LineageService

        return LineageService(self.query_service)

    @property
    def provenance_service(self) -> ProvenanceService:
        from .interpretation.provenance_audit import ProvenanceService

        return ProvenanceService(self.query_service)

    @cached_property
    def trend_service(self) -> TrendService:
        """Trends with ``config.interpretation.trend`` (window, aggregation)."""
        from .interpretation.trend_analysis import TrendService

        return TrendService(
            self.query_service, config=self.config.interpretation.trend, list_runs=self.list_runs
        )

    @cached_property
    def alert_service(self) -> AlertService:
        """Alerts valued with ``config.interpretation.trend.metric_aggregation``."""
        from .interpretation.alert_evaluation import AlertService

        return AlertService(
            self.query_service,
            metric_aggregation=self.config.interpretation.trend.metric_aggregation,
            list_runs=self.list_runs,
        )

    @cached_property
    def report_builder(self) -> ReportBuilder:
        from .interpretation.reporting import ReportBuilder

        return ReportBuilder()

    # ------------------------------------------------------------------ runs

    def list_projects(self) -> tuple[str, ...]:
        with self._snapshot():
            return self.query_service.list_projects()

    def list_runs(
        self,
        project_name: str | None = None,
        *,
        status: str | None = None,
        tags: dict[str, str] | None = None,
        metric_conditions: Sequence[MetricCondition] = (),
        time_range: TimeRange | None = None,
        limit: int | None = None,
        offset: int = 0,
        sort_by: str = "started_at",
        sort_desc: bool = True,
        query: RunListQuery | None = None,
    ) -> tuple[RunRecord, ...]:
        """Runs of ``project_name`` (or all), in 1.0's order, filtered by 1.0's options."""
        from .interpretation.run_list import list_runs

        with self._snapshot():
            return list_runs(
                self.query_service,
                project_name,
                status=status,
                tags=tags,
                metric_conditions=metric_conditions,
                time_range=time_range,
                limit=limit,
                offset=offset,
                sort_by=sort_by,
                sort_desc=sort_desc,
                query=query,
            )

    def get_run_snapshot(self, run_id: str) -> RunSnapshot:
        with self._snapshot():
            return self.query_service.snapshot(run_id)

    def compare_runs(self, left_run_id: str, right_run_id: str) -> RunComparison:
        with self._snapshot():
            return self.query_service.compare_runs(left_run_id, right_run_id)

    def compare_multiple_runs(self, run_ids: Sequence[str]) -> MultiRunComparison:
        with self._snapshot():
            return self.query_service.compare_multiple_runs(run_ids)

    def select_best_run(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        *,
        stage_name: str | None = None,
        higher_is_better: bool = True,
        include_quarantined: bool = False,
    ) -> str | None:
        with self._snapshot():
            return self.query_service.select_best_run(
                run_ids,
                metric_key,
                stage_name=stage_name,
                higher_is_better=higher_is_better,
                include_quarantined=include_quarantined,
            )

    def quarantined_runs(self, project_name: str | None = None) -> tuple[str, ...]:
        """Runs quarantined now (as of), in ``list_runs`` order."""
        with self._snapshot():
            return self.query_service.quarantined_runs(project_name)

    def runs_with_event(self, event_key: str, project_name: str | None = None) -> tuple[str, ...]:
        """Runs carrying a structured event with ``event_key`` (the event-key index)."""
        with self._snapshot():
            return self.query_service.runs_with_event(event_key, project_name)

    # ------------------------------------------------------------------ entities

    def list_deployments(
        self, project_name: str | None = None, run_id: str | None = None
    ) -> tuple[DeploymentRecord, ...]:
        """Deployments of a run (``run_id`` wins), of a project (by deployment name,
        order_index, started_at, ref), or all; an unknown project gives ``()``, an
        unresolvable bare run id a builtin ``LookupError``."""
        from .interpretation import entities

        with self._snapshot():
            return entities.list_deployments(self.query_service, project_name, run_id)

    def list_batches(self, run_id: str, stage_id: str | None = None) -> tuple[BatchRecord, ...]:
        """Batches of a run (stage_ref, order_index, started_at, ref) or of one stage;
        ``()`` for an unknown full run ref, ``LookupError`` for an unresolvable bare id."""
        from .interpretation import entities

        with self._snapshot():
            return entities.list_batches(self.query_service, run_id, stage_id)

    def list_samples(
        self, run_id: str, stage_id: str | None = None, batch_id: str | None = None
    ) -> tuple[SampleRecord, ...]:
        """Samples of a run, a stage or a batch (contract 1.3 resolution and errors)."""
        from .interpretation import entities

        with self._snapshot():
            return entities.list_samples(self.query_service, run_id, stage_id, batch_id)

    def get_provenance(self, run_id: str) -> ProvenanceView | None:
        """The run snapshot's provenance (latest by asserted_at), or None."""
        with self._snapshot():
            return self.query_service.snapshot(run_id).provenance

    def get_artifact_origin(self, artifact_ref: str) -> RunSnapshot | None:
        """The snapshot of the run that produced ``artifact_ref`` (full ref or a unique
        suffix), or None when no such artifact is known."""
        from .interpretation import entities

        with self._snapshot():
            return entities.artifact_origin(self.query_service, artifact_ref)

    # ------------------------------------------------------------------ interpretation

    def diagnose_run(self, run_id: str) -> DiagnosticsResult:
        """Issues of a run (contract 4.6; degraded records keep their payload severity)."""
        with self._snapshot():
            return self.diagnostics_service.diagnose_run(run_id)

    def traverse_lineage(
        self, subject_ref: str, *, direction: str | None = None, max_depth: int | None = None
    ) -> LineageTraversal:
        """Breadth-first lineage from ``subject_ref`` (contract 4.7; ``upstream`` and
        ``downstream`` are aliases of ``inbound`` and ``outbound``)."""
        with self._snapshot():
            return self.lineage_service.traverse_lineage(
                subject_ref, direction=direction, max_depth=max_depth
            )

    def audit_reproducibility(self, run_id: str) -> ReproducibilityAudit:
        """Whether a run has provenance and an environment snapshot (contract 4.8)."""
        with self._snapshot():
            return self.provenance_service.audit_reproducibility(run_id)

    def compare_environments(self, left_run_id: str, right_run_id: str) -> EnvironmentDiff:
        """Differences between the two runs' latest environment snapshots."""
        with self._snapshot():
            return self.provenance_service.compare_environments(left_run_id, right_run_id)

    # ------------------------------------------------------------------ trends and alerts

    def get_metric_trend(
        self,
        metric_key: str,
        *,
        project_name: str | None = None,
        stage_name: str | None = None,
        query: RunListQuery | None = None,
    ) -> MetricTrend:
        """One point per run (the last ``default_window_runs`` of ``list_runs(project_name,
        query=query)``) holding ``metric_key``; a note for each run without it."""
        with self._snapshot():
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
        with self._snapshot():
            if stage_id is None and stage_name is not None:
                snapshot = self.get_run_snapshot(run_id)
                stage_id = next((s.stage_id for s in snapshot.stages if s.name == stage_name), None)
            return self.trend_service.get_step_series(run_id, metric_key, stage_id=stage_id)

    def get_stage_duration_trend(
        self, stage_name: str, *, project_name: str | None = None, query: RunListQuery | None = None
    ) -> DurationTrend:
        """Duration in seconds of the stage named ``stage_name`` in each run."""
        with self._snapshot():
            return self.trend_service.get_stage_duration_trend(
                stage_name, project_name=project_name, query=query
            )

    def get_artifact_size_trend(
        self,
        artifact_kind: str,
        *,
        project_name: str | None = None,
        query: RunListQuery | None = None,
    ) -> ArtifactSizeTrend:
        """``size_bytes`` of each artifact of ``artifact_kind`` in each run."""
        with self._snapshot():
            return self.trend_service.get_artifact_size_trend(
                artifact_kind, project_name=project_name, query=query
            )

    def evaluate_alerts(self, run_id: str, rules: Sequence[AlertRule]) -> tuple[AlertResult, ...]:
        """One result per rule for one run."""
        with self._snapshot():
            return self.alert_service.evaluate_alerts(run_id, list(rules))

    def evaluate_alerts_fleet(
        self,
        rules: Sequence[AlertRule],
        *,
        project_name: str | None = None,
        query: RunListQuery | None = None,
    ) -> AlertReport:
        """Every rule on every run of ``list_runs(project_name, query=query)``."""
        with self._snapshot():
            return self.alert_service.evaluate_alerts_fleet(
                list(rules), project_name=project_name, query=query
            )

    # ------------------------------------------------------------------ reports

    def build_snapshot_report(self, run_id: str) -> ReportDocument:
        """Snapshot and diagnostics of one run as a report."""
        from .interpretation.reporting.builders import features_used

        with self._snapshot():
            snapshot = self.get_run_snapshot(run_id)
            diagnostics = self.diagnose_run(run_id)
            return self.report_builder.build_snapshot_report(
                snapshot, diagnostics, features_used=features_used(self.query_service)
            )

    def build_run_report(self, left_run_id: str, right_run_id: str) -> ReportDocument:
        """``compare_runs(left, right)`` with the left run's diagnostics as a report."""
        from .interpretation.reporting.builders import features_used

        with self._snapshot():
            comparison = self.compare_runs(left_run_id, right_run_id)
            diagnostics = self.diagnose_run(left_run_id)
            snapshots = (self.get_run_snapshot(left_run_id), self.get_run_snapshot(right_run_id))
            return self.report_builder.build_run_report(
                comparison,
                diagnostics,
                snapshots=snapshots,
                features_used=features_used(self.query_service),
            )

    def build_multi_run_report(self, run_ids: Sequence[str]) -> ReportDocument:
        """``compare_multiple_runs(run_ids)`` as a report."""
        from .interpretation.reporting.builders import features_used

        with self._snapshot():
            comparison = self.compare_multiple_runs(run_ids)
            return self.report_builder.build_multi_run_report(
                comparison,
                snapshots=tuple(self.get_run_snapshot(run_id) for run_id in comparison.run_ids),
                features_used=features_used(self.query_service),
            )

    def build_project_summary_report(self, project_name: str) -> ReportDocument:
        """The project's runs (``list_runs(project_name)`` order); an unknown or empty project
        gives ``No runs.`` and the note ``info: project_runs_empty``."""
        from .interpretation.results import CompletenessNote

        with self._snapshot():
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
        query: RunListQuery | None = None,
    ) -> ReportDocument:
        """``get_metric_trend(...)`` as a report."""
        from .interpretation.metric_series import select_runs

        with self._snapshot():
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

    def compare_report_documents(self, left: object, right: object) -> ReportComparison:
        """Section-by-section diff of two reports (documents or their dicts)."""
        from .interpretation.reporting import compare_report_documents

        return compare_report_documents(left, right)

    # ------------------------------------------------------------------ tables and history

    def runs_table(self, project: str | None = None) -> pa.Table:
        """One row per run as a ``pyarrow.Table`` (see :mod:`contexta.tables`)."""
        from .tables import runs_table

        with self._snapshot():
            return runs_table(self.query_service, project)

    def metrics_table(
        self,
        run_ids: Sequence[str] | str | None = None,
        keys: Sequence[str] | str | None = None,
        stages: Sequence[str] | str | None = None,
    ) -> pa.Table:
        """Every metric point, long form, as a ``pyarrow.Table`` (see :mod:`contexta.tables`)."""
        from .tables import metrics_table

        with self._snapshot():
            return metrics_table(self.query_service, run_ids, keys, stages)

    def events_table(
        self, kinds: Sequence[str] | str | None = None, run_id: str | None = None
    ) -> pa.Table:
        """The ledger's events as a ``pyarrow.Table`` (see :mod:`contexta.tables`)."""
        from .tables import events_table

        with self._snapshot():
            return events_table(self.query_service, kinds, run_id)

    def history(
        self, run_id: str | None = None, *, kinds: Sequence[str] | str | None = None
    ) -> Iterator[LedgerEvent]:
        """Every event in ledger order (optionally one run's, or some kinds only), up to the
        head committed when called (and, on a view of the past, its transaction time)."""
        from .history import iter_history
        from .live import normalise_kinds

        with self._snapshot() as snap:
            run_ref = self._run_lookup().resolve_run(run_id) if run_id is not None else None
            return iter_history(
                self._workspace,
                run_ref=run_ref,
                kinds=normalise_kinds(kinds),
                upto_us=self.as_of_us,
                head=snap.head,
            )


class AsOfView(Reads):
    """The workspace as it stood at one transaction time: every read of the live facade
    (runs, snapshots, comparisons, entities, diagnostics, lineage, trends, alerts, reports),
    answered from the facts committed at or before it. Read only: writes raise
    :class:`ReadOnlyStoreError` (code ``as_of_view_read_only``)."""

    as_of_us: int

    def __init__(self, workspace: Workspace, config: UnifiedConfig, as_of_us: int) -> None:
        super().__init__(workspace, config, as_of_us)

    @property
    def when(self) -> datetime:
        return datetime.fromtimestamp(self.as_of_us / 1_000_000, UTC)

    def __repr__(self) -> str:
        return f"AsOfView({self.when.isoformat()})"

    def _read_only(self, *args: object, **kwargs: object) -> NoReturn:
        raise ReadOnlyStoreError(
            f"{self!r} is a view of the past and cannot be written to; write through the live "
            "Contexta instead.",
            code="as_of_view_read_only",
        )

    def tag_runs(self, *args: object, **kwargs: object) -> NoReturn:
        self._read_only()

    def quarantine_runs(self, *args: object, **kwargs: object) -> NoReturn:
        self._read_only()

    def release_runs(self, *args: object, **kwargs: object) -> NoReturn:
        self._read_only()

    @property
    def metadata_store(self) -> _ReadOnlyStore:
        return _ReadOnlyStore(self)

    @property
    def record_store(self) -> _ReadOnlyStore:
        return _ReadOnlyStore(self)


class _ReadOnlyStore:
    """Stands in for a store on an as-of view: every attribute access is refused."""

    def __init__(self, view: AsOfView) -> None:
        self._view = view

    def __getattr__(self, name: str) -> NoReturn:
        self._view._read_only()
