"""Contexta 1.0's import path; see :mod:`contexta.capture.scopes`."""

from contexta.capture.scopes import (  # noqa: F401 (1.0 names beyond __all__)
    TYPE_CHECKING,
    BaseScope,
    BatchScope,
    ClosedScopeError,
    DeploymentScope,
    LifecycleError,
    OperationScope,
    RunScope,
    SampleScope,
    SpanScope,
    StableRef,
    StageScope,
)

__all__ = [
    "BaseScope",
    "BatchScope",
    "DeploymentScope",
    "OperationScope",
    "RunScope",
    "SampleScope",
    "SpanScope",
    "StageScope",
]
