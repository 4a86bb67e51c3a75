"""1.0's ``contexta.interpretation.query`` import path: run-list filters, the snapshot and
evidence-link results, and the query service."""

from .queries import QueryService
from .results import EvidenceLink, RunSnapshot
from .run_list import MetricCondition, RunListQuery, TimeRange

__all__ = ["EvidenceLink", "MetricCondition", "QueryService", "RunListQuery", "RunSnapshot", "TimeRange"]
