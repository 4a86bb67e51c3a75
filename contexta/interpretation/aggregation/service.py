"""Contexta 1.0's import path; see :mod:`contexta.interpretation.run_aggregation`."""

from contexta.interpretation.run_aggregation import (  # noqa: F401 (1.0 names beyond __all__)
    UNASSIGNED_STAGE,
    AggregationError,
    AggregationService,
    CompletenessNote,
    InterpretationError,
    MetricAggregate,
    RunStatusDistribution,
    RunSummaryTable,
    StageAggregate,
    StatusCount,
)

__all__ = [
    "UNASSIGNED_STAGE",
    "AggregationError",
    "AggregationService",
    "MetricAggregate",
    "RunStatusDistribution",
    "RunSummaryTable",
    "StageAggregate",
    "StatusCount",
]
