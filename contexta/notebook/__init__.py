"""Notebook display: ``ctx.notebook`` and the ``display_*`` helpers return a
:class:`NotebookFragment` (HTML for Jupyter, text for a terminal); ``to_pandas`` / ``to_polars``
turn a snapshot, comparison, trend or report into a DataFrame with 1.0's columns (extra
``dataframes``); snapshots, comparisons and reports show themselves in a notebook through
``_repr_html_``. Nothing here imports IPython, pandas or polars until asked.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..adapters import require
from ..common.errors import ContextaError

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


class RenderingError(ContextaError):
    """A value has no notebook rendering (or a needed argument is missing)."""

    default_code = "notebook_render_failed"


@dataclass(frozen=True, slots=True)
class NotebookFragment:
    """HTML for a notebook, text elsewhere."""

    html: str
    text: str

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.text


def _show(fragment: NotebookFragment) -> None:
    try:
        from IPython.display import HTML, display
    except ImportError:
        return  # not in a notebook: the caller still gets the fragment
    display(HTML(fragment.html))


# ---------------------------------------------------------------------- table rows (1.0's columns)


def _kind(value: Any) -> str:
    return type(value).__name__


def table_rows(value: Any) -> list[dict[str, Any]]:
    """The rows a DataFrame of ``value`` holds (1.0's columns for each result type)."""
    kind = _kind(value)
    if kind == "RunSnapshot":
        run = value.run
        return [
            {
                "run_id": run.run_id,
                "run_name": run.name,
                "project_name": run.project_name,
                "status": run.status,
                "stage_count": len(value.stages),
                "artifact_count": len(value.artifacts),
                "record_count": len(value.records),
            }
        ]
    if kind == "RunComparison":
        return [
            {
                "stage_name": s.stage_name,
                "left_status": s.left_status,
                "right_status": s.right_status,
                "metric_delta_count": len(s.metric_deltas),
            }
            for s in value.stage_comparisons
        ]
    if kind == "MultiRunComparison":
        return [
            {
                "metric_key": r.metric_key,
                "stage_name": r.stage_name,
                "best_run_id": r.best_run_id,
                **{f"value_{i}": v for i, v in enumerate(r.values)},
            }
            for r in value.metric_table
        ]
    if kind == "MetricTrend":
        return [
            {
                "run_id": p.run_id,
                "run_name": p.run_name,
                "stage_name": p.stage_name,
                "value": p.value,
                "captured_at": p.captured_at,
            }
            for p in value.points
        ]
    if kind == "ReportDocument":
        return [
            {"section_title": s.title, "body": s.body, "evidence_link_count": len(s.evidence_links)}
            for s in value.sections
        ]
    raise RenderingError(
        f"No table form for a {kind}; use a snapshot, comparison, trend or report.",
        code="notebook_table_conversion_unsupported",
        details={"type": kind},
    )


def _columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(key for row in rows for key in row))


def to_pandas(value: Any) -> Any:
    pandas = require(
        "pandas", feature="to_pandas", extra="dataframes", code="notebook_pandas_not_ready"
    )
    rows = table_rows(value)
    return pandas.DataFrame.from_records(rows, columns=_columns(rows))


def to_polars(value: Any) -> Any:
    polars = require(
        "polars", feature="to_polars", extra="dataframes", code="notebook_polars_not_ready"
    )
    rows = table_rows(value)
    return polars.DataFrame(rows, schema=_columns(rows), orient="row")


# ---------------------------------------------------------------------- HTML fragments


