"""HTML for web pages and dashboards (1.0's ``contexta.adapters.html``): self-contained pages
from the report renderer (with its SVG charts)."""

from __future__ import annotations

from typing import Any

__all__ = [
    "render_html_comparison",
    "render_html_run_detail",
    "render_html_run_list",
    "render_html_trend",
]


def render_html_run_detail(ctx: Any, run_id: str) -> str:
    return str(ctx.build_snapshot_report(run_id).to_html())


def render_html_comparison(ctx: Any, left_run_id: str, right_run_id: str) -> str:
    return str(ctx.build_run_report(left_run_id, right_run_id).to_html())


def render_html_run_list(ctx: Any, project_name: str) -> str:
    return str(ctx.build_project_summary_report(project_name).to_html())


def render_html_trend(
    ctx: Any, metric_key: str, *, project_name: str | None = None, stage_name: str | None = None
) -> str:
    return str(
        ctx.build_trend_report(
            metric_key, project_name=project_name, stage_name=stage_name
        ).to_html()
    )
