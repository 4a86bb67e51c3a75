"""The repositories of the remaining metadata entities (deployments, batches, samples,
environments, relations, provenance), with 1.0's put-time referential checks and list orders.

Orders follow 1.0's SQL: strings bytewise, ``NULL`` order indexes and batch refs last, except
that timestamps compare as instants (decision 8.6).
"""

from __future__ import annotations

from typing import Any

from ..contract import (
    BatchExecution,
    DeploymentExecution,
    EnvironmentSnapshot,
    LineageEdge,
    ProvenanceRecord,
    SampleObservation,
)
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
)
from ..ordering import (  # the sort keys live there; imported here under their old home
    batch_order,
    deployment_order,
    relation_order,
    sample_batch_order,
    sample_order,
)
from ..ordering import instant as _time
from .repository import Repository, RepositoryHost, _opt, parse_ref, ref_arg

__all__ = [
    "BatchRepository",
    "DeploymentRepository",
    "EnvironmentRepository",
    "ProvenanceRepository",
    "RelationRepository",
    "SampleRepository",
    "batch_order",
    "deployment_order",
    "relation_order",
    "sample_batch_order",
    "sample_order",
]


class DeploymentRepository(Repository):
    def __init__(self, store: RepositoryHost) -> None:
        super().__init__(
            store,
            kind=DEPLOYMENT_PUT,
            projection="deployments",
            model=DeploymentExecution,
            ref_kind="deployment",
            ref_field="deployment_execution_ref",
            label="deployment execution",
        )

    def put_deployment_execution(self, deployment: DeploymentExecution) -> DeploymentExecution:
        """Upsert; the project must exist (its ``run_ref`` is not checked, as in 1.0)."""
        return self._put(
            deployment,
            lambda d: self._require(
                d.project_ref,
                PROJECT_PUT,
                "projects",
                "metadata_missing_deployment_project",
                "Project",
            ),
        )

    def get_deployment_execution(self, ref: Any) -> DeploymentExecution:
        return self._get(ref)

    def find_deployment_execution(self, ref: Any) -> DeploymentExecution | None:
        return self._find(ref)

    def exists_deployment_execution(self, ref: Any) -> bool:
        return self._exists(ref)

    def list_deployment_executions(
        self, *, project_ref: Any = None, run_ref: Any = None
    ) -> tuple[DeploymentExecution, ...]:
        """By run (order_index, started_at, ref), else by project (deployment_name first),
        else all (project_ref first)."""
        if run_ref is not None:
            chosen = self._where("run_ref", ref_arg(run_ref, "run", "run_ref"))
            return tuple(sorted(chosen, key=deployment_order))
        if project_ref is not None:
            chosen = self._where("project_ref", ref_arg(project_ref, "project", "project_ref"))
            return tuple(sorted(chosen, key=lambda d: (d.deployment_name, *deployment_order(d))))
        return tuple(
            sorted(
                self._all(),
                key=lambda d: (str(d.project_ref), d.deployment_name, *deployment_order(d)),
            )
        )


class BatchRepository(Repository):
    def __init__(self, store: RepositoryHost) -> None:
        super().__init__(
            store,
            kind=BATCH_PUT,
            projection="batches",
            model=BatchExecution,
            ref_kind="batch",
            ref_field="batch_execution_ref",
            label="batch execution",
        )

    def put_batch_execution(self, batch: BatchExecution) -> BatchExecution:
        def checks(b: BatchExecution) -> None:
            self._require(b.run_ref, RUN_PUT, "runs", "metadata_missing_batch_run", "Run")
            self._require(
                b.stage_execution_ref,
                STAGE_PUT,
                "stages",
                "metadata_missing_batch_stage",
                "Stage execution",
            )

        return self._put(batch, checks)

    def get_batch_execution(self, ref: Any) -> BatchExecution:
        return self._get(ref)

    def find_batch_execution(self, ref: Any) -> BatchExecution | None:
        return self._find(ref)

    def exists_batch_execution(self, ref: Any) -> bool:
        return self._exists(ref)

    def list_batch_executions(
        self, *, run_ref: Any = None, stage_ref: Any = None
    ) -> tuple[BatchExecution, ...]:
        """By stage (order_index NULLS LAST, started_at, ref), else by run (stage_ref
        first), else all (run_ref, stage_ref first)."""
        if stage_ref is not None:
            chosen = self._where("stage_ref", ref_arg(stage_ref, "stage", "stage_ref"))
            return tuple(sorted(chosen, key=batch_order))
        if run_ref is not None:
            chosen = self._where("run_ref", ref_arg(run_ref, "run", "run_ref"))
            return tuple(
                sorted(chosen, key=lambda b: (str(b.stage_execution_ref), *batch_order(b)))
            )
        return tuple(
            sorted(
                self._all(),
                key=lambda b: (str(b.run_ref), str(b.stage_execution_ref), *batch_order(b)),
            )
        )


