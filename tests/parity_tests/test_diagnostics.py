"""``diagnose_run`` (contract 4.6): issue order, codes, summaries, details and subjects as
Contexta 1.0.0 reported them on the data of ``_entities_data``; decision 8.7 (a degraded
record's issue keeps its payload severity) is the one difference."""

from __future__ import annotations

from pathlib import Path

import pytest

from contexta.common.errors import InterpretationError, ValidationError
from contexta.config import DiagnosticsPolicy as ConfigDiagnosticsPolicy
from contexta.config import InterpretationConfig
from contexta.interpretation import (
    DiagnosticsIssue,
    DiagnosticsPolicy,
    DiagnosticsResult,
    DiagnosticsService,
)

from ._entities_data import build

R1 = "run:proj-a.r1"


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory):
    ctx = build(tmp_path_factory.mktemp("diagnostics") / ".contexta")
    yield ctx
    ctx.close()


def _issues(result: DiagnosticsResult) -> list[tuple]:
    return [(i.severity, i.code, i.subject_ref, i.summary, dict(i.details)) for i in result.issues]


def test_diagnose_r1_matches_1_0_except_the_degraded_payload_severity(ctx) -> None:
    result = ctx.diagnose_run("r1")
    assert isinstance(result, DiagnosticsResult) and result.run_id == R1
    assert _issues(result) == [
        # a metric whose envelope says partial_failure: no payload severity, so warning (as 1.0)
        (
            "warning",
            "degraded_record",
            "record:proj-a.r1.m2",
            "degraded record detected for loss",
            {
                "degradation_marker": "partial_failure",
                "record_type": "metric",
                "stage_id": "stage:proj-a.r1.train",
            },
        ),
        # DegradedPayload(severity="error"): 1.0 said warning; decision 8.7 says error
        (
            "error",
            "degraded_record",
            "record:proj-a.r1.m11",
            "degraded record detected for gpu.oom",
            {
                "degradation_marker": "capture_gap",
                "record_type": "degraded",
                "stage_id": "stage:proj-a.r1.train",
            },
        ),
        (
            "info",
            "missing_stage_metrics",
            "stage:proj-a.r1.prepare",
            "completed stage prepare has no metric records",
            {"run_id": R1, "stage_name": "prepare"},
        ),
        (
            "error",
            "failed_batch",
            "batch:proj-a.r1.train.b0",
            "batch b0 failed",
            {
                "batch_id": "batch:proj-a.r1.train.b0",
                "run_id": R1,
                "stage_id": "stage:proj-a.r1.train",
            },
        ),
        (
            "warning",
            "incomplete_batch",
            "batch:proj-a.r1.train.b2",
            "batch b2 ended with status cancelled",
            {"batch_id": "batch:proj-a.r1.train.b2", "run_id": R1, "status": "cancelled"},
        ),
        (
            "error",
            "failed_deployment",
            "deployment:proj-a.serve-a",
            "deployment serve-a failed",
            {"deployment_id": "deployment:proj-a.serve-a", "run_id": R1},
        ),
        (
            "info",
            "missing_expected_stage",
            R1,
            "expected terminal stage package is missing",
            {"expected_stage_name": "package", "run_id": R1},
        ),
    ]
    assert result.completeness_notes == ()
    # the snapshot's 32 links; every issue link is already among them
    assert len(result.evidence_links) == 32
    assert [(link.kind, link.ref) for link in result.evidence_links[-3:]] == [
        ("record", "record:proj-a.r1.m5"),
        ("record", "record:proj-a.r1.m10"),
        ("record", "record:proj-a.r1.m11"),
    ]
    assert [link.kind for link in result.issues[3].evidence_links] == ["batch"]


