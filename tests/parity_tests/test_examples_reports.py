"""The reports example runs end to end and leaves readable reports behind."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import REPO, run_script

EXAMPLE = REPO / "examples" / "parity" / "reports_trends_alerts.py"


def test_example_writes_markdown_json_csv_and_html_reports(tmp_path: Path) -> None:
    workspace = tmp_path / "ws" / ".contexta"
    out = run_script(EXAMPLE, tmp_path, "--workspace", str(workspace)).stdout
    lines = out.splitlines()
    assert lines[0] == (
        "accuracy by run: baseline=0.912, wider-net=0.921, more-data=0.934, lr-sweep-1=0.929, "
        "lr-sweep-2=0.931, vendor-feed=0.861"
    )
    assert (
        "alert error: accuracy@evaluate:lt:0.9 on run:fraud-detector.vendor-feed (actual 0.861)"
        in lines
    )
    assert "alert warning: loss-plateau on run:fraud-detector.vendor-feed (actual 0.36)" in lines
    assert "accuracy over 6 runs: mean 0.9147, p50 0.9250" in lines
    assert "anomaly error: accuracy=0.861 (z=-8.1)" in lines
    reports = workspace / "reports"
    assert f"reports written to {reports}:" in lines
    names = [
        "trend.md",
        "trend.html",
        "best-vs-latest.html",
        "all-runs.html",
        "latest-snapshot.json",
        "alerts.csv",
    ]
    assert lines[-len(names) :] == [f"  {n}" for n in names]
    assert sorted(p.name for p in reports.iterdir()) == sorted(names)

    assert (reports / "trend.md").read_text().startswith("# Trend Report: accuracy\n\n## Series\n")
    snapshot = json.loads((reports / "latest-snapshot.json").read_text())
    assert snapshot["title"] == "Run Snapshot Report: run:fraud-detector.vendor-feed"
    assert (reports / "alerts.csv").read_text().splitlines()[:2] == [
        "section_title,body",
        '"Triggered","run:fraud-detector.vendor-feed: accuracy@evaluate:lt:0.9 actual=0.861 threshold=0.9',
    ]
    for page in ("trend.html", "best-vs-latest.html", "all-runs.html"):
        html = (reports / page).read_text()
        assert html.startswith("<!DOCTYPE html>") and "<svg" in html
        assert "http://" not in html and "https://" not in html and "<script" not in html
    assert (
        "Run Comparison Report: run:fraud-detector.more-data vs run:fraud-detector.vendor-feed"
        in (reports / "best-vs-latest.html").read_text()
    )
