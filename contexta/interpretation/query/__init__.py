"""Contexta 1.0's import path: run-list filters, snapshot results and query services."""

from contexta.interpretation.repository_queries import RepositoryQueryService
from contexta.interpretation.run_list import MetricCondition, RunListQuery, TimeRange
from contexta.interpretation.workspace_queries import EvidenceLink, QueryService, RunSnapshot

__all__ = [
    "EvidenceLink",
    "MetricCondition",
    "QueryService",
    "RepositoryQueryService",
    "RunListQuery",
    "RunSnapshot",
    "TimeRange",
]
