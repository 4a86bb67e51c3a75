"""The append hot path and the bulk read paths equal their simple versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contexta import Contexta
from contexta.config import UnifiedConfig, WorkspaceConfig
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
)
from contexta.contract.codec import encode
from contexta.events import decode_body, record_event
from contexta.store.record_store import (
    AppendReceipt,
    AppendResult,
    DurabilityStatus,
    _receipt,
    fast_record_event,
)

REPO = Path(__file__).resolve().parents[2]
BASE = datetime(2025, 1, 1, tzinfo=UTC)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def envelope(n: int, rtype: str, at: str, stage: bool) -> RecordEnvelope:
    return RecordEnvelope(
        record_ref=f"record:p.r1.x{n}",
        record_type=rtype,
        recorded_at=at,
        observed_at=at,
        producer_ref="bench",
        run_ref="run:p.r1",
        stage_execution_ref="stage:p.r1.train" if stage else None,
        degradation_marker="capture_gap" if rtype == "degraded" else "none",
    )


def make_record(n: int, rtype: str, at: str, stage: bool, value: float):
    env = envelope(n, rtype, at, stage)
    if rtype == "metric":
        tags = {"step": str(n)} if n % 3 == 0 else ({"step": "x"} if n % 3 == 1 else None)
        return MetricRecord(
            envelope=env,
            payload=MetricPayload(metric_key="loss", value=value, value_type="float64", tags=tags),
        )
    if rtype == "event":
        return StructuredEventRecord(
            envelope=env,
            payload=StructuredEventPayload(event_key="data.check", level="info", message="ok"),
        )
    if rtype == "span":
        return TraceSpanRecord(
            envelope=env,
            payload=TraceSpanPayload(
                span_id="s",
                trace_id="t",
                parent_span_id=None,
                span_name="fwd",
                started_at=at,
                ended_at=at,
                status="ok",
                span_kind="operation",
            ),
        )
    return DegradedRecord(
        envelope=env,
        payload=DegradedPayload(
            issue_key="capture.gap", category="capture", severity="warning", summary="gap"
        ),
    )


moments = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=60, deadline=None)
@given(
    moments,
    st.sampled_from(["metric", "event", "span", "degraded"]),
    st.booleans(),
    st.floats(-1e9, 1e9, allow_nan=False),
    st.integers(0, 10_000),
)
def test_fast_record_event_equals_record_event(when, rtype, stage, value, n) -> None:
    record = make_record(n, rtype, iso(when), stage, value)
    body = encode(record)
    ref = str(record.envelope.record_ref)
    assert fast_record_event(record, ref, "me@host:1", body) == record_event(
        record, "me@host:1", body
    )


def test_fast_receipts_are_plain_receipts() -> None:
    made = _receipt(
        7, "segment-1", 64, "record:p.r.x", "metric", "run:p.r", DurabilityStatus.FLUSHED
    )
    plain = AppendReceipt(
        7, "segment-1", 64, "record:p.r.x", "metric", "run:p.r", DurabilityStatus.FLUSHED
    )
    assert made == plain and repr(made) == repr(plain) and hash(made) == hash(plain)
    with pytest.raises(AttributeError):
        made.sequence = 8  # type: ignore[misc]


def workspace(tmp_path: Path) -> Contexta:
    return Contexta(
        config=UnifiedConfig(project_name="p", workspace=WorkspaceConfig(root_path=tmp_path / "ws"))
    )


def test_append_many_keeps_its_contract(tmp_path: Path) -> None:
    ctx = workspace(tmp_path)
    ctx.metadata_store.projects.put_project(
        Project(project_ref="project:p", name="p", created_at="2025-01-01T00:00:00Z")
    )
    records = [
        make_record(i, rtype, iso(BASE + timedelta(seconds=i)), i % 2 == 0, float(i))
        for i, rtype in enumerate(["metric", "event", "span", "degraded"] * 5)
    ]
    result = ctx.record_store.append_many([*records, "not a record"])
    assert isinstance(result, AppendResult)
    assert result.accepted_count == 20 and [r.code for r in result.rejected] == [
        "unsupported_record_type"
    ]
    assert [r.record_ref for r in result.accepted] == [str(r.envelope.record_ref) for r in records]
    again = ctx.record_store.append_many(records[:3])  # identical re-appends: no second copy
    assert again.accepted_count == 3 and not again.rejected
    changed = make_record(0, "metric", iso(BASE), True, 123.0)
    conflict = ctx.record_store.append(changed)
    assert [r.code for r in conflict.rejected] == ["record_ref_conflict"]
    extra = make_record(500, "metric", iso(BASE), True, 1.0)
    single = ctx.record_store.append(extra)  # the straight single-record path
    assert [r.record_ref for r in single.accepted] == ["record:p.r1.x500"] and not single.rejected
    assert single.accepted[0].durability_status in (
        DurabilityStatus.ACCEPTED,
        DurabilityStatus.FLUSHED,
    )
    assert ctx.record_store.append(extra).accepted_count == 1  # identical again: accepted, no copy
    stored = list(ctx.record_store.scan())
    assert [s.record for s in stored] == [*records, extra]
    ctx.close()


def test_models_and_fetch_decode_every_row_like_decode_body(tmp_path: Path) -> None:
    ctx = workspace(tmp_path)
    store = ctx.metadata_store
    store.projects.put_project(
        Project(project_ref="project:p", name="p", created_at="2025-01-01T00:00:00Z")
    )
    for i in range(5):
        store.runs.put_run(
            Run(
                run_ref=f"run:p.r{i}",
                project_ref="project:p",
                name=f"r{i}",
                status="open",
                started_at=iso(BASE + timedelta(minutes=i)),
            )
        )
        store.stages.put_stage_execution(
            StageExecution(
                stage_execution_ref=f"stage:p.r{i}.train",
                run_ref=f"run:p.r{i}",
                stage_name="train",
                status="open",
                started_at=iso(BASE + timedelta(minutes=i)),
            )
        )
    recs = [
        make_record(i, "metric", iso(BASE + timedelta(seconds=i)), True, float(i))
        for i in range(30)
    ]
    ctx.record_store.append_many(recs[:10])
    ctx.flush()
    ctx.record_store.append_many(recs[10:])
    ws = ctx._workspace
    runs = ws.table("runs")
    expected = [decode_body("run.put", b) for b in runs.column("body").to_pylist()]
    assert ws.models(runs.slice(2), "run.put") == expected[2:]  # some cached, some not
    assert ws.models(runs, "run.put") == expected
    rows = ws.table("records")
    want = recs
    assert ws.fetch(rows.take([5, 25, 1])) == [want[5], want[25], want[1]]
    assert ws.fetch(rows) == want
    table, index = ws.index("records", "run_ref")
    assert index == {"run:p.r1": list(range(30))}
    ctx.record_store.append(make_record(99, "metric", iso(BASE), False, 1.0))
    table, index = ws.index("records", "run_ref")  # extended, not rebuilt
    assert index["run:p.r1"] == list(range(31)) and table.num_rows == 31
    ctx.close()


def test_proposed_select_best_run_answers_like_the_original(tmp_path: Path) -> None:
    from contexta.interpretation.workspace_queries import QueryService
    from tests.perf_tests.reference_queries import ReferenceQueryService

    ctx = workspace(tmp_path)
    store = ctx.metadata_store
    store.projects.put_project(
        Project(project_ref="project:p", name="p", created_at="2025-01-01T00:00:00Z")
    )
    values = [0.5, 0.9, 0.9, 0.1, 0.7, 0.3]
    n = 0
    for i, value in enumerate(values):
        run = f"run:p.r{i}"
        start = BASE + timedelta(minutes=i)
        store.runs.put_run(
            Run(
                run_ref=run,
                project_ref="project:p",
                name=f"r{i}",
                status="open",
                started_at=iso(start),
            )
        )
        for order, name in enumerate(("train", "evaluate")):
            store.stages.put_stage_execution(
                StageExecution(
                    stage_execution_ref=f"stage:p.r{i}.{name}",
                    run_ref=run,
                    stage_name=name,
                    status="open",
                    started_at=iso(start),
                    order_index=order,
                )
            )
        for stage, v in (
            ("evaluate", value),
            ("evaluate", value / 2),
            ("train", 1 - value),
            (None, value * 3),
        ):
            n += 1
            ctx.record_store.append(
                MetricRecord(
                    envelope=RecordEnvelope(
                        record_ref=f"record:p.r{i}.m{n}",
                        record_type="metric",
                        recorded_at=iso(start + timedelta(seconds=n)),
                        observed_at=iso(start + timedelta(seconds=n)),
                        producer_ref="bench",
                        run_ref=run,
                        stage_execution_ref=None if stage is None else f"stage:p.r{i}.{stage}",
                    ),
                    payload=MetricPayload(metric_key="accuracy", value=v, value_type="float64"),
                )
            )
    ctx.quarantine_runs(["run:p.r1"], reason="bad data") if hasattr(
        ctx, "quarantine_runs"
    ) else None
    ids = [f"run:p.r{i}" for i in range(len(values))] + ["r3", "p.r4"]
    original = ReferenceQueryService(ctx._workspace, ctx.config)
    fast = QueryService(ctx._workspace, ctx.config)
    for stage in ("evaluate", "train", None, "missing"):
        for higher in (True, False):
            for include in (True, False):
                kwargs = dict(
                    stage_name=stage, higher_is_better=higher, include_quarantined=include
                )
                assert fast.select_best_run(ids, "accuracy", **kwargs) == original.select_best_run(
                    ids, "accuracy", **kwargs
                ), kwargs
    assert fast.select_best_run(ids, "nothing") is None
    assert fast.stages_of("run:p.r2") == original.stages_of("run:p.r2")
    # a new version of a stage and a new metric on it: the cached values are dropped and both
    # services agree again
    store.stages.put_stage_execution(
        StageExecution(
            stage_execution_ref="stage:p.r3.evaluate",
            run_ref="run:p.r3",
            stage_name="evaluate",
            status="completed",
            started_at=iso(BASE),
            ended_at=iso(BASE + timedelta(hours=1)),
            order_index=1,
        )
    )
    ctx.record_store.append(
        MetricRecord(
            envelope=RecordEnvelope(
                record_ref="record:p.r3.late",
                record_type="metric",
                recorded_at=iso(BASE + timedelta(hours=3)),
                observed_at=iso(BASE + timedelta(hours=3)),
                producer_ref="bench",
                run_ref="run:p.r3",
                stage_execution_ref="stage:p.r3.evaluate",
            ),
            payload=MetricPayload(metric_key="accuracy", value=5.0, value_type="float64"),
        )
    )
    for higher in (True, False):
        got = fast.select_best_run(ids, "accuracy", stage_name="evaluate", higher_is_better=higher)
        assert got == original.select_best_run(
            ids, "accuracy", stage_name="evaluate", higher_is_better=higher
        )
    assert fast.select_best_run(ids, "accuracy", stage_name="evaluate") == "run:p.r3"
    store.projects.put_project(
        Project(project_ref="project:a", name="a", created_at="2025-01-01T00:00:00Z")
    )
    for i, minute in enumerate((5, 1, 1, 3)):  # ties on started_at break by ref
        store.runs.put_run(
            Run(
                run_ref=f"run:a.x{3 - i}",
                project_ref="project:a",
                name=f"x{i}",
                status="open",
                started_at=iso(BASE + timedelta(minutes=minute)),
            )
        )
    store.runs.put_run(
        Run(
            run_ref="run:p.r0",
            project_ref="project:p",
            name="r0 again",
            status="open",
            started_at=iso(BASE + timedelta(hours=2)),
        )
    )
    for name in (None, "a", "p", "missing"):
        assert fast.list_runs(name) == original.list_runs(name), name
    ctx.close()


def test_workspace_head_never_hides_a_commit_of_another_writer(tmp_path: Path, monkeypatch) -> None:
    import time

    import contexta.workspace as workspace_module
    from contexta.workspace import Workspace
    from ledger import PendingEvent

    reader = Workspace(tmp_path / "ws")
    writer = Workspace(tmp_path / "ws")
    event = PendingEvent("run.quarantine", "run:p.r", None, "run:p.r", body=b"x")
    seqs = []
    for _ in range(3):  # fresh HEAD writes: read every time
        writer.write((event,))
        writer.flush()
        seqs.append(reader.head().seq)
    assert seqs == [1, 2, 3]
    # pretend HEAD settled long ago: the parsed head is reused while the file is unchanged
    monkeypatch.setattr(workspace_module, "_SETTLED_NS", -(10**18))
    assert reader.head().seq == 3 and reader.head() is reader.head()
    time.sleep(0.05)  # past the file system's timestamp tick
    writer.write((event,))
    writer.flush()  # any new write changes the timestamps, so it is seen at once
    assert reader.head().seq == 4
    writer.close()
    reader.close()
