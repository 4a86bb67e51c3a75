"""1.0's metadata-plane extras over the projections: ``check_integrity`` and
``build_run_snapshot``.

Put-time checks already refuse dangling owners, so on a ledger written only through the stores
the integrity scan finds nothing; it still runs the same checks over the latest versions, so a
ledger assembled by other means (imports, hand-written events) is judged by 1.0's rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Protocol

from ..events import ENVIRONMENT_PUT, PROJECT_PUT, PROVENANCE_PUT, RELATION_PUT, RUN_PUT, STAGE_PUT
from ..workspace import Workspace
from .metadata_entities import (
    BatchRepository,
    DeploymentRepository,
    EnvironmentRepository,
    ProvenanceRepository,
    RelationRepository,
    SampleRepository,
)
from .repository import ProjectRepository, RunRepository, StageRepository, ref_arg

__all__ = [
    "STORE_SCHEMA_VERSION",
    "IntegrityIssue",
    "IntegrityReport",
    "MetadataRunSnapshot",
    "build_run_snapshot",
    "check_integrity",
]

STORE_SCHEMA_VERSION = "1"


@dataclass(frozen=True, slots=True)
class IntegrityIssue:
    """One finding of :func:`check_integrity` (1.0's fields)."""

    code: str
    message: str
    rule_id: str | None = None
    category: str = "integrity"
    severity: str = "error"
    ref: str | None = None
    suggested_action: str | None = None
    details: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class IntegrityReport:
    """``ok`` when there are no issues; ``issue_counts`` per severity."""

    ok: bool
    store_schema_version: str
    checked_at: str
    issues: tuple[IntegrityIssue, ...] = ()
    issue_counts: Mapping[str, int] = field(default_factory=dict)


def _issue(code: str, message: str, ref: str, action: str, **details: Any) -> IntegrityIssue:
    return IntegrityIssue(
        code=code,
        message=message,
        ref=ref,
        suggested_action=action,
        details=MappingProxyType(details),
    )


class CheckedStore(Protocol):
    """What the checks read of the :class:`~.metadata.MetadataStore`."""

    _workspace: Workspace
    projects: ProjectRepository
    runs: RunRepository
    stages: StageRepository
    deployments: DeploymentRepository
    batches: BatchRepository
    samples: SampleRepository
    environments: EnvironmentRepository
    relations: RelationRepository
    provenance: ProvenanceRepository

    def list_registered_refs(self) -> tuple[str, ...]: ...


def check_integrity(store: CheckedStore, *, full: bool = True) -> IntegrityReport:
    """Runs without a project, stages and environments without a run, relation endpoints that
    resolve to nothing, provenance without its relation; duplicate stage names per run
    (warning). ``full`` is accepted for 1.0 compatibility (the registry here is derived, so
    its owner checks cannot fail)."""
    ws = store._workspace
    projects = {str(p.project_ref) for p in ws.models(ws.latest("projects"), PROJECT_PUT)}
    runs = ws.models(ws.latest("runs"), RUN_PUT)
    stages = ws.models(ws.latest("stages"), STAGE_PUT)
    environments = ws.models(ws.latest("environments"), ENVIRONMENT_PUT)
    relations = ws.models(ws.latest("relations"), RELATION_PUT)
    provenance = ws.models(ws.latest("provenance"), PROVENANCE_PUT)
    run_refs = {str(r.run_ref) for r in runs}
    relation_refs = {str(r.relation_ref) for r in relations}
    issues: list[IntegrityIssue] = []
    for run in runs:
        if str(run.project_ref) not in projects:
            issues.append(
                _issue(
                    "missing_run_project",
                    "Run references a missing owning project.",
                    str(run.run_ref),
                    "review_or_remove_run",
                    project_ref=str(run.project_ref),
                )
            )
    names: dict[tuple[str, str], int] = {}
    for stage in stages:
        if str(stage.run_ref) not in run_refs:
            issues.append(
                _issue(
                    "missing_stage_run",
                    "Stage execution references a missing owning run.",
                    str(stage.stage_execution_ref),
                    "review_or_remove_stage",
                    run_ref=str(stage.run_ref),
                )
            )
        key = (str(stage.run_ref), stage.stage_name)
        names[key] = names.get(key, 0) + 1
    for (run_ref, stage_name), count in names.items():
        if count > 1:
            issues.append(
                IntegrityIssue(
                    code="duplicate_stage_name_for_run",
                    message="Multiple stage rows share the same run_ref and stage_name.",
                    severity="warning",
                    ref=run_ref,
                    suggested_action="review_stage_ambiguity",
                    details=MappingProxyType(
                        {"run_ref": run_ref, "stage_name": stage_name, "count": count}
                    ),
                )
            )
    for env in environments:
        if str(env.run_ref) not in run_refs:
            issues.append(
                _issue(
                    "missing_environment_run",
                    "Environment snapshot references a missing owning run.",
                    str(env.environment_snapshot_ref),
                    "review_or_remove_environment",
                    run_ref=str(env.run_ref),
                )
            )
    known = set(store.list_registered_refs())
    for edge in relations:
        for end, code in (
            ("source_ref", "missing_relation_source"),
            ("target_ref", "missing_relation_target"),
        ):
            text = str(getattr(edge, end))
            if text not in known:
                issues.append(
                    _issue(
                        code,
                        f"Relation {end[:6]} ref cannot be resolved.",
                        str(edge.relation_ref),
                        "review_or_remove_relation",
                        **{end: text},
                    )
                )
    for record in provenance:
        if str(record.relation_ref) not in relation_refs:
            issues.append(
                _issue(
                    "missing_provenance_relation",
                    "Provenance row references a missing relation.",
                    str(record.provenance_ref),
                    "review_or_remove_provenance",
                    relation_ref=str(record.relation_ref),
                )
            )
    counts = {"error": 0, "warning": 0}
    for issue in issues:
        counts[issue.severity] += 1
    return IntegrityReport(
        ok=not issues,
        store_schema_version=STORE_SCHEMA_VERSION,
        checked_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        issues=tuple(issues),
        issue_counts=MappingProxyType(counts),
    )


@dataclass(frozen=True, slots=True)
class MetadataRunSnapshot:
    """Metadata-only view of a run and its lineage-adjacent context (1.0's
    ``store.metadata.snapshots.RunSnapshot``)."""

    project: Any
    run: Any
    deployments: tuple[Any, ...] = ()
    stages: tuple[Any, ...] = ()
    batches: tuple[Any, ...] = ()
    samples: tuple[Any, ...] = ()
    environments: tuple[Any, ...] = ()
    relations: tuple[Any, ...] = ()
    provenance: tuple[Any, ...] = ()
    scoped_refs: tuple[str, ...] = ()
    completeness_notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"project": self.project.to_dict(), "run": self.run.to_dict()}
        for name in (
            "deployments",
            "stages",
            "batches",
            "samples",
            "environments",
            "relations",
            "provenance",
        ):
            out[name] = [item.to_dict() for item in getattr(self, name)]
        out["scoped_refs"] = list(self.scoped_refs)
        out["completeness_notes"] = list(self.completeness_notes)
        return out


