"""Contexta 1.0's import path; see :mod:`contexta.contract.report`."""

from contexta.contract.report import (  # noqa: F401 (1.0 names beyond __all__)
    VALIDATION_SEVERITIES,
    ValidationError,
    ValidationIssue,
    ValidationReport,
)

__all__ = ["VALIDATION_SEVERITIES", "ValidationIssue", "ValidationReport"]
