"""Contexta 1.0's import path; see :mod:`contexta.adapters.html`."""

from contexta.adapters.html import (
    render_html_comparison,
    render_html_run_detail,
    render_html_run_list,
    render_html_trend,
)

__all__ = [
    "render_html_comparison",
    "render_html_run_detail",
    "render_html_run_list",
    "render_html_trend",
]
