"""Static report charts: a nearly flat series has distinct tick labels, hundreds of points
stay readable (no marker per point), many runs' legends stay inside the chart."""

from __future__ import annotations

import re

from contexta.interpretation.reporting.document import ChartSeries, ReportChart
from contexta.interpretation.reporting.svg import line_chart


def _chart(series: dict[str, list[float | None]], n: int) -> ReportChart:
    return ReportChart(
        "line",
        "loss",
        tuple(f"run-{i}" for i in range(n)),
        tuple(ChartSeries(name, tuple(values)) for name, values in series.items()),
    )


def _tick_labels(svg: str) -> list[str]:
    return re.findall(r'text-anchor="end" font-size="11" fill="#6b7280">([^<]+)</text>', svg)


def test_a_nearly_flat_series_has_distinct_tick_labels() -> None:
    for values in (
        [0.91230, 0.91233, 0.91236],
        [0.5, 0.5, 0.5],
        [1234.5, 1234.52, 1234.51],
        [2e-5, 2.00001e-5, 2.00002e-5],
    ):
        labels = _tick_labels(line_chart(_chart({"a": values}, 3)))
        assert len(labels) >= 3
        assert len(set(labels)) == len(labels), labels


def test_hundreds_of_points_draw_a_thin_line_without_a_marker_per_point() -> None:
    values = [1.0 / (1 + i) for i in range(500)]
    svg = line_chart(_chart({"a": values}, 500))
    markers = re.findall(r'<circle[^>]*stroke="#', svg)
    assert markers == []
    assert svg.count("<title>") == 500  # every point still has its tooltip
    assert 'stroke-width="1.4"' in svg


def test_a_few_points_keep_their_markers() -> None:
    svg = line_chart(_chart({"a": [3.0, 2.0, 1.0]}, 3))
    assert len(re.findall(r'<circle[^>]*stroke="#', svg)) == 3


def test_many_runs_overlaid_keep_their_legend_inside_the_chart() -> None:
    series = {f"a-fairly-long-run-name-{i}": [float(i), float(i + 1)] for i in range(8)}
    svg = line_chart(_chart(series, 2), width=680)
    for x, name in re.findall(
        r'<text x="(\d+)" y="\d+" font-size="12" fill="#374151">([^<]+)<', svg
    ):
        assert int(x) + 7 * len(name) <= 680, name
    assert len(re.findall(r"<polyline", svg)) == 8
