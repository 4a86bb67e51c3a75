"""Contexta 1.0's import path; see :mod:`contexta.interpretation.anomaly_detection`."""

from contexta.interpretation.anomaly_detection import (
    AnomalyError,
    AnomalyPolicy,
    AnomalyResult,
    AnomalyService,
    MetricBaseline,
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
