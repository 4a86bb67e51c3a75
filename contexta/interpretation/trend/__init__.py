"""Contexta 1.0's import path; see :mod:`contexta.interpretation.trend_analysis`."""

from contexta.interpretation.trend_analysis import (
    ArtifactSizePoint,
    ArtifactSizeTrend,
    DurationTrend,
    MetricTrend,
    StageDurationPoint,
    StepPoint,
    StepSeries,
    TrendError,
    TrendPoint,
    TrendPolicy,
    TrendService,
)

__all__ = [
    "ArtifactSizePoint",
    "ArtifactSizeTrend",
    "DurationTrend",
    "MetricTrend",
    "StageDurationPoint",
    "StepPoint",
    "StepSeries",
    "TrendError",
    "TrendPoint",
    "TrendPolicy",
    "TrendService",
]
