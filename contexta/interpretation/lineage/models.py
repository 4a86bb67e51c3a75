"""Contexta 1.0's import path; see :mod:`contexta.interpretation.lineage_traversal`."""

from contexta.interpretation.lineage_traversal import (  # noqa: F401 (1.0 names beyond __all__)
    DIRECTION_ALIASES,
    CompletenessNote,
    EvidenceLink,
    LineageEdge,
    LineageError,
    LineagePolicy,
    LineageService,
    LineageTraversal,
    ProvenanceView,
)

__all__ = [
    "DIRECTION_ALIASES",
    "LineageEdge",
    "LineagePolicy",
    "LineageService",
    "LineageTraversal",
]
