"""The report builders as functions of results already computed (contract 4.10): 1.0's
``ReportBuilder`` methods, e.g. ``build_run_report(comparison, diagnostics)``.

The facade builds from a run id instead (``ctx.build_run_report("a", "b")``). Documents, their
renderings and ``compare_report_documents`` are the rest of this package.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..results import CompletenessNote, RunRecord
from .builders import ReportBuilder
from .document import ReportDocument

__all__ = [
    "build_alert_report",
    "build_multi_run_report",
    "build_project_summary_report",
    "build_run_report",
    "build_snapshot_report",
    "build_trend_report",
]

_BUILDER = ReportBuilder()


def build_snapshot_report(snapshot: Any, diagnostics: Any) -> ReportDocument:
    """``Run Snapshot Report: <run_id>`` from a ``RunSnapshot`` and its ``DiagnosticsResult``."""
    return _BUILDER.build_snapshot_report(snapshot, diagnostics)


def build_run_report(comparison: Any, diagnostics: Any) -> ReportDocument:
    """``Run Comparison Report: <left> vs <right>`` from a ``RunComparison`` and the left
    run's ``DiagnosticsResult``."""
    return _BUILDER.build_run_report(comparison, diagnostics)


def build_multi_run_report(comparison: Any) -> ReportDocument:
    """``Multi Run Report: <n> runs`` from a ``MultiRunComparison``."""
    return _BUILDER.build_multi_run_report(comparison)


def build_project_summary_report(
    project_name: str,
    *,
    runs: Sequence[RunRecord] = (),
    notes: Sequence[CompletenessNote] = (),
) -> ReportDocument:
    """``Project Summary Report: <name>`` from the project's runs."""
    return _BUILDER.build_project_summary_report(project_name, runs=runs, notes=notes)


def build_trend_report(trend: Any) -> ReportDocument:
    """``Trend Report: <key>`` from a ``MetricTrend``."""
    return _BUILDER.build_trend_report(trend)


def build_alert_report(results: Iterable[Any]) -> ReportDocument:
    """``Alert Report`` from ``AlertResult`` objects."""
    return _BUILDER.build_alert_report(results)
