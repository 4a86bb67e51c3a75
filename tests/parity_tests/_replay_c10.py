"""What Contexta 1.0.0 gave for the outbox: ``examples/parity/replay_outbox_demo.py``'s output, the
outbox line its capture wrote, and the results of ``_replay_scenarios.scenarios`` (Python 3.13).
1.0.0 raised ``TypeError`` building any capture or replay result (zero-argument ``super()`` in
slotted dataclasses); these were recorded with each affected method's ``__class__`` cell pointed
at its class, nothing else changed.
"""

C10_REPLAY_DEMO = [
    "Capture: DEGRADED (recovered to outbox: True)",
    "Replay refs: 1",
    "Outbox entries: 1",
    "  tracking-server RECORD StructuredEventRecord attempts=1: tracking server unreachable",
    "SUCCESS",
    "Acknowledged: 1",
    "Pending: 0",
    "Delivered: ['dict']",
    "Outbox left: ''",
]

#: the line 1.0 appended to cache/outbox/failed_deliveries.jsonl for the demo's event
C10_OUTBOX_LINE = '{"attempts":1,"error":"tracking server unreachable","error_code":"unexpected_error","failed_at":"2026-12-02T19:22:34.110386Z","family":"RECORD","payload":{"envelope":{"batch_execution_ref":null,"completeness_marker":"complete","correlation_refs":{"session_id":null,"trace_id":null},"degradation_marker":"none","deployment_execution_ref":null,"extensions":[],"observed_at":"2026-12-02T19:22:34.109504Z","operation_context_ref":null,"producer_ref":"sdk.python.local","record_ref":"record:replay-demo.nightly.event-856d17d84b0d","record_type":"event","recorded_at":"2026-12-02T19:22:34.109581Z","run_ref":"run:replay-demo.nightly","sample_observation_ref":null,"schema_version":"1.0.0","stage_execution_ref":null},"payload":{"attributes":{},"event_key":"training.started","level":"info","message":"epoch 1 of 3","origin_marker":"explicit_capture","subject_ref":"run:replay-demo.nightly"}},"payload_ref":"record:replay-demo.nightly.event-856d17d84b0d","payload_type":"StructuredEventRecord","replay_ref":"replay:record.1796239354110.1","sink_name":"tracking-server"}'

C10_REPLAY_SCENARIOS = {
    "raise_mode_writes_no_outbox": (False, False),
    "a_retry_that_succeeds_queues_nothing": (
        [{"status": "SUCCESS", "outbox": False, "refs": 0, "sinks": [("tracker", "SUCCESS")]}],
        False,
    ),
    "two_failed_sinks_two_entries": (
        [
            {
                "status": "DEGRADED",
                "outbox": True,
                "refs": 2,
                "sinks": [("tracker", "FAILURE"), ("archive", "FAILURE")],
            }
        ],
        [
            {
                "attempts": 2,
                "error": "tracker unreachable",
                "error_code": "unexpected_error",
                "family": "RECORD",
                "payload_type": "MetricRecord",
                "sink_name": "tracker",
            },
            {
                "attempts": 2,
                "error": "archive unreachable",
                "error_code": "unexpected_error",
                "family": "RECORD",
                "payload_type": "MetricRecord",
                "sink_name": "archive",
            },
        ],
    ),
    "replay_to_a_sink_still_down": (
        {
            "status": "FAILURE",
            "acknowledged": 0,
            "pending": 3,
            "dead": 0,
            "notes": [],
            "entries": [
                ("RECORD", "tracker", "FAILURE", "tracker unreachable", 2),
                ("RECORD", "tracker", "FAILURE", "tracker unreachable", 2),
                ("RECORD", "tracker", "FAILURE", "tracker unreachable", 2),
            ],
        },
        [
            {
                "attempts": 2,
                "error": "tracker unreachable",
                "error_code": "unexpected_error",
                "family": "RECORD",
                "last_error": "tracker unreachable",
                "payload_type": "MetricRecord",
                "sink_name": "tracker",
            },
            {
                "attempts": 2,
                "error": "tracker unreachable",
                "error_code": "unexpected_error",
                "family": "RECORD",
                "last_error": "tracker unreachable",
                "payload_type": "MetricRecord",
                "sink_name": "tracker",
            },
            {
                "attempts": 2,
                "error": "tracker unreachable",
                "error_code": "unexpected_error",
                "family": "RECORD",
                "last_error": "tracker unreachable",
                "payload_type": "MetricRecord",
                "sink_name": "tracker",
            },
        ],
    ),
    "dead_letter_after_3": {
        "status": "FAILURE",
        "acknowledged": 0,
        "pending": 0,
        "dead": 3,
        "notes": ["dead_lettered:3"],
        "entries": [
            ("RECORD", "tracker", "FAILURE", "tracker unreachable", 3),
            ("RECORD", "tracker", "FAILURE", "tracker unreachable", 3),
            ("RECORD", "tracker", "FAILURE", "tracker unreachable", 3),
        ],
    },
    "dead_letter_file": [
        {
            "attempts": 3,
            "error": "tracker unreachable",
            "error_code": "unexpected_error",
            "family": "RECORD",
            "last_error": "tracker unreachable",
            "payload_type": "MetricRecord",
            "sink_name": "tracker",
        },
        {
            "attempts": 3,
            "error": "tracker unreachable",
            "error_code": "unexpected_error",
            "family": "RECORD",
            "last_error": "tracker unreachable",
            "payload_type": "MetricRecord",
            "sink_name": "tracker",
        },
        {
            "attempts": 3,
            "error": "tracker unreachable",
            "error_code": "unexpected_error",
            "family": "RECORD",
            "last_error": "tracker unreachable",
            "payload_type": "MetricRecord",
            "sink_name": "tracker",
        },
    ],
    "outbox_after_dead_letter": "",
    "limit_2": {
        "status": "SUCCESS",
        "acknowledged": 2,
        "pending": 1,
        "dead": 0,
        "notes": [],
        "entries": [
            ("RECORD", "tracker", "SUCCESS", "captured by in-memory sink as entry 1", 1),
            ("RECORD", "tracker", "SUCCESS", "captured by in-memory sink as entry 1", 1),
        ],
    },
    "limit_2_left": 1,
    "delivered_payload_types": ["dict", "dict"],
    "no_ack": {
        "status": "SUCCESS",
        "acknowledged": 0,
        "pending": 1,
        "dead": 0,
        "notes": [],
        "entries": [("RECORD", "tracker", "SUCCESS", "captured by in-memory sink as entry 1", 1)],
    },
    "no_ack_left": 1,
    "unknown_target": ("ReplayError", "recovery_replay_target_missing"),
    "default_sink": {
        "status": "SUCCESS",
        "acknowledged": 1,
        "pending": 0,
        "dead": 0,
        "notes": [],
        "entries": [
            ("RECORD", "local-jsonl-replay", "SUCCESS", "appended payload to record.jsonl", 1)
        ],
    },
    "default_sink_file": [("local-jsonl-replay", "RECORD", "dict")],
    "empty_after_default": {
        "status": "SUCCESS",
        "acknowledged": 0,
        "pending": 0,
        "dead": 0,
        "notes": [],
        "entries": [],
    },
}
