"""Report texts recorded from Contexta 1.0.0 on the dataset of ``_reports_data``.

One deliberate difference is applied (decision 8.7): 1.0 printed the snapshot report's
completeness notes twice (snapshot notes, then the same notes from diagnostics); they are listed
once here. Everything else is 1.0's output byte for byte.
"""

SNAPSHOT_R01_MD = """\
# Run Snapshot Report: run:churn-model.r01

## Run Summary
run_id: run:churn-model.r01
name: r01
status: completed
project: churn-model

Evidence:
- r01 (run: run:churn-model.r01)

## Stages
prep: status=completed, stage_id=stage:churn-model.r01.prep
train: status=completed, stage_id=stage:churn-model.r01.train
evaluate: status=completed, stage_id=stage:churn-model.r01.evaluate

Evidence:
- prep (stage: stage:churn-model.r01.prep)
- train (stage: stage:churn-model.r01.train)
- evaluate (stage: stage:churn-model.r01.evaluate)

## Artifacts
No artifacts.

## Batches
No batches.

## Deployments
No deployments.

## Samples
No samples.

## Diagnostics
info:missing_stage_metrics: completed stage prep has no metric records
info:missing_expected_stage: expected terminal stage package is missing

Evidence:
- r01 (run: run:churn-model.r01)
- prep (stage: stage:churn-model.r01.prep)
- train (stage: stage:churn-model.r01.train)
- evaluate (stage: stage:churn-model.r01.evaluate)
- loss (record: record:churn-model.r01.m0001)
- loss (record: record:churn-model.r01.m0002)
- loss (record: record:churn-model.r01.m0003)
- accuracy (record: record:churn-model.r01.m0004)
- auc (record: record:churn-model.r01.m0005)
- data.loaded (record: record:churn-model.r01.m0006)

## Completeness Notes
warning: deployment_list_empty
warning: batch_list_empty
warning: artifact_list_empty
warning: relation_scope_empty
warning: provenance_missing
warning: missing_stage_records:prep"""

SNAPSHOT_R02_MD = """\
# Run Snapshot Report: run:churn-model.r02

## Run Summary
run_id: run:churn-model.r02
name: r02
status: completed
project: churn-model

Evidence:
- r02 (run: run:churn-model.r02)

## Stages
prep: status=completed, stage_id=stage:churn-model.r02.prep
train: status=completed, stage_id=stage:churn-model.r02.train
evaluate: status=completed, stage_id=stage:churn-model.r02.evaluate

Evidence:
- prep (stage: stage:churn-model.r02.prep)
- train (stage: stage:churn-model.r02.train)
- evaluate (stage: stage:churn-model.r02.evaluate)

## Artifacts
No artifacts.

## Batches
No batches.

## Deployments
No deployments.

## Samples
No samples.

## Diagnostics
warning:degraded_record: degraded record detected for capture.gap
info:missing_stage_metrics: completed stage prep has no metric records
info:missing_expected_stage: expected terminal stage package is missing

Evidence:
- r02 (run: run:churn-model.r02)
- prep (stage: stage:churn-model.r02.prep)
- train (stage: stage:churn-model.r02.train)
- evaluate (stage: stage:churn-model.r02.evaluate)
- loss (record: record:churn-model.r02.m0007)
- loss (record: record:churn-model.r02.m0008)
- loss (record: record:churn-model.r02.m0009)
- accuracy (record: record:churn-model.r02.m0010)
- auc (record: record:churn-model.r02.m0011)
- capture.gap (record: record:churn-model.r02.m0012)

## Completeness Notes
warning: deployment_list_empty
warning: batch_list_empty
warning: artifact_list_empty
warning: relation_scope_empty
warning: provenance_missing
warning: missing_stage_records:prep"""

