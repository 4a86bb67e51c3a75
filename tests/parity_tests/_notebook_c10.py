"""What Contexta 1.0.0 answered to ``notebook_probe`` on the workspace of ``_services_data``:
the rows of its notebook DataFrames and the text of its notebook fragments (recorded under the
real 1.0.0, Python 3.13; trend ``captured_at`` left out). 1.0 listed the snapshot report's
completeness notes twice; the test applies the deliberate difference (listed once).
"""

C10_TABLE_ROWS = {
    "comparison": [
        {
            "left_status": "completed",
            "metric_delta_count": 1,
            "right_status": "completed",
            "stage_name": "evaluate",
        },
        {
            "left_status": "completed",
            "metric_delta_count": 1,
            "right_status": "completed",
            "stage_name": "train",
        },
    ],
    "multi": [
        {
            "best_run_id": "run:svc.tuned",
            "metric_key": "f1",
            "stage_name": "evaluate",
            "value_0": 0.7,
            "value_1": 0.75,
            "value_2": None,
        },
        {
            "best_run_id": "run:svc.base",
            "metric_key": "acc",
            "stage_name": "train",
            "value_0": 0.8,
            "value_1": 0.8,
            "value_2": None,
        },
        {
            "best_run_id": "run:svc.broken",
            "metric_key": "loss",
            "stage_name": "train",
            "value_0": 0.5,
            "value_1": 0.3,
            "value_2": 0.9,
        },
    ],
    "report": [
        {
            "body": "run_id: run:svc.tuned\nname: tuned\nstatus: completed\nproject: svc",
            "evidence_link_count": 1,
            "section_title": "Run Summary",
        },
        {
            "body": "train: status=completed, stage_id=stage:svc.tuned.train\n"
            "evaluate: status=completed, stage_id=stage:svc.tuned.evaluate",
            "evidence_link_count": 2,
            "section_title": "Stages",
        },
        {"body": "No artifacts.", "evidence_link_count": 0, "section_title": "Artifacts"},
        {"body": "No batches.", "evidence_link_count": 0, "section_title": "Batches"},
        {"body": "No deployments.", "evidence_link_count": 0, "section_title": "Deployments"},
        {"body": "No samples.", "evidence_link_count": 0, "section_title": "Samples"},
        {
            "body": "info:missing_expected_stage: expected terminal stage package is missing",
            "evidence_link_count": 6,
            "section_title": "Diagnostics",
        },
        {
            "body": "warning: deployment_list_empty\n"
            "warning: batch_list_empty\n"
            "warning: artifact_list_empty\n"
            "warning: relation_scope_empty\n"
            "warning: provenance_missing\n"
            "warning: deployment_list_empty\n"
            "warning: batch_list_empty\n"
            "warning: artifact_list_empty\n"
            "warning: relation_scope_empty\n"
            "warning: provenance_missing",
            "evidence_link_count": 0,
            "section_title": "Completeness Notes",
        },
    ],
    "snapshot": [
        {
            "artifact_count": 0,
            "project_name": "svc",
            "record_count": 3,
            "run_id": "run:svc.tuned",
            "run_name": "tuned",
            "stage_count": 2,
            "status": "completed",
        }
    ],
    "trend": [
        {"run_id": "run:svc.base", "run_name": "base", "stage_name": "train", "value": 0.5},
        {"run_id": "run:svc.tuned", "run_name": "tuned", "stage_name": "train", "value": 0.3},
        {"run_id": "run:svc.broken", "run_name": "broken", "stage_name": "train", "value": 0.9},
    ],
}
C10_FRAGMENT_TEXT = "Run snapshot for run:svc.tuned"
C10_FRAGMENT_TEXTS = {
    "compare_runs": "Run comparison for run:svc.base vs run:svc.tuned",
    "comparison": "Compare run:svc.base vs run:svc.tuned: Compared base and tuned: 2 stage rows, 2 "
    "metric deltas, 0 artifact changes. stages=2",
    "multi": "Multi-run comparison runs=3 metrics=3",
    "show_metric_trend": "Metric trend for loss",
    "show_run": "Run snapshot for run:svc.tuned",
    "snapshot": "Run run:svc.tuned (completed) stages=2 artifacts=0 records=3",
    "trend": "Metric trend loss points=3",
}
