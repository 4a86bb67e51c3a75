"""Contexta 1.0's import path; see :mod:`contexta.interpretation.provenance_audit`."""

from contexta.interpretation.provenance_audit import (  # noqa: F401 (1.0 names beyond __all__)
    CompletenessNote,
    EnvironmentDiff,
    EnvironmentValueChange,
    EvidenceLink,
    ProvenanceError,
    ProvenanceService,
    ReproducibilityAudit,
    artifact_changes,
    artifact_kind_counts,
    provenance_comparison,
)

__all__ = [
    "EnvironmentDiff",
    "EnvironmentValueChange",
    "ProvenanceError",
    "ProvenanceService",
    "ReproducibilityAudit",
    "artifact_changes",
    "artifact_kind_counts",
    "provenance_comparison",
]
