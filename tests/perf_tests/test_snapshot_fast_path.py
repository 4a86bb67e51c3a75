"""Snapshots and run lists from bodies decoded without re-validation equal the reference
``QueryService`` answers; odd or corrupt bodies behave exactly as through the contract; importing
``contexta`` loads no query code it does not need."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contexta import Contexta
from contexta.common.errors import ContextaError
from contexta.config import UnifiedConfig, WorkspaceConfig
from contexta.contract import (
    ArtifactManifest,
    CorrelationRefs,
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
from contexta.events import KIND_OF, decode_body
from contexta.interpretation.body_decoding import decode_many, decode_one
from contexta.interpretation.workspace_queries import QueryService as FastQueryService
from contexta.interpretation.workspace_queries import observation
from tests.perf_tests.reference_queries import ReferenceQueryService as QueryService

BASE = datetime(2025, 1, 1, tzinfo=UTC)
KINDS = ["metric", "event", "span", "degraded"]


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def make_record(
    run: str, n: int, rtype: str, at: str, stage: str | None, value: float, correlated: bool = False
):
    env = RecordEnvelope(
        record_ref=f"record:{run[4:]}.x{n}",
        record_type=rtype,
        recorded_at=at,
        observed_at=at,
        producer_ref="bench",
        run_ref=run,
        stage_execution_ref=None if stage is None else f"stage:{run[4:]}.{stage}",
        degradation_marker="capture_gap" if rtype == "degraded" else "none",
        correlation_refs=CorrelationRefs(trace_id="t1") if correlated else CorrelationRefs(),
    )
    if rtype == "metric":
        tags = {"step": str(n)} if n % 2 else None
        number = int(value) if n % 5 == 0 else value
        return MetricRecord(
            envelope=env,
            payload=MetricPayload(
                metric_key="loss",
                value=number,
                value_type="float64",
                unit="u" if n % 3 else None,
                tags=tags,
            ),
        )
    if rtype == "event":
        return StructuredEventRecord(
            envelope=env,
            payload=StructuredEventPayload(
                event_key="data.check",
                level="info",
                message=f"ok {n}",
                attributes={"n": n, "nested": {"list": [1, 2.5, "x"], "none": None}},
            ),
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
                ended_at=iso(
                    datetime.fromisoformat(at[:-1]).replace(tzinfo=UTC) + timedelta(milliseconds=n)
                ),
                status="ok",
                span_kind="operation",
                linked_refs=("run:p.r0", "stage:p.r0.train"),
            ),
        )
    return DegradedRecord(
        envelope=env,
        payload=DegradedPayload(
            issue_key="capture.gap", category="capture", severity="warning", summary=f"gap {n}"
        ),
    )


moments = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=80, deadline=None)
@given(
    moments,
    st.sampled_from(KINDS),
    st.sampled_from([None, "train"]),
    st.floats(-1e9, 1e9, allow_nan=False),
    st.integers(0, 10_000),
    st.booleans(),
)
def test_stored_decode_gives_the_contract_views(when, rtype, stage, value, n, correlated) -> None:
    record = make_record("run:p.r1", n, rtype, iso(when), stage, value, correlated)
    kind = KIND_OF[type(record)]
    body = encode(record)
    fast = decode_one(kind, body)
    assert type(fast) is not type(record)  # the shadow path was taken
    assert fast.to_dict() == record.to_dict()
    assert observation(fast) == observation(record) == observation(decode_body(kind, body))
    assert decode_many(kind, [body, body]) == [fast, fast]


def test_stored_decode_of_entities_gives_their_dicts() -> None:
    models = [
        Run(
            run_ref="run:p.r1",
            project_ref="project:p",
            name="r1",
            status="completed",
            started_at="2025-01-01T00:00:00Z",
            ended_at="2025-01-01T01:00:00Z",
        ),
        StageExecution(
            stage_execution_ref="stage:p.r1.train",
            run_ref="run:p.r1",
            stage_name="train",
            status="open",
            started_at="2025-01-01T00:00:00Z",
        ),
        ArtifactManifest(
            artifact_ref="artifact:p.r1.model",
            artifact_kind="checkpoint",
            created_at="2025-01-01T00:00:00Z",
            producer_ref="bench",
            run_ref="run:p.r1",
            location_ref="file:///m.bin",
            attributes={"k": "v"},
        ),
    ]
    for model in models:
        kind = KIND_OF[type(model)]
        assert decode_one(kind, encode(model)).to_dict() == model.to_dict()


def _same_outcome(kind: str, body: bytes) -> None:
    """decode_one gives what the contract gives: the same view or the same typed error."""
    try:
        expected = decode_body(kind, body)
    except ContextaError as exc:
        with pytest.raises(type(exc)) as raised:
            decode_one(kind, body)
        assert raised.value.code == exc.code
        with pytest.raises(type(exc)):
            decode_many(kind, [body])
        return
    got = decode_one(kind, body)
    assert got.to_dict() == expected.to_dict()
    assert observation(got) == observation(expected)
    assert [observation(m) for m in decode_many(kind, [body])] == [observation(expected)]


def _odd_bodies(record) -> list[bytes]:
    """Bodies another writer or version might store, or damage might leave. (Not here: a well
    formed body whose values break a contract rule, which only a writer bypassing the contract
    could store; such values are trusted, see ``contexta.interpretation.body_decoding``.)"""
    body = encode(record)
    raw = msgspec.msgpack.decode(body)
    variants: list[dict] = []
    for change in (
        lambda e: e.pop("schema_version"),  # older writer: defaulted field missing
        lambda e: e.update(extra_field=1),  # newer writer: unknown field
        lambda e: e.update(record_ref=f"{e['record_ref']['kind']}:{e['record_ref']['value']}"),
        lambda e: e.update(run_ref="run:p.other"),  # text ref breaking the record's prefix
        lambda e: e.update(observed_at=12),  # wrong type
        lambda e: e.update(correlation_refs=None),
    ):
        copy = msgspec.msgpack.decode(body)
        change(copy["envelope"])
        variants.append(copy)
    for key in list(raw["payload"]):
        copy = msgspec.msgpack.decode(body)
        copy["payload"][key] = None  # None for every payload field in turn (maps become {})
        variants.append(copy)
    copy = msgspec.msgpack.decode(body)
    copy["payload"].pop(next(iter(copy["payload"])))
    variants.append(copy)
    out = [msgspec.msgpack.encode(v) for v in variants]
    out += [body[:-3], body[: len(body) // 2], b"", b"\xc1", b"not msgpack at all", body + b"\x00"]
    return out


@pytest.mark.parametrize("rtype", KINDS)
def test_odd_and_corrupt_bodies_behave_as_through_the_contract(rtype: str) -> None:
    record = make_record("run:p.r1", 3, rtype, "2025-01-01T00:00:00Z", "train", 1.5)
    kind = KIND_OF[type(record)]
    for body in _odd_bodies(record):
        _same_outcome(kind, body)
    other = "record.event" if kind != "record.event" else "record.metric"
    _same_outcome(other, encode(record))  # a body stored under another kind


def _workspace(tmp_path: Path) -> Contexta:
    return Contexta(
        config=UnifiedConfig(project_name="p", workspace=WorkspaceConfig(root_path=tmp_path / "ws"))
    )


def _fill(ctx: Contexta, runs: int, per_run: int) -> None:
    store = ctx.metadata_store
    store.projects.put_project(
        Project(project_ref="project:p", name="p", created_at="2024-12-31T00:00:00Z")
    )
    n = 0
    for i in range(runs):
        run = f"run:p.r{i}"
        start = BASE + timedelta(minutes=(i * 7) % 5)  # ties on started_at
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
        records = []
        for k in range(per_run):
            n += 1
            stage = (None, "train", "evaluate")[k % 3]
            records.append(
                make_record(
                    run,
                    n,
                    KINDS[k % 4],
                    iso(start + timedelta(seconds=k)),
                    stage,
                    float(k) / 3,
                    correlated=k % 5 == 0,
                )
            )
        ctx.record_store.append_many(records)
        ctx.record_store.append_many(records[:2])  # identical re-appends add no copy
        if i % 2:
            ctx.flush()  # records of a run spread over ledger batches


def test_snapshots_lists_and_comparisons_equal_the_reference(tmp_path: Path) -> None:
    ctx = _workspace(tmp_path)
    _fill(ctx, runs=6, per_run=14)
    ws = ctx._workspace
    reference = QueryService(ws, ctx.config)
    fast = FastQueryService(ws, ctx.config)
    ids = [r.run_id for r in reference.list_runs()]
    assert fast.list_runs() == reference.list_runs() and len(ids) == 6
    for run_id in [*ids, "r3", "p.r4"]:
        assert fast.snapshot(run_id) == reference.snapshot(run_id), run_id
        assert fast.snapshot(run_id) == reference.snapshot(run_id)  # cached observations too
    assert fast.compare_runs(ids[0], ids[1]) == reference.compare_runs(ids[0], ids[1])
    moment = ws.head().tx_time
    # later facts: a new project and run, a new run version, more records
    store = ctx.metadata_store
    store.projects.put_project(
        Project(project_ref="project:a", name="a", created_at="2024-12-31T00:00:00Z")
    )
    store.runs.put_run(
        Run(
            run_ref="run:a.x",
            project_ref="project:a",
            name="x",
            status="open",
            started_at=iso(BASE),
        )
    )
    store.runs.put_run(
        Run(
            run_ref="run:p.r0",
            project_ref="project:p",
            name="r0 again",
            status="completed",
            started_at=iso(BASE + timedelta(hours=1)),
            ended_at=iso(BASE + timedelta(hours=2)),
        )
    )
    ctx.record_store.append(make_record("run:p.r0", 999, "event", iso(BASE), None, 0.0))
    for name in (None, "a", "p", " p ", "missing", "project:a"):
        assert fast.list_runs(name) == reference.list_runs(name), name
    assert fast.snapshot("run:p.r0") == reference.snapshot("run:p.r0")
    past_fast = FastQueryService(ws, ctx.config, as_of_us=moment)
    past_reference = QueryService(ws, ctx.config, as_of_us=moment)
    assert past_fast.list_runs() == past_reference.list_runs() != fast.list_runs()
    assert past_fast.snapshot("run:p.r0") == past_reference.snapshot("run:p.r0")
    ctx.close()


def test_an_as_of_view_reuses_the_observations_the_live_view_decoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Observations are kept by seq for the whole workspace: an as-of view (a new query
    service each time) decodes none that another view decoded, and still answers with the
    records committed by its time only."""
    from contexta.interpretation import workspace_queries

    ctx = _workspace(tmp_path)
    _fill(ctx, runs=2, per_run=6)
    run_id = ctx.list_runs()[0].run_id
    moment = ctx._workspace.head().tx_time
    ctx.record_store.append(make_record(str(run_id), 500, "event", iso(BASE), None, 0.0))
    live = ctx.get_run_snapshot(run_id)
    decoded: list[object] = []
    real = workspace_queries.decode_one
    monkeypatch.setattr(workspace_queries, "decode_one", lambda *a: decoded.append(a) or real(*a))
    now = ctx.as_of(datetime.now(UTC)).get_run_snapshot(run_id)
    past = ctx.as_of(datetime.fromtimestamp(moment / 1e6, UTC)).get_run_snapshot(run_id)
    assert decoded == []
    assert now == live
    reference = QueryService(ctx._workspace, ctx.config, as_of_us=moment).snapshot(run_id)
    assert past == reference and len(past.records) == len(live.records) - 1
    ctx.close()


