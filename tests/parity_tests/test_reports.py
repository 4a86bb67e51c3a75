"""Reports (contract 4.10, 4.5 ``compare_report_documents``): section lists, body line formats,
Markdown/CSV/dict renderings. Texts recorded from Contexta 1.0.0 (see ``_reports_expected``)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from contexta.common.errors import ValidationError
from contexta.interpretation import (
    AlertRule,
    ComparisonError,
    EvidenceLink,
    ReportComparison,
    ReportDocument,
    ReportSection,
    SectionDiff,
)
from contexta.interpretation.reports import (
    build_alert_report,
    build_project_summary_report,
    build_snapshot_report,
    compare_report_documents,
)
from contexta.interpretation.results import (
    BatchRecord,
    CompletenessNote,
    DeploymentRecord,
    ProvenanceView,
    RunRecord,
    SampleRecord,
    StageRecord,
)

from . import _reports_expected as X
from ._reports_data import P, notes, open_seeded

RULES = (
    AlertRule("accuracy", "gt", 0.8, stage_name="evaluate"),
    AlertRule("loss", "lt", 0.3, severity="error", name="low-loss"),
    AlertRule("auc", "gte", 1),
    AlertRule("nope", "eq", 0),
    AlertRule("latency-ms", "ne", 120),
)


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory):
    return open_seeded(tmp_path_factory.mktemp("reports"))


def titles(doc: ReportDocument) -> list[str]:
    return [s.title for s in doc.sections]


def test_snapshot_report_lists_completeness_notes_once(ctx) -> None:
    doc = ctx.build_snapshot_report("r01")
    assert titles(doc) == [
        "Run Summary",
        "Stages",
        "Artifacts",
        "Batches",
        "Deployments",
        "Samples",
        "Diagnostics",
        "Completeness Notes",
    ]
    assert doc.to_markdown() == X.SNAPSHOT_R01_MD
    assert ctx.build_snapshot_report("run:churn-model.r02").to_markdown() == X.SNAPSHOT_R02_MD
    lines = doc.section("Completeness Notes").body.splitlines()
    assert len(lines) == len(set(lines)) == 6


def test_run_report(ctx) -> None:
    doc = ctx.build_run_report("r01", "r02")
    assert titles(doc) == [
        "Summary",
        "Metric Deltas",
        "Artifact Changes",
        "Diagnostics",
        "Completeness Notes",
    ]
    assert doc.title == "Run Comparison Report: run:churn-model.r01 vs run:churn-model.r02"
    assert doc.to_markdown() == X.RUN_R01_R02_MD
    assert ctx.build_run_report("r03", "r04").to_csv() == X.RUN_R03_R04_CSV


def test_multi_run_report_keeps_the_callers_ids(ctx) -> None:
    doc = ctx.build_multi_run_report(["r01", "r02", "run:churn-model.r03"])
    assert doc.to_markdown() == X.MULTI_MD
    assert doc.to_csv(metric_keys=("Summary", "Completeness Notes")) == X.MULTI_CSV_FILTERED


def test_multi_run_report_with_run_and_stage_level_metrics_does_not_crash(ctx) -> None:
    # 1.0 raised TypeError here (decision 8.2): run-level rows are labelled "run"
    body = ctx.build_multi_run_report(["r04", "r05"]).section("Metric Table").body
    assert body.splitlines()[0] == "run/latency-ms: (None, 120.0)"
    assert "train/loss: (0.3, 1.1)" in body.splitlines()


def test_project_summary_report(ctx) -> None:
    assert ctx.build_project_summary_report(P).to_markdown() == X.PROJECT_MD
    assert ctx.build_project_summary_report("empty-proj").to_csv() == X.PROJECT_EMPTY_CSV
    ghost = ctx.build_project_summary_report("ghost")
    assert ghost.title == "Project Summary Report: ghost"
    assert [s.body for s in ghost.sections] == ["No runs.", "info: project_runs_empty"]


def test_trend_report(ctx) -> None:
    doc = ctx.build_trend_report("accuracy", project_name=P, stage_name="evaluate")
    assert doc.to_markdown() == X.TREND_MD
    assert doc.to_json() == X.TREND_JSON and doc.to_dict() == X.TREND_JSON
    empty = ctx.build_trend_report("nope", project_name="ghost")
    assert [s.body for s in empty.sections] == ["No series points.", "No completeness notes."]


def test_alert_report(ctx) -> None:
    doc = ctx.build_alert_report("r01", RULES)
    assert doc.to_markdown() == X.ALERT_MD
    assert doc.to_csv() == X.ALERT_CSV
    assert doc.to_json() == X.ALERT_JSON
    none = build_alert_report(())
    assert [s.body for s in none.sections] == ["No triggered alerts.", "No passing alerts."]


def test_document_renderings_follow_1_0_exactly() -> None:
    doc = ReportDocument(
        " Title ",
        (
            ReportSection("A", 'x\n"q",y', (EvidenceLink("run", "run:a.b", "b"),)),
            ReportSection("B", ""),
        ),
    )
    assert doc.to_markdown() == '# Title\n\n## A\nx\n"q",y\n\nEvidence:\n- b (run: run:a.b)\n\n## B'
    quoted = ReportDocument("T", (ReportSection('A "x"', 'l1\n"q",y'),))
    assert quoted.to_csv() == 'section_title,body\n"A ""x""","l1\n""q"",y"'
    assert quoted.to_csv(metric_keys=("other",)) == "section_title,body"
    section = ReportSection("  T  ", "  body\n ")
    assert (section.title, section.body, section.evidence_links) == ("T", "body", ())
    assert doc.to_dict() == {
        "title": "Title",
        "sections": [
            {
                "title": "A",
                "body": 'x\n"q",y',
                "evidence_links": [{"kind": "run", "ref": "run:a.b", "label": "b"}],
            },
            {"title": "B", "body": "", "evidence_links": []},
        ],
    }


