"""1.0's import path ``contexta.interpretation.query``: the run-list filters, the snapshot
results and the query service (:mod:`.workspace_queries`, :mod:`.repository_queries`)."""

from .repository_queries import RepositoryQueryService
from .results import EvidenceLink, RunSnapshot
from .run_list import MetricCondition, RunListQuery, TimeRange
from .workspace_queries import QueryService

__all__ = [
    "EvidenceLink",
    "MetricCondition",
    "QueryService",
    "RepositoryQueryService",
    "RunListQuery",
    "RunSnapshot",
    "TimeRange",
]