def test_list_runs_answer_is_reused_only_while_nothing_changed(tmp_path: Path) -> None:
    ctx = _workspace(tmp_path)
    _fill(ctx, runs=3, per_run=1)
    first = ctx.list_runs()
    assert ctx.list_runs() is first  # unchanged: the kept answer
    ctx.metadata_store.runs.put_run(
        Run(
            run_ref="run:p.late",
            project_ref="project:p",
            name="late",
            status="open",
            started_at=iso(BASE),
        )
    )
    grown = ctx.list_runs()
    assert grown == QueryService(ctx._workspace, ctx.config).list_runs() and len(grown) == 4
    assert {id(r) for r in first} < {id(r) for r in grown}  # the older runs' records reused
    ctx.metadata_store.projects.put_project(
        Project(project_ref="project:p", name="renamed", created_at="2024-12-31T00:00:00Z")
    )
    renamed = ctx.list_runs()
    assert renamed is not first and {r.project_name for r in renamed} == {"renamed"}
    assert renamed == QueryService(ctx._workspace, ctx.config).list_runs()
    ctx.close()


def test_bodies_are_read_in_row_order_across_batches(tmp_path: Path) -> None:
    ctx = _workspace(tmp_path)
    _fill(ctx, runs=4, per_run=5)
    ws = ctx._workspace
    rows = ws.table("records")
    order = [7, 0, 19, 3, 3, 12]
    picked = rows.take(order)
    assert (
        len(
            set(
                zip(
                    picked.column("segment").to_pylist(),
                    picked.column("batch_offset").to_pylist(),
                    strict=True,
                )
            )
        )
        > 1
    )
    bodies = ws.bodies(picked)
    assert [
        decode_body(k, b) for k, b in zip(picked.column("kind").to_pylist(), bodies, strict=True)
    ] == ws.fetch(picked)
    ctx.close()