def test_sections_must_be_text() -> None:
    with pytest.raises(ValidationError) as info:
        ReportSection("A", None)  # type: ignore[arg-type]
    assert info.value.code == "report_invalid_section"


def test_snapshot_builder_line_formats_for_every_entity() -> None:
    stage = StageRecord("stage:p.r.train", "run:p.r", "train", "completed")
    snapshot = SimpleNamespace(
        run=RunRecord("run:p.r", "p", "r", "completed", "2025-01-01T00:00:00Z"),
        stages=(stage,),
        artifacts=(
            SimpleNamespace(kind="checkpoint", artifact_ref="artifact:p.r.m", location="vault://m"),
        ),
        batches=(
            BatchRecord("batch:p.r.train.b0", "run:p.r", "stage:p.r.train", "b0", "completed", 3),
        ),
        deployments=(
            DeploymentRecord(
                "deployment:p.web", "p", "web", "completed", "run:p.r", "artifact:p.r.m"
            ),
            DeploymentRecord("deployment:p.cli", "p", "cli", "failed"),
        ),
        samples=tuple(
            SampleRecord(
                f"sample:p.r.train.s{i}",
                "run:p.r",
                "stage:p.r.train",
                None,
                f"s{i}",
                "2025-01-01T00:00:00Z",
                "short" if i == 0 else None,
                "pii" if i == 0 else None,
            )
            for i in range(23)
        ),
        records=(),
        evidence_links=(
            EvidenceLink("run", "run:p.r", "r"),
            EvidenceLink("artifact", "artifact:p.r.m", "checkpoint"),
        ),
        completeness_notes=("relation_scope_empty",),
        provenance=ProvenanceView(
            "run:p.r", "provenance:p.x", "relation:p.x", "explicit", "2025-01-02T00:00:00Z"
        ),
    )
    diagnostics = SimpleNamespace(
        issues=(SimpleNamespace(severity="error", code="failed_batch", summary="batch b0 failed"),),
        evidence_links=(),
        completeness_notes=(CompletenessNote("warning", "relation_scope_empty"),),
    )
    doc = build_snapshot_report(snapshot, diagnostics)
    body = {s.title: s.body for s in doc.sections}
    assert body["Artifacts"] == "checkpoint: ref=artifact:p.r.m, location=vault://m"
    assert body["Batches"] == "b0: stage=train, status=completed, order=3"
    assert body["Deployments"] == (
        "web: status=completed, run_id=run:p.r, artifact_ref=artifact:p.r.m\ncli: status=failed"
    )
    samples = body["Samples"].splitlines()
    assert samples[0] == "s0: observed_at=2025-01-01T00:00:00Z, retention=short, redaction=pii"
    assert len(samples) == 21 and samples[-1] == "... and 3 more."
    assert body["Diagnostics"] == "error:failed_batch: batch b0 failed"
    assert body["Completeness Notes"] == "warning: relation_scope_empty"
    assert body["Provenance"] == (
        "provenance_ref: provenance:p.x\nrelation_ref: relation:p.x\nassertion_mode: explicit\n"
        "asserted_at: 2025-01-02T00:00:00Z"
    )
    assert [link.kind for link in doc.section("Provenance").evidence_links] == ["run", "artifact"]
    assert titles(doc)[-1] == "Provenance"


