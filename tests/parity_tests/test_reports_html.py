"""The HTML page of a report: self-contained, well-formed, 1.0's text kept, charts drawn from
the data the builders attach."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from contexta.common.errors import ValidationError
from contexta.interpretation import (
    ChartSeries,
    EvidenceLink,
    ReportChart,
    ReportDocument,
    ReportSection,
)

from ._reports_data import P, open_seeded

VOID = {
    "meta",
    "br",
    "link",
    "img",
    "input",
    "hr",
    "source",
    "wbr",
    "area",
    "base",
    "col",
    "embed",
    "track",
}
SVG_LEAVES = {"line", "circle", "rect", "polyline", "path"}


class Page(HTMLParser):
    """Checks nesting while collecting what the tests look at."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: dict[str, int] = {}
        self.sections: list[dict[str, object]] = []
        self._capture: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        cls = dict(attrs).get("class") or ""
        if tag == "section":
            self.sections.append({"h2": "", "lines": [], "evidence": []})
        elif self.sections and self.stack and self.stack[-1] == "section" and tag == "h2":
            self._begin("h2")
        elif tag == "p" and "lines" in cls.split():
            self._begin("lines")
        elif tag == "li":
            self._begin("li")
        elif tag == "br" and self._capture == "lines":
            self._text.append("\n")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag == "br" and self._capture == "lines":
            self._text.append("\n")
        elif tag not in VOID and tag not in SVG_LEAVES:
            self.errors.append(f"self-closed <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()
        if self._capture == "h2" and tag == "h2":
            self.sections[-1]["h2"] = self._end()
        elif self._capture == "lines" and tag == "p":
            self.sections[-1]["lines"] = self._end().split("\n")
        elif self._capture == "li" and tag == "li":
            self.sections[-1]["evidence"].append(self._end())  # type: ignore[union-attr]

    def handle_data(self, data: str) -> None:
        if self._capture:
            self._text.append(data)

    def _begin(self, what: str) -> None:
        self._capture, self._text = what, []

    def _end(self) -> str:
        self._capture = None
        return "".join(self._text)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    assert page.errors == [], page.errors[:5]
    assert page.stack == [], f"unclosed: {page.stack}"
    return page


def assert_self_contained(html: str) -> None:
    assert html.startswith("<!DOCTYPE html>")
    lowered = html.lower()
    assert "http://" not in lowered and "https://" not in lowered
    assert not re.search(
        r"""(href|src|xlink:href)\s*=\s*["'](?!#)""", lowered
    )  # in-page anchors only
    for forbidden in ("<script", "<link", "<img", "<iframe", " src=", "url(", "@import"):
        assert forbidden not in lowered, forbidden


def assert_keeps_text(doc: ReportDocument, page: Page) -> None:
    assert [s["h2"] for s in page.sections] == [s.title for s in doc.sections]
    for parsed, section in zip(page.sections, doc.sections, strict=True):
        assert parsed["lines"] == section.body.splitlines()
        assert parsed["evidence"] == [
            f"{e.label} ({e.kind}: {e.ref})" for e in section.evidence_links
        ]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory):
    return open_seeded(tmp_path_factory.mktemp("html"))


@pytest.fixture(scope="module")
def documents(ctx) -> dict[str, ReportDocument]:
    return {
        "snapshot": ctx.build_snapshot_report("r02"),
        "run": ctx.build_run_report("r03", "r04"),
        "multi": ctx.build_multi_run_report(["r01", "r02", "r04", "r05"]),
        "project": ctx.build_project_summary_report(P),
        "trend": ctx.build_trend_report("accuracy", project_name=P),
        "alert": ctx.build_alert_report("r01", []),
    }


@pytest.mark.parametrize("name", ["snapshot", "run", "multi", "project", "trend", "alert"])
def test_every_report_page_is_self_contained_well_formed_and_keeps_the_text(
    documents, name: str
) -> None:
    doc = documents[name]
    html = doc.to_html()
    assert_self_contained(html)
    page = parse(html)
    assert page.tags["html"] == page.tags["head"] == page.tags["body"] == page.tags["h1"] == 1
    assert f"<title>{doc.title}</title>" in html
    assert_keeps_text(doc, page)
    assert doc.to_html() == html  # deterministic


def test_trend_page_draws_one_point_per_run(documents) -> None:
    html = documents["trend"].to_html()
    assert html.count("<svg") == 1 and html.count("<polyline") == 1
    assert html.count("<circle") == len(documents["trend"].section("Series").body.splitlines()) == 4
    assert "run:churn-model.r05 at 2025-05-05T11:00:00Z" in html  # point tooltip


