"""``ctx.log_metrics``: columns of metric points stored as the single path stores them.

The columnar path builds the ledger columns and the stored bodies with Arrow; these tests hold
it to the single path (``record_store.append`` of the same records): equal events, bodies
byte for byte, snapshots, comparisons, select-best and history; a bad value anywhere in a call
is a typed error naming the column, the row and the value, and nothing of the call is stored;
ref conflicts against bulk-written records follow the record store's rules.
"""

from __future__ import annotations

import math
import shutil
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from contexta import Contexta
from contexta import bulk as bulk_module
from contexta.bulk import BulkColumnError
from contexta.common.errors import AppendError
from contexta.contract import MetricPayload, MetricRecord, RecordEnvelope
from contexta.contract.timestamps import normalize_timestamp
from contexta.contract.validation import logged_grammar

T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
KEYS = ["loss", "loss/val", "valAcc", "train_loss", "a.b-c"]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with runs r1 and r2, each with a stage ``train``."""
    root = tmp_path_factory.mktemp("base") / "ws"
    ctx = Contexta(workspace=root)
    for name in ("r1", "r2"):
        with ctx.run(name) as run, run.stage("train"):
            pass
    ctx.close()
    return root


def copy_of(base: Path, to: Path) -> Contexta:
    shutil.copytree(base, to)
    return Contexta(workspace=to)


def single_records(
    ctx: Contexta, refs: list[str], run: str, stage: str | None, rows: list[tuple]
) -> list[MetricRecord]:
    producer = str(ctx.config.capture.producer_ref)
    out = []
    with logged_grammar():
        for ref, (key, step, value, at) in zip(refs, rows, strict=True):
            text = normalize_timestamp(at)
            out.append(
                MetricRecord(
                    envelope=RecordEnvelope(
                        record_ref=ref,
                        record_type="metric",
                        recorded_at=text,
                        observed_at=text,
                        producer_ref=producer,
                        run_ref=run,
                        stage_execution_ref=stage,
                    ),
                    payload=MetricPayload(
                        metric_key=key,
                        value=float(value),
                        value_type="float",
                        aggregation_scope="step",
                        subject_ref=stage or run,
                        tags=None if step is None else {"step": str(step)},
                        summary_basis="raw_observation",
                    ),
                )
            )
    return out


def stored(ctx: Contexta) -> list[tuple]:
    ws = ctx._workspace
    ws.flush()
    out = []
    for batch in ws.events():
        for row in batch.to_pylist():
            if row["kind"].startswith("record."):
                row.pop("seq"), row.pop("tx_time")
                value = row["value"]
                row["value"] = "nan" if value is not None and math.isnan(value) else value
                out.append(tuple(row.items()))
    return out


def history_row(event: Any) -> tuple:
    value = "nan" if event.value is not None and math.isnan(event.value) else event.value
    return (event.kind, event.ref, event.key, value, event.valid_time, repr(event.model))


values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.integers(-(2**53), 2**53),
)
point = st.tuples(
    st.sampled_from(KEYS),
    st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
    values,
    st.integers(-(10**12), 10**12).map(lambda us: T0 + timedelta(microseconds=us)),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(
    r1=st.lists(point, min_size=0, max_size=30),
    r2=st.lists(point, min_size=1, max_size=30),
    stage=st.booleans(),
    commit_rows=st.sampled_from([1, 3, 7, bulk_module.COMMIT_ROWS]),
)
def test_bulk_and_single_paths_store_equal_events_and_answers(
    base: Path,
    tmp_path_factory: pytest.TempPathFactory,
    r1: list,
    r2: list,
    stage: bool,
    commit_rows: int,
) -> None:
    """Any cut of a call into commits (each piece's columns built on the helper thread while
    the one before is written) stores what the single path stores."""
    with pytest.MonkeyPatch.context() as patch:  # hypothesis: no function-scoped fixture
        patch.setattr(bulk_module, "COMMIT_ROWS", commit_rows)
        check_equal_paths(tmp_path_factory.mktemp("eq"), base, r1, r2, stage)


def check_equal_paths(where: Path, base: Path, r1: list, r2: list, stage: bool) -> None:
    bulk, single = copy_of(base, where / "bulk"), copy_of(base, where / "single")
    for run, rows in (("run:default.r1", r1), ("run:default.r2", r2)):
        stage_ref = f"stage:{run[4:]}.train" if stage else None
        table = pa.table(
            {
                "key": pa.array([r[0] for r in rows], pa.string()),
                "step": pa.array([r[1] for r in rows], pa.int64()),
                "value": pa.array([float(r[2]) for r in rows], pa.float64()),
                "time": pa.array([r[3] for r in rows], pa.timestamp("us", tz="UTC")),
            }
        )
        result = bulk.log_metrics(table, run=run, stage="train" if stage else None)
        assert result.count == len(rows)
        records = single_records(single, result.record_refs(), run, stage_ref, rows)
        for record in records:
            assert single.record_store.append(record).success
    assert stored(bulk) == stored(single)
    for run in ("r1", "r2"):
        # repr: NaN points make equal snapshots compare unequal (nan != nan)
        assert repr(bulk.get_run_snapshot(run)) == repr(single.get_run_snapshot(run))
        assert [history_row(e) for e in bulk.history(run)] == [
            history_row(e) for e in single.history(run)
        ]
    assert repr(bulk.compare_runs("r1", "r2")) == repr(single.compare_runs("r1", "r2"))
    for key in KEYS:
        for stage_name in (None, "train"):
            assert bulk.select_best_run(
                ["r1", "r2"], key, stage_name=stage_name
            ) == single.select_best_run(["r1", "r2"], key, stage_name=stage_name)
    bulk.close()
    single.close()


def record_count(ctx: Contexta) -> int:
    return len(stored(ctx))


BAD = [
    ({"key": ["loss"] * 3, "value": [1.0, None, 2.0]}, "value", 1, None),
    ({"key": ["loss"] * 3, "value": ["1", "2", "3"]}, "value", None, None),
    ({"key": ["loss", "ok", "bad key!"], "value": [1.0, 2.0, 3.0]}, "key", 2, "'bad key!'"),
    ({"key": ["loss", None, "x"], "value": [1.0, 2.0, 3.0]}, "key", 1, None),
    ({"key": ["loss"] * 3, "value": [1.0, 2.0, 3.0], "step": [1.0, 2.5, 3.0]}, "step", 1, "2.5"),
    ({"key": ["loss"] * 3, "value": [1, 2**60, 3]}, "value", 1, str(2**60)),
    ({"key": ["loss"] * 3, "value": [1.0, 2.0]}, "key", None, None),
    ({"key": ["loss"] * 2, "value": [1.0, 2.0], "colour": [1, 2]}, "colour", None, None),
    (
        {"key": ["loss"] * 2, "value": [1.0, 2.0], "time": [datetime(2025, 1, 1)] * 2},
        "time",
        None,
        None,
    ),
    ({"value": [1.0, 2.0]}, "key", None, None),
    ({"key": ["loss"] * 2}, "value", None, None),
    ({"key": ["x" * 300] * 2, "value": [1.0, 2.0]}, "key", 0, None),
]


@pytest.mark.parametrize(("data", "column", "row", "shown"), BAD)
def test_a_bad_column_is_named_and_nothing_of_the_call_is_stored(
    base: Path, tmp_path: Path, data: dict, column: str, row: int | None, shown: str | None
) -> None:
    ctx = copy_of(base, tmp_path / "ws")
    ctx.log_metrics(run="r1", key="loss", values=[0.5])
    before = record_count(ctx)
    with pytest.raises(BulkColumnError) as info:
        ctx.log_metrics(data, run="r1", stage="train")
    err = info.value
    assert err.code == "bulk_invalid_column"
    assert err.details is not None and err.details["column"] == column
    assert err.details["row"] == row
    if shown is not None:
        assert err.details["value"] == shown and shown in err.message
    assert column in err.message
    assert record_count(ctx) == before
    ctx.close()


def test_input_forms_give_equal_points(base: Path, tmp_path: Path) -> None:
    steps = list(range(5))
    vals = [0.5, float("nan"), float("inf"), -1.0, 2.0]
    forms: list[Any] = [
        {"step": steps, "value": vals},
        pa.table({"step": steps, "value": vals}),
        pa.record_batch({"step": pa.array(steps), "value": pa.array(vals)}),
        {"step": np.arange(5, dtype=np.int32), "value": np.array(vals, dtype=np.float32)},
    ]
    pandas = pytest.importorskip("pandas")  # a float NaN is a point, not a missing value
    forms.append(pandas.DataFrame({"step": steps, "value": vals}))
    seen = []
    for i, data in enumerate(forms):
        ctx = copy_of(base, tmp_path / f"ws{i}")
        result = ctx.log_metrics(data, run="r1", stage="train", key="loss")
        assert result.count == 5
        table = ctx._workspace.table("records")
        points = [
            (s, "nan" if math.isnan(v) else v)
            for s, v in zip(
                table.column("step").to_pylist()[-5:],
                table.column("value").to_pylist()[-5:],
                strict=True,
            )
        ]
        seen.append(points)
        ctx.close()
    # float32 holds 0.5, inf, -1 and 2 exactly
    assert all(points == seen[0] for points in seen)
    assert seen[0] == [(0, 0.5), (1, "nan"), (2, math.inf), (3, -1.0), (4, 2.0)]


@pytest.mark.parametrize("preload", [False, True])
def test_bulk_records_keep_the_append_rules(base: Path, tmp_path: Path, preload: bool) -> None:
    ctx = copy_of(base, tmp_path / "ws")
    if preload:  # the store holds a ref view from before the bulk call
        ctx.record_store._known_digests()
        ctx.record_store.append_many(
            single_records(
                ctx, ["record:default.r1.x"], "run:default.r1", None, [("loss", 1, 1.0, T0)]
            )
        )
    rows = [("loss", i, float(i), T0) for i in range(4)]
    result = ctx.log_metrics(
        {"step": [r[1] for r in rows], "value": [r[2] for r in rows], "time": [T0] * 4},
        run="r1",
        key="loss",
    )
    refs = result.record_refs()
    same = single_records(ctx, refs, "run:default.r1", None, rows)
    before = record_count(ctx)
    again = ctx.record_store.append(same[2])
    assert again.success and again.accepted_count == 1
    changed = single_records(ctx, refs[3:], "run:default.r1", None, [("loss", 3, 9.0, T0)])
    conflict = ctx.record_store.append(changed[0])
    assert [r.code for r in conflict.rejected] == ["record_ref_conflict"]
    assert record_count(ctx) == before
    ctx.close()


def test_bulk_points_follow_what_was_appended_before(base: Path, tmp_path: Path) -> None:
    ctx = copy_of(base, tmp_path / "ws")
    ctx.record_store.append(
        single_records(ctx, ["record:default.r1.a"], "run:default.r1", None, [("k", 1, 1.0, T0)])[0]
    )  # buffered, not committed
    ctx.log_metrics(run="r1", key="k", steps=[2], values=[2.0])
    ctx.record_store.append(
        single_records(ctx, ["record:default.r1.b"], "run:default.r1", None, [("k", 3, 3.0, T0)])[0]
    )
    table = ctx._workspace.table("records")
    assert table.column("step").to_pylist()[-3:] == [1, 2, 3]
    ctx.close()


def test_a_bad_row_after_the_first_commit_of_a_call_stores_nothing(
    base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call larger than a commit is still checked whole before its first commit."""
    ctx = copy_of(base, tmp_path / "ws")
    before = record_count(ctx)
    keys = ["loss"] * 9 + ["bad key!"]
    monkeypatch.setattr(bulk_module, "COMMIT_ROWS", 2)
    with pytest.raises(BulkColumnError) as info:
        ctx.log_metrics({"key": keys, "value": [float(i) for i in range(10)]}, run="r1")
    assert info.value.details is not None and info.value.details["row"] == 9
    assert record_count(ctx) == before
    ctx.close()


