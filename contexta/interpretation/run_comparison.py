"""1.0's ``contexta.interpretation.compare``: :class:`CompareService` and the comparison results.

``CompareService(query_service, config=ComparisonPolicy(...))`` compares through any query
service (the workspace's, or ``QueryService(repository)``), with its own policy for picking and
reporting metric values; the query service itself is left as it was.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from ..config.models import ComparisonPolicy
from .errors import ComparisonError
from .reporting.diff import ReportComparison, SectionDiff
from .results import (
    ArtifactChange,
    ArtifactKindCountRow,
    CompletenessNote,
    MetricDelta,
    MultiRunComparison,
    MultiRunMetricRow,
    ProvenanceComparison,
    RunComparison,
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


class CompareService:
    """Run comparisons over ``query_service`` under ``config`` (default: 1.0's policy)."""

    def __init__(self, query_service: Any, *, config: ComparisonPolicy | None = None) -> None:
        self.query_service = query_service
        self.config = config or ComparisonPolicy()

    def _service(self) -> Any:
        """The query service with this policy (a shallow copy: caches stay shared)."""
        view = copy.copy(self.query_service)
        view.__dict__["comparison_policy"] = self.config
        return view

    def compare_runs(self, left_run_id: str, right_run_id: str) -> RunComparison:
        return self._service().compare_runs(left_run_id, right_run_id)

    def compare_multiple_runs(self, run_ids: Sequence[str]) -> MultiRunComparison:
        return self._service().compare_multiple_runs(run_ids)

    def select_best_run(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        *,
        stage_name: str | None = None,
        higher_is_better: bool = True,
        include_quarantined: bool = False,
    ) -> str | None:
        return self._service().select_best_run(
            run_ids,
            metric_key,
            stage_name=stage_name,
            higher_is_better=higher_is_better,
            include_quarantined=include_quarantined,
        )

    def compare_report_documents(self, left: object, right: object) -> ReportComparison:
        from .reporting import compare_report_documents

        return compare_report_documents(left, right)
