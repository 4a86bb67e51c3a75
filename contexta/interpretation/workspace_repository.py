"""Repositories: what the interpretation services read, as 1.0 defined it.

A repository answers a dozen small questions (runs, stages, batches, samples, records,
artifacts, relations, provenance) with the result models of :mod:`.results`.
:class:`CompositeRepository` is that protocol; any object with those methods (an in-memory one
built in a test, say) can be handed to :class:`QueryService` and :class:`CompareService`.

:class:`WorkspaceRepository` answers from a workspace's projections (``ctx.repository``), and
:class:`CompositeStoreRepository` is 1.0's constructor over the three stores. A query service
built on either reads the projections directly, so it gives the facade's answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..common.errors import InterpretationError
from .results import (
    ArtifactRecord,
    BatchRecord,
    DeploymentRecord,
    ObservationRecord,
    ProvenanceView,
    RelationRecord,
    RunRecord,
    SampleRecord,
    StageRecord,
)

if TYPE_CHECKING:
    from .workspace_queries import QueryService

__all__ = [
    "ArtifactRecord",
    "ArtifactStoreReader",
    "BatchRecord",
    "CompositeRepository",
    "CompositeStoreRepository",
    "DeploymentRecord",
    "ObservabilityRepository",
    "ObservationRecord",
    "ProvenanceView",
    "RecordStoreReader",
    "RelationRecord",
    "RelationStoreReader",
    "RunRecord",
    "RunStoreReader",
    "SampleRecord",
    "StageRecord",
    "WorkspaceRepository",
]


@runtime_checkable
class RunStoreReader(Protocol):
    def list_projects(self) -> Sequence[str]: ...
    def list_runs(self, project_name: str | None = None) -> Sequence[Any]: ...
    def get_run(self, run_id: str) -> Any | None: ...
    def list_deployments(
        self, project_name: str | None = None, run_id: str | None = None
    ) -> Sequence[Any]: ...
    def list_stages(self, run_id: str) -> Sequence[Any]: ...
    def list_batches(self, run_id: str, stage_id: str | None = None) -> Sequence[Any]: ...
    def list_samples(
        self, run_id: str, stage_id: str | None = None, batch_id: str | None = None
    ) -> Sequence[Any]: ...


@runtime_checkable
class RecordStoreReader(Protocol):
    def list_records(
        self, *, run_id: str, stage_id: str | None = None, record_type: str | None = None
    ) -> Sequence[Any]: ...


@runtime_checkable
class RelationStoreReader(Protocol):
    def list_relations(self, subject_ref: str | None = None) -> Sequence[Any]: ...
    def get_provenance(self, run_id: str) -> Any | None: ...


@runtime_checkable
class ArtifactStoreReader(Protocol):
    def get_artifact(self, artifact_ref: str) -> Any | None: ...
    def list_artifacts(
        self, *, run_id: str | None = None, stage_id: str | None = None
    ) -> Sequence[Any]: ...


@runtime_checkable
class CompositeRepository(
    RunStoreReader, RecordStoreReader, RelationStoreReader, ArtifactStoreReader, Protocol
):
    """Everything the query, compare and report services read."""


ObservabilityRepository = CompositeRepository


class WorkspaceRepository:
    """The repository protocol answered from a workspace's projections (through ``query``)."""

    def __init__(self, query: QueryService) -> None:
        self.query = query

    # ------------------------------------------------------------------ runs

    def list_projects(self) -> tuple[str, ...]:
        return self.query.list_projects()

    def list_runs(self, project_name: str | None = None) -> tuple[RunRecord, ...]:
        return self.query.list_runs(project_name)

    def get_run(self, run_id: str) -> RunRecord | None:
        q = self.query
        try:
            ref = q.resolve_run(run_id)
        except InterpretationError:
            return None
        return q.run_record(q.run_model(ref))

    def list_deployments(
        self, project_name: str | None = None, run_id: str | None = None
    ) -> tuple[DeploymentRecord, ...]:
        from .entities import list_deployments

        return list_deployments(self.query, project_name, run_id)

    def list_stages(self, run_id: str) -> tuple[StageRecord, ...]:
        from .workspace_queries import stage_record

        q = self.query
        return tuple(stage_record(s) for s in q.stages_of(q.resolve_run(run_id)))

    def list_batches(self, run_id: str, stage_id: str | None = None) -> tuple[BatchRecord, ...]:
        from .entities import list_batches

        return list_batches(self.query, run_id, stage_id)

    def list_samples(
        self, run_id: str, stage_id: str | None = None, batch_id: str | None = None
    ) -> tuple[SampleRecord, ...]:
        from .entities import list_samples

        return list_samples(self.query, run_id, stage_id, batch_id)

    # ------------------------------------------------------------------ records

    def list_records(
        self, *, run_id: str, stage_id: str | None = None, record_type: str | None = None
    ) -> tuple[ObservationRecord, ...]:
        records = self.query.observations(self.query.resolve_run(run_id))
        if stage_id is not None:
            records = tuple(
                r
                for r in records
                if r.stage_id == stage_id or (r.stage_id or "").endswith(f".{stage_id}")
            )
        if record_type is not None:
            records = tuple(r for r in records if r.record_type == record_type)
        return records

    # ------------------------------------------------------------------ relations

    def list_relations(self, subject_ref: str | None = None) -> tuple[RelationRecord, ...]:
        from .entities import relation_record

        reader = self.query.entities()
        found: dict[str, Any] = {}
        subjects = (
            [subject_ref] if subject_ref is not None else [r.run_id for r in self.list_runs()]
        )
        for subject in subjects:
            for edge in reader.subject_relations(str(subject)):
                found[str(edge.relation_ref)] = edge
        return tuple(relation_record(found[key]) for key in sorted(found))

    def get_provenance(self, run_id: str) -> ProvenanceView | None:
        q = self.query
        return q.entities().run_provenance(q.resolve_run(run_id))

    # ------------------------------------------------------------------ artifacts

    def get_artifact(self, artifact_ref: str) -> ArtifactRecord | None:
        from .entities import artifact_record, lookup_artifact

        reader = self.query.entities()
        ref = lookup_artifact(reader, artifact_ref)
        manifest = None if ref is None else reader.artifact(ref)
        return None if manifest is None else artifact_record(manifest)

    def list_artifacts(
        self, *, run_id: str | None = None, stage_id: str | None = None
    ) -> tuple[ArtifactRecord, ...]:
        from .entities import artifact_record

        reader = self.query.entities()
        if run_id is not None:
            rows = reader.artifacts_of_run(self.query.resolve_run(run_id))
        else:
            rows = [reader.artifact(ref) for ref in reader.artifact_refs()]
        records = [artifact_record(a) for a in rows if a is not None]
        if stage_id is not None:
            records = [
                a
                for a in records
                if a.stage_id == stage_id or (a.stage_id or "").endswith(f".{stage_id}")
            ]
        return tuple(records)


class CompositeStoreRepository(WorkspaceRepository):
    """1.0's repository over ``(metadata_store, record_store, artifact_store)``: here the three
    stores share one workspace, whose projections answer."""

    def __init__(
        self, metadata_store: Any, record_store: Any = None, artifact_store: Any = None
    ) -> None:
        from .workspace_queries import QueryService

        self.metadata_store = metadata_store
        self.record_store = record_store
        self.artifact_store = artifact_store
        workspace = _workspace_of(metadata_store, record_store, artifact_store)
        super().__init__(QueryService(workspace, None))


def _workspace_of(*stores: Any) -> Any:
    for store in stores:
        workspace = getattr(store, "opened_workspace", None)
        if workspace is not None:
            return workspace
    raise InterpretationError(
        "CompositeStoreRepository needs stores opened on a workspace (from a Contexta or the "
        "stores' own config); none of the given stores has one.",
        code="repository_without_workspace",
        details={"stores": [type(s).__name__ for s in stores]},
    )
