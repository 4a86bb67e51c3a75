"""Contexta 1.0's import path; see :mod:`contexta.capture.session`."""

from contexta.capture.session import (  # noqa: F401 (1.0 names beyond __all__)
    TYPE_CHECKING,
    ActiveContext,
    BatchExecution,
    CaptureDispatcher,
    ClosedScopeError,
    ContextState,
    DeploymentExecution,
    EnvironmentSnapshot,
    LifecycleError,
    OperationContext,
    Project,
    Run,
    RuntimeSession,
    SampleObservation,
    StableRef,
    StageExecution,
    slug,
)

__all__ = ["ActiveContext", "ContextState", "RuntimeSession", "slug"]
