"""Reports (contract 4.10): ``ReportDocument``/``ReportSection`` with ``to_markdown``,
``to_html`` (a self-contained page with inline SVG charts), ``to_csv`` and ``to_json``/
``to_dict``; the builders; and ``compare_report_documents`` (contract 4.5).

The facade builds from a run id (``ctx.build_run_report("a", "b")``); the functions here build
from results already computed (``build_run_report(comparison, diagnostics)``), like 1.0's
``ReportBuilder`` methods.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from .reporting import (
    CHART_KINDS,
    ChartSeries,
    ReportBuilder,
    ReportChart,
    ReportComparison,
    ReportDocument,
    ReportError,
    ReportSection,
    ReportSerializationError,
    SectionDiff,
    compare_report_documents,
)
from .results import CompletenessNote, RunRecord

__all__ = [
    "CHART_KINDS",
    "ChartSeries",
    "ReportBuilder",
    "ReportChart",
    "ReportComparison",
    "ReportDocument",
    "ReportError",
    "ReportSection",
    "ReportSerializationError",
    "SectionDiff",
    "build_alert_report",
    "build_multi_run_report",
    "build_project_summary_report",
    "build_run_report",
    "build_snapshot_report",
    "build_trend_report",
    "compare_report_documents",
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
