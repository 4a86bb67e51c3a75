"""The repository base of the metadata store and the project, run and stage repositories:
``put/get/find/exists/list`` over one entity kind's projection, with 1.0's put-time checks.

A repository is bound to a :class:`RepositoryHost` (the :class:`~.metadata.MetadataStore`): the
workspace it writes to, its read-only rule and its ref registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

import pyarrow.compute as pc

from projections.query import take_rows

from ..common.errors import NotFoundError, ValidationError
from ..contract import Project, Run, StableRef, StageExecution
from ..events import (
    BATCH_PUT,
    DEPLOYMENT_PUT,
    ENVIRONMENT_PUT,
    PROJECT_PUT,
    PROVENANCE_PUT,
    RELATION_PUT,
    RUN_PUT,
    SAMPLE_PUT,
    STAGE_PUT,
    entity_event,
)
from ..ordering import instant as _time
from ..ordering import stage_order
from ..ordering import string_scalar as _s
from ..workspace import Workspace

__all__ = [
    "ENTITY_TABLES",
    "ProjectRepository",
    "Repository",
    "RepositoryHost",
    "RunRepository",
    "StageRepository",
    "parse_ref",
    "ref_arg",
    "registered_refs",
]


class RepositoryHost(Protocol):
    """What a repository asks of its store."""

    _workspace: Workspace
    read_only: bool

    def _check_writable(self) -> None: ...

    def _require_known_ref(self, text: str) -> None: ...


#: ref kind -> (event kind, projection) of the entities a relation endpoint may name
ENTITY_TABLES: dict[str, tuple[str, str]] = {
    "project": (PROJECT_PUT, "projects"),
    "run": (RUN_PUT, "runs"),
    "deployment": (DEPLOYMENT_PUT, "deployments"),
    "stage": (STAGE_PUT, "stages"),
    "batch": (BATCH_PUT, "batches"),
    "sample": (SAMPLE_PUT, "samples"),
    "environment": (ENVIRONMENT_PUT, "environments"),
    "relation": (RELATION_PUT, "relations"),
    "provenance": (PROVENANCE_PUT, "provenance"),
}


def parse_ref(value: Any, kind: str | None, where: str = "ref") -> StableRef:
    """A full ``kind:value`` ref argument (VE on bad text, builtin ValueError on wrong kind;
    any kind when ``kind`` is None)."""
    if isinstance(value, StableRef):
        ref = value
    else:
        if not isinstance(value, str):
            raise ValidationError(
                f"{where} must be ref text like '{kind or 'kind'}:...', got "
                f"{type(value).__name__} {value!r}.",
                code="stable_ref_invalid_text",
                details={"field": where, "value": repr(value)},
            )
        ref = StableRef.parse(value.strip())
    if kind is not None and ref.kind != kind:
        raise ValueError(f"{where} must be a {kind!r} ref, got {str(ref)!r}")
    return ref


def ref_arg(value: Any, kind: str | None, where: str = "ref") -> str:
    return str(parse_ref(value, kind, where))


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


class Repository:
    """put/get/find/exists/list for one entity kind."""

    def __init__(
        self,
        store: RepositoryHost,
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

    def _where(self, column: str, value: str) -> list[Any]:
        """Latest versions whose ``column`` equals ``value``: rows carrying the value (from the
        workspace's incremental index), kept only when they are their entity's latest version,
        so an upsert that moved an entity is seen only where it is now."""
        table, by_value = self._ws.index(self._projection, column)
        limit = table.num_rows
        rows = sorted({r for r in by_value.get(value, ()) if r < limit})
        if not rows:
            return []
        _, by_ref = self._ws.index(self._projection, "ref")
        refs = take_rows(table.select(["ref"]), rows).column(0).to_pylist()
        keep = [
            row
            for row, ref in zip(rows, refs, strict=True)
            if max(v for v in by_ref[ref] if v < limit) == row
        ]
        return self._ws.models(take_rows(table, keep), self._kind)

    def _find(self, ref: Any) -> Any | None:
        parsed = parse_ref(ref, None)
        if parsed.kind != self._ref_kind:
            return None
        table = self._ws.table(self._projection)
        if table.num_rows == 0:
            return None
        rows = table.filter(pc.equal(table.column("ref"), _s(str(parsed))))
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
        parsed = parse_ref(ref, None)
        if parsed.kind != self._ref_kind:
            return False
        return self._ws.exists(self._kind, self._projection, str(parsed))

    def _require(self, ref: Any, kind: str, projection: str, code: str, what: str) -> None:
        text = str(ref)
        if not self._ws.exists(kind, projection, text):
            raise NotFoundError(
                f"{what} {text!r} does not exist; put it first.",
                code=code,
                details={"ref": text},
            )


class ProjectRepository(Repository):
    def __init__(self, store: RepositoryHost) -> None:
        super().__init__(
            store,
            kind=PROJECT_PUT,
            projection="projects",
            model=Project,
            ref_kind="project",
            ref_field="project_ref",
            label="project",
        )

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
    def __init__(self, store: RepositoryHost) -> None:
        super().__init__(
            store,
            kind=RUN_PUT,
            projection="runs",
            model=Run,
            ref_kind="run",
            ref_field="run_ref",
            label="run",
        )

    def put_run(self, run: Run) -> Run:
        return self._put(
            run,
            lambda r: self._require(
                r.project_ref, PROJECT_PUT, "projects", "metadata_missing_run_project", "Project"
            ),
        )

    def get_run(self, run_ref: Any) -> Run:
        return self._get(run_ref)

    def find_run(self, run_ref: Any) -> Run | None:
        return self._find(run_ref)

    def exists_run(self, run_ref: Any) -> bool:
        return self._exists(run_ref)

    def list_runs(self, project_ref: Any = None) -> tuple[Run, ...]:
        runs = self._all()
        if project_ref is None:
            return tuple(
                sorted(
                    runs, key=lambda r: (str(r.project_ref), _time(r.started_at), str(r.run_ref))
                )
            )
        text = ref_arg(project_ref, "project", "project_ref")
        chosen = [r for r in runs if str(r.project_ref) == text]
        return tuple(sorted(chosen, key=lambda r: (_time(r.started_at), str(r.run_ref))))


class StageRepository(Repository):
    def __init__(self, store: RepositoryHost) -> None:
        super().__init__(
            store,
            kind=STAGE_PUT,
            projection="stages",
            model=StageExecution,
            ref_kind="stage",
            ref_field="stage_execution_ref",
            label="stage execution",
        )

    def put_stage_execution(self, stage: StageExecution) -> StageExecution:
        return self._put(
            stage,
            lambda s: self._require(
                s.run_ref, RUN_PUT, "runs", "metadata_missing_stage_run", "Run"
            ),
        )

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


def registered_refs(edges: Iterable[Any], records: Iterable[Any]) -> set[str]:
    """Refs 1.0 registers as a side effect of relation and provenance puts: op and artifact
    endpoints, operation contexts and evidence refs; formation contexts and evidence bundles."""
    refs: set[str] = set()
    for edge in edges:
        refs.add(str(edge.relation_ref))
        refs.update(
            str(e) for e in (edge.source_ref, edge.target_ref) if e.kind in ("artifact", "op")
        )
        if edge.operation_context_ref is not None:
            refs.add(str(edge.operation_context_ref))
        refs.update(str(e) for e in edge.evidence_refs)
    for record in records:
        refs.add(str(record.provenance_ref))
        refs.update(
            str(r)
            for r in (record.formation_context_ref, record.evidence_bundle_ref)
            if r is not None
        )
    return refs
