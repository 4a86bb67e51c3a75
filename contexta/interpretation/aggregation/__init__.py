"""Contexta 1.0's import path; see :mod:`contexta.interpretation.run_aggregation`."""

from contexta.interpretation.run_aggregation import (
    UNASSIGNED_STAGE,
    AggregationError,
    AggregationService,
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
