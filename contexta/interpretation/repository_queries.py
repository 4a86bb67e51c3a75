"""Run queries answered from a 1.0 repository instead of the workspace's projections.

``QueryService(repository)`` builds a :class:`RepositoryQueryService`: the same questions as
the workspace service (snapshots, run lists with 1.0's filters, comparisons, best run, entity
lists) answered from any :class:`~.repositories.CompositeRepository`. Over the workspace's own
repository (``ctx.repository``) every answer comes from the workspace service itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from ..common.errors import InterpretationError
from ..contract.timestamps import timestamp_micros
from .results import EvidenceLink, RunSnapshot
from .workspace_queries import (
    QueryService,
    _Metric,
    _select,
    best_candidate,
    completeness_notes,
)

__all__ = ["RepositoryQueryService"]


class RepositoryQueryService(QueryService):
    """Queries answered from a repository (see :mod:`.repositories`)."""

    def __init__(self, repository: Any, config: Any = None) -> None:
        from .workspace_repository import WorkspaceRepository

        self.repository = repository
        self.config = config
        self.as_of_us = None
        native = repository.query if isinstance(repository, WorkspaceRepository) else None
        self._native: QueryService | None = native

    # ------------------------------------------------------------------ runs

    def list_projects(self) -> tuple[str, ...]:
        return tuple(self.repository.list_projects())

    def list_runs(self, project_name: str | None = None, *, query: Any = None) -> tuple[Any, ...]:
        if query is not None:
            from .run_list import filtered_runs

            return filtered_runs(self, project_name, query=query)
        return tuple(self.repository.list_runs(project_name))

    def resolve_run(self, run_id: Any) -> str:
        if self._native is not None:
            return self._native.resolve_run(run_id)
        run = self.repository.get_run(run_id)
        if run is None:
            raise InterpretationError(
                f"Run {run_id!r} was not found in the repository.",
                code="query_run_not_found",
                details={"run_id": run_id},
            )
        return str(run.run_id)

    def list_deployments(
        self, project_name: str | None = None, run_id: str | None = None
    ) -> tuple[Any, ...]:
        return tuple(self.repository.list_deployments(project_name, run_id))

    def list_batches(self, run_id: str, stage_id: str | None = None) -> tuple[Any, ...]:
        return tuple(self.repository.list_batches(run_id, stage_id))

    def list_samples(
        self, run_id: str, stage_id: str | None = None, batch_id: str | None = None
    ) -> tuple[Any, ...]:
        return tuple(self.repository.list_samples(run_id, stage_id, batch_id))

    def get_artifact_origin(self, artifact_ref: str) -> RunSnapshot | None:
        artifact = self.repository.get_artifact(artifact_ref)
        if artifact is None:
            return None
        try:
            return self.snapshot(artifact.run_id)
        except InterpretationError as exc:
            raise InterpretationError(
                "Artifact exists but the owning run snapshot could not be assembled.",
                code="query_artifact_origin_incomplete",
                details={"artifact_ref": artifact.artifact_ref, "run_id": artifact.run_id},
                cause=exc,
            ) from exc

    def quarantined_runs(self, project_name: str | None = None) -> tuple[str, ...]:
        if self._native is not None:
            return self._native.quarantined_runs(project_name)
        return ()  # a caller's repository holds no quarantine events

    def entities(self) -> Any:
        if self._native is not None:
            return self._native.entities()
        raise InterpretationError(
            "This question needs a workspace; a repository service answers snapshots, run "
            "lists, comparisons and entity lists.",
            code="query_requires_workspace",
        )

    # ------------------------------------------------------------------ snapshot and metrics

    def snapshot(self, run_id: Any) -> RunSnapshot:
        if self._native is not None:
            return self._native.snapshot(run_id)
        repo = self.repository
        run = repo.get_run(run_id)
        if run is None:
            raise InterpretationError(
                f"Run {run_id!r} was not found in the repository.",
                code="query_run_not_found",
                details={"run_id": run_id},
            )
        ref = run.run_id
        stages = tuple(repo.list_stages(ref))
        extra: dict[str, Any] = {
            "deployments": tuple(repo.list_deployments(run_id=ref)),
            "batches": tuple(repo.list_batches(ref)),
            "samples": tuple(repo.list_samples(ref)),
            "artifacts": tuple(repo.list_artifacts(run_id=ref)),
            "provenance": repo.get_provenance(ref),
        }
        relations: dict[str, Any] = {}
        anchors = [
            ref,
            *(s.stage_id for s in stages),
            *(b.batch_id for b in extra["batches"]),
            *(a.artifact_ref for a in extra["artifacts"]),
        ]
        for anchor in anchors:
            for relation in repo.list_relations(anchor):
                relations[relation.relation_ref] = relation
        extra["relations"] = tuple(relations[key] for key in sorted(relations))
        records = tuple(repo.list_records(run_id=ref))
        return RunSnapshot(
            run=run,
            deployments=extra["deployments"],
            stages=stages,
            batches=extra["batches"],
            samples=extra["samples"],
            artifacts=extra["artifacts"],
            relations=extra["relations"],
            records=records,
            evidence_links=_links(run, stages, extra, records),
            completeness_notes=completeness_notes(stages, records, extra),
            provenance=extra["provenance"],
        )

    def metrics(self, run_ref: str) -> list[_Metric]:
        if self._native is not None:
            return self._native.metrics(run_ref)
        out = []
        records = self.repository.list_records(run_id=run_ref, record_type="metric")
        for position, record in enumerate(records):
            if record.value is None:
                continue
            observed = timestamp_micros(record.observed_at) if record.observed_at else 0
            out.append(
                _Metric(record.stage_id, record.key, float(record.value), observed, position)
            )
        return out

    def _best(
        self,
        ids: list[Any],
        metric_key: str,
        stage_name: str | None,
        higher_is_better: bool,
        include_quarantined: bool,
    ) -> Any:
        """As the workspace service's, over :meth:`_candidates` (one run at a time)."""
        if self._native is not None:
            return self._native._best(
                ids, metric_key, stage_name, higher_is_better, include_quarantined
            )
        found = self._candidates(ids, metric_key, stage_name, include_quarantined)
        return best_candidate(found, higher_is_better)

    def _best_of_given(self, run_ids: object, *rules: Any) -> tuple[Any] | None:
        """The workspace service's Arrow path when the repository is a workspace's; else
        None (every id goes through :meth:`_best`)."""
        if self._native is None:
            return None
        return self._native._best_of_given(run_ids, *rules)

    def _candidates(
        self,
        ids: Sequence[Any],
        metric_key: str,
        stage_name: str | None,
        include_quarantined: bool,
    ) -> list[tuple[Any, float]]:
        """As the workspace service's, from the repository's records, one run at a time."""
        if self._native is not None:
            return self._native._candidates(ids, metric_key, stage_name, include_quarantined)
        refs = [self.resolve_run(i) for i in ids]
        quarantined = set() if include_quarantined else set(self.quarantined_runs())
        mode = self._selection()
        out = []
        for run_id, ref in zip(ids, refs, strict=True):
            if ref in quarantined:
                continue
            value = _metric_value(
                self.metrics(ref), self.stages_of(ref), metric_key, stage_name, mode
            )
            if value is not None:
                out.append((run_id, value))
        return out

    def stages_of(self, run_ref: str) -> list[Any]:
        if self._native is not None:
            return self._native.stages_of(run_ref)
        return [
            SimpleNamespace(stage_execution_ref=s.stage_id, stage_name=s.name)
            for s in self.repository.list_stages(run_ref)
        ]


