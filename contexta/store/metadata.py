"""``ctx.metadata_store``: write views over the ledger for metadata entities.

Every ``put_*`` is one ledger event (an upsert: the latest version wins, every version stays in
the ledger); ``get/find/exists/list`` read the projections.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..common.errors import NotFoundError, ReadOnlyStoreError, ValidationError
from ..contract import Project, Run, StableRef, StageExecution
from ..contract.timestamps import timestamp_micros
from ..events import PROJECT_PUT, RUN_PUT, STAGE_PUT, entity_event
from ..workspace import Workspace

__all__ = ["MetadataStore", "Repository", "parse_ref", "ref_arg"]


def parse_ref(value: Any, kind: str, where: str = "ref") -> StableRef:
    """A full ``kind:value`` ref argument (VE on bad text, builtin ValueError on wrong kind)."""
    if isinstance(value, StableRef):
        ref = value
    else:
        if not isinstance(value, str):
            raise ValidationError(
                f"{where} must be ref text like '{kind}:...', got {type(value).__name__} {value!r}.",
                code="stable_ref_invalid_text",
                details={"field": where, "value": repr(value)},
            )
        ref = StableRef.parse(value.strip())
    if ref.kind != kind:
        raise ValueError(f"{where} must be a {kind!r} ref, got {str(ref)!r}")
    return ref


def ref_arg(value: Any, kind: str, where: str = "ref") -> str:
    return str(parse_ref(value, kind, where))


def _time(value: str | None) -> int:
    return timestamp_micros(value) if value else -(2**62)


class Repository:
    """put/get/find/exists/list for one entity kind."""

    def __init__(
        self,
        store: MetadataStore,
        *,
        kind: str,
        projection: str,
        model: type[Any],
        ref_kind: str,
        ref_field: str,
        label: str,
    ) -> None:
        self._store = store
        self._kind = kind
        self._projection = projection
        self._model = model
        self._ref_kind = ref_kind
        self._ref_field = ref_field
        self._label = label

    @property
    def _ws(self) -> Workspace:
        return self._store._workspace

    def _put(self, model: Any, checks: Callable[[Any], None] | None = None) -> Any:
        self._store._check_writable()
        if not isinstance(model, self._model):
            raise ValidationError(
                f"Expected a {self._model.__name__}, got {type(model).__name__}.",
                code="metadata_invalid_model",
                details={"expected": self._model.__name__, "got": type(model).__name__},
            )
        if checks is not None:
            checks(model)
        self._ws.write((entity_event(model, self._ws.actor),))
        self._ws.remember(self._kind, str(getattr(model, self._ref_field)))
        return model

    def _all(self) -> list[Any]:
        table = self._ws.latest(self._projection)
        return self._ws.models(table, self._kind)

    def _find(self, ref: Any) -> Any | None:
        text = ref_arg(ref, self._ref_kind)
        table = self._ws.table(self._projection)
        if table.num_rows == 0:
            return None
        import pyarrow.compute as pc

        rows = table.filter(pc.equal(table.column("ref"), text))
        if rows.num_rows == 0:
            return None
        return self._ws.models(rows.slice(rows.num_rows - 1), self._kind)[0]

    def _get(self, ref: Any) -> Any:
        found = self._find(ref)
        if found is None:
            raise NotFoundError(
                f"No {self._label} {str(ref).strip()!r} in the metadata store.",
                code="metadata_row_not_found",
                details={"ref": str(ref)},
            )
        return found

    def _exists(self, ref: Any) -> bool:
        text = ref_arg(ref, self._ref_kind)
        return self._ws.exists(self._kind, self._projection, text)

    def _require(self, ref: Any, kind: str, projection: str, code: str, what: str) -> None:
        text = str(ref)
        if not self._ws.exists(kind, projection, text):
            raise NotFoundError(
                f"{what} {text!r} does not exist; put it first.",
                code=code,
                details={"ref": text},
            )


class ProjectRepository(Repository):
    def __init__(self, store: MetadataStore) -> None:
        super().__init__(store, kind=PROJECT_PUT, projection="projects", model=Project,
                         ref_kind="project", ref_field="project_ref", label="project")

    def put_project(self, project: Project) -> Project:
        return self._put(project)

    def get_project(self, project_ref: Any) -> Project:
        return self._get(project_ref)

    def find_project(self, project_ref: Any) -> Project | None:
        return self._find(project_ref)

    def exists_project(self, project_ref: Any) -> bool:
        return self._exists(project_ref)

    def list_projects(self) -> tuple[Project, ...]:
        return tuple(sorted(self._all(), key=lambda p: (p.name, str(p.project_ref))))


class RunRepository(Repository):
    def __init__(self, store: MetadataStore) -> None:
        super().__init__(store, kind=RUN_PUT, projection="runs", model=Run,
                         ref_kind="run", ref_field="run_ref", label="run")

    def put_run(self, run: Run) -> Run:
        return self._put(run, lambda r: self._require(
            r.project_ref, PROJECT_PUT, "projects", "metadata_missing_run_project", "Project"))

    def get_run(self, run_ref: Any) -> Run:
        return self._get(run_ref)

    def find_run(self, run_ref: Any) -> Run | None:
        return self._find(run_ref)

    def exists_run(self, run_ref: Any) -> bool:
        return self._exists(run_ref)

    def list_runs(self, project_ref: Any = None) -> tuple[Run, ...]:
        runs = self._all()
        if project_ref is None:
            return tuple(sorted(runs, key=lambda r: (str(r.project_ref), _time(r.started_at), str(r.run_ref))))
        text = ref_arg(project_ref, "project", "project_ref")
        chosen = [r for r in runs if str(r.project_ref) == text]
        return tuple(sorted(chosen, key=lambda r: (_time(r.started_at), str(r.run_ref))))


def stage_order(stage: Any) -> tuple[Any, ...]:
    order = stage.order_index
    return (order is None, order or 0, _time(stage.started_at), str(stage.stage_execution_ref))


class StageRepository(Repository):
    def __init__(self, store: MetadataStore) -> None:
        super().__init__(store, kind=STAGE_PUT, projection="stages", model=StageExecution,
                         ref_kind="stage", ref_field="stage_execution_ref", label="stage execution")

    def put_stage_execution(self, stage: StageExecution) -> StageExecution:
        return self._put(stage, lambda s: self._require(
            s.run_ref, RUN_PUT, "runs", "metadata_missing_stage_run", "Run"))

    def get_stage_execution(self, stage_ref: Any) -> StageExecution:
        return self._get(stage_ref)

    def find_stage_execution(self, stage_ref: Any) -> StageExecution | None:
        return self._find(stage_ref)

    def exists_stage_execution(self, stage_ref: Any) -> bool:
        return self._exists(stage_ref)

    def list_stage_executions(self, run_ref: Any) -> tuple[StageExecution, ...]:
        text = ref_arg(run_ref, "run", "run_ref")
        chosen = [s for s in self._all() if str(s.run_ref) == text]
        return tuple(sorted(chosen, key=stage_order))


class MetadataStore:
    """Repositories of metadata entities over one workspace."""

    def __init__(self, workspace: Workspace, *, read_only: bool = False) -> None:
        self._workspace = workspace
        self.read_only = read_only
        self.projects = ProjectRepository(self)
        self.runs = RunRepository(self)
        self.stages = StageRepository(self)
        self._extra_repositories()

    def _extra_repositories(self) -> None:
        """Hook for the repositories of the remaining entities."""

    def _check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyStoreError(
                "The metadata store is read-only (metadata.read_only is set).",
                code="metadata_store_read_only",
            )

    def close(self) -> None:
        """Commit buffered writes and save projections. The store stays usable afterwards:
        the next call reopens what it needs."""
        self._workspace.close()

    def flush(self) -> None:
        self._workspace.flush()

    def __enter__(self) -> MetadataStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
