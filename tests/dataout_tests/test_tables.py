"""runs_table, metrics_table and events_table equal, row for row, what the row-at-a-time
queries answer (list_runs, get_run_snapshot, quarantined_runs, history) on generated
workspaces, now and as of every moment looked back at."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings

from contexta.common.errors import ContextaError
from contexta.contract.timestamps import timestamp_micros
from contexta.tables import EVENTS_SCHEMA, METRICS_SCHEMA, RUNS_BASE_SCHEMA, run_labels

from .conftest import build, metric, open_ctx, ops, run_model


def _us(value: Any) -> int | None:
    if value is None:
        return None
    return timestamp_micros(value)


def _step(payload: Any) -> int | None:
    raw = ((payload or {}).get("tags") or {}).get("step")
    try:
        return None if raw is None else int(raw)
    except ValueError:
        return None


def _views(built: Any) -> list[Any]:
    return [built.ctx, *(built.ctx.as_of(m) for m in built.moments)]


def check_runs_table(view: Any) -> None:
    for project in (None, "p-name", "q", "missing"):
        table = view.runs_table(project)
        assert table.schema.names[:7] == RUNS_BASE_SCHEMA.names
        runs = view.list_runs(project)
        rows = table.to_pylist()
        assert [r["run_id"] for r in rows] == [r.run_id for r in runs]
        flagged = set(view.quarantined_runs())
        latest = {e.ref: e.model for e in view.history(kinds="run.put")}
        for row, run in zip(rows, runs, strict=True):
            assert row["project"] == run.project_name and row["name"] == run.name
            assert row["status"] == run.status
            assert _us(row["started_at"]) == _us(run.started_at)
            assert _us(row["ended_at"]) == _us(run.ended_at)
            assert row["quarantined"] == (run.run_id in flagged)
            params, tags = run_labels(latest[run.run_id])
            got = {k: v for k, v in row.items() if k.startswith(("params.", "tags."))}
            want = {f"params.{k}": v for k, v in params.items()}
            want |= {f"tags.{k}": v for k, v in tags.items()}
            assert {k: v for k, v in got.items() if v is not None} == want
            assert {
                k: v for k, v in row.items() if k.startswith("metrics.") and v is not None
            } == latest_metrics(view, run.run_id)


def latest_metrics(view: Any, run_id: str) -> dict[str, float]:
    """Latest value per (stage, key) from the run's snapshot records (append order)."""
    best: dict[str, tuple[int, int, float]] = {}
    for i, record in enumerate(view.get_run_snapshot(run_id).records):
        if record.record_type != "metric":
            continue
        stage = None if record.stage_id is None else record.stage_id.rsplit(".", 1)[1]
        name = f"metrics.{record.key}" if stage is None else f"metrics.{stage}/{record.key}"
        candidate = (_us(record.observed_at), i, float(record.value))
        if name not in best or candidate[:2] >= best[name][:2]:
            best[name] = candidate
    return {name: value for name, (_, _, value) in best.items()}


def check_metrics_table(view: Any) -> None:
    table = view.metrics_table()
    assert table.schema == METRICS_SCHEMA
    seqs = table.column("seq").to_pylist()
    assert seqs == sorted(seqs)
    rows = table.to_pylist()
    history = {e.ref: e for e in view.history(kinds="record.metric")}
    first_seq: dict[str, int] = {}
    for e in view.history(kinds="record.metric"):
        first_seq.setdefault(e.ref, e.seq)
    total = 0
    for run in view.list_runs():
        mine = [r for r in rows if r["run_id"] == run.run_id]
        records = [
            r for r in view.get_run_snapshot(run.run_id).records if r.record_type == "metric"
        ]
        total += len(records)
        assert len(mine) == len(records)
        for row, record in zip(mine, records, strict=True):
            stage = None if record.stage_id is None else record.stage_id.rsplit(".", 1)[1]
            assert (row["stage"], row["key"], row["value"], row["step"]) == (
                stage,
                record.key,
                float(record.value),
                _step(record.payload),
            )
            assert _us(row["observed_at"]) == _us(record.observed_at)
            assert row["seq"] == first_seq[record.record_id]
            assert row["recorded_at"] == history[record.record_id].tx_time
    assert total == table.num_rows
    # the filters keep exactly the rows they name
    for keys, stages in ((["loss"], None), (None, ["eval"]), (["acc", "val.loss"], ["train"])):
        part = view.metrics_table(keys=keys, stages=stages).to_pylist()
        assert part == [
            r
            for r in rows
            if (keys is None or r["key"] in keys) and (stages is None or r["stage"] in stages)
        ]
    for run in view.list_runs()[:2]:
        assert view.metrics_table(run_ids=[run.run_id]).to_pylist() == [
            r for r in rows if r["run_id"] == run.run_id
        ]