def build_run_snapshot(store: CheckedStore, run_ref: Any) -> MetadataRunSnapshot:
    """The run, its project, deployments, stages, batches, samples and environments, the
    relations touching any of them and those relations' provenance (NotFoundError
    ``metadata_row_not_found`` for an unknown run)."""
    run = store.runs.get_run(ref_arg(run_ref, None, "run_ref"))
    text = str(run.run_ref)
    project = store.projects.get_project(str(run.project_ref))
    deployments = store.deployments.list_deployment_executions(run_ref=text)
    stages = store.stages.list_stage_executions(text)
    batches = store.batches.list_batch_executions(run_ref=text)
    samples = store.samples.list_sample_observations(run_ref=text)
    environments = store.environments.list_environment_snapshots(text)
    anchors = {text}
    anchors.update(str(d.deployment_execution_ref) for d in deployments)
    anchors.update(str(s.stage_execution_ref) for s in stages)
    anchors.update(str(b.batch_execution_ref) for b in batches)
    anchors.update(str(s.sample_observation_ref) for s in samples)
    anchors.update(str(e.environment_snapshot_ref) for e in environments)
    relations = {
        str(e.relation_ref): e
        for e in store.relations._all()
        if str(e.source_ref) in anchors or str(e.target_ref) in anchors
    }
    provenance = {}
    for relation_ref in sorted(relations):
        for record in store.provenance.list_provenance_for_relation(relation_ref):
            provenance[str(record.provenance_ref)] = record
    notes = []
    if not environments:
        notes.append("environment_snapshot_missing")
    if not relations:
        notes.append("relation_graph_empty")
    if relations and not provenance:
        notes.append("provenance_missing")
    notes += ["record_plane_not_projected", "artifact_plane_not_projected"]
    scoped = anchors | set(relations) | set(provenance)
    return MetadataRunSnapshot(
        project=project,
        run=run,
        deployments=deployments,
        stages=stages,
        batches=batches,
        samples=samples,
        environments=environments,
        relations=tuple(relations[r] for r in sorted(relations)),
        provenance=tuple(provenance[p] for p in sorted(provenance)),
        scoped_refs=tuple(sorted(scoped)),
        completeness_notes=tuple(dict.fromkeys(notes)),
    )
