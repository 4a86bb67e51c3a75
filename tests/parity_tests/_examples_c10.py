"""What Contexta 1.0.0 printed running the programs of examples/parity/ (Python 3.13), recorded
as data. ``capture_preview.py`` did not run on 1.0.0 (its first emission raised the error
below); the lines its documented preview reports are kept instead.
"""

C10_QUICKSTART = [
    "Snapshot of tuned: 1 stage(s), 1 record(s)",
    "Report: Run Snapshot Report: run:quickstart.tuned",
    "Runs: run:quickstart.baseline, run:quickstart.tuned",
    "Compared baseline and tuned: 1 stage rows, 1 metric deltas, 0 artifact changes.",
    "  evaluate/eval.accuracy: 0.81 -> 0.86 (delta +0.05)",
    "Best: run:quickstart.tuned",
]

C10_SINKS_DEMO = [
    '{"sink":"stdout","family":"RECORD","payload_type":"MetricRecord","payload_ref":"record:sinks-demo.r1.loss","payload":{"envelope":{"record_ref":"record:sinks-demo.r1.loss","record_type":"metric","recorded_at":"2025-05-01T09:30:00Z","observed_at":"2025-05-01T09:30:00Z","producer_ref":"sinks-demo","run_ref":"run:sinks-demo.r1","deployment_execution_ref":null,"stage_execution_ref":null,"batch_execution_ref":null,"sample_observation_ref":null,"operation_context_ref":null,"correlation_refs":{"trace_id":null,"session_id":null},"completeness_marker":"complete","degradation_marker":"none","schema_version":"1.0.0","extensions":[]},"payload":{"metric_key":"train.loss","value":0.125,"value_type":"float64","unit":null,"aggregation_scope":"step","subject_ref":null,"slice_ref":null,"tags":{},"summary_basis":null}}}',
    "stdout sink: SUCCESS (printed to stdout)",
    "mlflow sink: DependencyError mlflow_not_ready",
    "otel sink: DependencyError otel_api_not_ready",
]

C10_CAPTURE_PREVIEW_ERROR = "TypeError"

#: what 1.0's documented runtime-capture preview reports for three captured records
C10_CAPTURE_PREVIEW_LINES = ("Capture file exists: True", "Captured records: 3")