def test_importing_contexta_loads_no_query_code_it_does_not_need() -> None:
    lazy = [
        "contexta.interpretation.entities",
        "contexta.interpretation.run_diagnostics",
        "contexta.interpretation.lineage_traversal",
        "contexta.interpretation.provenance_audit",
        "contexta.interpretation.trend_analysis",
        "contexta.interpretation.alert_evaluation",
        "contexta.interpretation.reporting",
        "contexta.interpretation.workspace_queries",
        "contexta.store.record_store",
        "contexta.store.metadata_store",
        "contexta.capture",
    ]
    script = (
        "import json, sys\n"
        "import contexta\n"
        f"loaded = [m for m in {lazy!r} if m in sys.modules]\n"
        "from contexta import Contexta, ContextaError\n"
        "import contexta.interpretation as interpretation\n"
        "names = [n for n in interpretation.__all__ if getattr(interpretation, n, None) is None]\n"
        "from contexta.interpretation import AlertRule, LineageService, QueryService, RunRecord\n"
        "print(json.dumps({'loaded': loaded, 'missing': names}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert json.loads(done.stdout) == {"loaded": [], "missing": []}


@pytest.mark.parametrize("block", [1, 2, 5, 4096])
def test_run_records_decoded_block_by_block_equal_the_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    """Run bodies taken in the sort's order and decoded a block at a time (blocks smaller than
    the list, a last block cut short, and one block for all) give the reference's list, for
    every project filter, and again after new runs and a new run version (only theirs
    decoded, in blocks too)."""
    from contexta.interpretation import workspace_queries

    monkeypatch.setattr(workspace_queries, "_DECODE_BLOCK", block)
    ctx = _workspace(tmp_path)
    _fill(ctx, runs=7, per_run=1)
    ws = ctx._workspace
    fast = FastQueryService(ws, ctx.config)
    for name in (None, "p", "missing"):
        assert fast.list_runs(name) == QueryService(ws, ctx.config).list_runs(name), name
    store = ctx.metadata_store
    for i, when in ((3, BASE - timedelta(days=1)), (9, BASE + timedelta(days=1))):
        store.runs.put_run(
            Run(
                run_ref=f"run:p.r{i}",
                project_ref="project:p",
                name=f"r{i} later",
                status="open",
                started_at=iso(when),
            )
        )
    decoded: list[int] = []
    real = workspace_queries.decode_many
    monkeypatch.setattr(
        workspace_queries,
        "decode_many",
        lambda kind, bodies: decoded.append(len(bodies)) or real(kind, bodies),
    )
    for name in (None, "p"):
        got = fast.list_runs(name)
        assert got == QueryService(ws, ctx.config).list_runs(name), name
        assert [r.run_id for r in got].count("run:p.r3") == 1 and len(got) == 8
    assert sum(decoded) == 2 and max(decoded) <= block  # the new version and the new run
    ctx.close()
