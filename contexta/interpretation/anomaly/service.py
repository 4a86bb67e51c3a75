"""Contexta 1.0's import path; see :mod:`contexta.interpretation.anomaly_detection`."""

from contexta.interpretation.anomaly_detection import (  # noqa: F401 (1.0 names beyond __all__)
    AnomalyError,
    AnomalyPolicy,
    AnomalyResult,
    AnomalyService,
    CompletenessNote,
    EvidenceLink,
    InterpretationError,
    MetricBaseline,
    ValidationError,
    severity_for_z_score,
)

__all__ = [
    "AnomalyError",
    "AnomalyPolicy",
    "AnomalyResult",
    "AnomalyService",
    "MetricBaseline",
    "severity_for_z_score",
]
