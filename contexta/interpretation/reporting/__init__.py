"""Report documents, their renderings (Markdown, HTML page with SVG charts, CSV, dict), the
builders and the document comparison. 1.0 reached them at
:mod:`contexta.interpretation.reports`."""

from .builders import ReportBuilder, render_notes
from .diff import ReportComparison, SectionDiff, compare_report_documents
from .document import (
    CHART_KINDS,
    ChartSeries,
    ReportChart,
    ReportDocument,
    ReportError,
    ReportSection,
    ReportSerializationError,
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
    "compare_report_documents",
    "render_notes",
]
