"""Facade methods mixed into ``Contexta`` (see ``contexta.facade``): deployments, batches,
samples, provenance, artifact origin, diagnostics, lineage, reproducibility and environment
diffs (contract 4.4 to 4.8).

Every method reads through ``self.query_service``, so a view whose query service answers as of
a past transaction time answers these as of that time too. The interpretation modules are
imported on first use (importing ``contexta`` stays cheap).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..interpretation.diagnostics import DiagnosticsResult, DiagnosticsService
    from ..interpretation.lineage import LineageService, LineageTraversal
    from ..interpretation.provenance import (
        EnvironmentDiff,
        ProvenanceService,
        ReproducibilityAudit,
    )
    from ..interpretation.results import (
        BatchRecord,
        DeploymentRecord,
        ProvenanceView,
        RunSnapshot,
        SampleRecord,
    )

__all__ = ["EntityQueriesMixin"]


class EntityQueriesMixin:
    """Mixed into ``Contexta``; uses ``self._workspace``, ``self.config`` and
    ``self.query_service``."""

    query_service: Any
    config: Any

    # ------------------------------------------------------------------ services (1.0 names)

    @property
    def diagnostics_service(self) -> DiagnosticsService:
        """Diagnostics over ``query_service`` with ``config.interpretation.diagnostics``."""
        from ..interpretation.diagnostics import DiagnosticsService

        config = getattr(self, "config", None)
        policy = getattr(getattr(config, "interpretation", None), "diagnostics", None)
        return DiagnosticsService(self.query_service, config=policy)

    @property
    def lineage_service(self) -> LineageService:
        from ..interpretation.lineage import LineageService

        return LineageService(self.query_service)

    @property
    def provenance_service(self) -> ProvenanceService:
        from ..interpretation.provenance import ProvenanceService

        return ProvenanceService(self.query_service)

    # ------------------------------------------------------------------ entities

    def list_deployments(
        self, project_name: str | None = None, run_id: str | None = None
    ) -> tuple[DeploymentRecord, ...]:
        """Deployments of a run (``run_id`` wins), of a project (by deployment name,
        order_index, started_at, ref), or all; an unknown project gives ``()``, an
        unresolvable bare run id a builtin ``LookupError``."""
        from ..interpretation import entities

        return entities.list_deployments(self.query_service, project_name, run_id)

    def list_batches(self, run_id: str, stage_id: str | None = None) -> tuple[BatchRecord, ...]:
        """Batches of a run (stage_ref, order_index, started_at, ref) or of one stage;
        ``()`` for an unknown full run ref, ``LookupError`` for an unresolvable bare id."""
        from ..interpretation import entities

        return entities.list_batches(self.query_service, run_id, stage_id)

    def list_samples(
        self, run_id: str, stage_id: str | None = None, batch_id: str | None = None
    ) -> tuple[SampleRecord, ...]:
        """Samples of a run, a stage or a batch (contract 1.3 resolution and errors)."""
        from ..interpretation import entities

        return entities.list_samples(self.query_service, run_id, stage_id, batch_id)

    def get_provenance(self, run_id: str) -> ProvenanceView | None:
        """The run snapshot's provenance (latest by asserted_at), or None."""
        return self.query_service.snapshot(run_id).provenance

    def get_artifact_origin(self, artifact_ref: str) -> RunSnapshot | None:
        """The snapshot of the run that produced ``artifact_ref`` (full ref or a unique
        suffix), or None when no such artifact is known."""
        from ..interpretation import entities

        return entities.artifact_origin(self.query_service, artifact_ref)

    # ------------------------------------------------------------------ interpretation

    def diagnose_run(self, run_id: str) -> DiagnosticsResult:
        """Issues of a run (contract 4.6; degraded records keep their payload severity)."""
        return self.diagnostics_service.diagnose_run(run_id)

    def traverse_lineage(
        self, subject_ref: str, *, direction: str | None = None, max_depth: int | None = None
    ) -> LineageTraversal:
        """Breadth-first lineage from ``subject_ref`` (contract 4.7; ``upstream`` and
        ``downstream`` are aliases of ``inbound`` and ``outbound``)."""
        return self.lineage_service.traverse_lineage(
            subject_ref, direction=direction, max_depth=max_depth
        )

    def audit_reproducibility(self, run_id: str) -> ReproducibilityAudit:
        """Whether a run has provenance and an environment snapshot (contract 4.8)."""
        return self.provenance_service.audit_reproducibility(run_id)

    def compare_environments(self, left_run_id: str, right_run_id: str) -> EnvironmentDiff:
        """Differences between the two runs' latest environment snapshots."""
        return self.provenance_service.compare_environments(left_run_id, right_run_id)