def test_run_page_draws_diverging_bars_with_missing_values_as_na(documents) -> None:
    chart = documents["run"].section("Metric Deltas").charts[0]
    assert chart.kind == "diverging"
    assert chart.labels == ("evaluate/accuracy", "evaluate/auc", "train/loss")
    assert chart.series[0].values[:2] == (None, None)
    assert chart.series[0].values[2] == pytest.approx(20.0)  # 0.25 -> 0.3
    html = documents["run"].to_html()
    assert html.count(">n/a</text>") == 2
    assert html.count('rx="2" fill="#ea580c"') == 1  # one bar: the loss went up, a regression


def test_multi_run_page_has_a_heatmap_table_and_small_multiples(documents) -> None:
    section = documents["multi"].section("Metric Table")
    kinds = [c.kind for c in section.charts if not c.joined]  # then the runs' curves overlaid
    assert kinds == ["heatmap", "line", "line", "line"]  # latency-ms has one value: no line
    overlaid = [c.title for c in section.charts if c.joined]
    assert overlaid == ["train/loss by observation, runs overlaid"]
    html = documents["multi"].to_html()
    assert '<table class="heatmap">' in html and html.count("<svg") == 3 + 1
    assert html.count('class="missing"') == 3 + 2  # latency-ms on 3 runs, accuracy/auc on r04


def test_snapshot_page_draws_metric_curves(documents) -> None:
    (curve,) = documents["snapshot"].section("Stages").charts
    assert curve.title == "train/loss by observation"
    assert curve.labels == ("0", "1", "2")
    assert curve.series[0].values == (0.8, 0.45, 0.29)


def test_charts_never_reach_markdown_csv_or_dict(documents) -> None:
    doc = documents["trend"]
    assert "svg" not in doc.to_markdown() + doc.to_csv() + repr(doc.to_dict())
    assert doc.to_dict()["sections"][0].keys() == {"title", "body", "evidence_links"}


def test_text_is_escaped_everywhere() -> None:
    chart = ReportChart("line", "<b>x</b>", ("<r1>", "r&2"), (ChartSeries("<s>", (1, 2)),))
    doc = ReportDocument(
        "T <script>alert(1)</script>",
        (
            ReportSection(
                "A & <B>", "error: <x>\nplain", (EvidenceLink("run", "run:a.b", "<l>"),), (chart,)
            ),
        ),
    )
    html = doc.to_html()
    assert "<script>" not in html and "<b>" not in html and "<r1>" not in html and "<s>" not in html
    page = parse(html)
    assert_keeps_text(doc, page)
    assert '<span class="sev sev-error">error</span>: &lt;x&gt;' in html


def test_empty_and_degenerate_charts_render() -> None:
    flat = ReportChart("line", "flat", ("a",), (ChartSeries("k", (5.0,)),))
    gaps = ReportChart("line", "gaps", ("a", "b", "c"), (ChartSeries("k", (1.0, None, 2.0)),))
    nothing = ReportChart("diverging", "none", ("a",), (ChartSeries("d", (None,)),))
    two = ReportChart(
        "line", "two", ("a", "b"), (ChartSeries("x", (1, 2)), ChartSeries("y", (2, 1)))
    )
    doc = ReportDocument("T", (ReportSection("S", "body", charts=(flat, gaps, nothing, two)),))
    page = parse(doc.to_html())
    assert page.tags["svg"] == 4 and page.tags.get("polyline", 0) == 2  # gap breaks the line


@pytest.mark.parametrize(
    "make",
    [
        lambda: ReportChart("pie", "t", ("a",), (ChartSeries("s", (1,)),)),
        lambda: ReportChart("line", "t", ("a", "b"), (ChartSeries("s", (1,)),)),
        lambda: ReportChart("line", "t", ("a",), (ChartSeries("s", (1,)),), annotations=("x", "y")),
        lambda: ChartSeries("s", (float("nan"),)),
        # lower_is_better: one flag per label (diverging) or per series (others)
        lambda: ReportChart(
            "diverging", "t", ("a", "b"), (ChartSeries("s", (1, 2)),), lower_is_better=(True,)
        ),
        lambda: ReportChart(
            "heatmap", "t", ("a", "b"), (ChartSeries("s", (1, 2)),), lower_is_better=(True, False)
        ),
    ],
)
def test_invalid_chart_data_is_refused(make) -> None:
    with pytest.raises(ValidationError) as info:
        make()
    assert info.value.code == "report_invalid_chart"


def test_snapshot_curves_use_the_steps_recorded_by_runtime_capture(tmp_path) -> None:
    from contexta import Contexta

    ctx = Contexta(workspace=tmp_path / ".contexta")
    with ctx.run("steps") as run, run.stage("train") as stage:
        for step in (100, 200, 300):
            stage.metric("loss", 3.0 / step, step=step)
    (curve,) = ctx.build_snapshot_report(run.ref).section("Stages").charts
    assert (curve.title, curve.labels) == ("train/loss by step", ("100", "200", "300"))
    parse(ctx.build_snapshot_report(run.ref).to_html())
