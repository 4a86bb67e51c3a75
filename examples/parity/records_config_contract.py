"""Contract models, configuration and the record store end to end, in a temporary workspace.

Builds every record family, serialises a model and reads it back, resolves configuration from a
profile, an overlay and CONTEXTA_* variables, appends records (idempotently), scans, replays,
exports JSONL, checks integrity, repairs and rebuilds.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from contexta import Contexta
from contexta.config import load_config
from contexta.contract import (
    DegradedPayload,
    DegradedRecord,
    MetricPayload,
    MetricRecord,
    Project,
    RecordEnvelope,
    Run,
    StageExecution,
    StructuredEventPayload,
    StructuredEventRecord,
    TraceSpanPayload,
    TraceSpanRecord,
    deserialize_metric_record,
    to_json,
    validate_metric_record,
)
from contexta.store import ScanFilter

P, R = "demo", "run-1"
RUN = f"run:{P}.{R}"
STAGE = f"stage:{P}.{R}.train"


def envelope(key: str, rtype: str, degraded: bool = False) -> RecordEnvelope:
    return RecordEnvelope(
        record_ref=f"record:{P}.{R}.{key}",
        record_type=rtype,
        recorded_at="2025-06-01T10:00:01Z",
        observed_at="2025-06-01T10:00:00+00:00",
        producer_ref="examples.records",
        run_ref=RUN,
        stage_execution_ref=STAGE,
        degradation_marker="capture_gap" if degraded else "none",
    )


def main(root: Path) -> None:
    config = load_config(
        profile="test",
        overlays=["debug"],
        workspace=root / "ws",
        env={"CONTEXTA_PROJECT_NAME": P, "CONTEXTA_RECORDS_DURABILITY_MODE": "fsync"},
    )
    print(
        f"config: profile={config.profile_name} project={config.project_name} "
        f"durability={config.records.durability_mode}"
    )
    ctx = Contexta(config=config)
    store = ctx.metadata_store
    store.projects.put_project(
        Project(project_ref=f"project:{P}", name=P, created_at="2025-06-01T00:00:00Z")
    )
    store.runs.put_run(
        Run(
            run_ref=RUN,
            project_ref=f"project:{P}",
            name=R,
            status="open",
            started_at="2025-06-01T09:00:00Z",
        )
    )
    store.stages.put_stage_execution(
        StageExecution(
            stage_execution_ref=STAGE,
            run_ref=RUN,
            stage_name="train",
            status="open",
            started_at="2025-06-01T09:00:00Z",
        )
    )

    metric = MetricRecord(
        envelope=envelope("loss", "metric"),
        payload=MetricPayload(
            metric_key="train.loss", value=0.25, value_type="float64", unit="nats"
        ),
    )
    records = [
        metric,
        StructuredEventRecord(
            envelope=envelope("epoch", "event"),
            payload=StructuredEventPayload(event_key="epoch.end", level="info", message="epoch 1"),
        ),
        TraceSpanRecord(
            envelope=envelope("fwd", "span"),
            payload=TraceSpanPayload(
                span_id="s1",
                trace_id="t1",
                parent_span_id=None,
                span_name="forward",
                started_at="2025-06-01T10:00:00Z",
                ended_at="2025-06-01T10:00:00.250000Z",
                status="ok",
                span_kind="operation",
            ),
        ),
        DegradedRecord(
            envelope=envelope("gap", "degraded", degraded=True),
            payload=DegradedPayload(
                issue_key="capture.gap",
                category="capture",
                severity="warning",
                summary="lost 3 steps",
            ),
        ),
    ]
    text = to_json(metric)
    assert deserialize_metric_record(text) == metric
    print(
        f"to_json/deserialize round-trip: {len(text)} bytes; validate: "
        f"valid={validate_metric_record(metric).valid}"
    )

    result = ctx.record_store.append_many(records)
    print(f"append_many: accepted={result.accepted_count} status={result.durability_status}")
    again = ctx.record_store.append(metric)
    print(
        f"append the same record again: accepted={again.accepted_count}, copies stored="
        f"{sum(1 for s in ctx.record_store.scan() if s.record_ref == str(metric.envelope.record_ref))}"
    )
    changed = MetricRecord(
        envelope=envelope("loss", "metric"),
        payload=MetricPayload(metric_key="train.loss", value=0.5, value_type="float64"),
    )
    print(
        f"a different record under the same ref: {ctx.record_store.append(changed).rejected[0].code}"
    )

    spans = list(ctx.record_store.scan(ScanFilter(run_ref=RUN, record_type="span")))
    print(f"scan spans: {[(s.record.payload.span_name, s.sequence) for s in spans]}")
    snapshot = ctx.get_run_snapshot(R)
    print(
        "snapshot records: "
        + ", ".join(f"{o.record_type}:{o.key}={o.value}" for o in snapshot.records)
    )

    replay = ctx.record_store.replay()
    out = root / "records.jsonl"
    ctx.record_store.export_jsonl(out)
    print(
        f"replay: {replay.record_count} records, state={replay.integrity_state.value}; "
        f"export_jsonl wrote {len(out.read_text().splitlines())} lines"
    )
    first = json.loads(out.read_text().splitlines()[0])
    print(f"first exported record: {first['envelope']['record_ref']}")
    report = ctx.record_store.check_integrity()
    print(
        f"check_integrity: healthy={report.healthy} segments={report.segment_count} "
        f"events={report.record_count}"
    )
    print(f"repair_truncated_tails: {ctx.record_store.repair_truncated_tails().notes[0]}")
    print(f"rebuild_indexes: {ctx.record_store.rebuild_indexes().notes[0]}")
    ctx.close()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="contexta-records-") as tmp:
        main(Path(tmp))
