"""Static report pages: several runs' curves overlaid, colours that follow the direction in
which a metric improves, the trend window said aloud, and notes about features the workspace
never used kept apart from real warnings. The Markdown, CSV and dict forms stay 1.0's."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from contexta import Contexta
from contexta.config import InterpretationConfig
from contexta.config import TrendPolicy as ConfigTrendPolicy
from contexta.interpretation import ChartSeries, ReportChart, ReportDocument, ReportSection
from contexta.interpretation.reporting.svg import NEGATIVE, PALETTE, POSITIVE, heatmap_table
from contexta.interpretation.results import CompletenessNote
from tests.parity_tests._reports_data import P, open_seeded, reopen
from tests.parity_tests.test_reports_html import assert_keeps_text, assert_self_contained, parse


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Contexta:
    return open_seeded(tmp_path_factory.mktemp("charts"))


def _figure(html: str, title: str) -> str:
    """The markup of the figure captioned ``title``."""
    start = html.index(f"<figcaption>{title}</figcaption>")
    return html[start : html.index("</figure>", start)]


def _overlay(section: ReportSection) -> ReportChart:
    (chart,) = [c for c in section.charts if c.joined]
    return chart


# ---------------------------------------------------------------------- 1. overlaid curves


def test_run_report_overlays_the_two_runs_curves(ctx) -> None:
    doc = ctx.build_run_report("r03", "r04")
    chart = _overlay(doc.section("Metric Deltas"))
    assert chart.title == "train/loss by observation, runs overlaid"
    assert [(s.name, s.values) for s in chart.series] == [
        ("r03", (0.85, 0.4, 0.25)),
        ("r04", (0.7, 0.42, 0.3)),
    ]
    figure = _figure(doc.to_html(), chart.title)
    colours = re.findall(r'<polyline [^>]*stroke="(#[0-9a-f]{6})"', figure)
    assert colours == [PALETTE[0], PALETTE[1]]  # one line per run, each its own colour
    assert "r03" in figure and "r04" in figure  # the legend names the runs


def test_multi_run_report_overlays_every_run_with_the_metric(ctx) -> None:
    doc = ctx.build_multi_run_report(["r01", "r02", "r04", "r05"])
    chart = _overlay(doc.section("Metric Table"))
    assert [s.name for s in chart.series] == ["r01", "r02", "r04", "r05"]
    assert chart.series[3].values == (1.2, 1.1, None)  # r05 observed loss twice
    assert chart.caption == "4 of 4 runs have it; lower is better."
    assert_keeps_text(doc, parse(doc.to_html()))


def test_runs_logging_at_different_steps_share_the_step_axis_and_stay_lines(tmp_path) -> None:
    ctx = Contexta(workspace=tmp_path / ".contexta")
    refs = []
    for name, every in (("dense", 1), ("sparse", 5)):
        with ctx.run(name) as run, run.stage("train") as stage:
            for step in range(0, 21, every):
                stage.metric("loss", 1.0 / (1 + step), step=step)
        refs.append(run.ref)
    doc = ctx.build_run_report(*refs)
    chart = _overlay(doc.section("Metric Deltas"))
    assert chart.title == "train/loss by step, runs overlaid"
    assert chart.labels == tuple(str(i) for i in range(21))
    sparse = chart.series[1].values
    assert [i for i, v in enumerate(sparse) if v is not None] == [0, 5, 10, 15, 20]
    figure = _figure(doc.to_html(), chart.title)
    # each run is one unbroken line, the sparse one drawn through the steps it skipped
    assert figure.count("<polyline") == 2
    pattern = r'<polyline points="([^"]+)" [^>]*stroke="' + PALETTE[1] + '"'
    sparse_line = re.findall(pattern, figure)
    assert len(sparse_line) == 1 and len(sparse_line[0].split()) == 5


def test_single_run_series_still_break_at_a_gap() -> None:
    gaps = ReportChart("line", "gaps", ("a", "b", "c"), (ChartSeries("k", (1.0, None, 2.0)),))
    html = ReportDocument("T", (ReportSection("S", "b", charts=(gaps,)),)).to_html()
    assert html.count("<polyline") == 0  # two isolated points, no line across the gap


# ---------------------------------------------------------------------- 2. direction


def _bar_colours(html: str) -> list[str]:
    return re.findall(r'height="16" rx="2" fill="(#[0-9a-f]{6})"', html)


def test_a_loss_that_rose_is_a_regression_in_the_run_report(ctx) -> None:
    doc = ctx.build_run_report("r03", "r04")  # train/loss 0.25 -> 0.3 (+20%)
    (bars,) = [c for c in doc.section("Metric Deltas").charts if c.kind == "diverging"]
    assert bars.lower_is_better == (False, False, True)  # accuracy, auc, loss
    assert _bar_colours(doc.to_html()) == [NEGATIVE]
    assert "train/loss: +20.0%, worse" in doc.to_html()
    assert "lower is better for train/loss" in bars.caption


@pytest.mark.parametrize(
    ("key", "left", "right", "good"),
    [
        ("accuracy", 0.8, 0.9, True),
        ("accuracy", 0.9, 0.8, False),
        ("loss", 0.5, 0.4, True),
        ("loss", 0.4, 0.5, False),
        ("val_error", 2.0, 1.0, True),
        ("latency-ms", 10.0, 12.0, False),
        ("f1", 0.5, 0.6, True),
    ],
)
def test_bars_are_coloured_by_improvement_whichever_way_the_metric_prefers(
    key: str, left: float, right: float, good: bool
) -> None:
    from types import SimpleNamespace

    from contexta.interpretation.reporting.builders import delta_chart

    delta = SimpleNamespace(metric_key=key, left_value=left, right_value=right)
    comparison = SimpleNamespace(left_run_id="a", right_run_id="b")
    (chart,) = delta_chart(comparison, [("train", delta)])
    html = ReportDocument("T", (ReportSection("S", "b", charts=(chart,)),)).to_html()
    assert _bar_colours(html) == [POSITIVE if good else NEGATIVE]


def test_heatmap_shades_the_best_cell_darkest_for_either_direction(ctx) -> None:
    doc = ctx.build_multi_run_report(["r01", "r02", "r03"])
    heatmap = doc.section("Metric Table").charts[0]
    html = heatmap_table(heatmap)
    rows = dict(
        re.findall(
            r'<tr><th scope="row">([^<]+)<span[^>]*>.</span></th>(.*?)</tr>',
            html.replace(" <span", "<span"),
        )
    )
    darkest = "#93c5fd"
    cells = {
        name: re.findall(r'background:(#[0-9a-f]{6})">([^<]+)<', row) for name, row in rows.items()
    }
    assert (darkest, "0.25") in cells["train/loss"]  # r03's lowest loss is the best
    assert (darkest, "0.86") in cells["evaluate/accuracy"]  # r03's highest accuracy
    assert "\u2193" in html and "\u2191" in html
    assert "worst (light) to best (dark)" in heatmap.caption


# ---------------------------------------------------------------------- 3. trend window


def test_trend_report_says_it_kept_only_the_last_runs(ctx) -> None:
    other = reopen(
        ctx,
        interpretation=InterpretationConfig(trend=ConfigTrendPolicy(default_window_runs=2)),
    )
    try:
        doc = other.build_trend_report("loss", project_name=P)
        series = doc.section("Series")
        assert series.note == (
            "Only the last 2 of 5 runs are kept (trend window: 2 runs, set by "
            "interpretation.trend.default_window_runs)."
        )
        html = doc.to_html()
        assert f'<p class="note">{series.note}</p>' in html
        assert "Only the last" not in doc.to_markdown() + doc.to_csv() + repr(doc.to_dict())
    finally:
        other.close()


def test_trend_report_over_every_run_says_nothing_about_a_window(ctx) -> None:
    doc = ctx.build_trend_report("accuracy", project_name=P)  # 5 runs, window 20
    assert doc.section("Series").note is None
    assert 'class="note"' not in doc.to_html()


# ---------------------------------------------------------------------- 4. unused features


UNUSED = (
    "deployment_list_empty",
    "batch_list_empty",
    "artifact_list_empty",
    "relation_scope_empty",
    "provenance_missing",
)


def test_notes_about_features_the_workspace_never_used_are_not_warning_badges(ctx) -> None:
    doc = ctx.build_snapshot_report("r02")
    html = doc.to_html()
    for code in UNUSED:
        assert (
            f'<span class="quiet" title="not used in this workspace">warning: {code}</span>' in html
        ), code
    # a real gap keeps its warning badge, here and in the diagnostics
    assert '<span class="sev sev-warning">warning</span>: missing_stage_records:prep' in html
    assert '<span class="sev sev-warning">warning</span>:degraded_record' in html
    notes = doc.section("Completeness Notes")
    assert notes.note == (
        "Greyed notes concern features this workspace has never used (artifacts, batches, "
        "deployments, lineage, provenance); they are not problems."
    )
    assert_self_contained(html)
    assert_keeps_text(doc, parse(html))  # 1.0's text is all still there


def test_run_and_multi_run_reports_quiet_the_prefixed_notes_too(ctx) -> None:
    for doc in (ctx.build_run_report("r01", "r02"), ctx.build_multi_run_report(["r01", "r02"])):
        html = doc.to_html()
        assert 'sev-warning">warning</span>: left:deployment_list_empty' not in html
        assert re.search(r'class="quiet"[^>]*>warning: (left:)?deployment_list_empty<', html)


def test_the_same_notes_stay_warnings_where_the_workspace_uses_the_feature() -> None:
    from contexta.interpretation.reporting.builders import notes_section

    notes = [CompletenessNote("warning", code) for code in UNUSED]
    used = {"deployments", "batches", "artifacts", "relations", "provenance"}
    section = notes_section(notes, used)
    assert section.quiet == frozenset() and section.note is None
    html = ReportDocument("T", (section,)).to_html()
    assert html.count('<span class="sev sev-warning">warning</span>') == len(UNUSED)
    partly = notes_section(notes, used - {"deployments"})
    assert partly.quiet == {"warning: deployment_list_empty"}


def test_markdown_keeps_the_warnings_as_recorded_from_1_0(ctx) -> None:
    markdown = ctx.build_snapshot_report("r02").to_markdown()
    for code in UNUSED:
        assert f"warning: {code}" in markdown


def test_a_feature_first_used_later_makes_its_notes_warnings_again_but_not_as_of_before(
    tmp_path,
) -> None:
    import time

    ctx = Contexta(workspace=tmp_path / ".contexta")
    with ctx.run("first") as first, first.stage("train") as stage:
        stage.metric("loss", 0.5)
    time.sleep(0.01)
    before = ctx.as_of(datetime.now(UTC))
    time.sleep(0.01)
    model = tmp_path / "model.bin"
    model.write_bytes(b"weights")
    with ctx.run("second") as second, second.stage("train") as stage:
        stage.metric("loss", 0.4)
        second.register_artifact("model", str(model))
    badge = '<span class="sev sev-warning">warning</span>: artifact_list_empty'
    quiet = '<span class="quiet" title="not used in this workspace">warning: artifact_list_empty'
    now = ctx.build_snapshot_report(first.ref).to_html()
    assert badge in now and quiet not in now  # the workspace records artifacts now
    then = before.build_snapshot_report(first.ref).to_html()
    assert quiet in then and badge not in then  # as it stood before the first artifact


def test_overlaid_runs_that_share_a_name_are_told_apart_by_their_ids(tmp_path) -> None:
    ctx = Contexta(workspace=tmp_path / ".contexta")
    refs = []
    for _ in range(2):
        with ctx.run("same") as run, run.stage("train") as stage:
            for step in (1, 2):
                stage.metric("loss", 1.0 / step, step=step)
        refs.append(run.ref)
    chart = _overlay(ctx.build_run_report(*refs).section("Metric Deltas"))
    assert [s.name for s in chart.series] == [str(ref) for ref in refs]


def _x_labels(svg: str) -> list[str]:
    return re.findall(r'text-anchor="middle" font-size="11" fill="#6b7280">([^<]+)</text>', svg)


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        (range(400), [str(s) for s in range(0, 400, 50)]),
        (range(0, 4000, 10), [str(s) for s in range(0, 4000, 500)]),
        (range(7, 400), [str(s) for s in range(50, 400, 50)]),
        ((0, 3, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61), None),
    ],
)
def test_a_step_axis_is_labelled_at_round_steps(steps, expected) -> None:
    from contexta.interpretation.reporting.svg import line_chart

    labels = tuple(str(s) for s in steps)
    chart = ReportChart("line", "loss", labels, (ChartSeries("a", tuple(1.0 for _ in labels)),))
    shown = _x_labels(line_chart(chart))
    if expected is None:  # no round steps to speak of: every k-th label, as before
        assert shown == [labels[i] for i in range(0, len(labels), 2)]
    else:
        assert shown == expected
