"""Contexta 1.0's import path; see :mod:`contexta.notebook`."""

from contexta.notebook import (
    NotebookFragment,
    NotebookSurface,
    RenderingError,
    display_metric_trend,
    display_run_comparison,
    display_run_snapshot,
    render_html_fragment,
    table_rows,
    to_pandas,
    to_polars,
)

__all__ = [
    "NotebookFragment",
    "NotebookSurface",
    "RenderingError",
    "display_metric_trend",
    "display_run_comparison",
    "display_run_snapshot",
    "render_html_fragment",
    "table_rows",
    "to_pandas",
    "to_polars",
]