class SampleRepository(Repository):
    def __init__(self, store: RepositoryHost) -> None:
        super().__init__(
            store,
            kind=SAMPLE_PUT,
            projection="samples",
            model=SampleObservation,
            ref_kind="sample",
            ref_field="sample_observation_ref",
            label="sample observation",
        )

    def put_sample_observation(self, sample: SampleObservation) -> SampleObservation:
        def checks(s: SampleObservation) -> None:
            self._require(s.run_ref, RUN_PUT, "runs", "metadata_missing_sample_run", "Run")
            self._require(
                s.stage_execution_ref,
                STAGE_PUT,
                "stages",
                "metadata_missing_sample_stage",
                "Stage execution",
            )
            if s.batch_execution_ref is not None:
                self._require(
                    s.batch_execution_ref,
                    BATCH_PUT,
                    "batches",
                    "metadata_missing_sample_batch",
                    "Batch execution",
                )

        return self._put(sample, checks)

    def get_sample_observation(self, ref: Any) -> SampleObservation:
        return self._get(ref)

    def find_sample_observation(self, ref: Any) -> SampleObservation | None:
        return self._find(ref)

    def exists_sample_observation(self, ref: Any) -> bool:
        return self._exists(ref)

    def list_sample_observations(
        self, *, run_ref: Any = None, stage_ref: Any = None, batch_ref: Any = None
    ) -> tuple[SampleObservation, ...]:
        """By batch (observed_at, ref), else by stage (batch_ref NULLS LAST first), else by
        run (stage_ref first), else all (run_ref first)."""
        if batch_ref is not None:
            batch = parse_ref(batch_ref, "batch", "batch_ref")
            stage = "stage:" + batch.value.rsplit(".", 1)[0]
            chosen = [
                s
                for s in self._where("stage_ref", stage)
                if _opt(s.batch_execution_ref) == str(batch)
            ]
            return tuple(sorted(chosen, key=sample_order))
        if stage_ref is not None:
            chosen = self._where("stage_ref", ref_arg(stage_ref, "stage", "stage_ref"))
            return tuple(sorted(chosen, key=sample_batch_order))
        if run_ref is not None:
            chosen = self._where("run_ref", ref_arg(run_ref, "run", "run_ref"))
            return tuple(
                sorted(chosen, key=lambda s: (str(s.stage_execution_ref), *sample_batch_order(s)))
            )
        return tuple(
            sorted(
                self._all(),
                key=lambda s: (str(s.run_ref), str(s.stage_execution_ref), *sample_batch_order(s)),
            )
        )