def _metric_value(
    metrics: Sequence[_Metric], stages: Sequence[Any], key: str, stage_name: str | None, mode: str
) -> float | None:
    """The selected value of ``key`` at run level, or at the first of ``stages`` named
    ``stage_name``; None when there is none."""
    chosen = [m for m in metrics if m.key == key]
    if not chosen:
        return None
    if stage_name is None:
        return _select(chosen, None, mode).get(key)
    refs = [str(s.stage_execution_ref) for s in stages if s.stage_name == stage_name]
    return _select(chosen, refs[0], mode).get(key) if refs else None


def _links(
    run: Any, stages: Sequence[Any], extra: dict[str, Any], records: Sequence[Any]
) -> tuple[EvidenceLink, ...]:
    """1.0's evidence order: the run, deployments, stages, batches, the first ten samples,
    artifacts, the first ten records."""
    links = [EvidenceLink("run", run.run_id, run.name)]
    links += [EvidenceLink("deployment", d.deployment_id, d.name) for d in extra["deployments"]]
    links += [EvidenceLink("stage", s.stage_id, s.name) for s in stages]
    links += [EvidenceLink("batch", b.batch_id, b.name) for b in extra["batches"]]
    links += [EvidenceLink("sample", s.sample_id, s.name) for s in extra["samples"][:10]]
    links += [EvidenceLink("artifact", a.artifact_ref, a.kind) for a in extra["artifacts"]]
    links += [EvidenceLink("record", r.record_id, r.key) for r in records[:10]]
    return tuple(links)
