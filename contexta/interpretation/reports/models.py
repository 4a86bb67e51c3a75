"""Contexta 1.0's import path; see :mod:`contexta.interpretation.reporting`."""

from contexta.interpretation.reporting import (
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
from contexta.interpretation.reporting.report_functions import (
    build_alert_report,
    build_multi_run_report,
    build_project_summary_report,
    build_run_report,
    build_snapshot_report,
    build_trend_report,
)

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
