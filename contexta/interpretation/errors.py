"""Errors of the interpretation layer (importable from ``contexta.interpretation``)."""

from __future__ import annotations

from contexta.common.errors import InterpretationError

__all__ = ["ComparisonError", "LineageError"]


class ComparisonError(InterpretationError):
    """A comparison cannot be made (e.g. fewer than two distinct runs)."""

    default_code = "compare_requires_multiple_runs"


class LineageError(InterpretationError):
    """A lineage traversal option is invalid."""

    default_code = "lineage_invalid_direction"
