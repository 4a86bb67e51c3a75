"""``Contexta``: the public face over one workspace's ledger and projections.

Stores, queries and the interpretation services are imported on first use, so importing
``contexta`` loads little more than the ledger, the projections and the contract.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .common.errors import ValidationError
from .live import LiveMixin, normalise_kinds
from .parity.capture_mixin import CaptureMixin
from .parity.entities_mixin import EntityQueriesMixin
from .parity.reports_mixin import ReportsMixin
from .quality import QualityMixin
from .workspace import Workspace, check_root

if TYPE_CHECKING:
    from .history import LedgerEvent
    from .interpretation.queries import QueryService
    from .interpretation.results import MultiRunComparison, RunComparison, RunRecord, RunSnapshot
    from .maintenance import Maintenance
    from .store.metadata import MetadataStore
    from .store.records import RecordStore

__all__ = ["Contexta"]


class Contexta(QualityMixin, EntityQueriesMixin, ReportsMixin, CaptureMixin, LiveMixin):
    """A workspace: write through ``metadata_store`` and ``record_store``, query here.

    ``Contexta(config=UnifiedConfig(...))``, ``Contexta(workspace=PATH)``, ``Contexta()``.
    """

    def __init__(
        self,
        *,
        workspace: str | Path | None = None,
        profile: str | None = None,
        config: Any = None,
        sinks: Any = None,
    ) -> None:
        from .config import resolve_config

        if isinstance(workspace, str) and workspace[:5].lower() == "s3://":
            from .remote_workspace import attach  # an object-store workspace's local cache

            workspace = attach(workspace)
        self.config = resolve_config(config, workspace=workspace, profile=profile)
        self.profile = self.config.profile_name
        self.workspace = str(Path(self.config.workspace.root_path))
        self.sinks = tuple(sinks or ())
        check_root(self.workspace, must_exist=False)
        # 1.0's default local sink (no sinks= given): a copy under <cache>/capture
        self.capture_file: Any = None if sinks is not None else _capture_file(self.config)
        records = self.config.records
        self._workspace = Workspace(
            self.workspace,
            durability=records.durability_mode,
            buffer_max_events=records.buffer_max_events,
            buffer_max_ms=records.buffer_max_ms,
            actor=getattr(self.config.capture, "producer", None),
        )

    @classmethod
    def open(cls, **kwargs: Any) -> Contexta:
        return cls(**kwargs)

    @property
    def project_name(self) -> str:
        return self.config.project_name

    # ------------------------------------------------------------------ stores

    @cached_property
    def metadata_store(self) -> MetadataStore:
        from .store.metadata import MetadataStore

        return MetadataStore(self._workspace, read_only=bool(self.config.metadata.read_only))

    @cached_property
    def record_store(self) -> RecordStore:
        from .store.records import RecordStore

        return RecordStore(self._workspace, read_only=bool(self.config.records.read_only))

    @cached_property
    def query_service(self) -> QueryService:
        from .interpretation.fast_paths import FastQueryService

        return FastQueryService(self._workspace, self.config)

    @cached_property
    def repository(self) -> Any:
        """1.0's composite repository over this workspace (what the services read)."""
        from .interpretation.repositories import WorkspaceRepository

        return WorkspaceRepository(self.query_service)

    @cached_property
    def compare_service(self) -> Any:
        """1.0's ``CompareService`` over this workspace, with the configured policy."""
        from .interpretation.compare import CompareService

        return CompareService(self.query_service, config=self.config.interpretation.comparison)

    @cached_property
    def maintenance(self) -> Maintenance:
        """Rebuild, status, verify, repair (dry run first), publish and the head of this
        workspace: the public entry point of the CLI's maintenance commands."""
        from .maintenance import Maintenance

        return Maintenance(self._workspace)

    @cached_property
    def notebook(self) -> Any:
        """1.0's notebook helpers bound to this workspace (``show_run``, ``compare_runs``...)."""
        from .notebook import NotebookSurface

        return NotebookSurface(self)

    # ------------------------------------------------------------------ lifetime

    def flush(self) -> Any:
        """Commit everything buffered; returns once it is as durable as the mode promises."""
        if self.capture_file is not None:
            self.capture_file.flush()
        return self.record_store.flush()

    def close(self) -> None:
        """Commit buffered writes and save projections (the object stays usable)."""
        if self.capture_file is not None:
            self.capture_file.flush()
        self._workspace.close()

    def __enter__(self) -> Contexta:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ queries

    def list_projects(self) -> tuple[str, ...]:
        return self.query_service.list_projects()

    def list_runs(
        self,
        project_name: str | None = None,
        *,
        status: str | None = None,
        tags: Any = None,
        metric_conditions: Sequence[Any] = (),
        time_range: Any = None,
        limit: int | None = None,
        offset: int = 0,
        sort_by: str = "started_at",
        sort_desc: bool = True,
        query: Any = None,
    ) -> tuple[RunRecord, ...]:
        from .interpretation.run_list import list_runs

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
        return self.query_service.snapshot(run_id)

    def compare_runs(self, left_run_id: str, right_run_id: str) -> RunComparison:
        return self.query_service.compare_runs(left_run_id, right_run_id)

    def compare_multiple_runs(self, run_ids: Sequence[str]) -> MultiRunComparison:
        return self.query_service.compare_multiple_runs(_run_ids(run_ids, "compare_multiple_runs"))

    def select_best_run(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        *,
        stage_name: str | None = None,
        higher_is_better: bool = True,
        include_quarantined: bool = False,
    ) -> str | None:
        return self.query_service.select_best_run(
            _run_ids(run_ids, "select_best_run"),
            metric_key,
            stage_name=stage_name,
            higher_is_better=higher_is_better,
            include_quarantined=include_quarantined,
        )

    # ------------------------------------------------------------------ tables

    def runs_table(self, project: str | None = None) -> Any:
        """One row per run as a ``pyarrow.Table`` (see :mod:`contexta.tables`)."""
        from .tables import runs_table

        return runs_table(self.query_service, project)

    def metrics_table(self, run_ids: Any = None, keys: Any = None, stages: Any = None) -> Any:
        """Every metric point, long form, as a ``pyarrow.Table`` (see :mod:`contexta.tables`)."""
        from .tables import metrics_table

        return metrics_table(self.query_service, run_ids, keys, stages)

    def events_table(self, kinds: Any = None, run_id: Any = None) -> Any:
        """The ledger's events as a ``pyarrow.Table`` (see :mod:`contexta.tables`)."""
        from .tables import events_table

        return events_table(self.query_service, kinds, run_id)

    # ------------------------------------------------------------------ history

    def history(
        self, run_id: str | None = None, *, kinds: Sequence[str] | str | None = None
    ) -> Iterator[LedgerEvent]:
        """Every event in ledger order (optionally one run's, or some kinds only)."""
        from .history import iter_history

        run_ref = self.query_service.resolve_run(run_id) if run_id is not None else None
        return iter_history(self._workspace, run_ref=run_ref, kinds=normalise_kinds(kinds))

    def verify_ledger(self) -> Any:
        """Check every CRC, the chain, seq continuity and the head (read only)."""
        from ledger import verify

        self._workspace.flush()
        return verify(self._workspace.ledger.root)


def _run_ids(run_ids: Any, method: str) -> Any:
    """``run_ids`` when it is a collection of run ids, else a typed error naming it."""
    if (
        run_ids is None
        or isinstance(run_ids, (bytes, int, float))
        or not hasattr(run_ids, "__iter__")
    ):
        raise ValidationError(
            f"{method}(run_ids=...) takes a list of run ids, got {run_ids!r}.",
            code="query_invalid_run_ids",
            details={"field": "run_ids", "value": repr(run_ids)},
        )
    return run_ids


def _capture_file(config: Any) -> Any:
    from .capture.dispatch import LocalCaptureFile

    cache = getattr(config.workspace, "cache_path", None)
    root = Path(cache) if cache is not None else Path(config.workspace.root_path) / "cache"
    return LocalCaptureFile(root / "capture")