def check_events_table(view: Any) -> None:
    for kinds, run_id in (
        (None, None),
        ("record.metric", None),
        (["run.put", "run.quarantine"], None),
    ):
        table = view.events_table(kinds=kinds, run_id=run_id)
        assert table.schema == EVENTS_SCHEMA
        events = list(view.history(kinds=kinds))
        assert table.num_rows == len(events)
        for row, e in zip(table.to_pylist(), events, strict=True):
            assert (
                row["seq"],
                row["tx_time"],
                row["kind"],
                row["ref"],
                row["run_ref"],
                row["actor"],
                row["key"],
                row["value"],
                row["valid_time"],
            ) == (e.seq, e.tx_time, e.kind, e.ref, e.run_ref, e.actor, e.key, e.value, e.valid_time)
            assert json.loads(row["model"]) == json.loads(
                json.dumps(e.to_dict()["model"], default=str)
            )
    for run in view.list_runs()[:2]:
        events = list(view.history(run.run_id))
        assert view.events_table(run_id=run.run_id).column("seq").to_pylist() == [
            e.seq for e in events
        ]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops)
def test_tables_equal_the_queries_now_and_as_of(operations: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        built = build(open_ctx(Path(tmp) / "ws"), operations)
        try:
            for view in _views(built):
                check_runs_table(view)
                check_metrics_table(view)
                check_events_table(view)
        finally:
            built.ctx.close()


def test_an_example_workspace_has_every_kind_of_column(tmp_path: Path) -> None:
    operations = [
        ("run", 0, 3, True, 3),
        ("run", 1, 1, False, 0),
        ("metric", 0, "loss", 0.5, 1, None, "1"),
        ("metric", 0, "loss", 0.25, 2, None, "2"),
        ("metric", 0, "acc", 0.9, 1, "eval", None),
        ("moment",),
        ("quarantine", 1),
        ("metric", 1, "loss", 7.0, 0, "train", "x"),
        ("again", 1),
        ("metric", 0, "loss", 9.0, 0, None, "3"),
    ]  # appended last, observed earlier
    built = build(open_ctx(tmp_path / "ws"), operations)
    ctx = built.ctx
    runs = ctx.runs_table()
    assert runs.column_names == [
        *RUNS_BASE_SCHEMA.names,
        "params.Batch Size",
        "params.lr",
        "tags.team",
        "metrics.eval/acc",
        "metrics.loss",
        "metrics.train/loss",
    ]
    assert runs.to_pylist()[0]["run_id"] == "run:p.r0"
    by_id = {r["run_id"]: r for r in runs.to_pylist()}
    assert by_id["run:p.r0"]["metrics.loss"] == 0.25 and by_id["run:p.r0"]["params.lr"] == "0.3"
    assert by_id["run:q.r1"]["quarantined"] and not by_id["run:p.r0"]["quarantined"]
    assert by_id["run:q.r1"]["metrics.train/loss"] == 7.0
    past = ctx.as_of(built.moments[0]).runs_table()
    assert not any(past.column("quarantined").to_pylist())
    assert "metrics.train/loss" not in past.column_names
    points = ctx.metrics_table()
    assert points.num_rows == 5  # the repeated append is one point
    assert points.column("step").to_pylist() == [1, 2, None, None, 3]
    assert isinstance(points, pa.Table) and isinstance(ctx.events_table(), pa.Table)
    # the tables are kept while nothing changes, and follow every write
    assert ctx.runs_table().equals(runs) and ctx.metrics_table().equals(points)
    ctx.record_store.append(metric("run:p.r0", 99, "loss", 0.125, 30, None, "4"))
    ctx.metadata_store.runs.put_run(run_model("p", 0, 2, 3, True, {"lr": "0.5"}))
    assert ctx.runs_table().to_pylist()[0]["metrics.loss"] == 0.125
    assert ctx.runs_table().to_pylist()[0]["params.lr"] == "0.5"
    assert ctx.metrics_table().num_rows == 6
    check_runs_table(ctx)
    check_metrics_table(ctx)
    ctx.close()


def test_unknown_run_ids_are_a_typed_error(tmp_path: Path) -> None:
    built = build(open_ctx(tmp_path / "ws"), [("run", 0, 1, False, 0)])
    for call in (
        lambda: built.ctx.metrics_table(run_ids=["nope"]),
        lambda: built.ctx.events_table(run_id="nope"),
    ):
        with pytest.raises(ContextaError) as raised:
            call()
        assert raised.value.code == "query_run_not_found"
    built.ctx.close()


def test_a_record_committed_twice_is_one_point(tmp_path: Path) -> None:
    """Two writers racing can commit the same record twice; every query keeps the first copy."""
    from contexta.events import record_event

    built = build(open_ctx(tmp_path / "ws"), [("run", 0, 1, False, 0)])
    ctx = built.ctx
    first = metric("run:p.r0", 1, "loss", 1.0, 5, None, "1")
    later = metric("run:p.r0", 2, "loss", 2.0, 1, None, "2")
    for record in (first, later, first):
        ctx._workspace.write([record_event(record, "racer")])
    ctx.flush()
    points = ctx.metrics_table()
    assert points.column("value").to_pylist() == [1.0, 2.0]
    assert ctx.runs_table().column("metrics.loss").to_pylist() == [1.0]  # observed last
    check_metrics_table(ctx)
    check_runs_table(ctx)
    ctx.close()
