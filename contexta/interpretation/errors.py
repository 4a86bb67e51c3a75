"""Errors of the interpretation layer (importable from ``contexta.interpretation``).

All derive from :class:`~contexta.common.errors.InterpretationError` (so from
``ContextaError``); each carries a stable ``code``:

* ``ComparisonError``: ``compare_requires_multiple_runs``;
* ``LineageError``: ``lineage_invalid_direction``, ``lineage_invalid_max_depth``;
* ``DiagnosticsError``, ``ProvenanceError``: reserved for failures of those services (1.0
  exports both names; no query raises them today).
"""

from __future__ import annotations

from contexta.common.errors import InterpretationError, ValidationError

__all__ = [
    "ComparisonError",
    "DiagnosticsError",
    "LineageError",
    "LineagePolicyError",
    "ProvenanceError",
]


class ComparisonError(InterpretationError):
    """A comparison cannot be made (e.g. fewer than two distinct runs)."""

    default_code = "compare_requires_multiple_runs"


class LineageError(InterpretationError):
    """A lineage traversal option is invalid (direction or depth)."""

    default_code = "lineage_invalid_direction"


class LineagePolicyError(LineageError, ValidationError):
    """A :class:`LineagePolicy` built with a bad default: both a lineage and a validation error
    (1.0 raised ``ValidationError`` here)."""


class DiagnosticsError(InterpretationError):
    """A diagnostics query cannot be answered."""

    default_code = "diagnostics_failed"


class ProvenanceError(InterpretationError):
    """A provenance query cannot be answered."""

    default_code = "provenance_failed"
