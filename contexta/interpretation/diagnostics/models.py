"""Contexta 1.0's import path; see :mod:`contexta.interpretation.run_diagnostics`."""

from contexta.interpretation.run_diagnostics import (  # noqa: F401 (1.0 names beyond __all__)
    CompletenessNote,
    DiagnosticsError,
    DiagnosticsIssue,
    DiagnosticsPolicy,
    DiagnosticsResult,
    DiagnosticsService,
    EvidenceLink,
)

__all__ = [
    "DiagnosticsError",
    "DiagnosticsIssue",
    "DiagnosticsPolicy",
    "DiagnosticsResult",
    "DiagnosticsService",
]
