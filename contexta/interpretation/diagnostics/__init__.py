"""Contexta 1.0's import path; see :mod:`contexta.interpretation.run_diagnostics`."""

from contexta.interpretation.run_diagnostics import (
    DiagnosticsError,
    DiagnosticsIssue,
    DiagnosticsPolicy,
    DiagnosticsResult,
    DiagnosticsService,
)

__all__ = [
    "DiagnosticsError",
    "DiagnosticsIssue",
    "DiagnosticsPolicy",
    "DiagnosticsResult",
    "DiagnosticsService",
]
