"""What Contexta 1.0.0 sinks emitted, recorded as data: ``StdoutSink`` / ``LocalJsonlSink`` lines
(``sinks_probe``) and the calls ``MLflowSink`` and ``OTelSink`` made to recording stand-ins of
mlflow and opentelemetry (``_fake_tools``), run under the real 1.0.0 (Python 3.13).
"""

C10_SINKS = {
    "local_entry": {
        "family": "RECORD",
        "payload": {
            "envelope": {
                "batch_execution_ref": None,
                "completeness_marker": "complete",
                "correlation_refs": {"session_id": None, "trace_id": None},
                "degradation_marker": "none",
                "deployment_execution_ref": None,
                "extensions": [],
                "observed_at": "2025-01-01T00:00:01Z",
                "operation_context_ref": None,
                "producer_ref": "tests",
                "record_ref": "record:p.r.m1",
                "record_type": "metric",
                "recorded_at": "2025-01-01T00:00:01Z",
                "run_ref": "run:p.r",
                "sample_observation_ref": None,
                "schema_version": "1.0.0",
                "stage_execution_ref": "stage:p.r.train",
            },
            "payload": {
                "aggregation_scope": "step",
                "metric_key": "train.loss",
                "slice_ref": None,
                "subject_ref": None,
                "summary_basis": None,
                "tags": {"step": "3"},
                "unit": "nats",
                "value": 0.25,
                "value_type": "float64",
            },
        },
        "payload_ref": "record:p.r.m1",
        "payload_type": "MetricRecord",
        "sink_name": "local-jsonl",
    },
    "local_files": ["record.jsonl"],
    "stdout_line": '{"sink":"stdout","family":"RECORD","payload_type":"MetricRecord","payload_ref":"record:p.r.m1","payload":{"envelope":{"record_ref":"record:p.r.m1","record_type":"metric","recorded_at":"2025-01-01T00:00:01Z","observed_at":"2025-01-01T00:00:01Z","producer_ref":"tests","run_ref":"run:p.r","deployment_execution_ref":null,"stage_execution_ref":"stage:p.r.train","batch_execution_ref":null,"sample_observation_ref":null,"operation_context_ref":null,"correlation_refs":{"trace_id":null,"session_id":null},"completeness_marker":"complete","degradation_marker":"none","schema_version":"1.0.0","extensions":[]},"payload":{"metric_key":"train.loss","value":0.25,"value_type":"float64","unit":"nats","aggregation_scope":"step","subject_ref":null,"slice_ref":null,"tags":{"step":"3"},"summary_basis":null}}}\n',
    "stdout_receipt": ("SUCCESS", "printed to stdout"),
}

C10_MLFLOW_CALLS = [
    ("set_tag", "contexta.run_ref", "run:p.r", {}),
    ("set_tag", "contexta.stage_ref", "stage:p.r.train", {}),
    ("set_tag", "contexta.metric_unit.train.loss", "nats", {}),
    ("set_tag", "contexta.tag.step", "3", {}),
    ("log_metric", "train.loss", 0.25, {}),
    ("receipt", "SUCCESS", "logged metric train.loss"),
    ("log_metric", "train.loss", 0.2, {}),
    ("receipt", "SUCCESS", "logged metric train.loss"),
    ("set_tag", "contexta.event.train.done", "finished", {}),
    ("set_tag", "contexta.event_level.train.done", "info", {}),
    ("receipt", "SUCCESS", "tagged event train.done"),
    ("receipt", "SUCCESS", "unrecognised record type; skipped"),
    ("set_tag", "contexta.degraded.capture.gap", "capture:warning", {}),
    ("set_tag", "contexta.degraded_run_ref", "run:p.r", {}),
    ("receipt", "SUCCESS", "tagged degraded capture.gap"),
]

C10_MLFLOW_RUN_CALLS = [
    ("set_tag", "contexta.run_ref", "run:p.r", {"run_id": "abc"}),
    ("set_tag", "contexta.stage_ref", "stage:p.r.train", {"run_id": "abc"}),
    ("set_tag", "contexta.metric_unit.train.loss", "nats", {"run_id": "abc"}),
]

C10_OTEL_CALLS = [
    ("meter", "svc"),
    ("create_histogram", "contexta.train.loss", "nats", "Contexta metric: contexta.train.loss"),
    (
        "record",
        "contexta.train.loss",
        0.25,
        {
            "contexta.aggregation_scope": "step",
            "contexta.run_ref": "run:p.r",
            "contexta.stage_ref": "stage:p.r.train",
            "contexta.tag.step": "3",
            "contexta.value_type": "float64",
        },
    ),
    ("receipt", "SUCCESS", "recorded metric train.loss"),
    (
        "record",
        "contexta.train.loss",
        0.2,
        {
            "contexta.aggregation_scope": "step",
            "contexta.run_ref": "run:p.r",
            "contexta.stage_ref": "stage:p.r.train",
            "contexta.tag.step": "4",
            "contexta.value_type": "float64",
        },
    ),
    ("receipt", "SUCCESS", "recorded metric train.loss"),
    (
        "add_event",
        "current",
        "train.done",
        {
            "contexta.event.epochs": "4",
            "contexta.event_level": "info",
            "contexta.event_message": "finished",
            "contexta.run_ref": "run:p.r",
            "contexta.stage_ref": "stage:p.r.train",
        },
    ),
    ("receipt", "SUCCESS", "added event train.done"),
    ("tracer", "svc"),
    (
        "start_span",
        "load-data",
        "CLIENT",
        {
            "contexta.record_ref": "record:p.r.s1",
            "contexta.run_ref": "run:p.r",
            "contexta.span.rows": "20",
            "contexta.span_id": "s1",
            "contexta.span_kind": "io",
            "contexta.stage_ref": "stage:p.r.train",
            "contexta.trace_id": "t1",
        },
    ),
    ("set_status", "load-data", "OK"),
    ("end", "load-data"),
    ("receipt", "SUCCESS", "exported span load-data"),
    (
        "add_event",
        "current",
        "contexta.degraded",
        {
            "contexta.degradation_category": "capture",
            "contexta.issue_key": "capture.gap",
            "contexta.run_ref": "run:p.r",
            "contexta.severity": "warning",
            "contexta.stage_ref": "stage:p.r.train",
        },
    ),
    ("receipt", "SUCCESS", "added degraded event capture.gap"),
]

C10_MISSING = {
    "MLflowSink": ("DependencyError", "mlflow_not_ready"),
    "OTelSink": ("DependencyError", "otel_api_not_ready"),
}
