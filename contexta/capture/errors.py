"""Errors of runtime capture (scopes and emissions).

Every error is a :class:`~contexta.common.errors.ContextaError` with a stable ``code``:
``runtime_*`` codes for scope lifecycle (1.0's), ``capture_*`` for emissions and sinks.
"""

from __future__ import annotations

from ..common.errors import ContextaError

__all__ = ["CaptureError", "ClosedScopeError", "DispatchError", "LifecycleError"]


class CaptureError(ContextaError):
    """Base of the capture errors."""

    default_code = "capture_failed"


class LifecycleError(CaptureError):
    """A scope was opened, nested or closed out of order (``runtime_*`` codes)."""

    default_code = "runtime_lifecycle_error"


class ClosedScopeError(LifecycleError):
    """A closed scope was used again (``runtime_scope_closed``)."""

    default_code = "runtime_scope_closed"


class DispatchError(CaptureError):
    """A sink refused or failed a payload (``sink_*`` codes)."""

    default_code = "capture_dispatch_failed"