def _table(rows: Sequence[dict[str, Any]], caption: str) -> str:
    columns = _columns(rows)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape('' if row.get(c) is None else str(row.get(c)))}</td>"
            for c in columns
        )
        + "</tr>"
        for row in rows
    )
    return (
        f'<div class="contexta-fragment"><table><caption>{html.escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _text(value: Any) -> str:
    """The plain-text line of a fragment (1.0's wording)."""
    kind = _kind(value)
    if kind == "RunSnapshot":
        return (
            f"Run {value.run.run_id} ({value.run.status}) stages={len(value.stages)} "
            f"artifacts={len(value.artifacts)} records={len(value.records)}"
        )
    if kind == "RunComparison":
        return (
            f"Compare {value.left_run_id} vs {value.right_run_id}: {value.summary} "
            f"stages={len(value.stage_comparisons)}"
        )
    if kind == "MultiRunComparison":
        return f"Multi-run comparison runs={len(value.run_ids)} metrics={len(value.metric_table)}"
    if kind == "MetricTrend":
        return f"Metric trend {value.metric_key} points={len(value.points)}"
    return str(getattr(value, "title", kind))


def fragment(value: Any, text: str | None = None) -> NotebookFragment:
    """The fragment of a snapshot, comparison, trend or report."""
    if _kind(value) == "ReportDocument":
        return NotebookFragment(value.to_html(), text or value.to_markdown())
    line = _text(value)
    return NotebookFragment(_table(table_rows(value), line), text or line)


def render_html_fragment(value: Any) -> str:
    """Embeddable HTML for a snapshot, comparison, trend or report."""
    return fragment(value).html


def display_run_snapshot(
    value: Any, run_id: str | None = None, *, display: bool = False
) -> NotebookFragment:
    if _kind(value) != "RunSnapshot":
        if run_id is None:
            raise RenderingError(
                "display_run_snapshot(ctx, run_id): run_id is required with a Contexta.",
                code="notebook_snapshot_run_id_required",
            )
        value, text = value.get_run_snapshot(run_id), f"Run snapshot for {run_id}"
    else:
        text = None
    result = fragment(value, text)
    if display:
        _show(result)
    return result


def display_run_comparison(
    value: Any,
    left_run_id: str | None = None,
    right_run_id: str | None = None,
    *,
    display: bool = False,
) -> NotebookFragment:
    if _kind(value) not in ("RunComparison", "MultiRunComparison"):
        if left_run_id is None or right_run_id is None:
            raise RenderingError(
                "display_run_comparison(ctx, left, right): both run ids are "
                "required with a Contexta.",
                code="notebook_comparison_run_ids_required",
            )
        value = value.compare_runs(left_run_id, right_run_id)
        text: str | None = f"Run comparison for {left_run_id} vs {right_run_id}"
    else:
        text = None
    result = fragment(value, text)
    if display:
        _show(result)
    return result


def display_metric_trend(
    value: Any,
    metric_key: str | None = None,
    *,
    project_name: str | None = None,
    stage_name: str | None = None,
    query: Any = None,
    display: bool = False,
) -> NotebookFragment:
    if _kind(value) != "MetricTrend":
        if metric_key is None:
            raise RenderingError(
                "display_metric_trend(ctx, metric_key): metric_key is required with a Contexta.",
                code="notebook_trend_metric_key_required",
            )
        value = value.get_metric_trend(
            metric_key, project_name=project_name, stage_name=stage_name, query=query
        )
        text: str | None = f"Metric trend for {metric_key}"
    else:
        text = None
    result = fragment(value, text)
    if display:
        _show(result)
    return result


class NotebookSurface:
    """``ctx.notebook``: the display helpers bound to one Contexta (displayed by default)."""

    __slots__ = ("_ctx",)

    def __init__(self, ctx: Any) -> None:
        self._ctx = ctx

    def show_run(self, run_id: str, *, display: bool = True) -> NotebookFragment:
        return display_run_snapshot(self._ctx, run_id, display=display)

    def compare_runs(
        self, left_run_id: str, right_run_id: str, *, display: bool = True
    ) -> NotebookFragment:
        return display_run_comparison(self._ctx, left_run_id, right_run_id, display=display)

    def show_metric_trend(
        self,
        metric_key: str,
        *,
        project_name: str | None = None,
        stage_name: str | None = None,
        query: Any = None,
        display: bool = True,
    ) -> NotebookFragment:
        return display_metric_trend(
            self._ctx,
            metric_key,
            project_name=project_name,
            stage_name=stage_name,
            query=query,
            display=display,
        )

    def render(self, value: Any) -> str:
        return render_html_fragment(value)

    def to_pandas(self, value: Any) -> Any:
        return to_pandas(value)

    def to_polars(self, value: Any) -> Any:
        return to_polars(value)