RUN_R01_R02_MD = """\
# Run Comparison Report: run:churn-model.r01 vs run:churn-model.r02

## Summary
Compared r01 and r02: 3 stage rows, 3 metric deltas, 0 artifact changes.

Evidence:
- r01 (run: run:churn-model.r01)
- prep (stage: stage:churn-model.r01.prep)
- train (stage: stage:churn-model.r01.train)
- evaluate (stage: stage:churn-model.r01.evaluate)
- loss (record: record:churn-model.r01.m0001)
- loss (record: record:churn-model.r01.m0002)
- loss (record: record:churn-model.r01.m0003)
- accuracy (record: record:churn-model.r01.m0004)
- auc (record: record:churn-model.r01.m0005)
- data.loaded (record: record:churn-model.r01.m0006)
- r02 (run: run:churn-model.r02)
- prep (stage: stage:churn-model.r02.prep)
- train (stage: stage:churn-model.r02.train)
- evaluate (stage: stage:churn-model.r02.evaluate)
- loss (record: record:churn-model.r02.m0007)
- loss (record: record:churn-model.r02.m0008)
- loss (record: record:churn-model.r02.m0009)
- accuracy (record: record:churn-model.r02.m0010)
- auc (record: record:churn-model.r02.m0011)
- capture.gap (record: record:churn-model.r02.m0012)

## Metric Deltas
evaluate/accuracy: left=0.81, right=0.83, delta=0.019999999999999907
evaluate/auc: left=0.88, right=0.9, delta=0.020000000000000018
train/loss: left=0.31, right=0.29, delta=-0.020000000000000018

## Artifact Changes
No artifact changes.

## Diagnostics
info:missing_stage_metrics: completed stage prep has no metric records
info:missing_expected_stage: expected terminal stage package is missing

Evidence:
- r01 (run: run:churn-model.r01)
- prep (stage: stage:churn-model.r01.prep)
- train (stage: stage:churn-model.r01.train)
- evaluate (stage: stage:churn-model.r01.evaluate)
- loss (record: record:churn-model.r01.m0001)
- loss (record: record:churn-model.r01.m0002)
- loss (record: record:churn-model.r01.m0003)
- accuracy (record: record:churn-model.r01.m0004)
- auc (record: record:churn-model.r01.m0005)
- data.loaded (record: record:churn-model.r01.m0006)

## Completeness Notes
warning: left:deployment_list_empty
warning: left:batch_list_empty
warning: left:artifact_list_empty
warning: left:relation_scope_empty
warning: left:provenance_missing
warning: left:missing_stage_records:prep
warning: right:deployment_list_empty
warning: right:batch_list_empty
warning: right:artifact_list_empty
warning: right:relation_scope_empty
warning: right:provenance_missing
warning: right:missing_stage_records:prep
warning: deployment_list_empty
warning: batch_list_empty
warning: artifact_list_empty
warning: relation_scope_empty
warning: provenance_missing
warning: missing_stage_records:prep"""

RUN_R03_R04_CSV = (
    """\
section_title,body
"Summary","Compared r03 and r04: 3 stage rows, 3 metric deltas, 0 artifact changes."
"Metric Deltas","evaluate/accuracy: left=0.86, right=None, delta=None
evaluate/auc: left=0.91, right=None, delta=None
train/loss: left=0.25, right=0.3, delta=0.04999999999999999"
"Artifact Changes","No artifact changes."
"Diagnostics","info:missing_stage_metrics: completed stage prep has no metric records
info:missing_expected_stage: expected terminal stage package is missing"
"Completeness Notes","warning: left:deployment_list_empty
warning: left:batch_list_empty
warning: left:artifact_list_empty
warning: left:relation_scope_empty
warning: left:provenance_missing
warning: left:missing_stage_records:prep
warning: right:deployment_list_empty
warning: right:batch_list_empty
warning: right:artifact_list_empty
warning: right:relation_scope_empty
warning: right:provenance_missing
warning: right:missing_stage_records:prep
warning: missing_stage:evaluate
warning: deployment_list_empty
warning: batch_list_empty
warning: artifact_list_empty
warning: relation_scope_empty
warning: provenance_missing
warning: missing_stage_records:prep"""
    '"'
)

MULTI_MD = """\
# Multi Run Report: 3 runs

## Summary
Compared 3 runs: 3 metric rows and 0 artifact kind summaries.

Evidence:
- r01 (run: run:churn-model.r01)
- prep (stage: stage:churn-model.r01.prep)
- train (stage: stage:churn-model.r01.train)
- evaluate (stage: stage:churn-model.r01.evaluate)
- loss (record: record:churn-model.r01.m0001)
- loss (record: record:churn-model.r01.m0002)
- loss (record: record:churn-model.r01.m0003)
- accuracy (record: record:churn-model.r01.m0004)
- auc (record: record:churn-model.r01.m0005)
- data.loaded (record: record:churn-model.r01.m0006)
- r02 (run: run:churn-model.r02)
- prep (stage: stage:churn-model.r02.prep)
- train (stage: stage:churn-model.r02.train)
- evaluate (stage: stage:churn-model.r02.evaluate)
- loss (record: record:churn-model.r02.m0007)
- loss (record: record:churn-model.r02.m0008)
- loss (record: record:churn-model.r02.m0009)
- accuracy (record: record:churn-model.r02.m0010)
- auc (record: record:churn-model.r02.m0011)
- capture.gap (record: record:churn-model.r02.m0012)
- r03 (run: run:churn-model.r03)
- prep (stage: stage:churn-model.r03.prep)
- train (stage: stage:churn-model.r03.train)
- evaluate (stage: stage:churn-model.r03.evaluate)
- loss (record: record:churn-model.r03.m0013)
- loss (record: record:churn-model.r03.m0014)
- loss (record: record:churn-model.r03.m0015)
- accuracy (record: record:churn-model.r03.m0016)
- auc (record: record:churn-model.r03.m0017)

## Run IDs
r01
r02
run:churn-model.r03

## Metric Table
evaluate/accuracy: (0.81, 0.83, 0.86)
evaluate/auc: (0.88, 0.9, 0.91)
train/loss: (0.31, 0.29, 0.25)

## Completeness Notes
warning: deployment_list_empty
warning: batch_list_empty
warning: artifact_list_empty
warning: relation_scope_empty
warning: provenance_missing
warning: missing_stage_records:prep"""