def test_module_builder_for_project_summary() -> None:
    run = RunRecord("run:p.r", "p", "r", "failed", "2025-01-01T00:00:00Z")
    doc = build_project_summary_report("p", runs=(run,))
    assert doc.sections[0].body == "run:p.r: name=r, status=failed, started_at=2025-01-01T00:00:00Z"


def test_compare_report_documents(ctx) -> None:
    left, right = ctx.build_snapshot_report("r01"), ctx.build_snapshot_report("r02")
    comparison = ctx.compare_report_documents(left, right)
    assert isinstance(comparison, ReportComparison)
    assert (comparison.left_title, comparison.right_title) == (
        "Run Snapshot Report: run:churn-model.r01",
        "Run Snapshot Report: run:churn-model.r02",
    )
    assert [(d.section_title, d.changed) for d in comparison.section_diffs] == [
        ("Artifacts", False),
        ("Batches", False),
        ("Completeness Notes", False),
        ("Deployments", False),
        ("Diagnostics", True),
        ("Run Summary", True),
        ("Samples", False),
        ("Stages", True),
    ]
    assert comparison.completeness_notes == ()
    assert comparison.changed_sections == ("Diagnostics", "Run Summary", "Stages")


def test_compare_report_documents_notes_sections_on_one_side(ctx) -> None:
    trend = ctx.build_trend_report("accuracy", project_name=P)
    alert = ctx.build_alert_report("r01", RULES).to_dict()  # a dict works as well
    comparison = compare_report_documents(trend, alert)
    assert (comparison.left_title, comparison.right_title) == (
        "Trend Report: accuracy",
        "Alert Report",
    )
    assert [d.section_title for d in comparison.section_diffs] == [
        "Completeness Notes",
        "Passed",
        "Series",
        "Triggered",
    ]
    assert comparison.section_diffs[0] == SectionDiff(
        "Completeness Notes", "warning: missing_metric_for_run:accuracy", None, True
    )
    assert notes(comparison.completeness_notes) == [
        (
            "warning",
            "section_presence_changed:Completeness Notes",
            {"left_present": True, "right_present": False},
        ),
        (
            "warning",
            "section_presence_changed:Passed",
            {"left_present": False, "right_present": True},
        ),
        (
            "warning",
            "section_presence_changed:Series",
            {"left_present": True, "right_present": False},
        ),
        (
            "warning",
            "section_presence_changed:Triggered",
            {"left_present": False, "right_present": True},
        ),
    ]
    same = compare_report_documents(
        ctx.build_project_summary_report(P), ctx.build_project_summary_report(P)
    )
    assert not any(d.changed for d in same.section_diffs) and same.completeness_notes == ()
    loose = compare_report_documents({"sections": [{"section_title": "X", "body": 1}]}, {})
    assert (loose.left_title, loose.right_title) == ("Untitled Report", "Untitled Report")
    assert loose.section_diffs == (SectionDiff("X", "1", None, True),)


def test_compare_report_documents_refuses_what_is_not_a_report(ctx) -> None:
    with pytest.raises(ComparisonError) as info:
        ctx.compare_report_documents(3, ctx.build_project_summary_report(P))
    assert info.value.code == "compare_invalid_report_document"
