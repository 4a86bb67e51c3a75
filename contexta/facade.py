"""``Contexta``: the public face over one workspace's ledger and projections.

The facade holds the workspace's lifetime, its stores, runtime capture, the data-quality writes
(tags, quarantines), ``watch`` and ``as_of``. Every query is answered by its read surface
(:class:`contexta.reads.Reads`, one snapshot per call), to which the query methods here hand
over; ``as_of(T)`` is that same surface pinned at T.

Stores, queries and the interpretation services are imported on first use, so importing
``contexta`` loads little more than the ledger, the projections and the contract.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import quality
from .events import QUARANTINE, RELEASE
from .reads import AsOfView, Reads
from .workspace import Workspace, check_root

if TYPE_CHECKING:
    import pyarrow as pa

    from ledger import VerifyReport

    from .bulk import BulkResult
    from .capture import BatchCaptureResult, CaptureResult, RunScope, RuntimeSession
    from .capture.dispatch import LocalCaptureFile
    from .capture.models import (
        ArtifactRegistrationEmission,
        EventEmission,
        MetricEmission,
        SpanEmission,
    )
    from .capture.scopes import (
        BatchScope,
        DeploymentScope,
        OperationScope,
        SampleScope,
        StageScope,
    )
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
    from .interpretation.trend_analysis import (
        ArtifactSizeTrend,
        DurationTrend,
        MetricTrend,
        StepSeries,
        TrendService,
    )
    from .interpretation.workspace_queries import QueryService
    from .interpretation.workspace_repository import WorkspaceRepository
    from .maintenance import Maintenance
    from .notebook import NotebookSurface
    from .store.artifact_store import ArtifactStore
    from .store.metadata_store import MetadataStore
    from .store.record_store import AppendResult, RecordStore

__all__ = ["Contexta"]


class Contexta:
    """A workspace: write through ``metadata_store`` and ``record_store``, query here.

    ``Contexta(config=UnifiedConfig(...))``, ``Contexta(workspace=PATH)``, ``Contexta()``.
    """

    def __init__(
        self,
        *,
        workspace: str | Path | None = None,
        profile: str | None = None,
        config: UnifiedConfig | Mapping[str, Any] | None = None,
        sinks: Iterable[Any] | None = None,
    ) -> None:
        from .config import resolve_config

        if isinstance(workspace, str) and workspace[:5].lower() == "s3://":
            from .remote_workspace import attach  # an object-store workspace's local cache

            workspace = attach(workspace)
        self.config: UnifiedConfig = resolve_config(config, workspace=workspace, profile=profile)
        self.profile = self.config.profile_name
        self.workspace = str(Path(self.config.workspace.root_path))
        self.sinks = tuple(sinks or ())
        check_root(self.workspace, must_exist=False)
        # 1.0's default local sink (no sinks= given): a copy under <cache>/capture, opened
        # when a capture first uses it (a process that only reads never loads the capture
        # package); its folder is resolved now, against the directory of the open
        self._capture_root = None if sinks is not None else _capture_root(self.config)
        records = self.config.records
        self._workspace = Workspace(
            self.workspace,
            durability=records.durability_mode,
            buffer_max_events=records.buffer_max_events,
            buffer_max_ms=records.buffer_max_ms,
            actor=getattr(self.config.capture, "producer", None),
        )
        self._reads = Reads(self._workspace, self.config)

    @cached_property
    def capture_file(self) -> LocalCaptureFile | None:
        """1.0's default local copy of captured records (None when ``sinks=`` was given)."""
        if self._capture_root is None:
            return None
        from .capture.dispatch import LocalCaptureFile

        return LocalCaptureFile(self._capture_root)

    def _flush_capture_file(self) -> None:
        opened = self.__dict__.get("capture_file")  # not opened: nothing captured to flush
        if opened is not None:
            opened.flush()

    @classmethod
    def open(cls, **kwargs: Any) -> Contexta:
        return cls(**kwargs)

    @property
    def project_name(self) -> str:
        return self.config.project_name

    # ------------------------------------------------------------------ stores

    @cached_property
    def metadata_store(self) -> MetadataStore:
        from .store.metadata_store import MetadataStore

        return MetadataStore(self._workspace, read_only=bool(self.config.metadata.read_only))

    @cached_property
    def record_store(self) -> RecordStore:
        from .store.record_store import RecordStore

        return RecordStore(self._workspace, read_only=bool(self.config.records.read_only))

    @cached_property
    def maintenance(self) -> Maintenance:
        """Rebuild, status, verify, repair (dry run first), publish and the head of this
        workspace: the public entry point of the CLI's maintenance commands."""
        from .maintenance import Maintenance

        return Maintenance(self._workspace)

    @cached_property
    def notebook(self) -> NotebookSurface:
        """1.0's notebook helpers bound to this workspace (``show_run``, ``compare_runs``...)."""
        from .notebook import NotebookSurface

        return NotebookSurface(self)

    # ------------------------------------------------------------------ lifetime

    def flush(self) -> AppendResult:
        """Commit everything buffered; returns once it is as durable as the mode promises."""
        self._flush_capture_file()
        return self.record_store.flush()

    def close(self) -> None:
        """Commit buffered writes and save projections (the object stays usable)."""
        self._flush_capture_file()
        self._workspace.close()

    def __enter__(self) -> Contexta:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def verify_ledger(self) -> VerifyReport:
        """Check every CRC, the chain, seq continuity and the head (read only)."""
        from ledger import verify

        self._workspace.flush()
        return verify(self._workspace.ledger.root)

    # ------------------------------------------------------------------ session

    @property
    def session(self) -> RuntimeSession:
        """The runtime session (open scopes of this ``Contexta``, per thread/task)."""
        session = self.__dict__.get("_capture_session")
        if session is None:
            from .capture import RuntimeSession

            with _SESSION_LOCK:  # two threads' first scopes must share one session
                session = self.__dict__.get("_capture_session")
                if session is None:
                    session = self.__dict__["_capture_session"] = RuntimeSession(self)
        return session

    def run(
        self,
        name: str,
        *,
        run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        code_revision: str | None = None,
        config_snapshot: Mapping[str, Any] | None = None,
        dataset_ref: str | None = None,
        resume: bool = False,
    ) -> RunScope:
        """Open a run scope: ``run:<project>.<slug of run_id or name>``, status ``open`` now,
        ``completed``/``failed`` when the ``with`` block ends (or on ``close()``). Every call
        starts a new run (a taken id gets a short suffix, the name stays); ``resume=True``
        or an existing ``run_id`` continues that run."""
        return self.session.start_run(
            name,
            run_id=run_id,
            tags=tags,
            metadata=metadata,
            code_revision=code_revision,
            config_snapshot=config_snapshot,
            dataset_ref=dataset_ref,
            resume=resume,
        )

    def deployment(
        self,
        name: str,
        *,
        deployment_ref: str | None = None,
        run_ref: str | None = None,
        artifact_ref: str | None = None,
        environment_snapshot_ref: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> DeploymentScope:
        """Open a deployment scope (a ``DeploymentExecution`` put open, closed at exit)."""
        return self.session.start_deployment(
            name,
            deployment_ref=deployment_ref,
            run_ref=run_ref,
            artifact_ref=artifact_ref,
            environment_snapshot_ref=environment_snapshot_ref,
            metadata=metadata,
        )

    def current_run(self) -> RunScope:
        return self.session.current_run()

    def current_stage(self) -> StageScope:
        return self.session.current_stage()

    def current_deployment(self) -> DeploymentScope:
        return self.session.current_deployment()

    def current_batch(self) -> BatchScope:
        return self.session.current_batch()

    def current_sample(self) -> SampleScope:
        return self.session.current_sample()

    def current_operation(self) -> OperationScope:
        return self.session.current_operation()

    # ------------------------------------------------------------------ emissions

    def metric(
        self,
        key: str,
        value: Any,
        *,
        unit: str | None = None,
        aggregation_scope: str = "step",
        tags: Mapping[str, str] | None = None,
        summary_basis: str = "raw_observation",
        step: int | None = None,
    ) -> CaptureResult:
        """A metric in the innermost open scope."""
        return self.session.capture_scope().metric(
            key,
            value,
            unit=unit,
            aggregation_scope=aggregation_scope,
            tags=tags,
            summary_basis=summary_basis,
            step=step,
        )

    def event(
        self,
        key: str,
        *,
        message: str,
        level: str = "info",
        attributes: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> CaptureResult:
        """A structured event in the innermost open scope."""
        return self.session.capture_scope().event(
            key, message=message, level=level, attributes=attributes, tags=tags
        )

    def span(
        self,
        name: str,
        *,
        started_at: str | None = None,
        ended_at: str | None = None,
        status: str = "ok",
        span_kind: str = "operation",
        attributes: Mapping[str, Any] | None = None,
        linked_refs: Sequence[str] | None = None,
        parent_span_id: str | None = None,
    ) -> Any:
        """A span in the innermost open scope (see ``BaseScope.span``)."""
        return self.session.capture_scope().span(
            name,
            started_at=started_at,
            ended_at=ended_at,
            status=status,
            span_kind=span_kind,
            attributes=attributes,
            linked_refs=linked_refs,
            parent_span_id=parent_span_id,
        )

    def register_artifact(
        self,
        artifact_kind: str,
        path: str,
        *,
        artifact_ref: str | None = None,
        attributes: Mapping[str, Any] | None = None,
        compute_hash: bool = True,
        allow_missing: bool = False,
    ) -> CaptureResult:
        """Record an artifact manifest for a file in the innermost open scope."""
        return self.session.capture_scope().register_artifact(
            artifact_kind,
            path,
            artifact_ref=artifact_ref,
            attributes=attributes,
            compute_hash=compute_hash,
            allow_missing=allow_missing,
        )

    def emit_metrics(
        self, emissions: Sequence[MetricEmission | Mapping[str, Any]]
    ) -> BatchCaptureResult:
        return self.session.capture_scope().emit_metrics(emissions)

    def log_metrics(self, data: Any = None, *, run: Any, **columns: Any) -> BulkResult:
        """Store many metric points of one run per call, as Arrow columns (see
        :func:`contexta.bulk.log_metrics`: ``stage``, ``key``/``keys``, ``steps``, ``values``,
        ``times``, ``unit``)."""
        from .bulk import log_metrics

        return log_metrics(self, data, run=run, **columns)

    def emit_events(
        self, emissions: Sequence[EventEmission | Mapping[str, Any]]
    ) -> BatchCaptureResult:
        return self.session.capture_scope().emit_events(emissions)

    def emit_spans(
        self, emissions: Sequence[SpanEmission | Mapping[str, Any]]
    ) -> BatchCaptureResult:
        return self.session.capture_scope().emit_spans(emissions)

    def register_artifacts(
        self, emissions: Sequence[ArtifactRegistrationEmission | Mapping[str, Any]]
    ) -> BatchCaptureResult:
        return self.session.capture_scope().register_artifacts(emissions)

    # ------------------------------------------------------------------ artifacts

    @property
    def artifact_store(self) -> ArtifactStore:
        """Artifact bodies under the workspace artifacts path; manifests in this ledger."""
        store = self.__dict__.get("_artifact_store")
        if store is None:
            from .store.artifact_store import ArtifactStore, VaultConfig

            config = VaultConfig.from_unified_config(self.config)
            store = ArtifactStore(config, workspace=self._workspace)
            self.__dict__["_artifact_store"] = store
        return store

    # ------------------------------------------------------------------ data quality

    def tag_runs(
        self,
        event_key: str,
        *,
        message: str,
        project_name: str | None = None,
        run_ids: Sequence[str] | None = None,
        started_after: datetime | str | None = None,
        started_before: datetime | str | None = None,
        level: str = "warning",
        attributes: Mapping[str, Any] | None = None,
    ) -> tuple[str, ...]:
        """Tag every run of ``project_name`` (or of ``run_ids``) whose ``started_at`` lies in
        the inclusive bounds with a StructuredEventRecord carrying ``event_key``, observed at
        the run's ``started_at`` and recorded now. Returns the tagged runs' canonical ids in
        ``list_runs`` order (runs already carrying this exact tag included; nothing is added
        for them)."""
        return quality.tag_runs(
            self,
            event_key,
            message=message,
            project_name=project_name,
            run_ids=run_ids,
            started_after=started_after,
            started_before=started_before,
            level=level,
            attributes=attributes,
        )

    def set_tags(self, run_id: str, tags: Mapping[str, Any]) -> str:
        """Set key/value tags of a stored run after the fact (``{"team": "growth"}``): a new
        version of the run, so history keeps the old one and ``as_of`` still answers with it;
        ``list_runs(tags=...)``, snapshots and ``runs`` show them. Returns the canonical id."""
        return quality.set_tags(self, run_id, tags)

    def quarantine_runs(self, run_ids: Iterable[str] | str, *, reason: str) -> tuple[str, ...]:
        """Quarantine runs: ``select_best_run`` never returns them unless asked. Returns the
        canonical ids (runs already quarantined get no second event)."""
        return quality.set_quarantine(self, run_ids, reason, QUARANTINE)

    def release_runs(self, run_ids: Iterable[str] | str, *, reason: str) -> tuple[str, ...]:
        """Lift a quarantine (the quarantine stays in history). Returns the canonical ids."""
        return quality.set_quarantine(self, run_ids, reason, RELEASE)

    # ------------------------------------------------------------------ time

    def as_of(self, when: datetime | str) -> AsOfView:
        """The read surface of the workspace as it stood at transaction time ``when``.

        Its answers never change later (see :func:`~contexta.history.final_as_of`): a
        ``when`` in the future is taken as now, and ``view.when`` tells the time used."""
        return AsOfView(self._workspace, self.config, quality.as_of_bound(self._workspace, when))

    def watch(
        self,
        run_id: str | None = None,
        *,
        kinds: Sequence[str] | str | None = None,
        keys: Sequence[str] | str | None = None,
        timeout: float | None = None,
        after_seq: int | None = None,
    ) -> Iterator[LedgerEvent]:
        """Events as any process commits them, in ledger order, each exactly once.

        Starts after the head committed when called (this process's buffered writes are
        committed first), or after ``after_seq`` when given. ``run_id`` (a run ref,
        ``<project>.<run>``, or a known bare run name), ``kinds`` (``record.metric`` or just
        ``metric``, ``run.put``, ...) and ``keys`` (metric/event keys) filter what is yielded.
        ``timeout=None`` follows until the consumer stops (``close()`` the iterator or break out
        of the loop); a number ends the iteration after that many seconds of waiting without a
        matching event. Woken by file events on ``<workspace>/ledger`` (watchfiles), with HEAD
        re-read at least every 250 ms in case an event is missed.
        """
        from .live import watch

        return watch(
            self._workspace,
            self.query_service.resolve_run,
            run_id,
            kinds=kinds,
            keys=keys,
            timeout=timeout,
            after_seq=after_seq,
        )

    # ------------------------------------------------------------------ reads (contexta.reads)

    @property
    def query_service(self) -> QueryService:
        """As :meth:`Reads.query_service` (one snapshot per call)."""
        return self._reads.query_service

    @property
    def repository(self) -> WorkspaceRepository:
        """As :meth:`Reads.repository` (one snapshot per call)."""
        return self._reads.repository

    @property
    def compare_service(self) -> CompareService:
        """As :meth:`Reads.compare_service` (one snapshot per call)."""
        return self._reads.compare_service

    @property
    def diagnostics_service(self) -> DiagnosticsService:
        """As :meth:`Reads.diagnostics_service` (one snapshot per call)."""
        return self._reads.diagnostics_service

    @property
    def lineage_service(self) -> LineageService:
        """As :meth:`Reads.lineage_service` (one snapshot per call)."""
        return self._reads.lineage_service

    @property
    def provenance_service(self) -> ProvenanceService:
        """As :meth:`Reads.provenance_service` (one snapshot per call)."""
        return self._reads.provenance_service

    @property
    def trend_service(self) -> TrendService:
        """As :meth:`Reads.trend_service` (one snapshot per call)."""
        return self._reads.trend_service

    @property
    def alert_service(self) -> AlertService:
        """As :meth:`Reads.alert_service` (one snapshot per call)."""
        return self._reads.alert_service

    @property
    def report_builder(self) -> ReportBuilder:
        """As :meth:`Reads.report_builder` (one snapshot per call)."""
        return self._reads.report_builder

    def list_projects(self) -> tuple[str, ...]:
        """As :meth:`Reads.list_projects` (one snapshot per call)."""
        return self._reads.list_projects()

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
        """As :meth:`Reads.list_runs` (one snapshot per call)."""
        return self._reads.list_runs(
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
        """As :meth:`Reads.get_run_snapshot` (one snapshot per call)."""
        return self._reads.get_run_snapshot(run_id)

    def compare_runs(self, left_run_id: str, right_run_id: str) -> RunComparison:
        """As :meth:`Reads.compare_runs` (one snapshot per call)."""
        return self._reads.compare_runs(left_run_id, right_run_id)

    def compare_multiple_runs(self, run_ids: Sequence[str]) -> MultiRunComparison:
        """As :meth:`Reads.compare_multiple_runs` (one snapshot per call)."""
        return self._reads.compare_multiple_runs(run_ids)

    def select_best_run(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        *,
        stage_name: str | None = None,
        higher_is_better: bool = True,
        include_quarantined: bool = False,
    ) -> str | None:
        """As :meth:`Reads.select_best_run` (one snapshot per call)."""
        return self._reads.select_best_run(
            run_ids,
            metric_key,
            stage_name=stage_name,
            higher_is_better=higher_is_better,
            include_quarantined=include_quarantined,
        )

    def quarantined_runs(self, project_name: str | None = None) -> tuple[str, ...]:
        """As :meth:`Reads.quarantined_runs` (one snapshot per call)."""
        return self._reads.quarantined_runs(project_name)

    def runs_with_event(self, event_key: str, project_name: str | None = None) -> tuple[str, ...]:
        """As :meth:`Reads.runs_with_event` (one snapshot per call)."""
        return self._reads.runs_with_event(event_key, project_name)

    def list_deployments(
        self, project_name: str | None = None, run_id: str | None = None
    ) -> tuple[DeploymentRecord, ...]:
        """As :meth:`Reads.list_deployments` (one snapshot per call)."""
        return self._reads.list_deployments(project_name, run_id)

    def list_batches(self, run_id: str, stage_id: str | None = None) -> tuple[BatchRecord, ...]:
        """As :meth:`Reads.list_batches` (one snapshot per call)."""
        return self._reads.list_batches(run_id, stage_id)

    def list_samples(
        self, run_id: str, stage_id: str | None = None, batch_id: str | None = None
    ) -> tuple[SampleRecord, ...]:
        """As :meth:`Reads.list_samples` (one snapshot per call)."""
        return self._reads.list_samples(run_id, stage_id, batch_id)

    def get_provenance(self, run_id: str) -> ProvenanceView | None:
        """As :meth:`Reads.get_provenance` (one snapshot per call)."""
        return self._reads.get_provenance(run_id)

    def get_artifact_origin(self, artifact_ref: str) -> RunSnapshot | None:
        """As :meth:`Reads.get_artifact_origin` (one snapshot per call)."""
        return self._reads.get_artifact_origin(artifact_ref)

    def diagnose_run(self, run_id: str) -> DiagnosticsResult:
        """As :meth:`Reads.diagnose_run` (one snapshot per call)."""
        return self._reads.diagnose_run(run_id)

    def traverse_lineage(
        self, subject_ref: str, *, direction: str | None = None, max_depth: int | None = None
    ) -> LineageTraversal:
        """As :meth:`Reads.traverse_lineage` (one snapshot per call)."""
        return self._reads.traverse_lineage(subject_ref, direction=direction, max_depth=max_depth)

    def audit_reproducibility(self, run_id: str) -> ReproducibilityAudit:
        """As :meth:`Reads.audit_reproducibility` (one snapshot per call)."""
        return self._reads.audit_reproducibility(run_id)

    def compare_environments(self, left_run_id: str, right_run_id: str) -> EnvironmentDiff:
        """As :meth:`Reads.compare_environments` (one snapshot per call)."""
        return self._reads.compare_environments(left_run_id, right_run_id)

    def get_metric_trend(
        self,
        metric_key: str,
        *,
        project_name: str | None = None,
        stage_name: str | None = None,
        query: RunListQuery | None = None,
    ) -> MetricTrend:
        """As :meth:`Reads.get_metric_trend` (one snapshot per call)."""
        return self._reads.get_metric_trend(
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
        """As :meth:`Reads.get_step_series` (one snapshot per call)."""
        return self._reads.get_step_series(
            run_id, metric_key, stage_id=stage_id, stage_name=stage_name
        )

    def get_stage_duration_trend(
        self, stage_name: str, *, project_name: str | None = None, query: RunListQuery | None = None
    ) -> DurationTrend:
        """As :meth:`Reads.get_stage_duration_trend` (one snapshot per call)."""
        return self._reads.get_stage_duration_trend(
            stage_name, project_name=project_name, query=query
        )

    def get_artifact_size_trend(
        self,
        artifact_kind: str,
        *,
        project_name: str | None = None,
        query: RunListQuery | None = None,
    ) -> ArtifactSizeTrend:
        """As :meth:`Reads.get_artifact_size_trend` (one snapshot per call)."""
        return self._reads.get_artifact_size_trend(
            artifact_kind, project_name=project_name, query=query
        )

    def evaluate_alerts(self, run_id: str, rules: Sequence[AlertRule]) -> tuple[AlertResult, ...]:
        """As :meth:`Reads.evaluate_alerts` (one snapshot per call)."""
        return self._reads.evaluate_alerts(run_id, rules)

    def evaluate_alerts_fleet(
        self,
        rules: Sequence[AlertRule],
        *,
        project_name: str | None = None,
        query: RunListQuery | None = None,
    ) -> AlertReport:
        """As :meth:`Reads.evaluate_alerts_fleet` (one snapshot per call)."""
        return self._reads.evaluate_alerts_fleet(rules, project_name=project_name, query=query)

    def build_snapshot_report(self, run_id: str) -> ReportDocument:
        """As :meth:`Reads.build_snapshot_report` (one snapshot per call)."""
        return self._reads.build_snapshot_report(run_id)

    def build_run_report(self, left_run_id: str, right_run_id: str) -> ReportDocument:
        """As :meth:`Reads.build_run_report` (one snapshot per call)."""
        return self._reads.build_run_report(left_run_id, right_run_id)

    def build_multi_run_report(self, run_ids: Sequence[str]) -> ReportDocument:
        """As :meth:`Reads.build_multi_run_report` (one snapshot per call)."""
        return self._reads.build_multi_run_report(run_ids)

    def build_project_summary_report(self, project_name: str) -> ReportDocument:
        """As :meth:`Reads.build_project_summary_report` (one snapshot per call)."""
        return self._reads.build_project_summary_report(project_name)

    def build_trend_report(
        self,
        metric_key: str,
        *,
        project_name: str | None = None,
        stage_name: str | None = None,
        query: RunListQuery | None = None,
    ) -> ReportDocument:
        """As :meth:`Reads.build_trend_report` (one snapshot per call)."""
        return self._reads.build_trend_report(
            metric_key, project_name=project_name, stage_name=stage_name, query=query
        )

    def build_alert_report(self, run_id: str, rules: Sequence[AlertRule]) -> ReportDocument:
        """As :meth:`Reads.build_alert_report` (one snapshot per call)."""
        return self._reads.build_alert_report(run_id, rules)

    def compare_report_documents(self, left: object, right: object) -> ReportComparison:
        """As :meth:`Reads.compare_report_documents` (one snapshot per call)."""
        return self._reads.compare_report_documents(left, right)

    def runs_table(self, project: str | None = None) -> pa.Table:
        """As :meth:`Reads.runs_table` (one snapshot per call)."""
        return self._reads.runs_table(project)

    def metrics_table(
        self,
        run_ids: Sequence[str] | str | None = None,
        keys: Sequence[str] | str | None = None,
        stages: Sequence[str] | str | None = None,
    ) -> pa.Table:
        """As :meth:`Reads.metrics_table` (one snapshot per call)."""
        return self._reads.metrics_table(run_ids, keys, stages)

    def events_table(
        self, kinds: Sequence[str] | str | None = None, run_id: str | None = None
    ) -> pa.Table:
        """As :meth:`Reads.events_table` (one snapshot per call)."""
        return self._reads.events_table(kinds, run_id)

    def history(
        self, run_id: str | None = None, *, kinds: Sequence[str] | str | None = None
    ) -> Iterator[LedgerEvent]:
        """As :meth:`Reads.history` (one snapshot per call)."""
        return self._reads.history(run_id, kinds=kinds)


#: Guards the creation of a ``Contexta``'s runtime session (once per object; an RLock, as the
#: session's creation may read other lazily created attributes of the same object).
_SESSION_LOCK = threading.RLock()


def _capture_root(config: UnifiedConfig) -> Path:
    """Where 1.0's local capture copy goes: ``<cache>/capture``, resolved."""
    cache = getattr(config.workspace, "cache_path", None)
    root = Path(cache) if cache is not None else Path(config.workspace.root_path) / "cache"
    return (root / "capture").expanduser().resolve()
