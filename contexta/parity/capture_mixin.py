"""Facade methods mixed into ``Contexta`` (see ``contexta.facade``): runtime capture
(``run``, ``deployment``, ``metric``, ``event``, ``span``, ``register_artifact``, ``emit_*``,
``current_*``) and the artifact store (``artifact_store``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..capture import BatchCaptureResult, CaptureResult, RunScope, RuntimeSession
    from ..store.artifacts import ArtifactStore

__all__ = ["CaptureMixin"]


class CaptureMixin:
    """Mixed into ``Contexta``; uses ``self._workspace``, ``self.config`` and
    ``self.query_service``."""

    # ------------------------------------------------------------------ session

    @property
    def session(self) -> RuntimeSession:
        """The runtime session (open scopes of this ``Contexta``, per thread/task)."""
        session = self.__dict__.get("_capture_session")
        if session is None:
            from ..capture import RuntimeSession

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
    ) -> Any:
        """Open a deployment scope (a ``DeploymentExecution`` put open, closed at exit)."""
        return self.session.start_deployment(
            name,
            deployment_ref=deployment_ref,
            run_ref=run_ref,
            artifact_ref=artifact_ref,
            environment_snapshot_ref=environment_snapshot_ref,
            metadata=metadata,
        )

    def current_run(self) -> Any:
        return self.session.current_run()

    def current_stage(self) -> Any:
        return self.session.current_stage()

    def current_deployment(self) -> Any:
        return self.session.current_deployment()

    def current_batch(self) -> Any:
        return self.session.current_batch()

    def current_sample(self) -> Any:
        return self.session.current_sample()

    def current_operation(self) -> Any:
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

    def emit_metrics(self, emissions: Sequence[Any]) -> BatchCaptureResult:
        return self.session.capture_scope().emit_metrics(emissions)

    def emit_events(self, emissions: Sequence[Any]) -> BatchCaptureResult:
        return self.session.capture_scope().emit_events(emissions)

    def emit_spans(self, emissions: Sequence[Any]) -> BatchCaptureResult:
        return self.session.capture_scope().emit_spans(emissions)

    def register_artifacts(self, emissions: Sequence[Any]) -> BatchCaptureResult:
        return self.session.capture_scope().register_artifacts(emissions)

    # ------------------------------------------------------------------ artifacts

    @property
    def artifact_store(self) -> ArtifactStore:
        """Artifact bodies under the workspace artifacts path; manifests in this ledger."""
        store = self.__dict__.get("_artifact_store")
        if store is None:
            from ..store.artifacts import ArtifactStore, VaultConfig

            config = VaultConfig.from_unified_config(self.config)  # type: ignore[attr-defined]
            store = ArtifactStore(config, workspace=self._workspace)  # type: ignore[attr-defined]
            self.__dict__["_artifact_store"] = store
        return store