MULTI_CSV_FILTERED = (
    """\
section_title,body
"Summary","Compared 3 runs: 3 metric rows and 0 artifact kind summaries."
"Completeness Notes","warning: deployment_list_empty
warning: batch_list_empty
warning: artifact_list_empty
warning: relation_scope_empty
warning: provenance_missing
warning: missing_stage_records:prep"""
    '"'
)

PROJECT_MD = """\
# Project Summary Report: churn-model

## Runs
run:churn-model.r01: name=r01, status=completed, started_at=2025-05-01T08:00:00Z
run:churn-model.r02: name=r02, status=completed, started_at=2025-05-02T08:00:00Z
run:churn-model.r03: name=r03, status=completed, started_at=2025-05-03T08:00:00Z
run:churn-model.r04: name=r04, status=completed, started_at=2025-05-04T08:00:00Z
run:churn-model.r05: name=r05, status=failed, started_at=2025-05-05T08:00:00Z

## Completeness Notes
No completeness notes."""

PROJECT_EMPTY_CSV = (
    """\
section_title,body
"Runs","No runs."
"Completeness Notes","info: project_runs_empty"""
    '"'
)

TREND_MD = """\
# Trend Report: accuracy

## Series
run:churn-model.r01: value=0.81, captured_at=2025-05-01T11:00:00Z
run:churn-model.r02: value=0.83, captured_at=2025-05-02T11:00:00Z
run:churn-model.r03: value=0.86, captured_at=2025-05-03T11:00:00Z
run:churn-model.r05: value=0.52, captured_at=2025-05-05T11:00:00Z

## Completeness Notes
warning: missing_metric_for_run:accuracy"""

ALERT_MD = """\
# Alert Report

## Triggered
run:churn-model.r01: accuracy@evaluate:gt:0.8 actual=0.81 threshold=0.8

## Passed
run:churn-model.r01: low-loss actual=0.31 threshold=0.3
run:churn-model.r01: auc:gte:1 actual=0.88 threshold=1
run:churn-model.r01: nope:eq:0 actual=None threshold=0
run:churn-model.r01: latency-ms:ne:120 actual=None threshold=120"""

ALERT_CSV = (
    """\
section_title,body
"Triggered","run:churn-model.r01: accuracy@evaluate:gt:0.8 actual=0.81 threshold=0.8"
"Passed","run:churn-model.r01: low-loss actual=0.31 threshold=0.3
run:churn-model.r01: auc:gte:1 actual=0.88 threshold=1
run:churn-model.r01: nope:eq:0 actual=None threshold=0
run:churn-model.r01: latency-ms:ne:120 actual=None threshold=120"""
    '"'
)

ALERT_JSON = {
    "sections": [
        {
            "body": "run:churn-model.r01: accuracy@evaluate:gt:0.8 actual=0.81 threshold=0.8",
            "evidence_links": [],
            "title": "Triggered",
        },
        {
            "body": "run:churn-model.r01: low-loss actual=0.31 threshold=0.3\n"
            "run:churn-model.r01: auc:gte:1 actual=0.88 threshold=1\n"
            "run:churn-model.r01: nope:eq:0 actual=None threshold=0\n"
            "run:churn-model.r01: latency-ms:ne:120 actual=None threshold=120",
            "evidence_links": [],
            "title": "Passed",
        },
    ],
    "title": "Alert Report",
}

TREND_JSON = {
    "sections": [
        {
            "body": "run:churn-model.r01: value=0.81, captured_at=2025-05-01T11:00:00Z\n"
            "run:churn-model.r02: value=0.83, captured_at=2025-05-02T11:00:00Z\n"
            "run:churn-model.r03: value=0.86, captured_at=2025-05-03T11:00:00Z\n"
            "run:churn-model.r05: value=0.52, captured_at=2025-05-05T11:00:00Z",
            "evidence_links": [],
            "title": "Series",
        },
        {
            "body": "warning: missing_metric_for_run:accuracy",
            "evidence_links": [],
            "title": "Completeness Notes",
        },
    ],
    "title": "Trend Report: accuracy",
}
