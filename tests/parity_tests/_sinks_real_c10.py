"""What Contexta 1.0.0 gave running ``_sinks_real_driver.py`` (Python 3.13, mlflow 3.17.2,
opentelemetry-sdk, 1.0's slotted-dataclass ``super()`` bug bypassed as for ``_replay_c10``):
the sink demo's output, each receipt, what the MLflow file store and the OpenTelemetry
in-memory exporter and reader received. Span durations (wall time) are left out.
"""

C10_SINKS_REAL = {
    "demo": [
        '{"sink":"stdout","family":"RECORD","payload_type":"MetricRecord","payload_ref":"record:sinks-demo.r1.loss","payload":{"envelope":{"record_ref":"record:sinks-demo.r1.loss","record_type":"metric","recorded_at":"2025-05-01T09:30:00Z","observed_at":"2025-05-01T09:30:00Z","producer_ref":"sinks-demo","run_ref":"run:sinks-demo.r1","deployment_execution_ref":null,"stage_execution_ref":null,"batch_execution_ref":null,"sample_observation_ref":null,"operation_context_ref":null,"correlation_refs":{"trace_id":null,"session_id":null},"completeness_marker":"complete","degradation_marker":"none","schema_version":"1.0.0","extensions":[]},"payload":{"metric_key":"train.loss","value":0.125,"value_type":"float64","unit":null,"aggregation_scope":"step","subject_ref":null,"slice_ref":null,"tags":{},"summary_basis":null}}}',
        "stdout sink: SUCCESS (printed to stdout)",
        "mlflow sink: SUCCESS (logged metric train.loss)",
        "otel sink: SUCCESS (recorded metric train.loss)",
    ],
    "mlflow": [
        {
            "metrics": {"train.loss": [[0.125, 0], [0.25, 0], [0.2, 0]]},
            "params": {},
            "tags": {
                "contexta.degraded.capture.gap": "capture:warning",
                "contexta.degraded_run_ref": "run:p.r",
                "contexta.event.train.done": "finished",
                "contexta.event_level.train.done": "info",
                "contexta.metric_unit.train.loss": "nats",
                "contexta.run_ref": "run:p.r",
                "contexta.stage_ref": "stage:p.r.train",
                "contexta.tag.step": "3",
            },
        }
    ],
    "otel": {
        "metrics": [
            {
                "name": "contexta.train.loss",
                "points": [
                    {
                        "attributes": {
                            "contexta.aggregation_scope": "step",
                            "contexta.run_ref": "run:sinks-demo.r1",
                            "contexta.value_type": "float64",
                        },
                        "count": 1,
                        "max": 0.125,
                        "min": 0.125,
                        "sum": 0.125,
                    }
                ],
                "scope": "sinks-demo",
                "type": "Histogram",
                "unit": "1",
            },
            {
                "name": "contexta.train.loss",
                "points": [
                    {
                        "attributes": {
                            "contexta.aggregation_scope": "step",
                            "contexta.run_ref": "run:p.r",
                            "contexta.stage_ref": "stage:p.r.train",
                            "contexta.tag.step": "3",
                            "contexta.value_type": "float64",
                        },
                        "count": 1,
                        "max": 0.25,
                        "min": 0.25,
                        "sum": 0.25,
                    },
                    {
                        "attributes": {
                            "contexta.aggregation_scope": "step",
                            "contexta.run_ref": "run:p.r",
                            "contexta.stage_ref": "stage:p.r.train",
                            "contexta.tag.step": "4",
                            "contexta.value_type": "float64",
                        },
                        "count": 1,
                        "max": 0.2,
                        "min": 0.2,
                        "sum": 0.2,
                    },
                ],
                "scope": "sinks-test",
                "type": "Histogram",
                "unit": "nats",
            },
        ],
        "spans": [
            {
                "attributes": {
                    "contexta.record_ref": "record:p.r.s1",
                    "contexta.run_ref": "run:p.r",
                    "contexta.span.rows": "20",
                    "contexta.span_id": "s1",
                    "contexta.span_kind": "io",
                    "contexta.stage_ref": "stage:p.r.train",
                    "contexta.trace_id": "t1",
                },
                "events": [],
                "kind": "CLIENT",
                "name": "load-data",
                "scope": "sinks-test",
                "status": "OK",
            }
        ],
    },
    "receipts": [
        ["mlflow", "SUCCESS", "logged metric train.loss"],
        ["mlflow", "SUCCESS", "logged metric train.loss"],
        ["mlflow", "SUCCESS", "tagged event train.done"],
        ["mlflow", "SUCCESS", "unrecognised record type; skipped"],
        ["mlflow", "SUCCESS", "tagged degraded capture.gap"],
        ["otel", "SUCCESS", "recorded metric train.loss"],
        ["otel", "SUCCESS", "recorded metric train.loss"],
        ["otel", "SUCCESS", "added event train.done"],
        ["otel", "SUCCESS", "exported span load-data"],
        ["otel", "SUCCESS", "added degraded event capture.gap"],
    ],
}