class EnvironmentRepository(Repository):
    def __init__(self, store: RepositoryHost) -> None:
        super().__init__(
            store,
            kind=ENVIRONMENT_PUT,
            projection="environments",
            model=EnvironmentSnapshot,
            ref_kind="environment",
            ref_field="environment_snapshot_ref",
            label="environment snapshot",
        )

    def put_environment_snapshot(self, snapshot: EnvironmentSnapshot) -> EnvironmentSnapshot:
        return self._put(
            snapshot,
            lambda e: self._require(
                e.run_ref, RUN_PUT, "runs", "metadata_missing_environment_run", "Run"
            ),
        )

    def get_environment_snapshot(self, ref: Any) -> EnvironmentSnapshot:
        return self._get(ref)

    def find_environment_snapshot(self, ref: Any) -> EnvironmentSnapshot | None:
        return self._find(ref)

    def exists_environment_snapshot(self, ref: Any) -> bool:
        return self._exists(ref)

    def list_environment_snapshots(self, run_ref: Any) -> tuple[EnvironmentSnapshot, ...]:
        """The run's snapshots by captured_at, then ref."""
        chosen = self._where("run_ref", ref_arg(run_ref, "run", "run_ref"))
        return tuple(
            sorted(chosen, key=lambda e: (_time(e.captured_at), str(e.environment_snapshot_ref)))
        )


class RelationRepository(Repository):
    def __init__(self, store: RepositoryHost) -> None:
        super().__init__(
            store,
            kind=RELATION_PUT,
            projection="relations",
            model=LineageEdge,
            ref_kind="relation",
            ref_field="relation_ref",
            label="relation",
        )

    def put_relation(self, relation: LineageEdge) -> LineageEdge:
        """Upsert; each endpoint must be a stored entity or an already registered ref, except
        ``artifact:``/``op:`` endpoints, which are registered by this put
        (``metadata_ref_not_found`` otherwise)."""

        def checks(edge: LineageEdge) -> None:
            for endpoint in (edge.source_ref, edge.target_ref):
                if str(endpoint).split(":", 1)[0] not in ("artifact", "op"):
                    self._store._require_known_ref(str(endpoint))

        return self._put(relation, checks)

    def get_relation(self, ref: Any) -> LineageEdge:
        return self._get(ref)

    def find_relation(self, ref: Any) -> LineageEdge | None:
        return self._find(ref)

    def exists_relation(self, ref: Any) -> bool:
        return self._exists(ref)

    def _matching(self, anchor: Any, ends: tuple[str, ...]) -> tuple[LineageEdge, ...]:
        text = ref_arg(anchor, None, "ref")
        chosen = [e for e in self._all() if any(str(getattr(e, end)) == text for end in ends)]
        return tuple(sorted(chosen, key=relation_order))

    def list_relations_for_ref(self, anchor_ref: Any) -> tuple[LineageEdge, ...]:
        """Relations whose source or target is ``anchor_ref``, by recorded_at, then ref."""
        return self._matching(anchor_ref, ("source_ref", "target_ref"))

    def list_relations_for_source(self, source_ref: Any) -> tuple[LineageEdge, ...]:
        return self._matching(source_ref, ("source_ref",))

    def list_relations_for_target(self, target_ref: Any) -> tuple[LineageEdge, ...]:
        return self._matching(target_ref, ("target_ref",))


class ProvenanceRepository(Repository):
    def __init__(self, store: RepositoryHost) -> None:
        super().__init__(
            store,
            kind=PROVENANCE_PUT,
            projection="provenance",
            model=ProvenanceRecord,
            ref_kind="provenance",
            ref_field="provenance_ref",
            label="provenance record",
        )

    def put_provenance(self, provenance: ProvenanceRecord) -> ProvenanceRecord:
        return self._put(
            provenance,
            lambda p: self._require(
                p.relation_ref,
                RELATION_PUT,
                "relations",
                "metadata_missing_provenance_relation",
                "Relation",
            ),
        )

    def get_provenance(self, ref: Any) -> ProvenanceRecord:
        return self._get(ref)

    def find_provenance(self, ref: Any) -> ProvenanceRecord | None:
        return self._find(ref)

    def exists_provenance(self, ref: Any) -> bool:
        return self._exists(ref)

    def list_provenance_for_relation(self, relation_ref: Any) -> tuple[ProvenanceRecord, ...]:
        """The relation's provenance records by asserted_at, then ref."""
        chosen = self._where("key", ref_arg(relation_ref, "relation", "relation_ref"))
        return tuple(sorted(chosen, key=lambda p: (_time(p.asserted_at), str(p.provenance_ref))))
