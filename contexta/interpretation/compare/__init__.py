"""Contexta 1.0's import path; see :mod:`contexta.interpretation.run_comparison`."""

from contexta.interpretation.run_comparison import (
    ArtifactChange,
    ArtifactKindCountRow,
    CompareService,
    ComparisonError,
    ComparisonPolicy,
    CompletenessNote,
    MetricDelta,
    MultiRunComparison,
    MultiRunMetricRow,
    ProvenanceComparison,
    ReportComparison,
    RunComparison,
    SectionDiff,
    StageComparison,
)

__all__ = [
    "ArtifactChange",
    "ArtifactKindCountRow",
    "CompareService",
    "ComparisonError",
    "ComparisonPolicy",
    "CompletenessNote",
    "MetricDelta",
    "MultiRunComparison",
    "MultiRunMetricRow",
    "ProvenanceComparison",
    "ReportComparison",
    "RunComparison",
    "SectionDiff",
    "StageComparison",
]