def test_diagnose_r2_warning_payload_and_incomplete_stages(ctx) -> None:
    result = ctx.diagnose_run("r2")
    assert _issues(result) == [
        (
            "warning",
            "degraded_record",
            "record:proj-a.r2.m12",
            "degraded record detected for import.loss",
            {"degradation_marker": "import_loss", "record_type": "degraded", "stage_id": None},
        ),
        (
            "warning",
            "incomplete_stage",
            "stage:proj-a.r2.train",
            "stage train is not completed",
            {"run_id": "run:proj-a.r2", "status": "failed"},
        ),
        (
            "warning",
            "incomplete_stage",
            "stage:proj-a.r2.deploy-check",
            "stage deploy-check is not completed",
            {"run_id": "run:proj-a.r2", "status": "open"},
        ),
        (
            "info",
            "missing_expected_stage",
            "run:proj-a.r2",
            "expected terminal stage evaluate is missing",
            {"expected_stage_name": "evaluate", "run_id": "run:proj-a.r2"},
        ),
        (
            "info",
            "missing_expected_stage",
            "run:proj-a.r2",
            "expected terminal stage package is missing",
            {"expected_stage_name": "package", "run_id": "run:proj-a.r2"},
        ),
    ]
    assert [(n.severity, n.summary, dict(n.details)) for n in result.completeness_notes] == [
        ("warning", "sample_list_empty", {"run_id": "run:proj-a.r2"}),
        ("warning", "missing_stage_records:deploy-check", {"run_id": "run:proj-a.r2"}),
    ]
    assert len(result.evidence_links) == 15


def test_run_status_is_never_checked(ctx) -> None:
    # r3 failed and r0 is open: only the missing terminal stages are reported (as in 1.0)
    for run_id in ("r3", "r0"):
        assert [i.code for i in ctx.diagnose_run(run_id).issues] == ["missing_expected_stage"] * 2
    assert [n.summary for n in ctx.diagnose_run("r3").completeness_notes] == [
        "stage_list_empty",
        "deployment_list_empty",
        "provenance_missing",
    ]


def test_unknown_run_raises_query_run_not_found(ctx) -> None:
    with pytest.raises(InterpretationError) as err:
        ctx.diagnose_run("zz")
    assert err.value.code == "query_run_not_found"


def test_policy_switches_from_the_config(tmp_path: Path) -> None:
    policy = ConfigDiagnosticsPolicy(
        require_metrics_for_completed_stages=False,
        detect_degraded_records=False,
        expected_terminal_stage_names=("train", "ship"),
    )
    ctx = build(tmp_path / ".contexta", interpretation=InterpretationConfig(diagnostics=policy))
    assert [(i.code, i.summary) for i in ctx.diagnose_run("r1").issues] == [
        ("failed_batch", "batch b0 failed"),
        ("incomplete_batch", "batch b2 ended with status cancelled"),
        ("failed_deployment", "deployment serve-a failed"),
        ("missing_expected_stage", "expected terminal stage ship is missing"),
    ]


def test_service_with_an_explicit_policy(ctx) -> None:
    service = DiagnosticsService(
        ctx.query_service, config=DiagnosticsPolicy(expected_terminal_stage_names=())
    )
    codes = [i.code for i in service.diagnose_run("r1").issues]
    assert "missing_expected_stage" not in codes and codes[0] == "degraded_record"
    with pytest.raises(ValidationError) as err:
        DiagnosticsPolicy(expected_terminal_stage_names=("ok", " "))
    assert err.value.code == "diagnostics_invalid_expected_stage_name"
    assert (
        ctx.diagnostics_service.diagnose_run("r1").to_dict()["issues"][0]["code"]
        == "degraded_record"
    )


def test_issue_to_dict_round_trips_plain_values(ctx) -> None:
    issue = ctx.diagnose_run("r1").issues[3]
    assert isinstance(issue, DiagnosticsIssue)
    assert issue.to_dict() == {
        "severity": "error",
        "code": "failed_batch",
        "summary": "batch b0 failed",
        "details": {
            "batch_id": "batch:proj-a.r1.train.b0",
            "run_id": R1,
            "stage_id": "stage:proj-a.r1.train",
        },
        "subject_ref": "batch:proj-a.r1.train.b0",
        "evidence_links": [{"kind": "batch", "ref": "batch:proj-a.r1.train.b0", "label": "b0"}],
    }