def test_a_call_of_many_commits_is_written_in_order_and_reports_its_last_seq(
    base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = copy_of(base, tmp_path / "ws")
    ledger = ctx._workspace.ledger
    commits = ledger.commits
    monkeypatch.setattr(bulk_module, "COMMIT_ROWS", 4)
    result = ctx.log_metrics(run="r1", key="loss", steps=list(range(10)), values=[0.5] * 10)
    assert ledger.commits - commits == 3  # 4 + 4 + 2 points
    assert result.last_seq == ledger.head().seq
    table = ctx._workspace.table("records")
    assert table.column("ref").to_pylist()[-10:] == result.record_refs()
    assert table.column("step").to_pylist()[-10:] == list(range(10))
    assert not [t for t in threading.enumerate() if t.name.startswith("contexta-bulk")]
    ctx.close()


def test_a_piece_that_fails_to_build_stops_the_call_after_the_pieces_before_it(
    base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The helper thread's failure (here: out of memory building the third piece) is the
    call's: the pieces before it stay committed, as after a failed write, and the workspace
    goes on."""
    ctx = copy_of(base, tmp_path / "ws")
    before = record_count(ctx)
    build = bulk_module._Plan.table

    def table(plan: Any, start: int, stop: int) -> pa.Table:
        if start >= 4:
            raise MemoryError("no memory for this piece")
        return build(plan, start, stop)

    monkeypatch.setattr(bulk_module._Plan, "table", table)
    monkeypatch.setattr(bulk_module, "COMMIT_ROWS", 2)
    with pytest.raises(MemoryError):
        ctx.log_metrics(run="r1", key="loss", values=[float(i) for i in range(10)])
    assert record_count(ctx) == before + 4
    monkeypatch.undo()
    assert ctx.log_metrics(run="r1", key="loss", values=[1.0]).count == 1
    assert record_count(ctx) == before + 5
    assert not [t for t in threading.enumerate() if t.name.startswith("contexta-bulk")]
    ctx.close()


def test_a_write_that_fails_mid_call_lets_the_helper_thread_go_and_the_workspace_goes_on(
    base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fails on the second commit of a call: the error is the typed I/O error, the
    first commit stands, the helper thread that was building the next piece is gone when
    the call returns (not when the error is collected), and the next call is stored."""
    from ledger.errors import LedgerIOError

    ctx = copy_of(base, tmp_path / "ws")
    before = record_count(ctx)
    ledger = ctx._workspace.ledger
    write = type(ledger)._write
    calls = []

    def failing(self: Any, events: Any) -> Any:
        calls.append(len(events) if isinstance(events, list) else events.num_rows)
        if len(calls) == 2:
            raise LedgerIOError("the disk is full", errno=28)
        return write(self, events)

    monkeypatch.setattr(type(ledger), "_write", failing)
    monkeypatch.setattr(bulk_module, "COMMIT_ROWS", 2)
    with pytest.raises(AppendError) as info:
        ctx.log_metrics(run="r1", key="loss", values=[float(i) for i in range(10)])
    kept = info.value  # the error (and its traceback) alive: the thread must be gone anyway
    assert kept.code == "ledger_io_error" and "disk is full" in str(kept)
    assert not [t for t in threading.enumerate() if t.name.startswith("contexta-bulk")]
    monkeypatch.undo()
    assert record_count(ctx) == before + 2
    assert ctx.log_metrics(run="r1", key="loss", values=[1.0]).count == 1
    assert record_count(ctx) == before + 3
    ctx.close()
