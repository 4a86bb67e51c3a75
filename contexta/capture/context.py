"""The refs a capture scope is bound to (every record emitted in the scope carries them)."""

from __future__ import annotations

from dataclasses import dataclass

from ..contract import StableRef

__all__ = ["ActiveContext"]


@dataclass(frozen=True, slots=True)
class ActiveContext:
    """The refs bound to a scope (and to every record emitted in it)."""

    project_ref: StableRef
    run_ref: StableRef | None = None
    deployment_execution_ref: StableRef | None = None
    stage_execution_ref: StableRef | None = None
    batch_execution_ref: StableRef | None = None
    sample_observation_ref: StableRef | None = None
    operation_context_ref: StableRef | None = None

    @property
    def scope_kind(self) -> str:
        for kind, ref in (
            ("operation", self.operation_context_ref),
            ("sample", self.sample_observation_ref),
            ("batch", self.batch_execution_ref),
            ("deployment", self.deployment_execution_ref),
            ("stage", self.stage_execution_ref),
            ("run", self.run_ref),
        ):
            if ref is not None:
                return kind
        return "project"

    @property
    def ref(self) -> str:
        for ref in (
            self.operation_context_ref,
            self.sample_observation_ref,
            self.batch_execution_ref,
            self.deployment_execution_ref,
            self.stage_execution_ref,
            self.run_ref,
        ):
            if ref is not None:
                return str(ref)
        return str(self.project_ref)
