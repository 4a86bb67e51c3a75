"""1.0 import path ``contexta.interpretation.trend``: see :mod:`contexta.interpretation.trend_analysis`."""

from .trend_analysis import (
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
